"""``factdb status …``: the allegation-status vocabulary (seeded, extensible)."""

from __future__ import annotations

import click

from factdb.cli.common import AppContext, check_style, output_options, pass_app

COLUMNS = ["code", "label", "terminal", "description"]


@click.group()
def status() -> None:
    """The allegation-status vocabulary: list the statuses, add your own."""


@status.command(name="list")
@output_options
@pass_app
def list_cmd(app: AppContext, fmt: str, style: str) -> None:
    """List every status code, seeded and user-defined."""
    check_style(style)
    from factdb.output import render
    from factdb.services.statuses import list_statuses

    with app.session(write=False) as session:
        rows = [
            {
                "code": s.code,
                "label": s.label,
                "terminal": s.is_terminal,
                "description": s.description,
            }
            for s in list_statuses(session)
        ]
    render(rows, COLUMNS, fmt, style)


@status.command()
@click.argument("code")
@click.argument("label")
@click.option("--description", help="What the status means.")
@click.option("--terminal", is_flag=True, help="The allegation is settled in this status.")
@pass_app
def add(app: AppContext, code: str, label: str, description: str | None, terminal: bool) -> None:
    """Add a status CODE with a human LABEL (e.g. partly_confirmed "Partly confirmed")."""
    from factdb.services.statuses import add_status_code

    with app.session() as session:
        created = add_status_code(session, code, label, description, terminal)
        message = f"added status {created.code}"
    click.echo(message)
