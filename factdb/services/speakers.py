"""Speakers: people and organisations, their aliases, and name resolution."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from factdb.errors import FactdbError, NotFound
from factdb.models import SPEAKER_KINDS, Speaker, SpeakerAlias
from factdb.services.names import NearMatch, near_matches
from factdb.textkeys import clean_text, name_key


def find_speaker(session: Session, name: str) -> Speaker | None:
    """The speaker whose name or alias matches ``name`` (case/accent/space-insensitive)."""
    key = name_key(name)
    speaker = session.scalars(select(Speaker).where(Speaker.name_key == key)).first()
    if speaker is None:
        speaker = session.scalars(
            select(Speaker).join(SpeakerAlias).where(SpeakerAlias.alias_key == key)
        ).first()
    return speaker


def speaker_near_matches(session: Session, name: str) -> list[str]:
    """Existing speaker names (or aliases) that nearly match ``name``."""
    rows = session.execute(select(Speaker.name, Speaker.name_key)).all()
    rows += session.execute(select(SpeakerAlias.alias, SpeakerAlias.alias_key)).all()
    return near_matches(name, [(r[0], r[1]) for r in rows])


def get_speaker(session: Session, ref: str | int) -> Speaker:
    """A speaker by id or by name/alias; NotFound (with suggestions) otherwise."""
    if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
        speaker = session.get(Speaker, int(ref))
        if speaker is None:
            raise NotFound(f"no speaker with id {ref}")
        return speaker
    speaker = find_speaker(session, ref)
    if speaker is None:
        suggestions = speaker_near_matches(session, ref)
        hint = f"; did you mean {' or '.join(repr(s) for s in suggestions)}?" if suggestions else ""
        raise NotFound(f"unknown speaker {ref!r}{hint}")
    return speaker


def check_kind(kind: str) -> str:
    """Validate a speaker kind ("org" is accepted for "organisation")."""
    kind = {"org": "organisation", "organization": "organisation"}.get(kind, kind)
    if kind not in SPEAKER_KINDS:
        raise FactdbError(f"unknown speaker kind {kind!r} (use: {', '.join(SPEAKER_KINDS)})")
    return kind


def check_name_free(session: Session, name: str, *, exclude_id: int | None = None) -> str:
    """Refuse a name (or alias) already used by another speaker; return its key."""
    cleaned = clean_text(name)
    if not cleaned:
        raise FactdbError("a speaker name cannot be empty")
    existing = find_speaker(session, cleaned)
    if existing is not None and existing.id != exclude_id:
        raise FactdbError(f"the name {cleaned!r} is already used by speaker {existing.name!r}")
    return name_key(cleaned)


def create_speaker(
    session: Session,
    name: str,
    *,
    kind: str = "person",
    role: str | None = None,
    acts_for: str | None = None,
    aliases: list[str] | None = None,
    external_ids: dict[str, str] | None = None,
    notes: str | None = None,
    force: bool = False,
) -> Speaker:
    """Create a speaker; a near match of an existing name is refused unless ``force``."""
    key = check_name_free(session, name)
    if not force:
        candidates = speaker_near_matches(session, name)
        if candidates:
            raise NearMatch("speaker", clean_text(name), candidates)
    speaker = Speaker(
        name=clean_text(name),
        name_key=key,
        kind=check_kind(kind),
        role=role,
        acts_for=get_speaker(session, acts_for) if acts_for else None,
        external_ids=external_ids or None,
        notes=notes,
    )
    session.add(speaker)
    session.flush()
    for alias in aliases or []:
        add_alias(session, speaker, alias)
    return speaker


def add_alias(session: Session, speaker: Speaker, alias: str) -> SpeakerAlias:
    """Give ``speaker`` another name; refused if any speaker already answers to it."""
    key = check_name_free(session, alias)
    row = SpeakerAlias(speaker=speaker, alias=clean_text(alias), alias_key=key)
    session.add(row)
    session.flush()
    return row


def resolve_speaker(
    session: Session,
    name: str,
    *,
    create: bool = True,
    force: bool = False,
    kind: str = "person",
    role: str | None = None,
) -> tuple[Speaker, bool]:
    """The speaker called ``name``, created if allowed; returns (speaker, created).

    ``create=False`` refuses an unknown name (NotFound). A name that nearly matches an
    existing one raises NearMatch unless ``force``.
    """
    speaker = find_speaker(session, name)
    if speaker is not None:
        return speaker, False
    if not create:
        get_speaker(session, name)  # raises NotFound with suggestions
    return create_speaker(session, name, kind=kind, role=role, force=force), True


def speaker_names(session: Session, prefix: str = "", limit: int = 50) -> list[str]:
    """Speaker names starting with ``prefix`` (case-insensitive), for shell completion."""
    query = select(Speaker.name).order_by(Speaker.name).limit(limit)
    if prefix:
        query = query.where(Speaker.name_key.startswith(name_key(prefix), autoescape=True))
    return list(session.scalars(query))
