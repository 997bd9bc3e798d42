"""Claims (statements): adding, editing and deleting them, and their attribution chains.

A claim identical to an existing one by the same speaker (same normalised text on the same
date, see :func:`factdb.textkeys.content_key`), or one carrying an ``origin`` + ``external_id``
already used, is reported as a :class:`DuplicateClaim` naming the existing id, never stored twice.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.orm import Session

from factdb.dates import PartialDate, format_partial, parse_partial
from factdb.errors import Conflict, FactdbError, NotFound
from factdb.models import (
    ATTRIBUTION_ROLES,
    QUOTE_KINDS,
    Attribution,
    ClaimVector,
    Statement,
    StatementLink,
    StatusEvent,
    Tag,
)
from factdb.services.locks import lock_names

# normalise_tag lives in textkeys (no models) so that listings can use it; re-exported here
from factdb.text import clean_text
from factdb.textkeys import content_identity, content_key, normalise_tag

# BCP 47-ish: "en", "ru", "pt-BR", "zh-Hant", "und"
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")


@dataclass(frozen=True)
class AttributionInput:
    """One link of an attribution chain as entered: the source and how it carries the claim."""

    source: str  # source/outlet name, e.g. "Associated Press"
    url: str | None = None
    kind: str = "outlet"  # a models.SOURCE_KINDS value
    role: str = "reported_by"  # a models.ATTRIBUTION_ROLES value
    verb: str | None = None  # as written: "said", "according to", "accused"
    title: str | None = None
    credit: str | None = None
    published_on: str | None = None  # YYYY | YYYY-MM | YYYY-MM-DD
    force_new: bool = False


class DuplicateClaim(Conflict):
    """The claim already exists; ``existing_id`` is the identical claim's id."""

    def __init__(
        self, existing_id: int, reason: str = "an identical claim by the same speaker"
    ) -> None:
        self.existing_id = existing_id
        super().__init__(f"{reason} already exists: claim {existing_id}")


def _token(value: str) -> str:
    return "_".join(value.strip().lower().replace("-", " ").split())


def check_quote_kind(kind: str) -> str:
    """Validate a quote kind ("direct quote" and "direct-quote" mean ``direct_quote``)."""
    normal = _token(kind or "")
    if normal in ("quote", "direct"):
        normal = "direct_quote"
    if normal not in QUOTE_KINDS:
        raise FactdbError(f"unknown quote kind {kind!r} (use: {', '.join(QUOTE_KINDS)})")
    return normal


def check_role(role: str) -> str:
    """Validate an attribution role ("reported by" means ``reported_by``)."""
    normal = _token(role or "")
    if normal not in ATTRIBUTION_ROLES:
        raise FactdbError(
            f"unknown attribution role {role!r} (use: {', '.join(ATTRIBUTION_ROLES)})"
        )
    return normal


def check_language(language: str | None) -> str | None:
    """Validate a language tag such as ``en``, ``ru`` or ``pt-BR`` (None and "" mean unknown)."""
    if language is None or not language.strip():
        return None
    value = language.strip()
    if not _LANGUAGE.match(value):
        raise FactdbError(f"invalid language {language!r}: use a code such as en, ru or pt-BR")
    primary, *rest = value.split("-")
    return "-".join([primary.lower(), *rest])


def _tag_rows(session: Session, tags: Iterable[str]) -> list[Tag]:
    rows: dict[str, Tag | None] = {}
    for raw in tags:
        name = normalise_tag(raw)
        if not name or name in rows:
            continue
        if len(name) > 100:
            raise FactdbError(f"tag {name[:20]!r}… is longer than 100 characters")
        rows[name] = session.scalars(select(Tag).where(Tag.name == name)).first()
    missing = [name for name, tag in rows.items() if tag is None]
    # concurrent commands may be creating the same tags: wait for them, then look again
    lock_names(session, "tag", missing)
    for name in missing:
        tag = session.scalars(select(Tag).where(Tag.name == name)).first()
        if tag is None:
            tag = Tag(name=name)
            session.add(tag)
            session.flush()
        rows[name] = tag
    return [tag for tag in rows.values() if tag is not None]


def _partial(value: str | None) -> PartialDate | None:
    return parse_partial(value) if value not in (None, "") else None


def stored_identity(
    speaker_id: int, text: str, said_on: dt.date | None, said_precision: str | None
) -> tuple[int, str, str]:
    """``textkeys.content_identity`` of a stored claim (its columns as read back)."""
    return content_identity(speaker_id, text, format_partial(said_on, said_precision))


def key_collision(claim_id: int) -> FactdbError:
    """The error for a claim whose content key equals that of a different claim."""
    return FactdbError(
        f"cannot store this claim: its content key equals that of claim {claim_id}, which is "
        "a different claim (a 64-bit key collision); please report this"
    )


def _check_duplicate(
    session: Session,
    key: str,
    identity: tuple[int, str, str],
    origin: str | None,
    external_id: str | None,
    exclude: int | None,
) -> None:
    query = select(
        Statement.id,
        Statement.speaker_id,
        Statement.text,
        Statement.said_on,
        Statement.said_precision,
    ).where(Statement.content_key == key)
    if exclude is not None:
        query = query.where(Statement.id != exclude)
    existing = session.execute(query).first()
    if existing is not None:
        if stored_identity(*existing[1:]) != identity:
            raise key_collision(existing.id)
        raise DuplicateClaim(existing.id)
    _check_external(session, origin, external_id, exclude)


def _check_external(
    session: Session, origin: str | None, external_id: str | None, exclude: int | None
) -> None:
    if origin is None or external_id is None:
        return
    query = select(Statement.id).where(
        Statement.origin == origin, Statement.external_id == external_id
    )
    if exclude is not None:
        query = query.where(Statement.id != exclude)
    existing = session.scalar(query)
    if existing is not None:
        raise DuplicateClaim(existing, f"a claim with origin {origin!r} and id {external_id!r}")


def add_claim(
    session: Session,
    *,
    text: str,
    speaker: str,
    speaker_kind: str | None = None,
    speaker_role: str | None = None,
    create_speaker: bool = True,
    force_new_speaker: bool = False,
    quote_kind: str = "direct_quote",
    language: str | None = None,
    original_text: str | None = None,
    original_language: str | None = None,
    said_on: str | None = None,
    context: str | None = None,
    tags: Iterable[str] = (),
    origin: str | None = None,
    external_id: str | None = None,
    status: str | None = None,
    status_on: str | None = None,
    sources: Iterable[AttributionInput] = (),
) -> Statement:
    """Add a claim by ``speaker`` (a name or alias) with its tags, sources and first status.

    Everything is validated before anything is written that the caller would have to undo:
    empty text, unknown quote kind, malformed or impossible dates (2021-02-30), a bad language
    tag and an unknown status are errors. An unknown speaker is created unless
    ``create_speaker`` is False (NotFound), of ``speaker_kind`` (None: guessed from the name,
    and noted as a guess, see ``names.created_names``); a name that nearly matches an existing
    speaker or is a short form of one ("Lavrov") raises NearMatch unless
    ``force_new_speaker``. A duplicate raises DuplicateClaim.
    ``status_on`` defaults to ``said_on``, else today.
    """
    from factdb.services.speakers import resolve_speaker
    from factdb.services.statuses import add_status_event, check_status

    cleaned = clean_text(text or "")
    if not cleaned:
        raise FactdbError("a claim text cannot be empty")
    kind = check_quote_kind(quote_kind)
    lang = check_language(language)
    original_lang = check_language(original_language)
    said = _partial(said_on)
    status_when = _partial(status_on)
    if status is not None:
        check_status(session, status)
    origin = origin.strip() if origin and origin.strip() else None
    external_id = external_id.strip() if external_id and external_id.strip() else None
    _check_external(session, origin, external_id, None)
    sources = list(sources)
    for attribution in sources:
        check_role(attribution.role)
        _partial(attribution.published_on)

    speaker_row, _created = resolve_speaker(
        session,
        speaker,
        create=create_speaker,
        force=force_new_speaker,
        kind=speaker_kind,
        role=speaker_role,
    )
    said_string = str(said) if said else None
    key = content_key(speaker_row.id, cleaned, said_string)
    identity = content_identity(speaker_row.id, cleaned, said_string)
    _check_duplicate(session, key, identity, None, None, None)
    # the same claim added by two commands at once: the second waits, then sees the first's
    lock_names(session, "claim", [key])
    _check_duplicate(session, key, identity, None, None, None)
    original = clean_text(original_text) if original_text else None
    statement = Statement(
        text=cleaned,
        quote_kind=kind,
        language=lang,
        original_text=original or None,
        original_language=original_lang,
        said_on=said.start if said else None,
        said_precision=said.precision if said else None,
        context=clean_text(context) or None if context else None,
        speaker=speaker_row,
        content_key=key,
        origin=origin,
        external_id=external_id,
    )
    statement.tags = _tag_rows(session, tags)
    session.add(statement)
    session.flush()
    for attribution in sources:
        add_attribution(session, statement, attribution)
    if status is not None:
        when = status_when or said or PartialDate(dt.date.today(), "day")
        add_status_event(session, statement.id, status, when)
    return statement


def get_claim(session: Session, claim_id: int) -> Statement:
    """The claim with this id; NotFound otherwise."""
    statement = session.get(Statement, int(claim_id))
    if statement is None:
        raise NotFound(f"no claim with id {claim_id}")
    return statement


_EDITABLE = {
    "text",
    "speaker",
    "quote_kind",
    "language",
    "original_text",
    "original_language",
    "said_on",
    "context",
    "tags",
    "origin",
    "external_id",
}


def drop_claim_vectors(session: Session, claims: Select[Any] | list[int]) -> None:
    """Drop the vectors (semantic matching) of ``claims``, ids or a query of ids.

    A vector embeds its claim's speaker and text, so editing either, or renaming or merging
    the speaker, makes it stale; 'factdb match index' (or the next add/import) embeds the
    claims again.
    """
    session.execute(delete(ClaimVector).where(ClaimVector.statement_id.in_(claims)))


def edit_claim(session: Session, claim_id: int, **changes: Any) -> Statement:
    """Change fields of a claim; only the keys given change.

    Keys: text, speaker (an existing speaker's name or alias), quote_kind, language,
    original_text, original_language, said_on ("" or None clears it), context, tags (replaces
    the list), origin, external_id. The duplicate check runs again on the result. Moving the
    date later than a recorded status event is refused, as adding such an event would be.
    """
    from factdb.services.speakers import get_speaker
    from factdb.services.statuses import check_not_before_claim

    unknown = set(changes) - _EDITABLE
    if unknown:
        raise FactdbError(
            f"cannot edit {', '.join(sorted(unknown))} (editable: {', '.join(sorted(_EDITABLE))})"
        )
    statement = get_claim(session, claim_id)
    # validate everything and check for duplicates before touching the row, so that a refused
    # edit leaves nothing to flush
    values: dict[str, Any] = {}
    if "text" in changes:
        values["text"] = clean_text(changes["text"] or "")
        if not values["text"]:
            raise FactdbError("a claim text cannot be empty")
    if "speaker" in changes:
        values["speaker"] = get_speaker(session, changes["speaker"])
    if "quote_kind" in changes:
        values["quote_kind"] = check_quote_kind(changes["quote_kind"])
    for field in ("language", "original_language"):
        if field in changes:
            values[field] = check_language(changes[field])
    for field in ("original_text", "context"):
        if field in changes:
            values[field] = clean_text(changes[field]) or None if changes[field] else None
    if "said_on" in changes:
        said = _partial(changes["said_on"])
        values["said_on"] = said.start if said else None
        values["said_precision"] = said.precision if said else None
    for field in ("origin", "external_id"):
        if field in changes:
            value = changes[field]
            values[field] = value.strip() if value and value.strip() else None

    def new(field: str) -> Any:
        return values[field] if field in values else getattr(statement, field)

    said_on = new("said_on")
    said_string = str(PartialDate(said_on, new("said_precision") or "day")) if said_on else None
    speaker_id = values["speaker"].id if "speaker" in values else statement.speaker_id
    key = content_key(speaker_id, new("text"), said_string)
    identity = content_identity(speaker_id, new("text"), said_string)
    _check_duplicate(session, key, identity, new("origin"), new("external_id"), statement.id)
    if said_on is not None:
        probe = Statement(id=statement.id, said_on=said_on, said_precision=new("said_precision"))
        for event in statement.status_events:
            check_not_before_claim(
                probe, PartialDate(event.effective_on, event.effective_precision), "a status event"
            )
    # every query first (looking tags up, dropping the vector), then every change, then one
    # flush: a query after a change would flush it early, and one edit would be logged as
    # several audit entries
    tags = _tag_rows(session, changes["tags"] or ()) if "tags" in changes else None
    if "text" in values or "speaker" in values:
        drop_claim_vectors(session, [statement.id])
    if tags is not None:
        # before the columns: replacing the list loads the old one (a query)
        statement.tags = tags
    for field, value in values.items():
        setattr(statement, field, value)
    statement.content_key = key
    session.flush()
    return statement


def references_to(session: Session, claim_id: int) -> list[str]:
    """What in *other* claims refers to this one: incoming links and status-event evidence."""
    found = []
    links = session.execute(
        select(StatementLink.id, StatementLink.from_statement_id, StatementLink.relation)
        .where(StatementLink.to_statement_id == claim_id)
        .order_by(StatementLink.id)
    ).all()
    for link_id, from_id, relation in links:
        found.append(f"link {link_id} (claim {from_id} {relation.replace('_', ' ')} it)")
    events = session.execute(
        select(StatusEvent.id, StatusEvent.statement_id, StatusEvent.status_code)
        .where(StatusEvent.evidence_statement_id == claim_id, StatusEvent.statement_id != claim_id)
        .order_by(StatusEvent.id)
    ).all()
    for event_id, statement_id, code in events:
        found.append(f"status event {event_id} (evidence for claim {statement_id} being {code})")
    return found


def delete_claim(session: Session, claim_id: int, *, cascade: bool = False) -> None:
    """Delete a claim with its attributions, status history, verdicts, tags and own links.

    Refused (Conflict, naming each reference) while other claims link to it or cite it as
    evidence of a status change; ``cascade=True`` removes those links and clears that evidence
    instead (the other claims' status events themselves stay).
    """
    statement = get_claim(session, claim_id)
    refs = references_to(session, statement.id)
    if refs and not cascade:
        raise Conflict(
            f"claim {statement.id} is referred to by: {', '.join(refs)}; "
            "use --cascade to remove these references too"
        )
    session.execute(
        delete(StatementLink).where(
            (StatementLink.to_statement_id == statement.id)
            | (StatementLink.from_statement_id == statement.id)
        )
    )
    session.execute(
        update(StatusEvent)
        .where(StatusEvent.evidence_statement_id == statement.id)
        .values(evidence_statement_id=None)
    )
    session.delete(statement)
    session.flush()
    session.expire_all()


def add_attribution(
    session: Session, claim: Statement, attribution: AttributionInput
) -> Attribution:
    """Append one link to the claim's attribution chain (position = last + 1).

    The source is found by URL (or by name when there is no URL) and created when new; a new
    name that nearly matches a known source raises NearMatch unless ``force_new``. Title,
    credit and published date are set on a source created here.
    """
    from factdb.services.sources import resolve_source

    role = check_role(attribution.role)
    published = _partial(attribution.published_on)
    source, created = resolve_source(
        session,
        attribution.source,
        url=attribution.url or None,
        kind=attribution.kind or "outlet",
        force=attribution.force_new,
    )
    if created:
        source.title = attribution.title or None
        source.credit = attribution.credit or None
        if published:
            source.published_on = published.start
            source.published_precision = published.precision
    session.flush()
    last = session.scalar(
        select(func.max(Attribution.position)).where(Attribution.statement_id == claim.id)
    )
    row = Attribution(
        statement_id=claim.id,
        source_id=source.id,
        role=role,
        verb=" ".join(attribution.verb.split()) if attribution.verb else None,
        position=(last or 0) + 1,
    )
    session.add(row)
    session.flush()
    session.expire(claim, ["attributions"])
    return row
