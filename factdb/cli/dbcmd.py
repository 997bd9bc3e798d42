"""``factdb db …``: schema migrations and whole-database operations."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from factdb.cli.common import AppContext, check_style, output_options, pass_app
from factdb.cli.setup import prepare_database


@click.group()
def db() -> None:
    """Schema migrations, whole-database copies between backends, and backups."""


@db.command()
@pass_app
def upgrade(app: AppContext) -> None:
    """Upgrade the database schema to this version of factdb."""
    click.echo(prepare_database(app), err=True)


@db.command()
@click.argument("revision", default="-1")
@pass_app
def downgrade(app: AppContext, revision: str) -> None:
    """Downgrade the schema to REVISION (default: one step back; 'base' empties it)."""
    from factdb import migrate
    from factdb.config import display_url

    engine = app.engine(write=True, check=False)
    before = migrate.database_revision(engine)
    migrate.downgrade(engine, revision)
    after = migrate.database_revision(engine)
    shown = display_url(app.url)
    click.echo(f"downgraded database {shown} from {before} to {after or 'base'}", err=True)


@db.command()
@pass_app
def current(app: AppContext) -> None:
    """Print the schema revision of the database and whether it is current."""
    from factdb import migrate

    revision = migrate.database_revision(app.engine(write=False, check=False))
    head = migrate.head_revision()
    state = "head" if revision == head else f"behind head {head}" if revision else "empty"
    click.echo(f"{revision or 'base'} ({state})")


@db.command()
def history() -> None:
    """List the schema revisions, oldest first."""
    from factdb import migrate

    for revision, down, message in migrate.history():
        click.echo(f"{down or 'base'} -> {revision}  {message}")


@db.command()
@pass_app
def check(app: AppContext) -> None:
    """Check that the database is at head and matches the models exactly."""
    from factdb import migrate
    from factdb.errors import FactdbError

    engine = app.engine(write=False, check=True)
    diffs = migrate.pending_model_changes(engine)
    if diffs:
        raise FactdbError(f"schema differs from the models: {'; '.join(diffs)}")
    click.echo(f"ok: schema at {migrate.head_revision()} and in step with the models")


@db.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace FILE if it already exists.")
@pass_app
def backup(app: AppContext, file: Path, force: bool) -> None:
    """Copy the live SQLite database to FILE (online backup API, integrity-checked).

    Safe while others write: the copy is one consistent snapshot, written to a temporary file
    and renamed into place only after it passes PRAGMA integrity_check.
    """
    from factdb.backup import backup_database

    result = backup_database(app.url, file, overwrite=force)
    claims = "" if result.claims is None else f", {result.claims} claims"
    click.echo(
        f"backed up {app.path} to {result.path} ({result.size} bytes{claims}, "
        f"revision {result.revision or 'none'}, integrity ok)",
        err=True,
    )


@db.command()
@click.option("--to", "to_db", metavar="PATH|URL", help="Copy this database into PATH|URL.")
@click.option("--from", "from_db", metavar="PATH|URL", help="Copy PATH|URL into this database.")
@click.option(
    "--replace",
    is_flag=True,
    help="Delete everything in the target first (without it a non-empty target is refused).",
)
@output_options
@pass_app
def copy(
    app: AppContext, to_db: str | None, from_db: str | None, replace: bool, fmt: str, style: str
) -> None:
    """Copy a whole database between backends (a SQLite file <-> a PostgreSQL server).

    With --to, this database (--db) is copied into PATH|URL; with --from, PATH|URL is copied
    into this database. The target is migrated to head and filled in one transaction; row
    counts are verified per table and printed. A PostgreSQL target database must exist
    (createdb); a SQLite target file is created when missing.

    \b
    factdb --db desk.db db copy --to postgresql+psycopg://me@server/factdb
    factdb --db desk.db db copy --from postgresql+psycopg://me@server/factdb --replace
    """
    check_style(style)
    if (to_db is None) == (from_db is None):
        raise click.UsageError("give exactly one of --to PATH|URL or --from PATH|URL")
    from factdb.config import display_url, resolve_url
    from factdb.dbcopy import copy_database
    from factdb.output import render

    if to_db is not None:
        source, target = app.url, resolve_url(to_db)
    else:
        source, target = resolve_url(from_db), app.url
    # at a terminal, show each table as it is done (a big copy takes minutes)
    progress = None
    if sys.stderr.isatty():

        def progress(table: str, rows: int) -> None:
            click.echo(f"  {table}: {rows} rows copied", err=True)

    counts = copy_database(source, target, replace=replace, progress=progress)
    render(
        ({"table": c.table, "source_rows": c.source, "target_rows": c.target} for c in counts),
        ["table", "source_rows", "target_rows"],
        fmt,
        style,
    )
    total = sum(c.target for c in counts)
    click.echo(
        f"copied {total} rows in {len(counts)} tables from {display_url(source)} "
        f"to {display_url(target)}; row counts verified",
        err=True,
    )
