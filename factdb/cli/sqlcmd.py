"""``factdb sql`` (read-only queries, always) and ``factdb schema`` (what there is to query)."""

from __future__ import annotations

import contextlib
import math
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from factdb.cli.common import AppContext, check_style, output_options, pass_app
from factdb.errors import FactdbError
from factdb.output import render


def _read_query(query: str) -> str:
    """The query text: the argument itself, stdin for ``-``, a file's text for ``@FILE``."""
    if query == "-":
        return sys.stdin.read()
    if query.startswith("@"):
        path = Path(query[1:]).expanduser()
        try:
            return path.read_text(encoding="utf-8")
        except OSError as exc:
            raise FactdbError(f"cannot read {path}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise FactdbError(f"{path} is not UTF-8 text") from None
    return query


def _unique(columns: list[str]) -> list[str]:
    """Column names made unique (``SELECT 1 AS a, 2 AS a``) so that no value is lost."""
    seen: dict[str, int] = {}
    out = []
    for name in columns:
        name = name or "?column?"
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name]}"
        else:
            seen[name] = 1
        out.append(name)
    return out


class Seconds(click.ParamType):
    """A time limit: a finite number of seconds, more than 0 and at most a day."""

    name = "SECONDS"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number of seconds", param, ctx)
        if not (math.isfinite(seconds) and 0 < seconds <= MAX_TIMEOUT):
            self.fail(
                f"{value!r} must be more than 0 and at most {MAX_TIMEOUT:g} seconds", param, ctx
            )
        return seconds


MAX_TIMEOUT = 86400.0


@contextlib.contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Stop whatever runs (fetching, rendering) once ``seconds`` have passed.

    The query's own checks (SQLite's progress handler, PostgreSQL's statement_timeout, the
    check per row) stop the query; this alarm also bounds what they cannot see, such as
    laying out a table of many rows. Only in the main thread of a POSIX process.
    """
    from factdb.sqlguard import Limits

    main = threading.current_thread() is threading.main_thread()
    if not (main and hasattr(signal, "setitimer")):
        yield
        return

    def expired(_signum: int, _frame: Any) -> None:
        raise Limits(timeout=seconds).time_out()

    previous = signal.signal(signal.SIGALRM, expired)
    # a little after the query's own deadline, so that the query's checks speak first
    signal.setitimer(signal.ITIMER_REAL, seconds + 0.2)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@click.command()
@click.argument("query", metavar="QUERY|-|@FILE")
@output_options
@click.option(
    "--timeout",
    type=Seconds(),
    default=5.0,
    show_default=True,
    help="Stop after this many seconds (the whole command: query, fetching and output).",
)
@click.option(
    "--max-rows",
    type=click.IntRange(min=1),
    default=1_000_000,
    show_default=True,
    help="Refuse a result of more rows than this.",
)
@click.option(
    "--max-bytes",
    type=click.IntRange(min=1),
    default=64 * 1024 * 1024,
    show_default=True,
    help="Refuse a result (or a single value) larger than this many bytes.",
)
@click.option(
    "--role",
    envvar="FACTDB_SQL_ROLE",
    metavar="ROLE",
    help="PostgreSQL: run the query as this role (env FACTDB_SQL_ROLE; see docs/postgres.md).",
)
@pass_app
def sql(
    app: AppContext,
    query: str,
    fmt: str,
    style: str,
    timeout: float,
    max_rows: int,
    max_bytes: int,
    role: str | None,
) -> None:
    """Run one read-only SQL query (QUERY, '-' for stdin, or @FILE).

    The database is never changed, whatever the query says: writes, DDL, ATTACH, PRAGMAs that
    change anything and extensions are refused; on PostgreSQL so are functions that act
    outside the transaction. The query reads one snapshot, and the whole command stops at
    --timeout, --max-rows and --max-bytes. See 'factdb schema' for the tables and views.

    \b
    Example:
      factdb sql "SELECT speaker, status, text FROM claim_overview LIMIT 5"
    """
    check_style(style)
    if role and not app.url.startswith("postgresql"):
        raise click.UsageError("--role applies to PostgreSQL databases only")
    from factdb.sqlguard import Limits, run_query

    limits = Limits(timeout=timeout, max_rows=max_rows, max_bytes=max_bytes)
    text = _read_query(query)
    try:
        with _time_limit(timeout):
            result = run_query(app.url, text, limits, role)
            columns = _unique(result.columns)
            render(
                (dict(zip(columns, row, strict=False)) for row in result.rows), columns, fmt, style
            )
    except MemoryError:
        from factdb.sqlprocess import OUT_OF_MEMORY

        raise FactdbError(OUT_OF_MEMORY) from None


@click.command()
@click.argument("name", required=False)
@output_options
@pass_app
def schema(app: AppContext, name: str | None, fmt: str, style: str) -> None:
    """Describe the tables and views (or the columns of NAME) for writing SQL.

    Start from the views (claim_overview, status_history, …): their names and columns are kept
    stable for plain-SQL users.
    """
    check_style(style)
    from factdb.sqlguard import SCHEMA_DOCS, describe_columns, describe_schema

    if name:
        rows = describe_columns(app.url, name)
        if not rows:
            raise FactdbError(f"no table or view named {name!r} (see 'factdb schema')")
        if fmt == "table" and name in SCHEMA_DOCS:
            click.echo(f"{name}: {SCHEMA_DOCS[name]}")
        render(rows, ["column", "type", "nullable"], fmt, style)
        return
    rows = describe_schema(app.url)
    if fmt == "table":
        # the column lists are long: one block per object reads better than a wide table
        for row in rows:
            click.echo(f"{row['name']} ({row['kind']}): {row['description']}")
            click.echo(click.wrap_text(row["columns"], 98, "    ", "    "))
        return
    render(rows, ["name", "kind", "description", "columns"], fmt, style)
