"""New claims in bulk: the rows a story's new claims need, validated as the services validate
them, written with one executemany per table instead of a few statements per claim.

``story load`` of a big story would otherwise cost tens of milliseconds a claim (the ORM path
that editing takes). Only claims the database does not know come here; claims found again go
through the services (:mod:`factdb.stories.apply`), so edits obey every rule of data entry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from factdb.dates import PartialDate, parse_partial, period_end
from factdb.errors import FactdbError
from factdb.models import Statement, StatementTag
from factdb.stories import spec
from factdb.text import clean_text
from factdb.textkeys import content_identity, content_key

CHUNK = 500


def chunks(items: list[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    """``items`` in lists of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


@contextmanager
def bigger_cache(session: Session) -> Iterator[None]:
    """SQLite: the bulk importer's page cache for the load (the content-key and search indexes
    take inserts all over; with the default 2 MB cache a big story thrashes), then the old one."""
    if session.get_bind().dialect.name != "sqlite":
        yield
        return
    from factdb.io.loader import CACHE_KIB

    before = session.execute(text("PRAGMA cache_size")).scalar()
    session.execute(text(f"PRAGMA cache_size = {-CACHE_KIB}"))
    try:
        yield
    finally:
        session.execute(text(f"PRAGMA cache_size = {int(before or -2000)}"))


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


def statement_row(
    fields: dict[str, Any], origin: str | None, external: str | None
) -> dict[str, Any]:
    """A statements row for a new claim, checked as ``add_claim`` checks it."""
    from factdb.services.claims import check_language, check_quote_kind

    text = clean_text(fields["text"] or "")
    if not text:
        raise FactdbError("a claim text cannot be empty")
    said = parse_partial(fields["said_on"]) if fields["said_on"] else None
    speaker_id = fields["speaker"].id
    said_string = str(said) if said else None
    original = clean_text(fields["original_text"]) if fields["original_text"] else None
    return {
        "text": text,
        "quote_kind": check_quote_kind(fields["quote_kind"]),
        "language": check_language(fields["language"]),
        "original_text": original or None,
        "original_language": check_language(fields["original_language"]),
        "said_on": said.start if said else None,
        "said_precision": said.precision if said else None,
        "context": clean_text(fields["context"]) if fields["context"] else None,
        "speaker_id": speaker_id,
        "content_key": content_key(speaker_id, text, said_string),
        "origin": origin,
        "external_id": external,
        "_identity": content_identity(speaker_id, text, said_string),
    }


def new_ids(session: Session, n: int) -> list[int]:
    """``n`` fresh statement ids: max + 1… on SQLite (the load has written already, so it
    holds the write lock), the table's sequence on PostgreSQL (as the bulk importer does)."""
    if n == 0:
        return []
    if session.get_bind().dialect.name == "sqlite":
        start = (session.scalar(select(func.max(Statement.id))) or 0) + 1
        return list(range(start, start + n))
    rows = session.execute(
        text(
            "SELECT nextval(pg_get_serial_sequence('statements', 'id')) FROM generate_series(1, :n)"
        ),
        {"n": n},
    )
    return [r[0] for r in rows]


def insert_statements(session: Session, rows: list[dict[str, Any]]) -> list[int]:
    """Insert statements rows; their new ids in the same order.

    Ids are chosen first and inserted with the rows: an INSERT … RETURNING whose ids must come
    back in the rows' order runs one row at a time on SQLite.
    """
    ids = new_ids(session, len(rows))
    clean = [
        {"id": row_id, **{k: v for k, v in row.items() if not k.startswith("_")}}
        for row_id, row in zip(ids, rows, strict=True)
    ]
    insert_rows(session, Statement, clean)
    return ids


def insert_tags(session: Session, tags_by_claim: list[tuple[int, list[str]]]) -> None:
    """Tag new claims (tags created once each)."""
    from factdb.services.claims import _tag_rows

    names = sorted({t for _claim, tags in tags_by_claim for t in tags})
    if not names:
        return
    rows = {tag.name: tag.id for tag in _tag_rows(session, names)}
    pairs = [
        {"statement_id": claim_id, "tag_id": rows[name]}
        for claim_id, tags in tags_by_claim
        for name in dict.fromkeys(tags)
        if name in rows
    ]
    for part in chunks(pairs, 5000):
        session.execute(insert(StatementTag.__table__), part)


def insert_rows(session: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    """Plain executemany inserts of ``rows`` into ``model``'s table."""
    for part in chunks(rows, 5000):
        session.execute(insert(model.__table__), part)


def chain_rows(claim_id: int, wanted: list[tuple[int, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Attribution rows of a new claim's chain, exactly as written (source ids resolved)."""
    from factdb.services.claims import check_role

    taken: set[int] = set()
    rows = []
    for i, (source_id, item) in enumerate(wanted, start=1):
        position = item.get("position", i)
        if position in taken:
            position = max(taken) + 1
        taken.add(position)
        rows.append(
            {
                "statement_id": claim_id,
                "source_id": source_id,
                "role": check_role(item.get("role") or spec.DEFAULT_ROLE),
                "verb": " ".join(item["verb"].split()) if item.get("verb") else None,
                "position": position,
            }
        )
    return rows


def event_row(
    claim_id: int, said: PartialDate | None, code: str, item: dict[str, Any], default_by: str
) -> dict[str, Any]:
    """A status_events row of a new claim (the date may not be before the claim's)."""
    when = parse_partial(item["on"])
    if said is not None and period_end(when.start, when.precision) < said.start:
        raise FactdbError(
            f"status {code!r} dated {when} is before claim {claim_id} was made ({said}); refused"
        )
    recorded = utc_timestamp(item.get("recorded_at"))
    return {
        "statement_id": claim_id,
        "status_code": code,
        "effective_on": when.start,
        "effective_precision": when.precision,
        "recorded_at": recorded or dt.datetime.now(dt.UTC).replace(tzinfo=None),
        "note": item.get("note") or None,
        "recorded_by": item.get("recorded_by", default_by) or None,
        **withdrawal(item),
    }


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
