"""The new claims' rows of a story load, written on the importer's writer thread while the
load builds the next ones (:class:`factdb.io.pipeline.Pipeline`).

Building a big story's rows is Python work; writing them is SQLite's, which runs without the
GIL: on SQLite the two overlap, as they do for an import. Jobs run in order on one thread, so
the database sees the writes it would see without the thread; the load must call
:meth:`RowWriter.quiet` before it uses the session itself (every read of the database in the
load's bulk path goes through a method that does). PostgreSQL: the same jobs, run at once in
the caller's thread.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable
from itertools import chain
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from factdb.io import bulkwrite
from factdb.io.pipeline import Pipeline

# jobs that may wait for the writer: every chunk of a big story (the rows are in memory already,
# so holding them costs nothing more), so that building rows never waits for writing
DEPTH = 1000
# statements indexed for search at a time on SQLite (as the importer's FTS_GROUP: FTS5 writes
# its buffer out at the end of every statement, and small segments cost more to merge)
FTS_GROUP = 25_000


class RowWriter:
    """Inserts rows of the load's session, on a worker thread on SQLite (see the module)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.sqlite = session.get_bind().dialect.name == "sqlite"
        raw = session.connection().connection.dbapi_connection if self.sqlite else None
        self._cursor = raw.cursor() if raw is not None else None  # type: ignore[union-attr]
        self._max_variables = (
            raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) if raw is not None else 0  # type: ignore[union-attr]
        )
        self._pipeline = Pipeline(threaded=self.sqlite, depth=DEPTH)
        # the search index, while suspended for a big load: what resuming needs, the settings
        # to put back, and the last statement indexed
        self._suspended: list[str] | None = None
        self._fts_restore: dict[str, int] | None = None
        self._indexed_upto = 0
        self.closed = False

    def day(self, value: dt.date | None) -> Any:
        """A date as this writer stores it (SQLite: ISO text, as SQLAlchemy's type would)."""
        return value.isoformat() if self.sqlite and value is not None else value

    def stamp(self, value: dt.datetime | None) -> Any:
        """A date and time as this writer stores it (SQLite: SQLAlchemy's text form)."""
        if self.sqlite and value is not None:
            return value.strftime("%Y-%m-%d %H:%M:%S.%f")
        return value

    def quiet(self) -> None:
        """Wait until every submitted write is done (before the caller uses the session)."""
        self._pipeline.wait()

    def submit(self, job: Callable[[], None]) -> None:
        """Run ``job`` (which may use the session) after the writes submitted before it."""
        self._pipeline.submit(job)

    def insert(self, model: Any, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
        """Insert ``rows`` (values in the order of ``columns``, as :meth:`day` and :meth:`stamp`
        give dates) into ``model``'s table, after the writes submitted before."""
        if not rows:
            return
        table = model.__table__
        if self._cursor is None:
            self._pipeline.submit(
                lambda: self.session.execute(
                    insert(table), [dict(zip(columns, row, strict=True)) for row in rows]
                )
            )
            return
        flat = list(chain.from_iterable(rows))
        cursor, limit = self._cursor, self._max_variables

        def write() -> None:
            for sql, values in bulkwrite.flat_inserts(table.name, columns, flat, limit):
                cursor.execute(sql, values)

        self._pipeline.submit(write)

    # the search index --------------------------------------------------------------------------

    def suspend_search(self, after_id: int) -> None:
        """Stop indexing statements for search row by row (statements after ``after_id`` are
        indexed in groups by :meth:`index_for_search`, the rest by :meth:`resume_search`)."""
        from factdb.services.search import suspend_search_index

        self.quiet()
        self._suspended = suspend_search_index(self.session)
        self._indexed_upto = after_id
        if self._cursor is not None:
            self._fts_restore = bulkwrite.set_fts_settings(
                self._cursor, bulkwrite.FTS_BULK_SETTINGS
            )

    def index_for_search(self, last_id: int) -> None:
        """SQLite, the index suspended: index the statements written up to ``last_id`` once a
        group of them is complete (on the writer's thread, between two chunks)."""
        if self._suspended is None or self._cursor is None:
            return
        if last_id - self._indexed_upto < FTS_GROUP:
            return
        from factdb.services.search import index_statement_range

        after, self._indexed_upto = self._indexed_upto, last_id
        self._pipeline.submit(lambda: index_statement_range(self.session, after, last_id))

    def resume_search(self) -> None:
        """Index the statements not indexed yet and index row by row again (after the writes
        submitted before)."""
        if self._suspended is None:
            return
        from factdb.services.search import resume_search_index

        suspended, since, restore = self._suspended, self._indexed_upto, self._fts_restore
        self._suspended = self._fts_restore = None

        def resume() -> None:
            resume_search_index(self.session, suspended, since_id=since)
            if restore is not None and self._cursor is not None:
                bulkwrite.set_fts_settings(self._cursor, restore)

        self._pipeline.submit(resume)

    def close(self, *, raise_error: bool = True) -> None:
        """Wait for the writes and stop the thread (``raise_error=False``: the caller is
        failing already, see :meth:`Pipeline.close`)."""
        if self.closed:
            return
        self.closed = True
        try:
            self._pipeline.close(raise_error=raise_error)
        finally:
            if self._cursor is not None:
                self._cursor.close()
