"""``factdb source …``: where statements appeared or were reported."""

from __future__ import annotations

import click

from factdb.cli.common import DATE, AppContext, check_style, output_options, pass_app
from factdb.errors import FactdbError
from factdb.vocab import SOURCE_KINDS

KINDS = SOURCE_KINDS


@click.group()
def source() -> None:
    """Where statements appeared or were reported: add, list, show, edit, alias, merge, delete."""


@source.command()
@click.argument("name")
@click.option("--kind", type=click.Choice(KINDS), default="outlet", show_default=True)
@click.option("--url", help="The article's or document's URL (unique).")
@click.option("--title", help="Headline or document title.")
@click.option("--published-on", "published_on", type=DATE, help="YYYY, YYYY-MM or YYYY-MM-DD.")
@click.option("--credit", help="Author, photographer or credit line.")
@click.option(
    "--based-on", "based_on", metavar="ID|URL|NAME", help="The source this one is based on."
)
@click.option("--notes", help="Free notes.")
@click.option("--force", is_flag=True, help="Create even if the name nearly matches another.")
@pass_app
def add(
    app: AppContext,
    name: str,
    kind: str,
    url: str | None,
    title: str | None,
    published_on: str | None,
    credit: str | None,
    based_on: str | None,
    notes: str | None,
    force: bool,
) -> None:
    """Add a source called NAME (an outlet, agency, press service, document, …)."""
    from factdb.services.names import NearMatch
    from factdb.services.sources import create_source

    with app.session() as session:
        try:
            created = create_source(
                session,
                name,
                kind=kind,
                url=url,
                title=title,
                published_on=published_on,
                credit=credit,
                based_on=based_on,
                notes=notes,
                force=force,
            )
        except NearMatch as exc:
            raise FactdbError(str(exc) + " (use --force to create it anyway)") from None
        message = f"added source {created.id}: {created.name}"
    click.echo(message, err=True)


@source.command(name="list")
@click.option("--kind", type=click.Choice(KINDS), help="Only this kind.")
@click.option("--name", metavar="TEXT", help="Name contains TEXT (any case/accents).")
@click.option("--limit", type=click.IntRange(min=0), help="At most this many sources.")
@output_options
@pass_app
def list_cmd(
    app: AppContext, kind: str | None, name: str | None, limit: int | None, fmt: str, style: str
) -> None:
    """List sources with their kind, title, URL, date, credit, basis and number of claims."""
    from factdb.output import render
    from factdb.services.sources import list_sources

    check_style(style)
    columns = ["id", "name", "kind", "title", "url", "published", "credit", "based_on", "claims"]
    with app.session(write=False) as session:
        render(list_sources(session, kind=kind, name=name, limit=limit), columns, fmt, style)


@source.command()
@click.argument("ref", metavar="ID|URL|NAME")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@pass_app
def show(app: AppContext, ref: str, fmt: str) -> None:
    """Show one source: kind, title, URL, date, credit, what it is based on, claim count."""
    from factdb.output import render_record
    from factdb.services.sources import source_detail

    with app.session(write=False) as session:
        render_record(source_detail(session, ref), fmt)


@source.command()
@click.argument("ref", metavar="ID|URL|NAME")
@click.option("--name", "new_name", metavar="NAME", help="Rename the source.")
@click.option("--kind", type=click.Choice(KINDS), help="Change the kind.")
@click.option("--url", help="Set the URL ('' clears it).")
@click.option("--title", help="Set the title ('' clears it).")
@click.option("--published-on", "published_on", help="YYYY, YYYY-MM or YYYY-MM-DD ('' clears it).")
@click.option("--credit", help="Set the credit ('' clears it).")
@click.option("--based-on", "based_on", metavar="ID|URL|NAME", help="Based on this source.")
@click.option("--no-based-on", is_flag=True, help="Based on nothing.")
@click.option("--notes", help="Replace the notes ('' clears them).")
@click.option("--force", is_flag=True, help="Rename even if the name nearly matches another.")
@pass_app
def edit(
    app: AppContext,
    ref: str,
    new_name: str | None,
    kind: str | None,
    url: str | None,
    title: str | None,
    published_on: str | None,
    credit: str | None,
    based_on: str | None,
    no_based_on: bool,
    notes: str | None,
    force: bool,
) -> None:
    """Change a source's name, kind, URL, title, date, credit, basis or notes."""
    from factdb.services.names import NearMatch
    from factdb.services.sources import edit_source

    if based_on is not None and no_based_on:
        raise click.UsageError("--based-on and --no-based-on exclude each other")
    if published_on:
        from factdb.dates import parse_partial

        try:
            parse_partial(published_on)
        except FactdbError as exc:
            raise click.BadParameter(str(exc), param_hint="--published-on") from None
    changes: dict[str, object] = {
        key: value
        for key, value in {
            "name": new_name,
            "kind": kind,
            "url": url,
            "title": title,
            "published_on": published_on,
            "credit": credit,
            "notes": notes,
        }.items()
        if value is not None
    }
    if based_on is not None or no_based_on:
        changes["based_on"] = based_on
    if not changes:
        raise click.UsageError("nothing to change: give at least one option")
    with app.session() as session:
        try:
            edited = edit_source(session, ref, force=force, **changes)
        except NearMatch as exc:
            raise FactdbError(str(exc) + " (use --force to rename it anyway)") from None
        message = f"updated source {edited.id}: {edited.name}"
    click.echo(message, err=True)


@source.command()
@click.argument("ref", metavar="ID|URL|NAME")
@click.option(
    "--cascade",
    is_flag=True,
    help="Also delete its attributions and clear references to it (claims stay).",
)
@pass_app
def delete(app: AppContext, ref: str, cascade: bool) -> None:
    """Delete a source; refused while claims or other sources refer to it (see --cascade)."""
    from factdb.services.sources import delete_source

    with app.session() as session:
        done = delete_source(session, ref, cascade=cascade)
    extra = f"; removed {done['attributions_removed']} attribution(s)" if done["references"] else ""
    click.echo(f"deleted source {done['deleted']}{extra}", err=True)


@source.group()
def alias() -> None:
    """Add or remove another name of a source ("AP" for "Associated Press")."""


@alias.command(name="add")
@click.argument("ref", metavar="ID|URL|NAME")
@click.argument("aliases", nargs=-1, required=True, metavar="ALIAS...")
@pass_app
def alias_add(app: AppContext, ref: str, aliases: tuple[str, ...]) -> None:
    """Give the source one or more other names; they resolve to it everywhere (claim add,
    import, story files, --source filters)."""
    from factdb.services.sources import add_source_alias, get_source

    with app.session() as session:
        found = get_source(session, ref)
        for name in aliases:
            add_source_alias(session, found.id, name)
        message = f"source {found.name!r} also answers to {', '.join(map(repr, aliases))}"
    click.echo(message, err=True)


@alias.command(name="remove")
@click.argument("aliases", nargs=-1, required=True, metavar="ALIAS...")
@pass_app
def alias_remove(app: AppContext, aliases: tuple[str, ...]) -> None:
    """Take one or more aliases away from their sources."""
    from factdb.services.sources import remove_source_alias

    with app.session() as session:
        for name in aliases:
            remove_source_alias(session, name)
    click.echo(f"removed {len(aliases)} source alias(es)", err=True)


@source.command()
@click.argument("source_ref", metavar="FROM")
@click.argument("target_ref", metavar="INTO")
@pass_app
def merge(app: AppContext, source_ref: str, target_ref: str) -> None:
    """Move everything from source FROM to INTO (attributions, evidence, sources based on it,
    aliases), keep FROM's name as an alias of INTO, delete FROM."""
    from factdb.services.sources import merge_sources

    with app.session() as session:
        summary = merge_sources(session, source_ref, target_ref)
    aliases = ", ".join(map(repr, summary["aliases"])) or "none"
    click.echo(
        f"merged {summary['from']!r} into {summary['into']}: {summary['attributions']} "
        f"attribution(s) moved; aliases moved or added: {aliases}",
        err=True,
    )
