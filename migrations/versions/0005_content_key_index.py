"""claims' content keys unique by an index instead of a table constraint

The uniqueness of ``statements.content_key`` was a table constraint. On SQLite a constraint's
index cannot be dropped, and keeping it up to date key by key (the keys are hashes, so every
insert lands somewhere random in it) was about a third of a million-claim import's writing.
As a named unique index, ``uq_statements_content_key``, a bulk load into an empty table can
drop it and build it once at the end, finding any repeated claims then (see
``factdb.io.loader``). Lookups and ``ON CONFLICT`` behave exactly as before.

SQLite changes a table's constraints by rebuilding the table (Alembic's batch mode). The
views and triggers (several name ``statements``) are dropped first and made again from their
own SQL afterwards (SQLite refuses to rename a table while a view names a missing one), and
the rebuild runs with foreign-key enforcement off for the transaction, as SQLite's documented
procedure requires: otherwise dropping the old table would delete every row that references
it. ``factdb.migrate`` and ``migrations/env.py`` run migrations that way and check
``PRAGMA foreign_key_check`` before committing.

Revision ID: 0005_content_key_index
Revises: 0004_fts_external_content
Create Date: 2026-11-27 03:40:00
"""

from collections.abc import Callable, Sequence
from typing import Any

from alembic import op

revision: str = "0005_content_key_index"
down_revision: str | None = "0004_fts_external_content"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "uq_statements_content_key"


def _rebuild_statements_sqlite(change: Callable[[Any], None]) -> None:
    """Rebuild ``statements`` with ``change`` applied; every view and trigger is kept."""
    saved = (
        op.get_bind()
        .exec_driver_sql(
            "SELECT type, name, sql FROM sqlite_master "
            "WHERE type IN ('view', 'trigger') AND sql IS NOT NULL ORDER BY rowid"
        )
        .all()
    )
    for kind, name, _sql in reversed(saved):
        op.execute(f'DROP {kind.upper()} "{name}"')
    with op.batch_alter_table("statements", recreate="always") as batch:
        change(batch)
    for _kind, _name, sql in saved:
        op.execute(sql)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":

        def to_index(batch: Any) -> None:
            batch.drop_constraint(NAME, type_="unique")
            batch.create_index(NAME, ["content_key"], unique=True)

        _rebuild_statements_sqlite(to_index)
        return
    op.drop_constraint(NAME, "statements", type_="unique")
    op.create_index(NAME, "statements", ["content_key"], unique=True)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":

        def to_constraint(batch: Any) -> None:
            batch.drop_index(NAME)
            batch.create_unique_constraint(NAME, ["content_key"])

        _rebuild_statements_sqlite(to_constraint)
        return
    op.drop_index(NAME, table_name="statements")
    op.create_unique_constraint(NAME, "statements", ["content_key"])
