"""status events' evidence indexes hold only the events that cite evidence

``ix_status_events_evidence_source_id`` and ``ix_status_events_evidence_statement_id`` indexed
every status event, and almost none cites a source or a claim as evidence: 17 MB of empty
entries per million claims, written on every import. They become partial indexes (``WHERE
... IS NOT NULL``) on both backends. A lookup by evidence (``= ?``), and the foreign keys'
``ON DELETE SET NULL``, use them as before, since equality implies NOT NULL.

Revision ID: 0006_partial_evidence_indexes
Revises: 0005_content_key_index
Create Date: 2026-11-27 05:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_partial_evidence_indexes"
down_revision: str | None = "0005_content_key_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("evidence_source_id", "evidence_statement_id")


def _index(column: str, *, partial: bool) -> None:
    where = sa.text(f"{column} IS NOT NULL") if partial else None
    op.drop_index(f"ix_status_events_{column}", table_name="status_events")
    op.create_index(
        f"ix_status_events_{column}",
        "status_events",
        [column],
        sqlite_where=where,
        postgresql_where=where,
    )


def upgrade() -> None:
    for column in COLUMNS:
        _index(column, partial=True)


def downgrade() -> None:
    for column in COLUMNS:
        _index(column, partial=False)
