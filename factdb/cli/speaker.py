"""``factdb speaker …``: people and organisations who say things."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from factdb.cli.common import AppContext, check_style, complete_speaker, output_options, pass_app
from factdb.errors import FactdbError

KINDS = ("person", "organisation", "org", "organization")
F = TypeVar("F", bound=Callable[..., Any])
FORCE_HINT = " (use --force to create it anyway)"


def _external_ids(wikidata: str | None, pairs: tuple[str, ...]) -> dict[str, str]:
    """``--wikidata`` and ``--external-id KEY=VALUE`` as one dict."""
    from factdb.services.speakers import parse_external_ids

    ids = parse_external_ids(pairs)
    if wikidata is not None:
        ids["wikidata"] = wikidata.strip()
    return ids


def _speaker_ref() -> Callable[[F], F]:
    """The SPEAKER argument: a name, an alias or an id (completes known names)."""
    return click.argument("speaker", metavar="NAME|ID", shell_complete=complete_speaker)


@click.group()
def speaker() -> None:
    """People and organisations who say things: add, list, show, edit, alias, merge, delete."""


@speaker.command()
@click.argument("name")
@click.option(
    "--kind", type=click.Choice(KINDS), default="person", show_default=True, help="Speaker kind."
)
@click.option("--role", help="Role or title, e.g. 'Foreign Minister'.")
@click.option(
    "--acts-for", metavar="NAME", shell_complete=complete_speaker, help="Speaks for this speaker."
)
@click.option("--alias", "aliases", multiple=True, metavar="NAME", help="Another name (repeat).")
@click.option("--wikidata", metavar="QID", help="Wikidata item, e.g. Q83487.")
@click.option(
    "--external-id", "external_ids", multiple=True, metavar="KEY=VALUE", help="Any id (repeat)."
)
@click.option("--notes", help="Free notes.")
@click.option("--force", is_flag=True, help="Create even if the name nearly matches another.")
@pass_app
def add(
    app: AppContext,
    name: str,
    kind: str,
    role: str | None,
    acts_for: str | None,
    aliases: tuple[str, ...],
    wikidata: str | None,
    external_ids: tuple[str, ...],
    notes: str | None,
    force: bool,
) -> None:
    """Add a speaker called NAME (refused if NAME nearly matches a known speaker)."""
    from factdb.services.names import NearMatch
    from factdb.services.speakers import create_speaker

    with app.session() as session:
        try:
            created = create_speaker(
                session,
                name,
                kind=kind,
                role=role,
                acts_for=acts_for,
                aliases=list(aliases),
                external_ids=_external_ids(wikidata, external_ids),
                notes=notes,
                force=force,
            )
        except NearMatch as exc:
            raise FactdbError(str(exc) + FORCE_HINT) from None
        message = f"added speaker {created.id}: {created.name}"
    click.echo(message, err=True)


@speaker.command(name="list")
@click.option("--kind", type=click.Choice(KINDS), help="Only this kind.")
@click.option("--name", metavar="TEXT", help="Name or alias contains TEXT (any case/accents).")
@click.option("--limit", type=click.IntRange(min=0), help="At most this many speakers.")
@output_options
@pass_app
def list_cmd(
    app: AppContext, kind: str | None, name: str | None, limit: int | None, fmt: str, style: str
) -> None:
    """List speakers with their role, whom they act for, aliases and number of claims."""
    from factdb.output import render
    from factdb.services.speakers import list_speakers

    check_style(style)
    columns = ["id", "name", "kind", "role", "acts_for", "aliases", "claims"]
    with app.session(write=False) as session:
        render(list_speakers(session, kind=kind, name=name, limit=limit), columns, fmt, style)


@speaker.command()
@_speaker_ref()
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@pass_app
def show(app: AppContext, speaker: str, fmt: str) -> None:
    """Show one speaker: kind, role, acts for, aliases, external ids, notes, counts."""
    from factdb.output import render_record
    from factdb.services.speakers import speaker_detail

    with app.session(write=False) as session:
        render_record(speaker_detail(session, speaker), fmt)


@speaker.command()
@_speaker_ref()
@click.option("--name", "new_name", metavar="NAME", help="Rename the speaker.")
@click.option("--kind", type=click.Choice(KINDS), help="Change the kind.")
@click.option("--role", help="Role or title ('' clears it).")
@click.option(
    "--acts-for", metavar="NAME", shell_complete=complete_speaker, help="Speaks for this speaker."
)
@click.option("--no-acts-for", is_flag=True, help="Acts for nobody.")
@click.option("--wikidata", metavar="QID", help="Set the Wikidata item ('' removes it).")
@click.option(
    "--external-id",
    "external_ids",
    multiple=True,
    metavar="KEY=VALUE",
    help="Set an id; KEY= removes it (repeat).",
)
@click.option("--notes", help="Replace the notes ('' clears them).")
@click.option("--force", is_flag=True, help="Rename even if the name nearly matches another.")
@pass_app
def edit(
    app: AppContext,
    speaker: str,
    new_name: str | None,
    kind: str | None,
    role: str | None,
    acts_for: str | None,
    no_acts_for: bool,
    wikidata: str | None,
    external_ids: tuple[str, ...],
    notes: str | None,
    force: bool,
) -> None:
    """Change a speaker's name, kind, role, whom they act for, external ids or notes."""
    from factdb.services.names import NearMatch
    from factdb.services.speakers import edit_speaker

    if acts_for is not None and no_acts_for:
        raise click.UsageError("--acts-for and --no-acts-for exclude each other")
    changes: dict[str, object] = {}
    if new_name is not None:
        changes["name"] = new_name
    if kind is not None:
        changes["kind"] = kind
    if role is not None:
        changes["role"] = role
    if acts_for is not None or no_acts_for:
        changes["acts_for"] = acts_for
    if notes is not None:
        changes["notes"] = notes
    ids = _external_ids(wikidata, external_ids)
    if ids:
        changes["external_ids"] = ids
    if not changes:
        raise click.UsageError("nothing to change: give at least one option")
    with app.session() as session:
        try:
            edited = edit_speaker(session, speaker, force=force, **changes)
        except NearMatch as exc:
            raise FactdbError(str(exc) + " (use --force to rename it anyway)") from None
        message = f"updated speaker {edited.id}: {edited.name}"
    click.echo(message, err=True)


@speaker.group()
def alias() -> None:
    """Add or remove another name of a speaker (any script: "Сергей Лавров")."""


@alias.command(name="add")
@_speaker_ref()
@click.argument("aliases", nargs=-1, required=True, metavar="ALIAS...")
@pass_app
def alias_add(app: AppContext, speaker: str, aliases: tuple[str, ...]) -> None:
    """Give SPEAKER one or more other names."""
    from factdb.services.speakers import add_alias, get_speaker

    with app.session() as session:
        found = get_speaker(session, speaker)
        for name in aliases:
            add_alias(session, found, name)
        message = f"speaker {found.name!r} also answers to {', '.join(map(repr, aliases))}"
    click.echo(message, err=True)


@alias.command(name="remove")
@_speaker_ref()
@click.argument("aliases", nargs=-1, required=True, metavar="ALIAS...")
@pass_app
def alias_remove(app: AppContext, speaker: str, aliases: tuple[str, ...]) -> None:
    """Take one or more aliases away from SPEAKER."""
    from factdb.services.speakers import get_speaker, remove_alias

    with app.session() as session:
        found = get_speaker(session, speaker)
        for name in aliases:
            remove_alias(session, found, name)
        message = f"removed {len(aliases)} alias(es) of speaker {found.name!r}"
    click.echo(message, err=True)


@speaker.command()
@click.argument("source", metavar="FROM", shell_complete=complete_speaker)
@click.argument("target", metavar="INTO", shell_complete=complete_speaker)
@pass_app
def merge(app: AppContext, source: str, target: str) -> None:
    """Move everything from speaker FROM to INTO, keep FROM's name as an alias, delete FROM."""
    from factdb.services.speakers import merge_speakers

    with app.session() as session:
        summary = merge_speakers(session, source, target)
    click.echo(
        f"merged {summary['from']!r} into {summary['into']!r}: {summary['claims']} claim(s) "
        f"moved; aliases now include {', '.join(map(repr, summary['aliases']))}",
        err=True,
    )


@speaker.command()
@_speaker_ref()
@pass_app
def delete(app: AppContext, speaker: str) -> None:
    """Delete a speaker with no claims and nobody acting for it (merge it otherwise)."""
    from factdb.services.speakers import delete_speaker

    with app.session() as session:
        name = delete_speaker(session, speaker)
    click.echo(f"deleted speaker {name!r}", err=True)
