"""What every bulk writer shares (the importer, :mod:`factdb.io.loader`, and the bulk path of
``story load``, :mod:`factdb.stories.bulk`): when a load counts as bulk, the SQLite settings it
runs with, the content key of already-cleaned text, and SQLite's multi-row inserts.

Kept in one place so that the two writers cannot drift apart: a claim keyed one way by an
import and another way by a story load would be stored twice.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterator
from typing import Any

from factdb.textkeys import CONTENT_KEY_DIGITS, content_key, fold_ascii_claim

# a load of at least this many records, and at least as many as the table holds, builds the
# secondary indexes at the end (SQLite)
DEFER_INDEXES_FROM = 20_000
# page cache for the load (KiB): random content keys make index pages hot all over
CACHE_KIB = 16_384
# the full-text index's settings during a bulk load (see :func:`set_fts_settings`), and
# SQLite's defaults for them
FTS_BULK_SETTINGS = {"hashsize": 8 << 20, "automerge": 16}
FTS_DEFAULTS = {"hashsize": 1 << 20, "automerge": 4}
# rows per multi-row INSERT on SQLite: big enough to amortise a statement, small enough that
# the few prepared statements (one per table and chunk size) stay small
VALUES_ROWS = 500


def is_bulk(expected: int | None) -> bool:
    """Whether a load of about ``expected`` records is big enough for the bulk path (indexes
    built at the end; on SQLite, a transaction without foreign-key or CHECK constraint checks)."""
    return expected is not None and expected >= DEFER_INDEXES_FROM


def clean_content_key(speaker_id: int, text: str, said_on: str | None) -> str:
    """``textkeys.content_key`` of text already cleaned (``text.clean_text``), with a shortcut
    for single-line ASCII text.

    Cleaned text has no tabs, no runs of spaces and no control characters, so for ASCII text
    without line breaks the fold is a translate table and there is no whitespace to collapse:
    the same key, several times faster (a test compares the two).
    """
    if text.isascii() and "\n" not in text:
        payload = f"{speaker_id}\x1f{fold_ascii_claim(text)}\x1f{said_on or ''}"
        return hashlib.sha1(payload.encode("utf-8")).hexdigest()[:CONTENT_KEY_DIGITS]
    return content_key(speaker_id, text, said_on)


@functools.lru_cache(maxsize=64)
def values_insert(
    table: str,
    columns: tuple[str, ...],
    rows: int,
    conflict: str = "",
    constants: tuple[tuple[str, str], ...] = (),
) -> str:
    """``INSERT INTO table (columns) VALUES (?, …), … (rows times)`` with its conflict clause;
    ``constants``: (column, SQL literal) pairs every row gets as they are, not as parameters."""
    names = (*columns, *(c for c, _ in constants))
    row = "(" + ", ".join([*("?" for _ in columns), *(v for _, v in constants)]) + ")"
    return f"INSERT INTO {table} ({', '.join(names)}) VALUES {', '.join([row] * rows)}{conflict}"


def flat_inserts(
    table: str,
    columns: tuple[str, ...],
    flat: list[Any],
    max_variables: int,
    *,
    conflict: str = "",
    constants: tuple[tuple[str, str], ...] = (),
) -> Iterator[tuple[str, list[Any]]]:
    """SQLite: the statements (SQL, parameters) that insert rows given one after another in
    the flat list ``flat`` (``len(columns)`` values a row).

    Many rows per statement (multi-row VALUES), not executemany's one statement per row:
    SQLite then runs a whole chunk in one call without the GIL (a writer thread needs that,
    see :mod:`factdb.io.pipeline`), and each CHECK constraint's IN list costs less than half
    as much per row. ``max_variables``: the connection's limit of parameters per statement.
    """
    width = len(columns)
    per = max(1, min(VALUES_ROWS, max_variables // width))
    step = per * width
    for i in range(0, len(flat), step):
        rows = min(per, (len(flat) - i) // width)
        yield values_insert(table, columns, rows, conflict, constants), flat[i : i + step]


def set_fts_settings(cursor: Any, settings: dict[str, int]) -> dict[str, int] | None:
    """SQLite: change settings of the full-text index through the DB-API ``cursor``; returns
    the values they had (None when there is no index to tune).

    For a bulk load: ``hashsize``, FTS5's in-memory buffer of new terms, written out as a new
    index segment each time it fills (1 MiB by default): a bigger one writes far fewer segments
    (about a third less time). ``automerge``, how many segments of one size FTS5 lets pile up
    before it merges them (4 by default): merging later, in bigger steps, saved another second
    in six on a million claims, and searches were no slower. The settings live in the index's
    config table, so the caller puts the old values back (this function, with the result).
    """
    previous = {}
    try:
        for key, value in settings.items():
            row = cursor.execute(
                "SELECT v FROM statements_fts_config WHERE k = ?", (key,)
            ).fetchone()
            previous[key] = int(row[0]) if row is not None else FTS_DEFAULTS[key]
            cursor.execute(
                "INSERT INTO statements_fts (statements_fts, rank) VALUES (?, ?)", (key, value)
            )
    except Exception:  # noqa: BLE001 - no such table, or an SQLite without the option
        return None
    return previous
