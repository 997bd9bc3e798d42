"""Speakers: people and organisations, their aliases, and name resolution.

A speaker's name and every alias share one namespace: a name answers to at most one speaker,
compared case-, accent- and whitespace-insensitively (``textkeys.name_key``). A new name that
nearly matches an existing one ("Sergei Lavrov" next to "Sergey Lavrov") is refused with
``NearMatch`` unless the caller forces it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import suppress
from typing import Any

from sqlalchemy import exists, func, or_, select, update
from sqlalchemy.orm import Session, selectinload

from factdb.dates import format_partial
from factdb.errors import Conflict, FactdbError, NotFound
from factdb.models import SPEAKER_KINDS, Speaker, SpeakerAlias, Statement
from factdb.services.chains import cycle_through
from factdb.services.claims import drop_claim_vectors
from factdb.services.locks import lock_name
from factdb.services.names import (
    NAME_MAX,
    TEXT_MAX,
    NearMatch,
    as_id,
    check_length,
    check_look_alike,
    check_name,
    note_created,
    suggest,
)
from factdb.text import clean, clean_text
from factdb.textkeys import content_key, is_unknown_speaker, name_key
from factdb.vocab import UNKNOWN_SPEAKER

# the fields edit_speaker accepts; a value of None clears the field (name and kind excepted)
EDITABLE = ("name", "kind", "role", "acts_for", "notes", "external_ids")
# how many claim ids a refusal message lists before saying "…"
_SHOWN_IDS = 10


_RESERVED = (
    f"{UNKNOWN_SPEAKER} is reserved for claims whose speaker is unknown: it cannot be renamed, "
    "merged or given as an alias; give one claim its speaker with 'claim edit ID --speaker NAME'"
)


def find_speaker(session: Session, name: str) -> Speaker | None:
    """The speaker whose name or alias matches ``name`` (case/accent/space-insensitive)."""
    key = name_key(name)
    speaker = session.scalars(select(Speaker).where(Speaker.name_key == key)).first()
    if speaker is None:
        speaker = session.scalars(
            select(Speaker).join(SpeakerAlias).where(SpeakerAlias.alias_key == key)
        ).first()
    return speaker


def check_spelling(speaker: Speaker, typed: str) -> None:
    """Refuse ``typed`` when it finds ``speaker`` only through look-alike or invisible
    characters (``Ѕergey Lavrоv`` with Cyrillic letters, a zero-width joiner): at the
    command line that is a typo or a trick, and the user is asked to write the name."""
    check_look_alike("speaker", typed, [speaker.name, *(a.alias for a in speaker.aliases)])


def known_names(session: Session) -> list[tuple[str, str, str]]:
    """Every speaker name and alias as (name or alias, speaker name, kind).

    What ``factdb extract`` matches an article's names against, with ``name_key`` as
    :func:`find_speaker` does, so that "Moscow" is the speaker whose alias it is.
    """
    rows = session.execute(select(Speaker.name, Speaker.name, Speaker.kind)).all()
    rows += session.execute(
        select(SpeakerAlias.alias, Speaker.name, Speaker.kind).join(SpeakerAlias.speaker)
    ).all()
    return [(r[0], r[1], r[2]) for r in rows]


def speaker_near_matches(
    session: Session, name: str, *, exclude_id: int | None = None
) -> list[str]:
    """Existing speaker names (or aliases) that nearly match ``name``.

    Names and aliases of the speaker ``exclude_id`` are left out (renaming a speaker is not
    a near match of itself).
    """
    names = select(Speaker.name, Speaker.name_key)
    # an alias suggests its speaker's name: one speaker, one suggestion
    aliases = select(Speaker.name, SpeakerAlias.alias_key).join(SpeakerAlias.speaker)
    if exclude_id is not None:
        names = names.where(Speaker.id != exclude_id)
        aliases = aliases.where(SpeakerAlias.speaker_id != exclude_id)
    return suggest(session, name, names, aliases)


def get_speaker(session: Session, ref: str | int) -> Speaker:
    """A speaker by id or by name/alias; NotFound (with suggestions) otherwise."""
    row_id = as_id(ref)
    if row_id is not None:
        speaker = session.get(Speaker, row_id)
        # digits name an id first, then a speaker so called (a group called "1984")
        if speaker is None and isinstance(ref, str):
            speaker = find_speaker(session, ref)
        if speaker is None:
            raise NotFound(f"no speaker with id {ref}")
        return speaker
    speaker = find_speaker(session, ref)
    if speaker is not None:
        check_spelling(speaker, ref)
    else:
        suggestions = speaker_near_matches(session, ref) or _containing(session, ref)
        hint = f"; did you mean {' or '.join(repr(s) for s in suggestions)}?" if suggestions else ""
        raise NotFound(f"unknown speaker {ref!r}{hint}")
    return speaker


def _containing(session: Session, name: str, limit: int = 3) -> list[str]:
    """Speaker names containing ``name`` ("Lavrov" → "Sergey Lavrov"), for suggestions."""
    key = name_key(name)
    if len(key) < 3:
        return []
    query = (
        select(Speaker.name)
        .where(Speaker.name_key.contains(key, autoescape=True))
        .order_by(Speaker.name_key)
        .limit(limit)
    )
    return list(session.scalars(query))


# words that make a name an organisation's ("Russian Foreign Ministry", "Kremlin")
_ORGANISATION_WORDS = frozenset(
    [
        "agency",
        "alliance",
        "army",
        "assembly",
        "bank",
        "board",
        "bureau",
        "cabinet",
        "church",
        "club",
        "commission",
        "committee",
        "company",
        "congress",
        "corporation",
        "council",
        "court",
        "department",
        "embassy",
        "foundation",
        "government",
        "group",
        "inc",
        "institute",
        "kremlin",
        "league",
        "ltd",
        "ministry",
        "mission",
        "nato",
        "office",
        "organisation",
        "organization",
        "parliament",
        "party",
        "pentagon",
        "police",
        "presidency",
        "secretariat",
        "senate",
        "service",
        "union",
        "university",
    ]
)


def guess_kind(name: str) -> str:
    """A speaker kind guessed from the name: "organisation" for "Kremlin", "Russian Foreign
    Ministry", "NATO" (an acronym), else "person". Callers must say it was guessed."""
    words = clean_text(name).split()
    if any(w.casefold().strip(".,") in _ORGANISATION_WORDS for w in words):
        return "organisation"
    if len(words) == 1 and len(words[0]) >= 2 and words[0].isupper():
        return "organisation"
    return "person"


def check_kind(kind: str) -> str:
    """Validate a speaker kind ("org" is accepted for "organisation")."""
    kind = {"org": "organisation", "organization": "organisation"}.get(kind, kind)
    if kind not in SPEAKER_KINDS:
        raise FactdbError(f"unknown speaker kind {kind!r} (use: {', '.join(SPEAKER_KINDS)})")
    return kind


def check_name_free(session: Session, name: str, *, exclude_id: int | None = None) -> str:
    """Refuse a name (or alias) already used by another speaker; return its key."""
    cleaned = check_name(name, "a speaker name")
    existing = find_speaker(session, cleaned)
    if existing is None:
        # a concurrent command may be taking the same name: wait for it, then look again
        lock_name(session, "speaker", name_key(cleaned))
        existing = find_speaker(session, cleaned)
    if existing is not None and existing.id != exclude_id:
        check_spelling(existing, cleaned)
        raise FactdbError(f"the name {cleaned!r} is already used by speaker {existing.name!r}")
    return name_key(cleaned)


def _check_acts_for(speaker: Speaker | None, target: Speaker) -> None:
    """Refuse an ``acts_for`` that would make a speaker act, directly or not, for itself."""
    if speaker is None or speaker.id is None:
        return
    chain = cycle_through(speaker, target, lambda s: s.acts_for)
    if chain is not None:
        raise FactdbError(
            f"{speaker.name!r} cannot act for {target.name!r}: that would make a cycle "
            f"({' → '.join(chain)})"
        )


def parse_external_ids(pairs: list[str] | tuple[str, ...]) -> dict[str, str]:
    """Parse ``KEY=VALUE`` strings; an empty VALUE (``KEY=``) means "remove KEY"."""
    result: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise FactdbError(f"malformed external id {pair!r}: use KEY=VALUE (wikidata=Q1)")
        result[check_length(key, NAME_MAX, "an external id's key")] = check_length(
            value.strip(), NAME_MAX, "an external id"
        )
    return result


def create_speaker(
    session: Session,
    name: str,
    *,
    kind: str | None = "person",
    role: str | None = None,
    acts_for: str | None = None,
    aliases: list[str] | tuple[str, ...] | None = None,
    external_ids: Mapping[str, str] | None = None,
    notes: str | None = None,
    force: bool = False,
) -> Speaker:
    """Create a speaker; a near match of an existing name is refused unless ``force``.

    ``kind`` None means "not said": it is guessed (:func:`guess_kind`) and the guess noted
    for the command to report (``names.created_names``).
    """
    key = check_name_free(session, name)
    # the reserved unknown speaker is never "a near match" of someone real
    if not force and not is_unknown_speaker(name):
        candidates = speaker_near_matches(session, name)
        if candidates:
            raise NearMatch("speaker", clean(name), candidates)
    ids = {k: v for k, v in (external_ids or {}).items() if v}
    check_length(role, NAME_MAX, "a role")
    check_length(notes, TEXT_MAX, "the notes")
    guessed = kind is None
    kind = guess_kind(name) if kind is None else check_kind(kind)
    speaker = Speaker(
        name=clean(name),
        name_key=key,
        kind=kind,
        role=clean(role) or None if role else None,
        acts_for=get_speaker(session, acts_for) if acts_for else None,
        external_ids=ids or None,
        notes=clean_text(notes) or None if notes else None,
    )
    session.add(speaker)
    session.flush()
    note_created(session, "speaker", speaker.name, kind, guessed)
    for alias in aliases or []:
        add_alias(session, speaker, alias)
    return speaker


def add_alias(session: Session, speaker: Speaker, alias: str) -> SpeakerAlias:
    """Give ``speaker`` another name; refused if any speaker already answers to it."""
    if is_unknown_speaker(alias):
        raise FactdbError(_RESERVED)
    key = check_name_free(session, alias)
    row = SpeakerAlias(speaker=speaker, alias=clean(alias), alias_key=key)
    session.add(row)
    session.flush()
    return row


def remove_alias(session: Session, speaker: Speaker, alias: str) -> None:
    """Take an alias away from ``speaker`` (NotFound if the speaker has no such alias)."""
    key = name_key(alias)
    for row in speaker.aliases:
        if row.alias_key == key:
            speaker.aliases.remove(row)
            session.flush()
            return
    if key == speaker.name_key:
        raise FactdbError(f"{alias!r} is the name of {speaker.name!r}, not an alias")
    raise NotFound(f"speaker {speaker.name!r} has no alias {alias!r}")


def resolve_speaker(
    session: Session,
    name: str,
    *,
    create: bool = True,
    force: bool = False,
    kind: str | None = "person",
    role: str | None = None,
) -> tuple[Speaker, bool]:
    """The speaker called ``name``, created if allowed; returns (speaker, created).

    ``create=False`` refuses an unknown name (NotFound). A name that nearly matches an
    existing one raises NearMatch unless ``force``.
    """
    speaker = find_speaker(session, name)
    if speaker is None and create:
        # another command may be creating this very speaker: wait for it, then look again
        lock_name(session, "speaker", name_key(name))
        speaker = find_speaker(session, name)
    if speaker is not None:
        check_spelling(speaker, name)
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


def _claim_counts():  # type: ignore[no-untyped-def]
    """A subquery: speaker_id → number of statements."""
    return (
        select(Statement.speaker_id, func.count().label("n"))
        .group_by(Statement.speaker_id)
        .subquery()
    )


def list_speakers(
    session: Session,
    *,
    kind: str | None = None,
    name: str | None = None,
    limit: int | None = None,
) -> Iterator[dict[str, Any]]:
    """Speakers ordered by name: id, name, kind, role, acts_for, aliases, claims.

    ``name`` keeps speakers whose name or one of whose aliases contains it (compared like
    names are: case-, accent- and whitespace-insensitively).
    """
    counts = _claim_counts()
    boss = select(Speaker.id, Speaker.name).subquery()
    query = (
        select(Speaker, boss.c.name, func.coalesce(counts.c.n, 0))
        .outerjoin(boss, boss.c.id == Speaker.acts_for_id)
        .outerjoin(counts, counts.c.speaker_id == Speaker.id)
        .options(selectinload(Speaker.aliases))
        .order_by(Speaker.name_key, Speaker.id)
    )
    if kind:
        query = query.where(Speaker.kind == check_kind(kind))
    if name:
        key = name_key(name)
        alias_hit = exists().where(
            SpeakerAlias.speaker_id == Speaker.id,
            SpeakerAlias.alias_key.contains(key, autoescape=True),
        )
        query = query.where(or_(Speaker.name_key.contains(key, autoescape=True), alias_hit))
    if limit is not None:
        query = query.limit(limit)
    for speaker, acts_for, claims in session.execute(query):
        yield {
            "id": speaker.id,
            "name": speaker.name,
            "kind": speaker.kind,
            "role": speaker.role,
            "acts_for": acts_for,
            "aliases": "; ".join(a.alias for a in speaker.aliases),
            "claims": claims,
        }


def speaker_detail(session: Session, ref: str | int) -> dict[str, Any]:
    """Everything ``speaker show`` prints about one speaker."""
    speaker = get_speaker(session, ref)
    claims = session.scalar(
        select(func.count()).select_from(Statement).where(Statement.speaker_id == speaker.id)
    )
    acting = session.scalars(
        select(Speaker.name).where(Speaker.acts_for_id == speaker.id).order_by(Speaker.name_key)
    ).all()
    return {
        "id": speaker.id,
        "name": speaker.name,
        "kind": speaker.kind,
        "role": speaker.role,
        "acts_for": speaker.acts_for.name if speaker.acts_for else None,
        "aliases": [a.alias for a in speaker.aliases],
        "external_ids": dict(speaker.external_ids or {}),
        "notes": speaker.notes,
        "claims": claims or 0,
        "acting_for_it": list(acting),
    }


def _drop_vectors(session: Session, speaker_id: int) -> None:
    """Drop the vectors of a speaker's claims (each embeds the speaker's name)."""
    drop_claim_vectors(session, select(Statement.id).where(Statement.speaker_id == speaker_id))


def edit_speaker(
    session: Session, ref: str | int, *, force: bool = False, **changes: Any
) -> Speaker:
    """Change a speaker's fields; only the keys given in ``changes`` are touched.

    ``name``: a rename keeps names unique (aliases included) and refuses a near match of
    another speaker unless ``force``; if the new name was one of this speaker's aliases, that
    alias goes (it is the name now). ``acts_for`` takes a speaker name/id, or None to clear;
    a cycle is refused. ``external_ids`` is merged into the existing ones; an empty value
    removes that key. ``role``/``notes`` of None or "" clear the field.
    """
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise FactdbError(f"cannot edit {', '.join(sorted(unknown))} of a speaker")
    # validate everything before changing anything
    if changes.get("kind") is not None:
        check_kind(changes["kind"])
    check_length(changes.get("role"), NAME_MAX, "a role")
    check_length(changes.get("notes"), TEXT_MAX, "the notes")
    speaker = get_speaker(session, ref)
    if changes.get("name") is not None:
        new = clean(changes["name"])
        if is_unknown_speaker(speaker.name) != is_unknown_speaker(new):
            # renaming would silently give every anonymous claim a speaker (or make a
            # speaker's claims anonymous): one claim at a time is `claim edit --speaker`
            raise FactdbError(_RESERVED)
        key = check_name_free(session, new, exclude_id=speaker.id)
        if key != speaker.name_key and not force:
            candidates = speaker_near_matches(session, new, exclude_id=speaker.id)
            if candidates:
                raise NearMatch("speaker", new, candidates)
        for alias in list(speaker.aliases):
            if alias.alias_key == key:
                speaker.aliases.remove(alias)
        # the alias row must be gone before another row may claim its key on flush
        session.flush()
        if new != speaker.name:
            _drop_vectors(session, speaker.id)
        speaker.name, speaker.name_key = new, key
    if changes.get("kind") is not None:
        speaker.kind = check_kind(changes["kind"])
    if "role" in changes:
        speaker.role = clean(changes["role"]) or None if changes["role"] else None
    if "notes" in changes:
        speaker.notes = clean_text(changes["notes"]) or None if changes["notes"] else None
    if "acts_for" in changes:
        if changes["acts_for"] in (None, ""):
            speaker.acts_for = None
        else:
            target = get_speaker(session, changes["acts_for"])
            _check_acts_for(speaker, target)
            speaker.acts_for = target
    if changes.get("external_ids"):
        ids = dict(speaker.external_ids or {})
        for key_, value in changes["external_ids"].items():
            if value:
                ids[key_] = value
            else:
                ids.pop(key_, None)
        # a new dict object: JSON columns do not track in-place mutation
        speaker.external_ids = ids or None
    session.flush()
    return speaker


def _ids(ids: list[int]) -> str:
    """``1, 2, 3`` (at most _SHOWN_IDS of them, then "…")."""
    shown = ", ".join(str(i) for i in ids[:_SHOWN_IDS])
    return shown + (", …" if len(ids) > _SHOWN_IDS else "")


def merge_speakers(session: Session, source: str | int, target: str | int) -> dict[str, Any]:
    """Move everything from speaker ``source`` to ``target``, then delete ``source``.

    Statements, aliases and the speakers acting for ``source`` move to ``target``; the old
    name becomes an alias of ``target``; empty role/acts_for of ``target`` are filled from
    ``source`` and external ids merged (``target``'s win). Each moved statement gets its
    content key recomputed; if one becomes identical to a claim ``target`` already has, the
    merge is refused (Conflict) naming the clashing claim ids, and nothing changes.
    Returns a summary: claims, aliases and speakers moved.
    """
    old = get_speaker(session, source)
    new = get_speaker(session, target)
    if old.id == new.id:
        raise FactdbError(f"cannot merge speaker {old.name!r} into itself")
    if is_unknown_speaker(old.name) or is_unknown_speaker(new.name):
        # the old name would become an alias: every later claim without a speaker would go
        # to the target. One anonymous claim found its speaker: `claim edit --speaker`.
        raise FactdbError(_RESERVED)
    rows = session.execute(
        select(Statement.id, Statement.text, Statement.said_on, Statement.said_precision)
        .where(Statement.speaker_id == old.id)
        .order_by(Statement.id)
    ).all()
    moves = []
    for row in rows:
        # the same key claims.py gives a claim: speaker, text, said_on at its precision
        key = content_key(new.id, row.text, format_partial(row.said_on, row.said_precision))
        moves.append({"id": row.id, "speaker_id": new.id, "content_key": key})
    _refuse_clashes(session, old, new, moves)

    if moves:
        _drop_vectors(session, old.id)
        # ORM bulk UPDATE by primary key: one executemany, not one object load per claim
        session.execute(update(Statement), moves)
    moved_aliases = [a.alias for a in old.aliases]
    for alias in list(old.aliases):
        alias.speaker = new
    acting = session.scalars(select(Speaker).where(Speaker.acts_for_id == old.id)).all()
    for speaker in acting:
        # the target itself acting for the old speaker would become acting for itself
        speaker.acts_for = None if speaker.id == new.id else new
    if new.role is None and old.role:
        new.role = old.role
    if new.acts_for is None and old.acts_for is not None and old.acts_for.id != new.id:
        # adopting it would make a cycle: then the target's acts_for stays empty
        with suppress(FactdbError):
            _check_acts_for(new, old.acts_for)
            new.acts_for = old.acts_for
    if old.external_ids:
        new.external_ids = {**old.external_ids, **(new.external_ids or {})}
    if old.notes and not new.notes:
        new.notes = old.notes
    old_name, old_key = old.name, old.name_key
    session.flush()
    session.delete(old)
    session.flush()
    session.add(SpeakerAlias(speaker=new, alias=old_name, alias_key=old_key))
    session.flush()
    # bulk UPDATE bypassed the identity map: reload any Statement objects already loaded
    session.expire_all()
    return {
        "from": old_name,
        "into": new.name,
        "claims": len(moves),
        "aliases": [old_name, *moved_aliases],
        "acting_for": [s.name for s in acting if s.id != new.id],
    }


def _refuse_clashes(
    session: Session, old: Speaker, new: Speaker, moves: list[dict[str, Any]]
) -> None:
    """Refuse a merge in which a moved claim would duplicate one ``new`` already has."""
    clashes: list[tuple[int, int]] = []
    by_key = {m["content_key"]: m["id"] for m in moves}
    keys = list(by_key)
    # chunked IN lists: SQLite and PostgreSQL both cap the number of bound parameters
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        for existing_id, key in session.execute(
            select(Statement.id, Statement.content_key).where(Statement.content_key.in_(chunk))
        ):
            clashes.append((by_key[key], existing_id))
    if clashes:
        clashes.sort()
        pairs = "; ".join(f"claim {a} = claim {b}" for a, b in clashes[:_SHOWN_IDS])
        more = f" and {len(clashes) - _SHOWN_IDS} more" if len(clashes) > _SHOWN_IDS else ""
        raise Conflict(
            f"cannot merge {old.name!r} into {new.name!r}: {len(clashes)} claim(s) would "
            f"duplicate claims {new.name!r} already has ({pairs}{more}); "
            "delete or edit the duplicates first"
        )


def speaker_references(session: Session, speaker: Speaker) -> list[str]:
    """What refers to ``speaker`` (claims, speakers acting for it), as phrases; [] if nothing."""
    found = []
    claim_ids = list(
        session.scalars(
            select(Statement.id).where(Statement.speaker_id == speaker.id).order_by(Statement.id)
        )
    )
    if claim_ids:
        found.append(f"{len(claim_ids)} claim(s) (ids {_ids(claim_ids)})")
    acting = session.scalars(
        select(Speaker.name).where(Speaker.acts_for_id == speaker.id).order_by(Speaker.name_key)
    ).all()
    if acting:
        names = ", ".join(repr(n) for n in acting)
        found.append(f"{len(acting)} speaker(s) acting for it ({names})")
    return found


def delete_speaker(session: Session, ref: str | int) -> str:
    """Delete a speaker nobody refers to (its aliases go with it); returns its name.

    A speaker with claims, or with speakers acting for it, is refused with a message saying
    what refers to it: deleting claims as a side effect is never what a fact-checker wants,
    so there is no cascade; merge the speaker into another one instead.
    """
    speaker = get_speaker(session, ref)
    refs = speaker_references(session, speaker)
    if refs:
        raise Conflict(
            f"cannot delete speaker {speaker.name!r}: referred to by {' and '.join(refs)}; "
            "merge it into another speaker ('factdb speaker merge') or remove those first"
        )
    name = speaker.name
    session.delete(speaker)
    session.flush()
    return name
