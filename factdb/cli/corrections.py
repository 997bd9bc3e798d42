"""Correcting a claim after entry: ``claim source add|remove|move``, ``claim unlink``,
``claim remove-verdict``; and reading its context: ``claim thread``.

Every correction is a change like any other: it is written to the audit log (``factdb log``).
"""

from __future__ import annotations

import click

from factdb.cli.common import AppContext, check_style, output_options, pass_app
from factdb.errors import FactdbError
from factdb.vocab import ROLE_GLOSSARY, glossary_help


@click.group(
    name="source",
    epilog="Attribution roles (role=):\n\n" + glossary_help(ROLE_GLOSSARY),
)
def claim_source() -> None:
    """Correct a claim's attribution chain: add, remove or move a source.

    Positions are those 'claim show' prints (1 is the first link of the chain); they stay
    1, 2, 3, … after every change.
    """


@claim_source.command(name="add")
@click.argument("claim_id", metavar="ID", type=int)
@click.argument("spec", metavar="'NAME; role=R; verb=V; url=U'")
@click.option("--at", "position", type=click.IntRange(min=1), help="Insert at this position.")
@click.option("--new-source", is_flag=True, help="Create the source despite a near match.")
@pass_app
def source_add(
    app: AppContext, claim_id: int, spec: str, position: int | None, new_source: bool
) -> None:
    """Add a source to claim ID's chain (last, or --at a position), written like --via."""
    from factdb.services.attributions import add_source, parse_via
    from factdb.services.names import NearMatch, created_names

    try:
        attribution = parse_via(spec, force_new=new_source)
    except FactdbError as exc:
        raise click.UsageError(str(exc)) from None
    try:
        with app.session() as session:
            row = add_source(session, claim_id, attribution, position)
            message = (
                f"claim {claim_id}: {row.source.name} added at position {row.position} "
                f"({row.role.replace('_', ' ')})"
            )
            created = created_names(session)
    except NearMatch as exc:
        raise FactdbError(f"{exc} (use --new-source to create it anyway)") from None
    for line in created:
        click.echo(line, err=True)
    click.echo(message)


@claim_source.command(name="remove")
@click.argument("claim_id", metavar="ID", type=int)
@click.argument("position", type=click.IntRange(min=1))
@pass_app
def source_remove(app: AppContext, claim_id: int, position: int) -> None:
    """Remove the source at POSITION from claim ID's chain (the source itself stays)."""
    from factdb.services.attributions import remove_source

    with app.session() as session:
        row = remove_source(session, claim_id, position)
        message = f"claim {claim_id}: removed {row.source.name} from position {position}"
    click.echo(message)


@claim_source.command(name="move")
@click.argument("claim_id", metavar="ID", type=int)
@click.argument("position", type=click.IntRange(min=1))
@click.option("--to", "to", type=click.IntRange(min=1), required=True, help="New position.")
@pass_app
def source_move(app: AppContext, claim_id: int, position: int, to: int) -> None:
    """Move the source at POSITION of claim ID's chain to position --to."""
    from factdb.services.attributions import move_source

    with app.session() as session:
        rows = move_source(session, claim_id, position, to)
        chain = ", ".join(f"{r.position}. {r.source.name}" for r in rows)
    click.echo(f"claim {claim_id}: {chain}")


@click.command()
@click.argument("ref", nargs=-1, required=True, metavar="LINK_ID | FROM RELATION TO")
@pass_app
def unlink(app: AppContext, ref: tuple[str, ...]) -> None:
    """Remove a link between two claims, by its id ('claim show' lists it) or as written when
    it was made (7 denies 3)."""
    from factdb.services.links import find_link, relation_text
    from factdb.services.links import unlink as remove_link

    if len(ref) not in (1, 3):
        raise click.UsageError("give a link id, or FROM RELATION TO (e.g. 7 denies 3)")
    numbers = [ref[0]] if len(ref) == 1 else [ref[0], ref[2]]
    if not all(n.isdigit() for n in numbers):
        raise click.UsageError(f"not a claim or link id: {' '.join(ref)!r}")
    with app.session() as session:
        link_id = int(ref[0]) if len(ref) == 1 else find_link(session, *ref).id
        link = remove_link(session, link_id)
        said = relation_text(link.relation)
        message = (
            f"removed link {link.id}: claim {link.from_statement_id} {said} "
            f"claim {link.to_statement_id}"
        )
    click.echo(message)


@click.command(name="remove-verdict")
@click.argument("verdict_id", metavar="VERDICT_ID", type=int)
@click.option("--claim", "claim_id", type=int, metavar="ID", help="Check it is this claim's.")
@pass_app
def remove_verdict(app: AppContext, verdict_id: int, claim_id: int | None) -> None:
    """Remove a verdict (its id is in 'claim show'); the audit log keeps what it said."""
    from factdb.services.verdicts import remove_verdict as remove

    with app.session() as session:
        verdict = remove(session, verdict_id, claim_id)
        message = f"removed verdict {verdict.id} ({verdict.label}) of claim {verdict.statement_id}"
    click.echo(message)


@click.command()
@click.argument("claim_id", metavar="ID", type=int)
@click.option(
    "--depth", type=click.IntRange(min=1), help="At most this many links away (default: all)."
)
@output_options
@pass_app
def thread(app: AppContext, claim_id: int, depth: int | None, fmt: str, style: str) -> None:
    """The conversation around claim ID: what it denies, confirms or responds to, what answers
    it, and so on along the links, in the order said, with each claim's current status."""
    check_style(style)
    from factdb.output import render
    from factdb.services.thread import claim_thread

    with app.session(write=False) as session:
        found = claim_thread(session, claim_id, depth=depth)
    rows = []
    for claim in found["claims"]:
        mark = "*" if claim["id"] == found["claim_id"] else ""
        row = {**claim, "": mark}
        if fmt == "table":
            row["links"] = "; ".join(claim["links"])
            row["answered_by"] = "; ".join(claim["answered_by"])
            text = " ".join(claim["text"].split())
            row["text"] = text if len(text) <= 50 else text[:49] + "…"
        rows.append(row)
    columns = ["", "id", "said_on", "speaker", "status", "links", "answered_by", "text"]
    render(rows, columns if fmt == "table" else columns[1:], fmt, style)
    if found["truncated"]:
        click.echo("(the thread was cut short: use --depth to narrow it)", err=True)
