"""``factdb sql`` (read-only queries, always) and ``factdb schema`` (what there is to query)."""

from __future__ import annotations

import sys
from pathlib import Path

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


@click.command()
@click.argument("query", metavar="QUERY|-|@FILE")
@output_options
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.001),
    default=5.0,
    show_default=True,
    metavar="SECONDS",
    help="Stop the query after this many seconds.",
)
@pass_app
def sql(app: AppContext, query: str, fmt: str, style: str, timeout: float) -> None:
    """Run one read-only SQL query (QUERY, '-' for stdin, or @FILE).

    The database is never changed, whatever the query says: writes, DDL, ATTACH, PRAGMAs that
    change anything and extensions are refused. See 'factdb schema' for the tables and views.

    \b
    Example:
      factdb sql "SELECT speaker, status, text FROM claim_overview LIMIT 5"
    """
    check_style(style)
    from factdb.sqlguard import run_query

    result = run_query(app.url, _read_query(query), timeout)
    columns = _unique(result.columns)
    render((dict(zip(columns, row, strict=False)) for row in result.rows), columns, fmt, style)


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
