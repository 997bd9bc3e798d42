"""Copy a whole factdb database between backends (a SQLite file ↔ a PostgreSQL server).

The target is migrated to head and filled in **one transaction**: if anything fails, nothing
is left behind (a target file that did not exist before is removed again). Rows are streamed
table by table in foreign-key order, in batches, so memory stays constant however large the
database is. Ids are copied as they are, so every reference stays valid; afterwards
PostgreSQL's sequences are moved past the copied ids and the search index is rebuilt (its
shadow tables are not copied: they belong to each backend's own full-text engine).

Like ``factdb.migrate`` this module owns its transactions (it works on two databases at once),
so it lives beside it rather than among the session-taking services. It is imported only by
``factdb db copy``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Integer, String, Table, bindparam, func, select, text, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.types import JSON

from factdb.config import display_url, sqlite_path
from factdb.db import check_schema, check_sqlite_file, current_revision, make_engine
from factdb.errors import FactdbError, SchemaMismatch
from factdb.safefiles import check_output, protected_files
from factdb.schema_version import KNOWN_REVISIONS

BATCH_SIZE = 1000

# tables the migrations fill with a vocabulary: a freshly migrated database has rows in them
# and still counts as empty (a test keeps this list in step with the migrations)
VOCABULARY_TABLES = frozenset({"statuses", "rating_scales", "scale_ratings"})


@dataclass(frozen=True)
class TableCount:
    """Rows of one table in the source and, after the copy, in the target."""

    table: str
    source: int
    target: int


def data_tables() -> list[Table]:
    """Every table factdb's models define, parents before children (FTS tables excluded)."""
    from factdb.models import Base

    return list(Base.metadata.sorted_tables)


def _self_references(table: Table) -> list[str]:
    """Columns of ``table`` that point at ``table`` itself (speakers.acts_for_id, …)."""
    return [
        fk.parent.name
        for fk in table.foreign_keys
        if fk.column.table is table and fk.parent.nullable
    ]


def _insert_table(table: Table) -> Table:
    """A stand-in for ``table`` whose JSON columns store Python None as SQL NULL.

    The model's JSON type writes None as the JSON literal ``null``; copied rows keep SQL NULL
    so that ``IS NULL`` means the same on both sides.
    """
    from sqlalchemy import Column, MetaData

    columns = [
        Column(c.name, JSON(none_as_null=True) if isinstance(c.type, JSON) else c.type)
        for c in table.columns
    ]
    return Table(table.name, MetaData(), *columns)


def _count(conn: Connection, table: Table) -> int:
    return conn.execute(select(func.count()).select_from(table)).scalar_one()


def same_database(source_url: str, target_url: str) -> bool:
    """True when both URLs name the same database (the same file, or the same server db)."""
    from sqlalchemy.engine import make_url

    src_path, tgt_path = sqlite_path(source_url), sqlite_path(target_url)
    if src_path is not None and tgt_path is not None:
        if src_path.exists() and tgt_path.exists():
            return src_path.samefile(tgt_path)
        return src_path.resolve() == tgt_path.resolve()
    a, b = make_url(source_url), make_url(target_url)
    return (a.get_backend_name(), a.host, a.port, a.database) == (
        b.get_backend_name(),
        b.host,
        b.port,
        b.database,
    )


def upgrade_in_transaction(connection: Connection) -> None:
    """Migrate the database behind ``connection`` to head inside its open transaction."""
    from alembic import command

    from factdb.migrate import alembic_config

    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def target_contents(source: Connection, target: Connection) -> list[str]:
    """Why the target is not empty: tables holding rows the copy would overwrite.

    A freshly migrated database is empty even though the migrations seeded its vocabularies,
    as long as every vocabulary row it holds (by primary key) also exists in the source.
    """
    reasons = []
    for table in data_tables():
        if table.name in VOCABULARY_TABLES:
            key = list(table.primary_key.columns)
            theirs = set(target.execute(select(*key)).all())
            ours = set(source.execute(select(*key)).all())
            extra = len(theirs - ours)
            if extra:
                reasons.append(f"{table.name} ({extra} entries the source lacks)")
            continue
        count = _count(target, table)
        if count:
            reasons.append(f"{table.name} ({count} rows)")
    return reasons


def clear_tables(target: Connection) -> None:
    """Delete every row of every factdb table, children first."""
    for table in reversed(data_tables()):
        target.execute(table.delete())


_INT_RANGE = (-(2**31), 2**31 - 1)  # PostgreSQL's INTEGER


def _unfit(table: Table, row: dict[str, Any]) -> str | None:
    """Why ``row`` does not fit ``table``'s declared column types, or None if it does."""
    for column in table.columns:
        problem = _misfit(column.type, row.get(column.name))
        if problem is not None:
            keys = ", ".join(f"{c.name} {row.get(c.name)}" for c in table.primary_key.columns)
            return f"{table.name} row ({keys}): {column.name} {problem}"
    return None


def _misfit(kind: Any, value: Any) -> str | None:
    if isinstance(value, str) and isinstance(kind, String) and kind.length:
        if len(value) > kind.length:
            return f"is {len(value)} characters long (the column holds {kind.length})"
    elif isinstance(value, int) and type(kind) is Integer:
        low, high = _INT_RANGE
        if not low <= value <= high:
            return f"is {value}, out of the column's range {low}..{high}"
    return None


def copy_table(
    source: Connection, target: Connection, table: Table, batch_size: int = BATCH_SIZE
) -> int:
    """Stream ``table``'s rows from source to target in batches; return how many were copied.

    Self-references (a speaker acting for another, a source based on another) are inserted
    as NULL first and set in a second streamed pass, so row order never matters.
    """
    self_refs = _self_references(table)
    insert = _insert_table(table).insert()
    order = list(table.primary_key.columns)
    copied = 0
    stream = {"yield_per": batch_size}  # per statement: the connection's options stay as they are
    result = source.execute(select(table).order_by(*order), execution_options=stream)
    for batch in result.mappings().partitions(batch_size):
        rows = [dict(row) for row in batch]
        for row in rows:
            for column in self_refs:
                row[column] = None
        try:
            target.execute(insert, rows)
        except DBAPIError:
            # a value the source held that the target cannot (an old SQLite file: SQLite
            # ignores VARCHAR lengths and stores 64-bit integers): name the row
            problem = next(filter(None, (_unfit(table, row) for row in rows)), None)
            if problem is None:
                raise
            raise FactdbError(
                f"cannot copy {problem}; correct it in the source database first "
                "(nothing was copied)"
            ) from None
        copied += len(rows)
    for column in self_refs:
        (pk,) = order  # self-referencing tables have a single-column key
        stmt = (
            update(table)
            .where(pk == bindparam("_pk"))
            .values({column: bindparam("_ref")})
            .execution_options(synchronize_session=False)
        )
        refs = source.execute(
            select(pk, table.c[column]).where(table.c[column].is_not(None)).order_by(pk),
            execution_options=stream,
        )
        for batch in refs.partitions(batch_size):
            target.execute(stmt, [{"_pk": key, "_ref": ref} for key, ref in batch])
    return copied


def reset_sequences(target: Connection) -> None:
    """Move PostgreSQL's id sequences past the copied ids (explicit ids do not advance them)."""
    if target.dialect.name != "postgresql":
        return  # SQLite hands out max(rowid) + 1 by itself
    for table in data_tables():
        pk = list(table.primary_key.columns)
        if len(pk) != 1 or not isinstance(pk[0].type, Integer):
            continue
        target.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence(:t, :c), "
                f"COALESCE((SELECT MAX({pk[0].name}) FROM {table.name}), 0) + 1, false)"
            ),
            {"t": table.name, "c": pk[0].name},
        )


def _in_session(target: Connection, fn: Callable[..., Any], *args: Any) -> Any:
    """Call a session-taking service on the target's open transaction (under a savepoint)."""
    from sqlalchemy.orm import Session

    session = Session(bind=target, join_transaction_mode="create_savepoint")
    try:
        result = fn(session, *args)
        session.commit()  # releases the savepoint; the copy's transaction stays open
        return result
    finally:
        session.close()


def copy_tables(
    source: Connection,
    target: Connection,
    *,
    replace: bool = False,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[str, int], None] | None = None,
) -> list[TableCount]:
    """Copy every factdb table from ``source`` into ``target`` (both at head); never commits.

    Refuses a target holding data unless ``replace`` is set, in which case the target's rows
    are deleted first. Verifies that each table ends up with as many rows as the source had.
    """
    from factdb.services import search

    if not replace:
        reasons = target_contents(source, target)
        if reasons:
            raise FactdbError(
                "the target database is not empty: "
                + ", ".join(reasons)
                + "; use --replace to overwrite everything in it"
            )
    # the search index is kept by triggers row by row; for a bulk copy they are suspended and
    # the index is rebuilt once at the end (its shadow tables are never copied)
    suspended = _in_session(target, search.suspend_search_index)
    clear_tables(target)
    counts = []
    for table in data_tables():
        expected = _count(source, table)
        copied = copy_table(source, target, table, batch_size)
        got = _count(target, table)
        if not expected == copied == got:
            raise FactdbError(
                f"row counts differ for {table.name}: source {expected}, copied {copied}, "
                f"target {got}; nothing was written"
            )
        counts.append(TableCount(table.name, expected, got))
        if progress is not None:
            progress(table.name, got)
    reset_sequences(target)
    _in_session(target, search.resume_search_index, suspended)
    return counts


def _source_engine(url: str) -> Engine:
    """A read-only engine on the source, whose transactions see one consistent snapshot."""
    path = sqlite_path(url)
    if path is not None:
        check_sqlite_file(path, must_exist=True)
    engine = make_engine(url, write=False)
    try:
        check_schema(engine)
    except SchemaMismatch as exc:
        engine.dispose()
        # say which of the two databases it is
        raise SchemaMismatch(f"source {display_url(url)}: {exc}") from None
    return engine


def copy_database(
    source_url: str,
    target_url: str,
    *,
    replace: bool = False,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[str, int], None] | None = None,
) -> list[TableCount]:
    """Copy the database at ``source_url`` into ``target_url``: migrate, copy, verify, commit.

    The source must be at this factdb's schema revision; the target may be empty, a new file,
    or (with ``replace``) a factdb database whose contents are thrown away. All or nothing.
    """
    if same_database(source_url, target_url):
        raise FactdbError("the source and the target are the same database")
    source_path, target_path = sqlite_path(source_url), sqlite_path(target_url)
    if target_path is not None:
        # not the source's -wal, -shm or -journal either, however spelt
        check_output(target_path, protected_files(source_path), option="target")
    source_engine = _source_engine(source_url)
    created: Path | None = None
    if target_path is not None:
        check_sqlite_file(target_path, must_exist=False)
        created = None if target_path.exists() else target_path
    target_engine = make_engine(target_url, write=True)
    try:
        revision = current_revision(target_engine)
        if revision is not None and revision not in KNOWN_REVISIONS:
            raise FactdbError(
                f"the target database is at revision {revision}, which this factdb does not "
                "know (it was made by a newer factdb)"
            )
        with source_engine.connect() as src, target_engine.begin() as tgt:
            if src.dialect.name == "postgresql":
                # counts and rows come from one snapshot even while others keep writing
                src.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
            src.begin()
            upgrade_in_transaction(tgt)
            counts = copy_tables(
                src, tgt, replace=replace, batch_size=batch_size, progress=progress
            )
    except OperationalError as exc:
        _remove_new_file(target_engine, created)
        message = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise FactdbError(f"cannot copy: {message}") from None
    except BaseException:
        _remove_new_file(target_engine, created)
        raise
    finally:
        source_engine.dispose()
        target_engine.dispose()
    return counts


def _remove_new_file(engine: Engine, created: Path | None) -> None:
    """Remove a SQLite target file (and its WAL side files) that this copy created."""
    if created is None:
        return
    engine.dispose()
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(str(created) + suffix).unlink(missing_ok=True)
