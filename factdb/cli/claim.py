"""``factdb claim …``: add, list, show, edit, delete claims; record statuses, links, verdicts.

Dates on these commands (``--said-on``, ``--on``, …) are YYYY, YYYY-MM or YYYY-MM-DD; a
malformed or impossible one (2021-02-30) is refused with one ``Error:`` line (exit 1) and
nothing is written. A status change dated before the claim was made is refused.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from factdb.cli.common import (
    AppContext,
    check_style,
    complete_speaker,
    filter_options,
    make_filter,
    output_options,
    pass_app,
)
from factdb.cli.corrections import claim_source, remove_verdict, thread, unlink
from factdb.cli.search import search
from factdb.errors import FactdbError
from factdb.vocab import (
    QUOTE_KIND_GLOSSARY,
    ROLE_GLOSSARY,
    SORT_KEYS,
    glossary_help,
)

LIST_COLUMNS = ["id", "said_on", "speaker", "status", "verdict", "text"]
TEXT_WIDTH = 60


def _near_match_hint(exc: Any) -> FactdbError:
    """A NearMatch as one line with the flag that overrides it."""
    flag = "--new-speaker" if exc.noun == "speaker" else "--new-source"
    quoted = " or ".join(f"'{c}'" for c in exc.candidates)
    return FactdbError(
        f"{exc.noun} '{exc.name}' is not known; did you mean {quoted}? "
        f"(use {flag} to create it anyway)"
    )


def _short(text: str | None, width: int = TEXT_WIDTH) -> str:
    """One line of at most ``width`` characters (table output only)."""
    flat = " ".join((text or "").split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _ask_or_fail(value: str | None, prompt: str, param: str) -> str:
    """The value, else a prompt at a terminal, else a usage error (scripts never wait)."""
    if value is not None:
        return value
    if sys.stdin.isatty():
        return click.prompt(prompt)
    raise click.UsageError(f"missing {param}")


@click.group()
def claim() -> None:
    """Claims: add, list, show, edit, delete, search, match; record statuses, links and
    verdicts; correct them (source, unlink, remove-verdict, status --withdraw); follow a thread."""


# full-text search lives in its own module (factdb.cli.search); it is a claim subcommand
claim.add_command(search)
# so do the corrections (factdb.cli.corrections) and the thread view
for _command in (claim_source, unlink, remove_verdict, thread):
    claim.add_command(_command)

# claim matching likewise (factdb.cli.match)
from factdb.cli.match import match  # noqa: E402

claim.add_command(match)


GLOSSARY_EPILOG = (
    "Attribution roles (role=):\n\n"
    + glossary_help(ROLE_GLOSSARY)
    + "\n\nQuote kinds (--quote-kind):\n\n"
    + glossary_help(QUOTE_KIND_GLOSSARY)
)


@claim.command(epilog=GLOSSARY_EPILOG)
@click.argument("text_arg", metavar="[TEXT]", required=False)
@click.option("--text", "text_opt", metavar="TEXT", help="The claim text (or give it as TEXT).")
@click.option(
    "--speaker",
    metavar="NAME",
    shell_complete=complete_speaker,
    help="Who said it (name or alias).",
)
@click.option(
    "--speaker-kind",
    type=click.Choice(["person", "organisation", "org", "organization"]),
    help="Kind of a speaker created here (not given: guessed from the name, and said so).",
)
@click.option("--speaker-role", metavar="ROLE", help="Role of a speaker created here.")
@click.option("--said-on", metavar="DATE", help="When it was said: YYYY, YYYY-MM or YYYY-MM-DD.")
@click.option(
    "--quote-kind",
    metavar="KIND",
    default="direct_quote",
    show_default=True,
    help="direct_quote, paraphrase, summary or translation (see below).",
)
@click.option("--language", metavar="CODE", help="Language of TEXT (en, ru, …).")
@click.option("--original-text", help="The words as originally said (for translations).")
@click.option("--original-language", metavar="CODE", help="Language of the original text.")
@click.option("--context", help="Where and in what situation it was said.")
@click.option("--tag", "tags", multiple=True, metavar="TAG", help="A tag (repeat for more).")
@click.option(
    "--via",
    "vias",
    multiple=True,
    metavar="'NAME; role=R; verb=V; url=U'",
    help="One attribution, in chain order (repeat): the source's name, then any of role, verb, "
    "url, kind, credit, title, published as key=value, separated by ';'.",
)
@click.option(
    "--source", "sources", multiple=True, metavar="NAME", help="A source (older form of --via)."
)
@click.option(
    "--source-url", "source_urls", multiple=True, metavar="URL", help="URL of the --source."
)
@click.option(
    "--source-kind", "source_kinds", multiple=True, metavar="KIND", help="Kind of the --source."
)
@click.option("--verb", "verbs", multiple=True, metavar="VERB", help="Verb of the --source.")
@click.option(
    "--role", "roles", multiple=True, metavar="ROLE", help="Role of the --source (see below)."
)
@click.option("--new-source", is_flag=True, help="Create sources despite near matches.")
@click.option("--status", metavar="CODE", help="Initial status (alleged, unverified, …).")
@click.option("--status-on", metavar="DATE", help="Date of the initial status (default: said-on).")
@click.option("--origin", help="Where the record came from (with --external-id).")
@click.option("--external-id", help="Its id there: importing it again is refused.")
@click.option("--no-create", is_flag=True, help="Refuse an unknown speaker instead of creating it.")
@click.option("--new-speaker", is_flag=True, help="Create the speaker despite a near match.")
@click.option(
    "--repeats-of",
    metavar="auto|ID",
    help="Record that the claim repeats claim ID (auto: the recorded claim it best matches).",
)
@pass_app
def add(
    app: AppContext,
    text_arg: str | None,
    text_opt: str | None,
    speaker: str | None,
    speaker_kind: str | None,
    speaker_role: str | None,
    said_on: str | None,
    quote_kind: str,
    language: str | None,
    original_text: str | None,
    original_language: str | None,
    context: str | None,
    tags: tuple[str, ...],
    vias: tuple[str, ...],
    sources: tuple[str, ...],
    source_urls: tuple[str, ...],
    source_kinds: tuple[str, ...],
    verbs: tuple[str, ...],
    roles: tuple[str, ...],
    new_source: bool,
    status: str | None,
    status_on: str | None,
    origin: str | None,
    external_id: str | None,
    no_create: bool,
    new_speaker: bool,
    repeats_of: str | None,
) -> None:
    """Add a claim: what was said, by whom, when, and how we know.

    A claim that probably repeats a recorded one is added all the same, with a note naming
    it ("resembles claim 12 (score 0.91), rated False"); --repeats-of records the link.

    Give each source of the attribution chain with one --via, in chain order:

    \b
      --via 'Associated Press; role=according_to; verb=said'
      --via 'Outlet; role=published_by; url=https://example.com/story'

    The older --source (with --role, --verb, --source-url, --source-kind) is fine for one
    source; with several, each of those options must be given once per --source or not at
    all, since nothing else says which source a role belongs to. A new speaker or source is
    reported on stderr. At a terminal a missing TEXT or --speaker is asked for; in scripts it
    is a usage error.
    """
    if text_arg is not None and text_opt is not None:
        raise click.UsageError("give the text once: as TEXT or as --text")
    from factdb.services.attributions import paired_attributions, parse_via

    paired = {
        "--source-url": source_urls,
        "--source-kind": source_kinds,
        "--verb": verbs,
        "--role": roles,
    }
    if vias and (sources or any(paired.values())):
        raise click.UsageError(
            "give the sources either with --via or with --source (and its options), not both: "
            "the chain's order would be a guess"
        )
    try:
        if vias:
            attributions = [parse_via(spec, force_new=new_source) for spec in vias]
        else:
            attributions = paired_attributions(sources, paired, force_new=new_source)
    except FactdbError as exc:
        raise click.UsageError(str(exc)) from None
    if repeats_of is not None and repeats_of != "auto" and not repeats_of.isdigit():
        raise click.BadParameter("'auto' or a claim id", param_hint="--repeats-of")
    text = _ask_or_fail(text_arg if text_arg is not None else text_opt, "Claim text", "TEXT")
    speaker = _ask_or_fail(speaker, "Speaker", "--speaker")

    from factdb.services.claims import add_claim
    from factdb.services.names import NearMatch, created_names

    try:
        with app.session() as session:
            statement = add_claim(
                session,
                text=text,
                speaker=speaker,
                speaker_kind=speaker_kind,
                speaker_role=speaker_role,
                create_speaker=not no_create,
                force_new_speaker=new_speaker,
                quote_kind=quote_kind,
                language=language,
                original_text=original_text,
                original_language=original_language,
                said_on=said_on,
                context=context,
                tags=tags,
                origin=origin,
                external_id=external_id,
                status=status,
                status_on=status_on,
                sources=attributions,
            )
            claim_id = statement.id
            created = created_names(session)
            repeat, linked = _check_repeat(session, claim_id, repeats_of)
    except NearMatch as exc:
        raise _near_match_hint(exc) from None
    for line in created:
        click.echo(line, err=True)
    click.echo(f"added claim {claim_id}")
    if repeat is not None:
        click.echo(f"note: {repeat.line()}", err=True)
    if linked is not None:
        click.echo(f"linked: claim {claim_id} repeats claim {linked}", err=True)


def _check_repeat(session: Any, claim_id: int, repeats_of: str | None) -> tuple[Any, int | None]:
    """(the probable repeat found, the claim linked with 'repeats' or None) for a new claim."""
    from factdb.match import repeats
    from factdb.services.links import link_claims

    repeats.embed_new(session, claim_id - 1)
    found = repeats.find_repeats(session, [claim_id], ranker=repeats.semantic_layer(session))
    repeat = found[0] if found else None
    target = None
    if repeats_of == "auto":
        if repeat is None:
            raise FactdbError("--repeats-of auto: no recorded claim resembles this one enough")
        target = repeat.of_id
    elif repeats_of is not None:
        target = int(repeats_of)
    if target is not None:
        link_claims(session, claim_id, "repeats", target)
    return repeat, target


@claim.command(name="list")
@filter_options
@click.option(
    "--sort",
    type=click.Choice(SORT_KEYS),
    help="Order by date said (the default), id, current status or speaker name.",
)
@output_options
@pass_app
def list_cmd(app: AppContext, fmt: str, style: str, **filters: Any) -> None:
    """List claims (id, date said, speaker, status, latest verdict, text).

    Long texts are shortened in table output only; csv, tsv, json and jsonl carry them whole.
    With --as-of the status column is the status as it stood on that date. Claims are in the
    order of the date said (undated first), then id, unless --sort says otherwise.
    """
    check_style(style)
    from factdb.output import render
    from factdb.services.query import list_claims

    claim_filter = make_filter(**filters)
    with app.session(write=False) as session:
        rows = list_claims(session, claim_filter)
        if fmt == "table":
            rows = ({**row, "text": _short(row["text"])} for row in rows)
        render(rows, LIST_COLUMNS, fmt, style)


def _show_table(detail: dict[str, Any], style: str) -> None:
    """``claim show`` as readable sections (all rendering through factdb.output)."""
    from factdb.output import render, render_record

    speaker = detail["speaker"]
    who = speaker["name"]
    if speaker["role"]:
        who += f", {speaker['role']}"
    if speaker["acts_for"]:
        who += f" (acting for {speaker['acts_for']})"
    head: dict[str, Any] = {
        "claim": detail["id"],
        "text": detail["text"],
        "speaker": who,
        "said on": detail["said_on"],
        "quote kind": detail["quote_kind"].replace("_", " "),
        "language": detail["language"],
    }
    if detail["original_text"]:
        head["original"] = detail["original_text"]
        head["original language"] = detail["original_language"]
    if detail["context"]:
        head["context"] = detail["context"]
    if detail["tags"]:
        head["tags"] = ", ".join(detail["tags"])
    if detail["origin"] or detail["external_id"]:
        head["origin"] = f"{detail['origin'] or ''} {detail['external_id'] or ''}".strip()
    status = detail["status"]
    head["status"] = f"{status} ({detail['status_label']})" if status else "none recorded"
    render_record(head)

    def section(title: str, rows: list[dict[str, Any]], columns: list[str]) -> None:
        click.echo(f"\n{title}:")
        if rows:
            render(rows, columns, "table", style)
        else:
            click.echo("  (none)")

    chain = [
        {
            "#": a["position"],
            "role": a["role"].replace("_", " "),
            "verb": a["verb"],
            "source": a["source"]["name"],
            "kind": a["source"]["kind"].replace("_", " "),
            "url": a["source"]["url"],
            "credit": a["source"]["credit"],
            "based on": a["source"]["based_on"],
        }
        for a in detail["attributions"]
    ]
    section(
        "Attribution chain",
        chain,
        ["#", "role", "verb", "source", "kind", "url", "credit", "based on"],
    )
    history = [
        {
            "event": e["id"],
            "withdrawn": _withdrawn(e),
            "effective": e["effective_on"],
            "status": e["status"],
            "note": e["note"],
            "evidence": e["evidence_source"]
            or (f"claim {e['evidence_claim_id']}" if e["evidence_claim_id"] else None),
            "recorded at": e["recorded_at"].replace(microsecond=0) if e["recorded_at"] else None,
            "by": e["recorded_by"],
        }
        for e in detail["status_history"]
    ]
    columns = ["effective", "status", "note", "evidence", "recorded at", "by", "event"]
    if any(e["withdrawn"] for e in history):
        columns.append("withdrawn")
    section("Status history", history, columns)
    links = [
        {
            "link": f"this {link['relation']} claim {link['claim_id']}",
            "claim": f"{link['speaker']}: {_short(link['text'], 50)}",
            "on": link["linked_on"],
            "note": link["note"],
            "id": link["id"],
        }
        for link in detail["links"]["outgoing"]
    ] + [
        {
            "link": f"claim {link['claim_id']} {link['relation']} this",
            "claim": f"{link['speaker']}: {_short(link['text'], 50)}",
            "on": link["linked_on"],
            "note": link["note"],
            "id": link["id"],
        }
        for link in detail["links"]["incoming"]
    ]
    section("Links", links, ["link", "claim", "on", "note", "id"])
    verdicts = [
        {
            "label": v["label"],
            "class": v["class"],
            "by": v["reviewer"],
            "on": v["reviewed_on"],
            "scale": v["scale"],
            "url": v["url"],
            "id": v["id"],
        }
        for v in detail["verdicts"]
    ]
    section("Verdicts", verdicts, ["label", "class", "by", "on", "scale", "url", "id"])


@claim.command()
@click.argument("claim_id", metavar="ID", type=int)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="Readable sections, or the full record as JSON.",
)
@click.option("--fmt", "style", default="simple", metavar="STYLE", help="Table style.")
@pass_app
def show(app: AppContext, claim_id: int, fmt: str, style: str) -> None:
    """Show a claim: speaker, attribution chain, status and its history, links, verdicts."""
    check_style(style)
    from factdb.output import render_record
    from factdb.services.query import claim_detail

    with app.session(write=False) as session:
        detail = claim_detail(session, claim_id)
    if fmt == "json":
        render_record(detail, "json")
    else:
        _show_table(detail, style)


@claim.command()
@click.argument("claim_id", metavar="ID", type=int)
@output_options
@pass_app
def history(app: AppContext, claim_id: int, fmt: str, style: str) -> None:
    """The dated status history of a claim, oldest first."""
    check_style(style)
    from factdb.output import render
    from factdb.services.query import claim_detail

    with app.session(write=False) as session:
        events = claim_detail(session, claim_id)["status_history"]
    rows = [
        {
            **e,
            "event": e["id"],
            "withdrawn": _withdrawn(e),
            "evidence_claim": e["evidence_claim_id"],
            "recorded_at": e["recorded_at"].replace(microsecond=0)
            if fmt == "table" and e["recorded_at"]
            else e["recorded_at"],
        }
        for e in events
    ]
    columns = [
        "effective_on",
        "status",
        "note",
        "evidence_source",
        "evidence_claim",
        "recorded_at",
        "recorded_by",
        "event",
        "withdrawn",
    ]
    if fmt != "table":
        columns += ["withdrawn_at", "withdrawn_by", "withdrawn_note"]
    render(rows, columns, fmt, style)


def _withdrawn(event: dict[str, Any]) -> str | None:
    """A withdrawn event's "when by whom: why", for tables (None when it stands)."""
    if event["withdrawn_at"] is None:
        return None
    return (
        f"{event['withdrawn_at']:%Y-%m-%d %H:%M} by {event['withdrawn_by'] or '?'}: "
        f"{event['withdrawn_note']}"
    )


@claim.command()
@click.argument("claim_id", metavar="ID", type=int)
@click.argument("status", required=False)
@click.option("--on", "effective_on", metavar="DATE", help="Effective date (default: today, said).")
@click.option("--note", help="Why the status changed (with --withdraw: why it is withdrawn).")
@click.option("--evidence-source", metavar="NAME|URL|ID", help="A known source that shows it.")
@click.option("--evidence-claim", type=int, metavar="ID", help="Another claim that shows it.")
@click.option(
    "--by", "recorded_by", metavar="WHO", help="Who records it (default: the root --by, …)."
)
@click.option("--again", is_flag=True, help="Record STATUS even if it is the current status.")
@click.option(
    "--withdraw",
    "withdraw",
    type=int,
    metavar="EVENT",
    help="Withdraw status event EVENT (see 'claim history'; needs --note) instead.",
)
@pass_app
def status(
    app: AppContext,
    claim_id: int,
    status: str | None,
    effective_on: str | None,
    note: str | None,
    evidence_source: str | None,
    evidence_claim: int | None,
    recorded_by: str | None,
    again: bool,
    withdraw: int | None,
) -> None:
    """Record that claim ID took STATUS on a date (the history is kept, never overwritten).

    A date before the claim was made is refused: the change would predate the claim. The
    claim's current status again is refused unless --again (usually a command typed twice).
    A mistaken event is corrected with --withdraw EVENT --note WHY: it stays in the history,
    marked withdrawn, and the current status is worked out without it.
    """
    import datetime as dt

    from factdb.audit import current_actor
    from factdb.services.statuses import add_status_event, withdraw_status_event

    if withdraw is not None:
        given = [o for o, v in (("STATUS", status), ("--on", effective_on)) if v]
        given += [
            o
            for o, v in (
                ("--evidence-source", evidence_source),
                ("--evidence-claim", evidence_claim),
            )
            if v is not None
        ]
        if given or again:
            raise click.UsageError(
                f"--withdraw takes only --note and --by, not {given or '--again'}"
            )
        if not note:
            raise click.UsageError("--withdraw needs --note saying why")
    elif status is None:
        raise click.UsageError("missing STATUS (or --withdraw EVENT)")
    if recorded_by:
        app.actor = recorded_by.strip() or app.actor
    with app.session() as session:
        who = current_actor(session)
        if withdraw is not None:
            event = withdraw_status_event(
                session, claim_id, withdraw, note=note or "", withdrawn_by=who
            )
            current = event.statement.current_status or "none recorded"
            message = (
                f"claim {claim_id}: status event {event.id} ({event.status_code}) withdrawn; "
                f"current status: {current}"
            )
        else:
            when = effective_on or dt.date.today().isoformat()
            event = add_status_event(
                session,
                claim_id,
                status or "",
                when,
                note=note,
                evidence_source=evidence_source,
                evidence_claim_id=evidence_claim,
                recorded_by=who,
                again=again,
            )
            current = event.statement.current_status
            message = (
                f"claim {claim_id}: {event.status_code} from {when}; current status: {current}"
            )
    if withdraw is None and effective_on is None:
        # said once it worked: a refused command prints its one error line only
        click.echo(f"no --on given: recorded it as of today, {when}", err=True)
    click.echo(message)


@claim.command()
@click.argument("from_id", metavar="FROM", type=int)
@click.argument("relation")
@click.argument("to_id", metavar="TO", type=int)
@click.option("--on", "linked_on", metavar="DATE", help="When the link was made.")
@click.option("--note", help="A note on the link.")
@pass_app
def link(
    app: AppContext,
    from_id: int,
    relation: str,
    to_id: int,
    linked_on: str | None,
    note: str | None,
) -> None:
    """Link claim FROM to claim TO: denies, confirms, disputes, responds-to, retracts, repeats,
    supports."""
    from factdb.services.links import link_claims, relation_text

    with app.session() as session:
        created = link_claims(session, from_id, relation, to_id, linked_on=linked_on, note=note)
        said = relation_text(created.relation)
        message = f"linked: claim {from_id} {said} claim {to_id} (link {created.id})"
    click.echo(message)


@claim.command()
@click.argument("claim_id", metavar="ID", type=int)
@click.option("--text", help="New text.")
@click.option("--speaker", shell_complete=complete_speaker, help="Another existing speaker.")
@click.option("--said-on", metavar="DATE", help="New date said ('' clears it).")
@click.option("--quote-kind", help="direct_quote, paraphrase, summary or translation.")
@click.option("--language", metavar="CODE", help="Language ('' clears it).")
@click.option("--original-text", help="Original words ('' clears them).")
@click.option("--original-language", metavar="CODE", help="Original language.")
@click.option("--context", help="Context ('' clears it).")
@click.option("--tag", "tags", multiple=True, help="Replace the tags (repeat).")
@click.option("--clear-tags", is_flag=True, help="Remove all tags.")
@click.option("--origin", help="Origin of the record.")
@click.option("--external-id", help="Its id at the origin.")
@pass_app
def edit(
    app: AppContext, claim_id: int, tags: tuple[str, ...], clear_tags: bool, **fields: Any
) -> None:
    """Change fields of claim ID (only the options given change)."""
    from factdb.services.claims import edit_claim

    changes = {k: v for k, v in fields.items() if v is not None}
    if tags and clear_tags:
        raise click.UsageError("--tag and --clear-tags exclude each other")
    if tags or clear_tags:
        changes["tags"] = list(tags)
    if not changes:
        raise click.UsageError("nothing to change: give at least one option")
    with app.session() as session:
        edit_claim(session, claim_id, **changes)
    click.echo(f"updated claim {claim_id}")


@claim.command()
@click.argument("claim_id", metavar="ID", type=int)
@click.option(
    "--cascade", is_flag=True, help="Also remove links from other claims and evidence uses."
)
@pass_app
def delete(app: AppContext, claim_id: int, cascade: bool) -> None:
    """Delete claim ID with its sources, history and verdicts (refused while others refer to it)."""
    from factdb.services.claims import delete_claim

    with app.session() as session:
        delete_claim(session, claim_id, cascade=cascade)
    click.echo(f"deleted claim {claim_id}")


@claim.command()
@click.argument("claim_id", metavar="ID", type=int)
@click.argument("label")
@click.option("--by", "reviewer", metavar="ORG", help="Who rated it (e.g. PolitiFact).")
@click.option("--on", "reviewed_on", metavar="DATE", help="When it was rated.")
@click.option("--url", help="The fact-check article.")
@click.option("--scale", help="Rating scale (Truth-O-Meter, Snopes, …).")
@click.option("--value", "rating_value", type=int, help="Numeric rating.")
@click.option("--best", "best_rating", type=int, help="Best value of the scale.")
@click.option("--worst", "worst_rating", type=int, help="Worst value of the scale.")
@pass_app
def verdict(
    app: AppContext,
    claim_id: int,
    label: str,
    reviewer: str | None,
    reviewed_on: str | None,
    url: str | None,
    scale: str | None,
    rating_value: int | None,
    best_rating: int | None,
    worst_rating: int | None,
) -> None:
    """Add a fact-checker's verdict LABEL to claim ID (an unknown label is kept as class other)."""
    from factdb.services.verdicts import add_verdict

    with app.session() as session:
        row = add_verdict(
            session,
            claim_id,
            label,
            reviewer=reviewer,
            reviewed_on=reviewed_on,
            url=url,
            scale=scale,
            rating_value=rating_value,
            best_rating=best_rating,
            worst_rating=worst_rating,
        )
        message = (
            f"added verdict {row.id} to claim {claim_id}: {row.label} ({row.normalised_class})"
        )
    click.echo(message)
