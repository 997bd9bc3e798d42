"""``factdb log``: the audit log, who changed what and when, with the values before and after."""

from __future__ import annotations

import click

from factdb.cli.common import DATE, AppContext, check_style, output_options, pass_app

TABLE_COLUMNS = [
    "id",
    "changed_at",
    "changed_by",
    "action",
    "table",
    "row_id",
    "claim_id",
    "change",
]
FULL_COLUMNS = [*TABLE_COLUMNS, "before", "after"]


@click.command()
@click.argument("claim_arg", metavar="[ID]", type=int, required=False)
@click.option("--claim", "claim_opt", type=int, metavar="ID", help="One claim's changes (= ID).")
@click.option("--since", type=DATE, help="Changes made on or after this date.")
@click.option("--by", "by", metavar="WHO", help="Changes made by this person.")
@click.option("--table", metavar="TABLE", help="Changes to one table (statements, sources, …).")
@click.option("--limit", type=click.IntRange(min=0), help="At most this many entries.")
@output_options
@pass_app
def log(
    app: AppContext,
    claim_arg: int | None,
    claim_opt: int | None,
    since: str | None,
    by: str | None,
    table: str | None,
    limit: int | None,
    fmt: str,
    style: str,
) -> None:
    """The audit log, oldest first: every change to claims, speakers, sources, attributions,
    status events, links and verdicts, with when, who, and the values before and after (in
    csv/json output). A deleted claim's entries stay. A bulk import is one entry naming the
    range of claim ids it added. In SQL: the audit_log_view view.
    """
    check_style(style)
    if claim_arg is not None and claim_opt is not None and claim_arg != claim_opt:
        raise click.UsageError("give the claim once: as ID or as --claim")
    from factdb.dates import parse_day
    from factdb.output import render
    from factdb.services.auditlog import read_log

    claim_id = claim_arg if claim_arg is not None else claim_opt
    with app.session(write=False) as session:
        rows = read_log(
            session,
            claim_id=claim_id,
            since=parse_day(since) if since else None,
            by=by,
            table=table,
            limit=limit,
        )
        if fmt == "table":
            shown = ({**r, "changed_at": r["changed_at"].replace(microsecond=0)} for r in rows)
            render(shown, TABLE_COLUMNS, fmt, style)
        else:
            render(rows, FULL_COLUMNS, fmt, style)
