"""The read-only SQL runner behind ``factdb sql``; table descriptions behind ``factdb schema``.

A desk's database may be its only record, so a query typed at ``factdb sql`` must never change
it, whatever it says. The guards, from the outside in:

1. the input must be exactly one statement (a tokenizer that knows strings, quoted identifiers,
   comments and PostgreSQL dollar quotes finds every top-level ``;``), and it must start with a
   reading keyword (SELECT, WITH, VALUES, EXPLAIN, …);
2. SQLite: the file is opened through the stdlib driver with ``mode=ro`` (no SQLAlchemy, which
   keeps the command fast), an authorizer allows only reads (no ATTACH, no writes, no DDL, no
   temp objects, no PRAGMA outside a read-only list, no ``load_extension``), the attached-database
   limit is 0, and a progress handler stops the query at the time limit. A WAL database with
   no ``-wal``/``-shm`` beside it is opened ``immutable`` so that reading it creates no file,
   under a shared lock that stops a writer from checkpointing into the file meanwhile;
3. PostgreSQL: a ``READ ONLY`` transaction with ``SET LOCAL statement_timeout``, a snapshot taken
   before the user's statement (so ``SET TRANSACTION READ WRITE`` is refused), the statement sent
   through the extended protocol (the server itself refuses a second statement), and a rollback.
"""

from __future__ import annotations

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


def open_sqlite_readonly(
    path: Path, timeout: float = DEFAULT_TIMEOUT
) -> tuple[sqlite3.Connection, list[str], list[float]]:
    """A connection to ``path`` that can only read; returns (connection, refusals, deadline).

    ``refusals`` collects the authorizer's reasons (for a clear message); ``deadline`` holds the
    monotonic time after which the progress handler interrupts the query (reset per query).
    """
    if not path.exists():
        raise SqlRefused(f"no database at {path}")
    if path.is_dir():
        raise SqlRefused(f"{path} is a directory, not a database file")
    with path.open("rb") as f:
        header = f.read(16)
    if header and header != SQLITE_HEADER:
        raise SqlRefused(f"{path} is not a SQLite database")
    uri = "file:" + quote(str(path.absolute())) + "?mode=ro"
    guard = _shared_lock(path) if header and _is_wal(path) else None
    side_files = [path.with_name(path.name + s) for s in ("-wal", "-shm")]
    if guard is not None and not any(p.exists() for p in side_files):
        # a read-only WAL reader would create -wal and -shm beside the file; with neither
        # present every committed page is in the main file, which "immutable" reads as it is.
        # The shared lock taken above keeps it so: a writer that starts meanwhile cannot take
        # the exclusive lock it needs to checkpoint into the main file when it closes.
        uri += "&immutable=1"
    elif guard is not None:
        os.close(guard)
        guard = None
    conn = sqlite3.connect(
        uri, uri=True, isolation_level=None, check_same_thread=False, factory=_GuardedConnection
    )
    conn.guard_fd = guard
    if hasattr(conn, "enable_load_extension"):
        conn.enable_load_extension(False)
    conn.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchall()  # load the schema now
    except sqlite3.Error as exc:
        conn.close()
        raise SqlRefused(_first_line(exc)) from None
    refusals: list[str] = []
    conn.set_authorizer(_authorizer(refusals))
    deadline = [time.monotonic() + timeout]
    conn.set_progress_handler(lambda: 1 if time.monotonic() > deadline[0] else 0, 10_000)
    return conn, refusals, deadline


# SQLite's unix VFS lock bytes (os_unix.c): readers hold a read lock within SHARED_FIRST ..
# SHARED_FIRST + SHARED_SIZE; a closing WAL connection needs them all exclusively to checkpoint
_PENDING_BYTE = 0x40000000
_SHARED_FIRST = _PENDING_BYTE + 2
_SHARED_SIZE = 510


def _shared_lock(path: Path) -> int | None:
    """Hold a POSIX read lock on SQLite's shared-lock bytes of ``path``; the fd, or None."""
    try:
        import fcntl
    except ImportError:  # not on POSIX: no immutable reads, a plain read-only open instead
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.lockf(fd, fcntl.LOCK_SH | fcntl.LOCK_NB, _SHARED_SIZE, _SHARED_FIRST, os.SEEK_SET)
    except OSError:  # a writer is checkpointing right now: read through the WAL instead
        os.close(fd)
        return None
    return fd


class _GuardedConnection(sqlite3.Connection):
    """A connection that releases the shared lock guarding an immutable read when it closes."""

    guard_fd: int | None = None

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self.guard_fd is not None:
                os.close(self.guard_fd)
                self.guard_fd = None


@dataclass
class QueryResult:
    """Column names and a stream of row tuples; the stream raises SqlRefused on an error."""

    columns: list[str]
    rows: Iterator[tuple[Any, ...]]


def _sqlite_error(exc: sqlite3.Error, refusals: list[str], timeout: float) -> SqlRefused:
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if message == "interrupted":
        return SqlRefused(f"query stopped after the time limit of {timeout:g} s (see --timeout)")
    if refusals and "not authorized" in message:
        return SqlRefused(f"{message}: {refusals[0]} (factdb sql is read-only)")
    return SqlRefused(message)


def run_sqlite(path: Path, sql: str, timeout: float = DEFAULT_TIMEOUT) -> QueryResult:
    """Run one read-only statement on the SQLite file ``path``."""
    statement = single_statement(sql, "sqlite")
    conn, refusals, deadline = open_sqlite_readonly(path, timeout)
    deadline[0] = time.monotonic() + timeout
    try:
        cursor = conn.execute(statement)
    except sqlite3.Error as exc:
        conn.close()
        raise _sqlite_error(exc, refusals, timeout) from None
    columns = [d[0] for d in cursor.description or ()]

    def rows() -> Iterator[tuple[Any, ...]]:
        try:
            while True:
                batch = cursor.fetchmany(500)
                if not batch:
                    return
                yield from batch
        except sqlite3.Error as exc:
            raise _sqlite_error(exc, refusals, timeout) from None
        finally:
            conn.close()

    return QueryResult(columns, rows())


# --- PostgreSQL --------------------------------------------------------------------------------


def run_postgresql(url: str, sql: str, timeout: float = DEFAULT_TIMEOUT) -> QueryResult:
    """Run one statement on PostgreSQL inside a READ ONLY transaction that is rolled back."""
    statement = single_statement(sql, "postgresql")
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    engine = create_engine(url, poolclass=NullPool)
    try:
        raw = engine.raw_connection()
    except Exception as exc:  # connection refused, unknown database, …
        engine.dispose()
        raise SqlRefused(_first_line(getattr(exc, "orig", None) or exc)) from None
    cursor = raw.cursor()
    try:
        cursor.execute("SET TRANSACTION READ ONLY")
        cursor.execute(f"SET LOCAL statement_timeout = {max(1, int(timeout * 1000))}")
        # a snapshot now, so that the user's statement can no longer make this transaction
        # read-write ("SET TRANSACTION READ WRITE" must come before any query)
        cursor.execute("SELECT 1")
        # with parameters psycopg uses the extended protocol, where the server refuses more
        # than one statement; '%' is doubled because the query is then scanned for placeholders
        cursor.execute(statement.replace("%", "%%"), ())
    except Exception as exc:
        _close(raw, engine)
        raise _pg_error(exc, timeout) from None
    columns = [d[0] for d in cursor.description or ()]

    def rows() -> Iterator[tuple[Any, ...]]:
        try:
            if not cursor.description:
                return
            while True:
                batch = cursor.fetchmany(500)
                if not batch:
                    return
                yield from batch
        except Exception as exc:
            raise _pg_error(exc, timeout) from None
        finally:
            _close(raw, engine)

    return QueryResult(columns, rows())


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _pg_error(exc: BaseException, timeout: float) -> SqlRefused:
    message = _first_line(exc)
    if "statement timeout" in message:
        return SqlRefused(f"query stopped after the time limit of {timeout:g} s (see --timeout)")
    return SqlRefused(message)


def _close(raw: Any, engine: Any) -> None:
    try:
        raw.rollback()
    finally:
        raw.close()
        engine.dispose()


def run_query(url: str, sql: str, timeout: float = DEFAULT_TIMEOUT) -> QueryResult:
    """Run one read-only statement on the database at ``url`` (SQLite file or PostgreSQL)."""
    from factdb.config import sqlite_path

    if url.startswith("sqlite"):
        path = sqlite_path(url)
        if path is None:
            raise SqlRefused("factdb sql needs a database file, not an in-memory database")
        return run_sqlite(path, sql, timeout)
    if url.startswith("postgresql"):
        return run_postgresql(url, sql, timeout)
    raise SqlRefused(f"factdb sql supports SQLite and PostgreSQL, not {url.split(':', 1)[0]}")


# --- schema descriptions for ``factdb schema`` -------------------------------------------------

# One line per table and documented view: the one place these descriptions live.
SCHEMA_DOCS: dict[str, str] = {
    # views (stable names for plain-SQL users)
    "claim_overview": "One row per claim: text, date said, speaker, acts for, current status, "
    "latest verdict, first source.",
    "status_history": "Every dated status event of every claim, with its evidence (join on "
    "claim_id).",
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
