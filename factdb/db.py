"""Engine creation, SQLite connection settings, the schema-version gate and the session scope.

SQLite connections get ``foreign_keys=ON``, WAL and a busy timeout on every connect. Write
transactions start with ``BEGIN IMMEDIATE`` so that concurrent writers queue on the busy
timeout instead of failing half-way with "database is locked"; read-only sessions start a
plain deferred ``BEGIN``, which in WAL mode gives them a consistent snapshot.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from factdb.errors import FactdbError, SchemaMismatch
from factdb.schema_version import HEAD_REVISION, KNOWN_REVISIONS

BUSY_TIMEOUT_MS = 60_000
SQLITE_HEADER = b"SQLite format 3\x00"
MAX_PAGE_COUNT_ENV = "FACTDB_SQLITE_MAX_PAGE_COUNT"


def check_sqlite_file(path: Path, *, must_exist: bool) -> None:
    """Refuse a path that is missing (when it must exist) or is not a SQLite database file."""
    from factdb.safefiles import check_database_file

    check_database_file(path)
    if not path.exists():
        if must_exist:
            raise FactdbError(f"no database at {path}; create it with 'factdb init'")
        if not path.parent.exists():
            raise FactdbError(f"directory {path.parent} does not exist")
        return
    if path.is_dir():
        raise FactdbError(f"{path} is a directory, not a database file")
    try:
        with path.open("rb") as f:
            header = f.read(16)
    except OSError as exc:
        raise FactdbError(f"cannot read {path}: {exc.strerror}") from None
    if header and header != SQLITE_HEADER:
        raise FactdbError(f"{path} is not a SQLite database")
    if not header and must_exist:
        # an empty file would silently become a database on first connect; only init may do that
        raise FactdbError(f"{path} is empty, not a factdb database; create it with 'factdb init'")


def _max_page_count() -> int | None:
    """Test hook: ``FACTDB_SQLITE_MAX_PAGE_COUNT`` caps the file's size in pages.

    Only the robustness tests set it, to simulate a full disk without filling one; it is not a
    user setting. A value that is not a positive integer is ignored.
    """
    value = os.environ.get(MAX_PAGE_COUNT_ENV, "")
    return int(value) if value.isdigit() and int(value) > 0 else None


FOREIGN_KEYS_OPTION = "factdb_foreign_keys"
CHECK_CONSTRAINTS_OPTION = "factdb_check_constraints"


def _configure_sqlite(engine: Engine, *, write: bool) -> None:
    """Install the per-connection PRAGMAs and the BEGIN flavour on a SQLite engine."""
    max_pages = _max_page_count()

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        # the driver's own implicit BEGIN is turned off so that ours (below) is the only one
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        if write:
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        if max_pages:
            # test hook: a page ceiling makes SQLite report "database or disk is full"
            cursor.execute(f"PRAGMA max_page_count = {max_pages}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection) -> None:  # type: ignore[no-untyped-def]
        options = connection.get_execution_options()
        if not options.get(FOREIGN_KEYS_OPTION, True):
            # a bulk import (see for_bulk_load) or a migration; SQLite only takes this outside a
            # transaction, hence here, just before BEGIN
            connection.exec_driver_sql("PRAGMA foreign_keys = OFF")
        if not options.get(CHECK_CONSTRAINTS_OPTION, True):
            connection.exec_driver_sql("PRAGMA ignore_check_constraints = ON")
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    @event.listens_for(engine, "checkin")
    def on_checkin(dbapi_connection: sqlite3.Connection | None, _record: object) -> None:
        # the transaction is over: whoever uses this pooled connection next gets the checks
        if dbapi_connection is not None:
            dbapi_connection.execute("PRAGMA foreign_keys = ON")
            dbapi_connection.execute("PRAGMA ignore_check_constraints = OFF")


def for_bulk_load(engine: Engine) -> Engine:
    """The same engine whose transactions check neither foreign keys nor CHECK constraints
    on SQLite (PostgreSQL: unchanged), for a bulk import of a million rows.

    Checking foreign keys costs a lookup in the parent table for every row written (about an
    eighth of a big import). SQLite evaluates a CHECK of the form ``column IN (a, b, c, …)``
    by building a small temporary index of the list for every row: about 2 µs a row and
    constraint, four constraints a claim (statement, attribution, first status event). The
    importer only writes references it has just resolved or created under the transaction's
    write lock, and only values it has checked against the same vocabularies the constraints
    list, so both hold by construction; the tests check that ``PRAGMA foreign_key_check`` and
    ``PRAGMA integrity_check`` (which evaluates the CHECK constraints) find nothing after
    such imports.
    """
    return engine.execution_options(**{FOREIGN_KEYS_OPTION: False, CHECK_CONSTRAINTS_OPTION: False})


def for_schema_changes(connection: Connection) -> Connection:
    """``connection`` set up for a migration: on SQLite, foreign keys are not enforced in its
    next transaction (end it with :func:`check_foreign_keys`); elsewhere unchanged.

    SQLite changes a table's constraints by rebuilding it, and with enforcement on, dropping
    the old table deletes every row that references it (ON DELETE CASCADE). Its documented
    procedure: enforcement off for the transaction, ``PRAGMA foreign_key_check`` before commit.
    """
    if connection.dialect.name == "sqlite" and not connection.in_transaction():
        connection.execution_options(**{FOREIGN_KEYS_OPTION: False})
    return connection


def check_foreign_keys(connection: Connection) -> None:
    """Raise if any row references a missing one (SQLite; a no-op elsewhere, which enforces
    foreign keys throughout)."""
    if connection.dialect.name != "sqlite":
        return
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        table, rowid, parent, _fk = broken[0]
        raise FactdbError(
            f"schema change refused: {len(broken)} row(s) would reference missing rows "
            f"(first: {table} row {rowid} -> {parent})"
        )


def make_engine(url: str, *, write: bool = True) -> Engine:
    """Create an engine for ``url``; SQLite engines get the PRAGMAs and BEGIN flavour above."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
        _configure_sqlite(engine, write=write)
        return engine
    if url.startswith("postgresql"):
        # naive DateTime columns default to CURRENT_TIMESTAMP: pin the session to UTC so that
        # stamps mean what SQLite's do, whatever time zone the server is set to
        return create_engine(url, connect_args={"options": "-c timezone=UTC"})
    return create_engine(url, pool_pre_ping=False)


def current_revision(engine: Engine) -> str | None:
    """The Alembic revision recorded in the database, or None for an empty database."""
    with engine.connect() as conn:
        try:
            row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
        except (OperationalError, DBAPIError) as exc:
            # only a missing table means "no schema"; a damaged or unopenable file must say so
            # rather than suggest 'factdb init' (SQLite: "no such table", PostgreSQL: "does not
            # exist")
            message = str(getattr(exc, "orig", None) or exc).lower()
            if "no such table" in message or "does not exist" in message:
                return None
            raise
    return row[0] if row else None


def check_schema(engine: Engine) -> None:
    """Refuse a database whose schema is behind or ahead of this version of factdb.

    One cheap query against the revision this version expects: Alembic is not imported.
    """
    revision = current_revision(engine)
    if revision == HEAD_REVISION:
        return
    if revision is None:
        raise SchemaMismatch("the database has no factdb schema; create it with 'factdb init'")
    if revision in KNOWN_REVISIONS:
        raise SchemaMismatch(
            f"the database schema is at revision {revision}, behind this factdb "
            f"({HEAD_REVISION}); upgrade it with 'factdb db upgrade'"
        )
    raise SchemaMismatch(
        f"the database schema is at revision {revision}, which this factdb does not know "
        "(it was made by a newer factdb); upgrade factdb instead"
    )


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One transaction: commit when the block succeeds, roll everything back when it raises."""
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
