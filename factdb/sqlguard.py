"""The read-only SQL runner behind ``factdb sql``; table descriptions behind ``factdb schema``.

A desk's database may be its only record, so a query typed at ``factdb sql`` must never change
it, whatever it says. The guards, from the outside in:

1. the input must be exactly one statement (a tokenizer that knows strings, quoted identifiers,
   comments and PostgreSQL dollar quotes finds every top-level ``;``), and it must start with a
   reading keyword (SELECT, WITH, VALUES, EXPLAIN, …);
2. SQLite: the file is opened through the stdlib driver with ``mode=ro`` (no SQLAlchemy, which
   keeps the command fast), an authorizer allows only reads (no ATTACH, no writes, no DDL, no
   temp objects, no PRAGMA outside a read-only list, no ``load_extension``), the attached-database
   limit is 0, the length limit is ``--max-bytes``, and the query runs inside ``BEGIN``: one
   snapshot, which a writer's checkpoint cannot change. It runs in a child process
   (``factdb.sqlprocess``) that is killed at the time limit, because a progress handler cannot
   stop a single long built-in call;
3. PostgreSQL: a ``READ ONLY``, ``REPEATABLE READ`` transaction (optionally ``SET LOCAL ROLE``)
   with ``statement_timeout`` set to what is left of the time limit before the statement and
   before every fetch, a snapshot taken before the user's statement (so ``SET TRANSACTION READ
   WRITE`` is refused), functions that act outside the transaction refused by name, the rows
   read through a server-side cursor whose running size is checked on the server, and a
   rollback.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from factdb.errors import FactdbError

DEFAULT_TIMEOUT = 5.0
SQLITE_HEADER = b"SQLite format 3\x00"

# what a read-only query may start with (after comments and opening parentheses)
READ_KEYWORDS = {
    "sqlite": {"select", "with", "values", "explain", "pragma"},
    "postgresql": {"select", "with", "values", "explain", "table", "show"},
}

# PRAGMAs that only report; any of them given a value ("= …") is refused as well, except the
# table-valued ones whose argument names a table or index
READ_PRAGMAS = {
    "application_id",
    "collation_list",
    "compile_options",
    "data_version",
    "database_list",
    "encoding",
    "foreign_key_check",
    "foreign_key_list",
    "freelist_count",
    "function_list",
    "index_info",
    "index_list",
    "index_xinfo",
    "integrity_check",
    "module_list",
    "page_count",
    "page_size",
    "pragma_list",
    "quick_check",
    "schema_version",
    "table_info",
    "table_list",
    "table_xinfo",
    "user_version",
}
PRAGMAS_WITH_ARGUMENT = {
    "foreign_key_check",
    "foreign_key_list",
    "index_info",
    "index_list",
    "index_xinfo",
    "integrity_check",
    "quick_check",
    "table_info",
    "table_list",
    "table_xinfo",
}
# authorizer action codes, for messages ("DELETE is not allowed")
ACTION_NAMES = [
    "CREATE_INDEX",
    "CREATE_TABLE",
    "CREATE_TEMP_INDEX",
    "CREATE_TEMP_TABLE",
    "CREATE_TEMP_TRIGGER",
    "CREATE_TEMP_VIEW",
    "CREATE_TRIGGER",
    "CREATE_VIEW",
    "DELETE",
    "DROP_INDEX",
    "DROP_TABLE",
    "DROP_TEMP_INDEX",
    "DROP_TEMP_TABLE",
    "DROP_TEMP_TRIGGER",
    "DROP_TEMP_VIEW",
    "DROP_TRIGGER",
    "DROP_VIEW",
    "INSERT",
    "PRAGMA",
    "READ",
    "SELECT",
    "TRANSACTION",
    "UPDATE",
    "ATTACH",
    "DETACH",
    "ALTER_TABLE",
    "REINDEX",
    "ANALYZE",
    "CREATE_VTABLE",
    "DROP_VTABLE",
    "FUNCTION",
    "SAVEPOINT",
    "RECURSIVE",
]
DENIED_FUNCTIONS = {"load_extension", "fts3_tokenizer", "readfile", "writefile", "edit"}


class SqlRefused(FactdbError):
    """The query was refused or failed; the message is one line, the database untouched."""


# --- one statement, read keyword ---------------------------------------------------------------

_DOLLAR_TAG = re.compile(r"\$([A-Za-z_][A-Za-z_0-9]*)?\$")


def _skip(sql: str, i: int, dialect: str) -> int:
    """If a string, quoted identifier or comment starts at ``i``, the index just after it."""
    c = sql[i]
    two = sql[i : i + 2]
    if two == "--":
        end = sql.find("\n", i)
        return len(sql) if end < 0 else end + 1
    if two == "/*":
        if dialect == "postgresql":  # PostgreSQL block comments nest
            depth, j = 1, i + 2
            while j < len(sql) and depth:
                if sql.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif sql.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            if depth:
                raise SqlRefused("unterminated /* comment")
            return j
        end = sql.find("*/", i + 2)
        if end < 0:
            raise SqlRefused("unterminated /* comment")
        return end + 2
    if c in "'\"`" or (c == "[" and dialect == "sqlite"):
        close = "]" if c == "[" else c
        backslash = (
            dialect == "postgresql" and c == "'" and i > 0 and sql[i - 1] in "eE"
        )  # E'…' strings take backslash escapes
        j = i + 1
        while j < len(sql):
            if backslash and sql[j] == "\\":
                j += 2
                continue
            if sql[j] == close:
                if close != "]" and sql[j + 1 : j + 2] == close:  # doubled quote
                    j += 2
                    continue
                return j + 1
            j += 1
        raise SqlRefused("unterminated quoted string or identifier")
    if c == "$" and dialect == "postgresql":
        m = _DOLLAR_TAG.match(sql, i)
        if m and not (i > 0 and (sql[i - 1].isalnum() or sql[i - 1] == "_")):
            end = sql.find(m.group(0), m.end())
            if end < 0:
                raise SqlRefused("unterminated dollar-quoted string")
            return end + len(m.group(0))
    return i


def _code_only(sql: str, dialect: str) -> str:
    """``sql`` with strings, identifiers and comments replaced by spaces (same statement shape)."""
    out: list[str] = []
    i = 0
    while i < len(sql):
        j = _skip(sql, i, dialect)
        if j != i:
            out.append(" " * (j - i))  # same length, so offsets still point into ``sql``
            i = j
        else:
            out.append(sql[i])
            i += 1
    return "".join(out)


def single_statement(sql: str, dialect: str = "sqlite") -> str:
    """Return the one statement in ``sql`` (without a trailing ``;``); refuse anything else.

    Refuses empty input, a second statement (even one hidden after a comment or inside what
    looks like a comment to a naive reader) and a statement that does not start with a reading
    keyword.
    """
    code = _code_only(sql, dialect)
    parts = code.split(";")
    # the statement ends at the first top-level ';'; only whitespace may follow it
    if len(parts) > 1 and any(p.strip() for p in parts[1:]):
        raise SqlRefused("only one SQL statement is allowed")
    if not parts[0].strip():
        raise SqlRefused("no SQL statement given")
    first = re.match(r"[\s(]*([A-Za-z_]+)", parts[0])
    keyword = first.group(1).lower() if first else ""
    if keyword not in READ_KEYWORDS[dialect]:
        allowed = ", ".join(sorted(k.upper() for k in READ_KEYWORDS[dialect]))
        shown = keyword.upper() or parts[0].strip()[:20]
        raise SqlRefused(f"{shown} is not allowed: factdb sql is read-only (use {allowed})")
    end = len(parts[0])
    return sql[:end].strip()


# --- limits -------------------------------------------------------------------------------------

DEFAULT_MAX_ROWS = 1_000_000
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
# the smallest SQLite length limit, whatever --max-bytes says (a lower one would make SQLite
# refuse to sort or store ordinary rows, not just return them)
MIN_VALUE_LIMIT = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """How long a query may take (``timeout`` seconds, from opening the database to the last
    row) and how much it may return (``max_rows`` rows, ``max_bytes`` bytes of values)."""

    timeout: float = DEFAULT_TIMEOUT
    max_rows: int = DEFAULT_MAX_ROWS
    max_bytes: int = DEFAULT_MAX_BYTES

    def time_out(self) -> SqlRefused:
        """The error for a query stopped at the time limit."""
        return SqlRefused(
            f"query stopped after the time limit of {self.timeout:g} s (see --timeout)"
        )

    def too_big(self) -> SqlRefused:
        """The error for a result (or one value of it) over ``max_bytes``."""
        return SqlRefused(
            f"the result is larger than the limit of {_size(self.max_bytes)} "
            "(add a LIMIT, select fewer columns, or raise --max-bytes)"
        )

    def too_many(self) -> SqlRefused:
        """The error for a result of more than ``max_rows`` rows."""
        return SqlRefused(
            f"the result has more than {self.max_rows:,} rows (add a LIMIT or raise --max-rows)"
        )


def _size(n: int) -> str:
    return f"{n / 1048576:g} MiB" if n >= 1048576 else f"{n:,} bytes"


def _bounded(
    batches: Callable[[], list[tuple[Any, ...]]], limits: Limits, deadline: float
) -> Iterator[tuple[Any, ...]]:
    """The rows of ``batches()`` (called until it returns no row), within ``limits``.

    Checked per row, so that the time spent rendering the rows counts too: a query whose rows
    are printed as they arrive stops at the deadline however slowly they are written.
    """
    count = size = 0
    while True:
        batch = batches()
        if not batch:
            return
        for row in batch:
            count += 1
            if count > limits.max_rows:
                raise limits.too_many()
            for value in row:
                size += len(value) if isinstance(value, str | bytes | memoryview) else 8
            if size > limits.max_bytes:
                raise limits.too_big()
            if time.monotonic() > deadline:
                raise limits.time_out()
            yield row


@dataclass
class QueryResult:
    """Column names and a stream of row tuples; the stream raises SqlRefused on an error."""

    columns: list[str]
    rows: Iterator[tuple[Any, ...]]


# --- SQLite ------------------------------------------------------------------------------------


def _authorizer(refusals: list[str]) -> Callable[..., int]:
    """An authorizer that allows reading only, noting why it refused in ``refusals``."""
    allowed = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_RECURSIVE}
    names = {
        getattr(sqlite3, f"SQLITE_{n}"): n for n in ACTION_NAMES if hasattr(sqlite3, f"SQLITE_{n}")
    }

    def authorize(action: int, arg1: str | None, arg2: str | None, _db: Any, _src: Any) -> int:
        if action in allowed:
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_UPDATE and arg1 == "sqlite_master" and _db == "main":
            # SQLite asks this while (re)loading the schema; a real UPDATE of sqlite_master
            # is impossible anyway (no writable_schema, and the file is opened read-only)
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_FUNCTION:
            if (arg2 or "").lower() in DENIED_FUNCTIONS:
                refusals.append(f"function {arg2}() is not allowed")
                return sqlite3.SQLITE_DENY
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_PRAGMA:
            pragma = (arg1 or "").lower()
            if pragma in READ_PRAGMAS and (arg2 is None or pragma in PRAGMAS_WITH_ARGUMENT):
                return sqlite3.SQLITE_OK
            refusals.append(f"PRAGMA {pragma} is not allowed")
            return sqlite3.SQLITE_DENY
        what = names.get(action, str(action)).replace("_", " ")
        refusals.append(f"{what} is not allowed")
        return sqlite3.SQLITE_DENY

    return authorize


def _is_wal(path: Path) -> bool:
    with path.open("rb") as f:
        header = f.read(20)
    return len(header) >= 20 and header[18] == 2


def _side_files(path: Path) -> list[Path]:
    return [path.with_name(path.name + s) for s in ("-wal", "-shm")]


class _ReadConnection(sqlite3.Connection):
    """A read-only connection that cleans up after itself when it closes.

    ``tidy``: the WAL database whose ``-wal``/``-shm`` this reader created (none were there);
    they are removed again if nobody else uses them. ``guard_fd``: the shared lock held during
    an immutable read (see :func:`open_sqlite_readonly`). ``immutable``: such a read, whose
    rows must be checked with :func:`_unchanged` before anyone sees them.
    """

    tidy: Path | None = None
    guard_fd: int | None = None
    immutable: bool = False
    path: Path

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self.guard_fd is not None:
                os.close(self.guard_fd)
                self.guard_fd = None
            if self.tidy is not None:
                _remove_side_files(self.tidy)
                self.tidy = None


def _remove_side_files(path: Path) -> None:
    """Let SQLite remove the ``-wal``/``-shm`` that a read-only reader of ``path`` left.

    A read-only connection cannot delete them; the last read-write connection to close does,
    after checkpointing. One is opened and closed here, only while the WAL is empty (nothing
    to checkpoint, so the database file is not written); if another program is connected,
    SQLite leaves the files to it. Any failure leaves them (they are harmless).
    """
    wal = _side_files(path)[0]
    try:
        if wal.stat().st_size:
            return
        conn = sqlite3.connect(
            "file:" + quote(str(path.absolute())) + "?mode=rw", uri=True, timeout=0
        )
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchall()
        finally:
            conn.close()
    except (OSError, sqlite3.Error):
        pass


def _connect(path: Path, limits: Limits, *, immutable: bool) -> _ReadConnection:
    uri = "file:" + quote(str(path.absolute())) + "?mode=ro" + ("&immutable=1" if immutable else "")
    conn = sqlite3.connect(
        uri, uri=True, isolation_level=None, check_same_thread=False, factory=_ReadConnection
    )
    assert isinstance(conn, _ReadConnection)
    conn.path = path
    if hasattr(conn, "enable_load_extension"):
        conn.enable_load_extension(False)
    conn.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
    # a single value (printf('%.*c', 1e9, 'x'), zeroblob, randomblob, group_concat …) fails
    # at once instead of taking memory and time that no progress handler sees
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, max(MIN_VALUE_LIMIT, limits.max_bytes))
    return conn


def _begin(conn: _ReadConnection) -> None:
    """Start the read transaction: the snapshot every row of the query is read from."""
    conn.execute("BEGIN")
    conn.execute("SELECT count(*) FROM sqlite_master").fetchall()  # reads: snapshot taken


def open_sqlite_readonly(
    path: Path, limits: Limits | None = None
) -> tuple[_ReadConnection, list[str], list[float]]:
    """A connection to ``path`` that can only read, inside a read transaction (one snapshot).

    Returns (connection, refusals, deadline): ``refusals`` collects the authorizer's reasons
    (for a clear message); ``deadline`` holds the monotonic time after which the progress
    handler interrupts the query.

    A WAL database is read like any WAL reader reads it: the transaction's snapshot stays
    fixed while others write and checkpoint (the reader's mark in ``-shm`` stops a checkpoint
    from overwriting pages it may still read). Opening it creates ``-wal``/``-shm`` if they
    were absent; closing removes them again. Only when they cannot be created (a read-only
    folder) is the file read ``immutable``, under a shared lock that stops a writer from
    deleting a WAL meanwhile; such a read is kept only if no WAL appeared by its end
    (:func:`_unchanged`), since a writer's checkpoint would change the file under it.
    """
    from factdb.safefiles import check_database_file

    limits = limits or Limits()
    deadline = [time.monotonic() + limits.timeout]
    if not path.exists():
        raise SqlRefused(f"no database at {path}")
    try:
        check_database_file(path)  # a FIFO would block the open below
    except FactdbError as exc:
        raise SqlRefused(str(exc)) from None
    with path.open("rb") as f:
        header = f.read(16)
    if header and header != SQLITE_HEADER:
        raise SqlRefused(f"{path} is not a SQLite database")
    wal = bool(header) and _is_wal(path)
    quiet = wal and not any(p.exists() for p in _side_files(path))
    conn = _connect(path, limits, immutable=False)
    try:
        _begin(conn)
    except sqlite3.Error as exc:
        conn.close()
        if not (quiet and getattr(exc, "sqlite_errorcode", None) in _CANNOT_CREATE):
            raise SqlRefused(_first_line(exc)) from None
        conn = _immutable(path, limits)
    else:
        if quiet and any(p.exists() for p in _side_files(path)):
            conn.tidy = path
    refusals: list[str] = []
    conn.set_authorizer(_authorizer(refusals))
    conn.set_progress_handler(lambda: 1 if time.monotonic() > deadline[0] else 0, 10_000)
    return conn, refusals, deadline


# what SQLite says when a read-only reader cannot create -wal/-shm beside the database
_CANNOT_CREATE = {
    getattr(sqlite3, name, -1)
    for name in ("SQLITE_READONLY_DIRECTORY", "SQLITE_CANTOPEN", "SQLITE_READONLY_CANTINIT")
}


def _immutable(path: Path, limits: Limits) -> _ReadConnection:
    guard = _shared_lock(path)
    if guard is None:
        raise SqlRefused(
            f"cannot read {path} now: its folder is read-only and another program is writing "
            "to it; try again"
        )
    try:
        conn = _connect(path, limits, immutable=True)
    except BaseException:
        os.close(guard)
        raise
    conn.guard_fd, conn.immutable = guard, True
    try:
        _begin(conn)
    except sqlite3.Error as exc:
        conn.close()
        raise SqlRefused(_first_line(exc)) from None
    return conn


def _unchanged(conn: _ReadConnection) -> bool:
    """After an immutable read: True if no writer touched the file since it was opened.

    A writer writes a WAL database only through its ``-wal`` file, which the shared lock
    held since before the read keeps from being deleted: if there is none now, there was
    none, and the file did not change.
    """
    return not any(p.exists() for p in _side_files(conn.path))


# SQLite's unix VFS lock bytes (os_unix.c): readers hold a read lock within SHARED_FIRST ..
# SHARED_FIRST + SHARED_SIZE; a closing WAL connection needs them all exclusively to checkpoint
# and delete its WAL
_PENDING_BYTE = 0x40000000
_SHARED_FIRST = _PENDING_BYTE + 2
_SHARED_SIZE = 510


def _shared_lock(path: Path) -> int | None:
    """Hold a POSIX read lock on SQLite's shared-lock bytes of ``path``; the fd, or None."""
    try:
        import fcntl
    except ImportError:  # not on POSIX: no immutable reads at all
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.lockf(fd, fcntl.LOCK_SH | fcntl.LOCK_NB, _SHARED_SIZE, _SHARED_FIRST, os.SEEK_SET)
    except OSError:  # a writer is checkpointing right now
        os.close(fd)
        return None
    return fd


def _sqlite_error(exc: sqlite3.Error, refusals: list[str], limits: Limits) -> SqlRefused:
    message = _first_line(exc)
    if message == "interrupted":
        return limits.time_out()
    if getattr(exc, "sqlite_errorname", "") == "SQLITE_TOOBIG":
        return limits.too_big()
    if refusals and "not authorized" in message:
        return SqlRefused(f"{message}: {refusals[0]} (factdb sql is read-only)")
    return SqlRefused(message)


def run_sqlite(path: Path, sql: str, limits: Limits | None = None) -> QueryResult:
    """Run one read-only statement on the SQLite file ``path``, in one snapshot.

    The query runs in a child process (``factdb.sqlprocess``) that is killed at the time
    limit, even inside a single long built-in call that the progress handler cannot stop.
    """
    from factdb.sqlprocess import forked

    limits = limits or Limits()
    deadline = time.monotonic() + limits.timeout
    statement = single_statement(sql, "sqlite")
    # a child killed at the deadline leaves the -wal/-shm it made; they go here instead
    quiet = path.is_file() and _is_wal(path) and not any(p.exists() for p in _side_files(path))
    # a moment after the child's own deadline, so that its progress handler speaks first
    columns, rows = forked(
        lambda: _sqlite_rows(path, statement, limits),
        deadline + 0.2,
        limits.time_out,
        SqlRefused,
        (lambda: _remove_side_files(path)) if quiet else None,
    )
    return QueryResult(columns, rows)


def _sqlite_rows(
    path: Path, statement: str, limits: Limits
) -> tuple[list[str], Iterator[tuple[Any, ...]]]:
    """Columns and rows of ``statement`` read from ``path`` (what the child process runs)."""
    conn, refusals, deadline = open_sqlite_readonly(path, limits)
    try:
        cursor = conn.execute(statement)
    except sqlite3.Error as exc:
        conn.close()
        raise _sqlite_error(exc, refusals, limits) from None
    except BaseException:
        conn.close()
        raise
    columns = [d[0] for d in cursor.description or ()]

    def rows() -> Iterator[tuple[Any, ...]]:
        try:
            yield from _bounded(lambda: cursor.fetchmany(500), limits, deadline[0])
        except sqlite3.Error as exc:
            raise _sqlite_error(exc, refusals, limits) from None
        finally:
            conn.close()

    if not conn.immutable:
        return columns, rows()
    # an immutable read is only shown once it is known that nothing wrote meanwhile
    try:
        kept = list(rows())
    except SqlRefused:
        if not _unchanged(conn):
            raise _changed(path) from None
        raise
    if not _unchanged(conn):
        raise _changed(path)
    return columns, iter(kept)


def _changed(path: Path) -> SqlRefused:
    return SqlRefused(
        f"{path} changed while it was being read (another program wrote to it); run the query again"
    )


# --- PostgreSQL --------------------------------------------------------------------------------

# the statements a server-side cursor can hold; EXPLAIN and SHOW (short answers) are fetched
# at once
_CURSOR_KEYWORDS = {"select", "with", "values", "table"}
_TOO_BIG_MARK = "factdb-result-too-large:"


def _bounded_on_server(statement: str, limits: Limits) -> str:
    """``statement`` with one more column that fails once the result outgrows the limit.

    The running total of the rows' sizes is checked on the server, before a row is sent: a
    single ``repeat('x', 900000000)`` never reaches this process. The error is a cast of a
    text carrying the mark (a cast of a constant would fail when planned, not when run).
    """
    total = "sum(pg_column_size(factdb_q.*)) OVER (ROWS UNBOUNDED PRECEDING)"
    return (
        f"SELECT factdb_q.*, CASE WHEN {total} > {limits.max_bytes} "
        f"THEN ('{_TOO_BIG_MARK}' || {total})::int END AS factdb_size_check "
        f"FROM (\n{statement}\n) AS factdb_q"
    )


def _timeout_ms(deadline: float, limits: Limits) -> int:
    left = deadline - time.monotonic()
    if left <= 0:
        raise limits.time_out()
    return max(1, int(left * 1000))


def run_postgresql(
    url: str, sql: str, limits: Limits | None = None, role: str | None = None
) -> QueryResult:
    """Run one statement on PostgreSQL in a READ ONLY, REPEATABLE READ transaction that is
    rolled back; as ``role`` (``SET LOCAL ROLE``) when given."""
    limits = limits or Limits()
    deadline = time.monotonic() + limits.timeout
    statement = single_statement(sql, "postgresql")
    from factdb.pgfunctions import refuse_denied_functions

    refuse_denied_functions(statement)
    from psycopg import sql as pgsql
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    engine = create_engine(url, poolclass=NullPool)
    try:
        raw = engine.raw_connection()
    except Exception as exc:  # connection refused, unknown database, …
        engine.dispose()
        raise SqlRefused(_first_line(getattr(exc, "orig", None) or exc)) from None
    control = raw.cursor()
    keyword = re.match(r"[\s(]*([A-Za-z_]+)", _code_only(statement, "postgresql"))
    on_server = keyword is not None and keyword.group(1).lower() in _CURSOR_KEYWORDS
    cursor: Any = raw.driver_connection.cursor(name="factdb_sql") if on_server else control
    try:
        # one snapshot for the whole statement and every FETCH of it
        control.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        if role:
            control.execute(pgsql.SQL("SET LOCAL ROLE {}").format(pgsql.Identifier(role)))
        control.execute(f"SET LOCAL statement_timeout = {_timeout_ms(deadline, limits)}")
        # a snapshot now, so that the user's statement can no longer make this transaction
        # read-write ("SET TRANSACTION READ WRITE" must come before any query)
        control.execute("SELECT 1")
        # '%' is doubled because with parameters the query is scanned for placeholders;
        # prepare=True sends it through the extended protocol, where the server itself
        # refuses a second statement (a server-side cursor's DECLARE cannot hold one either)
        if on_server:
            cursor.execute(_bounded_on_server(statement, limits).replace("%", "%%"), ())
        else:
            cursor.execute(statement.replace("%", "%%"), (), prepare=True)
    except BaseException as exc:
        _close(raw, engine)
        if isinstance(exc, Exception):
            raise _pg_error(exc, limits) from None
        raise
    description = list(cursor.description or ())
    if on_server:
        description = description[:-1]  # the size check
    columns = [d[0] for d in description]

    def batch() -> list[tuple[Any, ...]]:
        if cursor.description is None:  # a statement without rows
            return []
        if not on_server:
            return cursor.fetchmany(500)
        # every FETCH is a statement of its own: it gets what is left of the time limit
        control.execute(f"SET LOCAL statement_timeout = {_timeout_ms(deadline, limits)}")
        return [row[:-1] for row in cursor.fetchmany(500)]

    def rows() -> Iterator[tuple[Any, ...]]:
        try:
            yield from _bounded(batch, limits, deadline)
        except SqlRefused:
            raise
        except Exception as exc:
            raise _pg_error(exc, limits) from None
        finally:
            _close(raw, engine)

    return QueryResult(columns, rows())


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _pg_error(exc: BaseException, limits: Limits) -> SqlRefused:
    if isinstance(exc, SqlRefused):
        return exc
    message = _first_line(exc)
    if "statement timeout" in message:
        return limits.time_out()
    if _TOO_BIG_MARK in message:
        return limits.too_big()
    return SqlRefused(message)


def _close(raw: Any, engine: Any) -> None:
    try:
        with contextlib.suppress(Exception):
            raw.rollback()
        raw.close()
    finally:
        engine.dispose()


def run_query(
    url: str, sql: str, limits: Limits | None = None, role: str | None = None
) -> QueryResult:
    """Run one read-only statement on the database at ``url`` (SQLite file or PostgreSQL).

    ``role`` (PostgreSQL only): run it as this role (see docs/postgres.md).
    """
    from factdb.config import sqlite_path

    if url.startswith("sqlite"):
        if role:
            raise SqlRefused("a role (--role) applies to PostgreSQL only")
        path = sqlite_path(url)
        if path is None:
            raise SqlRefused("factdb sql needs a database file, not an in-memory database")
        return run_sqlite(path, sql, limits)
    if url.startswith("postgresql"):
        return run_postgresql(url, sql, limits, role)
    raise SqlRefused(f"factdb sql supports SQLite and PostgreSQL, not {url.split(':', 1)[0]}")


# --- schema descriptions for ``factdb schema`` -------------------------------------------------

# One line per table and documented view: the one place these descriptions live.
SCHEMA_DOCS: dict[str, str] = {
    # views (stable names for plain-SQL users)
    "claim_overview": "One row per claim: text, date said, speaker, acts for, current status, "
    "latest verdict, first source.",
    "status_history": "Every dated status event of every claim, with its evidence (join on "
    "claim_id); withdrawn events too, with withdrawn_at/by/note (filter withdrawn_at IS NULL "
    "for those that count).",
    "audit_log_view": "Every change, oldest first: when (changed_at, UTC), who (changed_by), "
    "table_name, row_id, action (insert/update/delete, or import: one row per bulk import), "
    "claim_id and its current text, before_json and after_json.",
    "claim_links": "Typed, dated links between claims (denies, confirms, responds_to, …) with "
    "both speakers.",
    "attribution_chain": "How we know each claim: its sources in chain order, with role, verb "
    "and credit.",
    "claim_tags": "One row per (claim, tag).",
    "speaker_scorecard": "Per speaker: number of claims and how many are in each current status.",
    # tables
    "statements": "Claims: text, quote kind, language, original text, date said (+ precision), "
    "speaker, cached current status.",
    "speakers": "People and organisations that say things; acts_for_id points at the "
    "organisation a person speaks for.",
    "audit_log": "The audit log's table (read audit_log_view): JSON before/after values; no "
    "foreign keys, so a deleted claim's entries stay.",
    "source_aliases": "Other names of a source ('AP' for 'Associated Press'; alias_key is the "
    "comparison key).",
    "speaker_aliases": "Other names of a speaker, in any script (name_key/alias_key are the "
    "comparison keys).",
    "sources": "Outlets, agency reports, documents, photos: where a claim appeared or was "
    "reported; based_on_id chains them.",
    "attributions": "Claim ↔ source with role (reported_by, according_to, …), verb as written "
    "and position in the chain.",
    "statuses": "The allegation-status vocabulary (code, label, description, terminal or not).",
    "status_events": "Dated status changes of a claim, never overwritten; the latest by "
    "effective_on, recorded_at, id is current.",
    "statement_links": "Typed, dated relations from one claim to another.",
    "tags": "Free labels.",
    "statement_tags": "Which claim has which tag.",
    "rating_scales": "Fact-checkers' rating scales (Truth-O-Meter, Snopes, …).",
    "scale_ratings": "The labels of each rating scale with ordinal value and normalised class.",
    "verdicts": "Fact-checkers' ratings of claims: label, reviewer, date, URL, normalised class.",
    "statements_fts": "Full-text index over claim text, original text and speaker names and "
    "aliases (SQLite: FTS5, WHERE statements_fts MATCH 'word', rowid = statements.id; "
    "PostgreSQL: statement_id, document tsvector).",
    "claim_vectors": "Sentence embeddings of claims for semantic matching (one row per claim: "
    "model name, vector as int8 bytes; built by 'factdb match index').",
    "alembic_version": "The schema revision (managed by 'factdb db').",
}


def _hidden(name: str) -> bool:
    """Internal objects not worth showing: FTS5 shadow tables, SQLite's own tables."""
    return name.startswith(("sqlite_", "statements_fts_"))


def describe_schema(url: str) -> list[dict[str, Any]]:
    """Every table and view: name, kind, columns (comma-separated) and its description.

    Read through the same read-only runner as ``factdb sql``.
    """
    if url.startswith("sqlite"):
        listing = (
            "SELECT name, type FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name"
        )
    else:
        listing = (
            "SELECT table_name, CASE table_type WHEN 'VIEW' THEN 'view' ELSE 'table' END "
            "FROM information_schema.tables WHERE table_schema = current_schema() "
            "ORDER BY table_name"
        )
    objects = [(n, k) for n, k in run_query(url, listing).rows if not _hidden(n)]
    columns = describe_columns(url, None)
    out = []
    # views first: they are what plain-SQL users should start from
    for name, kind in sorted(objects, key=lambda o: (o[1] != "view", o[0])):
        out.append(
            {
                "name": name,
                "kind": kind,
                "description": SCHEMA_DOCS.get(name, ""),
                "columns": ", ".join(c["column"] for c in columns if c["table"] == name),
            }
        )
    return out


def describe_columns(url: str, table: str | None) -> list[dict[str, Any]]:
    """Columns (table, column, type, nullable) of ``table``, or of every table when None."""
    if url.startswith("sqlite"):
        query = (
            "SELECT m.name, p.name, p.type, CASE WHEN p.\"notnull\" = 1 OR p.pk > 0 THEN 'no' "
            "ELSE 'yes' END FROM sqlite_master m, pragma_table_info(m.name) p "
            "WHERE m.type IN ('table', 'view') ORDER BY m.name, p.cid"
        )
    else:
        query = (
            "SELECT table_name, column_name, data_type, CASE is_nullable WHEN 'YES' THEN 'yes' "
            "ELSE 'no' END FROM information_schema.columns "
            "WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
        )
    rows = [
        {"table": t, "column": c, "type": (ty or "").lower(), "nullable": n}
        for t, c, ty, n in run_query(url, query).rows
        if table is None or t == table
    ]
    return rows
