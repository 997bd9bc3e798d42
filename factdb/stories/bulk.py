"""New claims in bulk: the rows a story's new claims need, validated as the services validate
them, written with one executemany per table instead of a few statements per claim.

``story load`` of a big story would otherwise cost tens of milliseconds a claim (the ORM path
that editing takes). Only claims the database does not know come here; claims found again go
through the services (:mod:`factdb.stories.apply`), so edits obey every rule of data entry.
"""

from __future__ import annotations

import datetime as dt
import functools
import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from factdb.dates import PartialDate, ends_before, parse_partial
from factdb.errors import FactdbError
from factdb.io import bulkwrite
from factdb.models import Statement
from factdb.stories import spec
from factdb.text import clean_text

CHUNK = 500
# new claims of a load at least this big are indexed for search together (SQLite; see
# writer.RowWriter.suspend_search), not one by one by the triggers
SEARCH_IN_ONE_GO = 1000
# new claims built, then handed to the writer, at a time: small enough that the writer starts
# early, big enough that the few waits for it (one a chunk, to look up content keys) are few
CLAIMS_PER_WRITE = 5000
# the columns of statement_values' rows, in their order
STATEMENT_ROW_COLUMNS = (
    "text",
    "quote_kind",
    "language",
    "original_text",
    "original_language",
    "said_on",
    "said_precision",
    "context",
    "speaker_id",
    "content_key",
    "origin",
    "external_id",
)
# the columns of chain_rows' rows, in their order
CHAIN_COLUMNS = ("statement_id", "source_id", "role", "verb", "position")
# the columns of event_values' rows, in their order
EVENT_COLUMNS = (
    "statement_id",
    "status_code",
    "effective_on",
    "effective_precision",
    "recorded_at",
    "note",
    "recorded_by",
    "withdrawn_at",
    "withdrawn_by",
    "withdrawn_note",
    "evidence_statement_id",
    "evidence_source_id",
)


def chunks(items: list[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    """``items`` in lists of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


@contextmanager
def no_cyclic_gc() -> Iterator[None]:
    """The cyclic garbage collector off for a load (as the bulk importer does): a big story is
    millions of small dicts and lists, none in a cycle, that every collection would traverse
    again (a third of the time of a 100,000-claim load)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


@contextmanager
def bigger_cache(session: Session) -> Iterator[None]:
    """SQLite: the bulk importer's page cache for the load (the content-key and search indexes
    take inserts all over; with the default 2 MB cache a big story thrashes), then the old one."""
    if session.get_bind().dialect.name != "sqlite":
        yield
        return
    before = session.execute(text("PRAGMA cache_size")).scalar()
    session.execute(text(f"PRAGMA cache_size = {-bulkwrite.CACHE_KIB}"))
    try:
        yield
    finally:
        session.execute(text(f"PRAGMA cache_size = {int(before or -2000)}"))


# the tables a story's new claims fill whose secondary indexes can wait for a big load's end
# (as the importer: not status_events, whose index keys grow with the load and cost little to
# keep, and whose rows are written while the others' indexes are built)
DEFERRED_TABLES = ("statements", "attributions", "statement_tags")


def defer_indexes(session: Session, new_claims: int) -> list[str]:
    """SQLite, a load adding at least as many claims as the database holds (and at least the
    bulk importer's threshold): drop the non-unique indexes of the tables it fills and return
    their DDL for :func:`build_indexes`, as the bulk importer does (building an index once
    costs less than keeping it up row by row). Unique indexes stay: they catch duplicates.

    Dropping is transactional on SQLite: a load that fails or is a dry run rolls back to the
    indexes it found.
    """
    if session.get_bind().dialect.name != "sqlite" or new_claims < bulkwrite.DEFER_INDEXES_FROM:
        return []
    if new_claims < (session.scalar(select(func.max(Statement.id))) or 0):
        return []
    tables = ", ".join(f"'{t}'" for t in DEFERRED_TABLES)
    rows = session.execute(
        text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            f"AND tbl_name IN ({tables}) AND sql NOT LIKE 'CREATE UNIQUE%' ORDER BY name"
        )
    ).all()
    for name, _sql in rows:
        session.execute(text(f'DROP INDEX "{name}"'))
    return [sql for _name, sql in rows]


def build_indexes(session: Session, deferred: list[str]) -> None:
    """Build the indexes :func:`defer_indexes` dropped."""
    for sql in deferred:
        session.execute(text(sql))


def check_references(session: Session) -> None:
    """SQLite, in a bulk transaction (foreign keys not enforced while it writes): refuse the
    load if any row references a missing one. The load only writes references it resolved,
    so this never fires unless there is a bug; it costs a fraction of a second for 100,000
    claims, the price of keeping the guarantee the enforced checks give."""
    if session.get_bind().dialect.name != "sqlite":
        return
    if session.execute(text("PRAGMA foreign_keys")).scalar():
        return  # enforced all along
    broken = session.execute(text("PRAGMA foreign_key_check")).all()
    if broken:
        table, rowid, parent, _fk = broken[0]
        raise FactdbError(
            f"story load refused: {len(broken)} row(s) would reference missing rows "
            f"(first: {table} row {rowid} -> {parent})"
        )


def known_identities(
    session: Session, identities: list[tuple[str | None, str | None]]
) -> dict[tuple[str, str], int]:
    """The ids of the claims already stored under these (origin, external id) pairs."""
    found: dict[tuple[str, str], int] = {}
    wanted = [(o, e) for o, e in identities if o is not None and e is not None]
    for part in chunks(sorted({e for _o, e in wanted})):
        rows = session.execute(
            select(Statement.id, Statement.origin, Statement.external_id).where(
                Statement.external_id.in_(part)
            )
        )
        for claim_id, origin, external in rows:
            found[(origin, external)] = claim_id
    return found


def known_keys(session: Session, keys: list[str]) -> dict[str, int]:
    """The ids of the claims already stored under these content keys."""
    found: dict[str, int] = {}
    for part in chunks(sorted(set(keys))):
        rows = session.execute(
            select(Statement.content_key, Statement.id).where(Statement.content_key.in_(part))
        )
        found.update({key: claim_id for key, claim_id in rows})
    return found


@functools.lru_cache(maxsize=256)
def _checked(kind: str, value: str | None) -> str | None:
    """A quote kind, language or attribution role as the services check it (memoised: the
    same few values on every claim of a big story)."""
    from factdb.services.claims import check_language, check_quote_kind, check_role

    check = {"quote_kind": check_quote_kind, "language": check_language, "role": check_role}
    return check[kind](value)  # type: ignore[operator, no-any-return]


def statement_values(
    data: dict[str, Any],
    language: str | None,
    speaker_id: int,
    origin: str | None,
    external: str | None,
    sqlite: bool,
) -> tuple[tuple[Any, ...], PartialDate | None]:
    """A statements row for a new claim of a story (``data``: the file's table; ``language``:
    the story's), checked as ``add_claim`` checks it: the values of STATEMENT_ROW_COLUMNS, the
    date as the writer stores it (``sqlite``: ISO text), and the date the claim was said.

    A tuple, not a dict: a big story builds a hundred thousand of them."""
    text = clean_text(data["text"] or "")
    if not text:
        raise FactdbError("a claim text cannot be empty")
    get = data.get
    said_on = get("said_on")
    said, said_text, said_stored = _date(said_on, sqlite) if said_on else (None, None, None)
    original = get("original_text")
    original = clean_text(original) if original else None
    context = get("context")
    return (
        text,
        _checked("quote_kind", get("quote_kind") or spec.DEFAULT_QUOTE_KIND),
        _checked("language", get("language", language)),
        original or None,
        _checked("language", get("original_language")),
        said_stored,
        said.precision if said else None,
        clean_text(context) if context else None,
        speaker_id,
        # the bulk importer's key: the same as content_key, faster on cleaned ASCII text
        bulkwrite.clean_content_key(speaker_id, text, said_text),
        origin,
        external,
    ), said


# where statement_values puts the content key
KEY_AT = STATEMENT_ROW_COLUMNS.index("content_key")


@functools.lru_cache(maxsize=65_536)
def _date(value: str, sqlite: bool) -> tuple[PartialDate, str, Any]:
    # a date as written: the date, its canonical text (a content key's) and its stored form,
    # once each (dates repeat across a story's claims and events)
    said = parse_partial(value)
    return said, str(said), said.start.isoformat() if sqlite else said.start


def has_claims(session: Session) -> bool:
    """Whether the database holds any claim."""
    return session.scalar(select(Statement.id).limit(1)) is not None


def next_id(session: Session) -> int:
    """SQLite: the id of the next new statement (max + 1; a transaction that has written holds
    the write lock, so no other can take it)."""
    return (session.scalar(select(func.max(Statement.id))) or 0) + 1


def new_ids(session: Session, n: int) -> list[int]:
    """``n`` fresh statement ids: max + 1… on SQLite (the load has written already, so it
    holds the write lock), the table's sequence on PostgreSQL (as the bulk importer does)."""
    if n == 0:
        return []
    if session.get_bind().dialect.name == "sqlite":
        start = next_id(session)
        return list(range(start, start + n))
    rows = session.execute(
        text(
            "SELECT nextval(pg_get_serial_sequence('statements', 'id')) FROM generate_series(1, :n)"
        ),
        {"n": n},
    )
    return [r[0] for r in rows]


def chain_rows(claim_id: int, wanted: list[tuple[int, dict[str, Any]]]) -> list[tuple[Any, ...]]:
    """Attribution rows of a new claim's chain, exactly as written (source ids resolved), as
    values of CHAIN_COLUMNS."""
    if len(wanted) == 1 and len(wanted[0][1]) == 1:
        # the common chain: one source named, nothing else said of it
        return [(claim_id, wanted[0][0], _checked("role", spec.DEFAULT_ROLE), None, 1)]
    taken: set[int] = set()
    rows = []
    for i, (source_id, item) in enumerate(wanted, start=1):
        position = item.get("position", i)
        if position in taken:
            position = max(taken) + 1
        taken.add(position)
        verb = item.get("verb")
        role = _checked("role", item.get("role") or spec.DEFAULT_ROLE)
        rows.append((claim_id, source_id, role, " ".join(verb.split()) if verb else None, position))
    return rows


def event_values(
    claim_id: int,
    said: PartialDate | None,
    code: str,
    item: dict[str, Any],
    default_by: str,
    now: Any,
    stamp: Any,
    sqlite: bool,
) -> tuple[Any, ...]:
    """A status_events row of a new claim without its evidence (the first ten EVENT_COLUMNS),
    dates and times as the writer stores them (``stamp``: its form of a date and time; ``now``:
    the stored recorded-at of an event the file gives none, the time of the load). The event
    may not be dated before the claim."""
    when, _text, effective = _date(item["on"], sqlite)
    if said is not None and ends_before(when, said.start):
        raise FactdbError(
            f"status {code!r} dated {when} is before claim {claim_id} was made ({said}); refused"
        )
    if len(item) == 2:
        # only its status and date (both required): the common event, its other columns empty
        return (
            claim_id,
            code,
            effective,
            when.precision,
            now,
            None,
            default_by or None,
            None,
            None,
            None,
        )
    get = item.get
    recorded = get("recorded_at")
    withdrawn = get("withdrawn_at")
    return (
        claim_id,
        code,
        effective,
        when.precision,
        stamp(utc_timestamp(recorded)) if recorded else now,
        get("note") or None,
        get("recorded_by", default_by) or None,
        stamp(utc_timestamp(withdrawn)) if withdrawn else None,
        get("withdrawn_by") or None,
        get("withdrawn_note") or None,
    )


def utc_timestamp(value: str | None) -> dt.datetime | None:
    """A story file's ISO timestamp as the naive UTC the database keeps (None when absent)."""
    if not value:
        return None
    stamp = dt.datetime.fromisoformat(value)
    return stamp.astimezone(dt.UTC).replace(tzinfo=None) if stamp.tzinfo else stamp


def withdrawal(item: dict[str, Any]) -> dict[str, Any]:
    """The withdrawn_* columns of a status event as the file gives them (all None if not)."""
    return {
        "withdrawn_at": utc_timestamp(item.get("withdrawn_at")),
        "withdrawn_by": item.get("withdrawn_by") or None,
        "withdrawn_note": item.get("withdrawn_note") or None,
    }
