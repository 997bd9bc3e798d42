"""corrections and their audit trail: audit_log, withdrawn status events, source aliases

- ``audit_log``: one row per change to a claim, speaker, source, attribution, status event,
  link or verdict (when, who, what, the values before and after), written by ``factdb.audit``
  in the transaction that made the change; a bulk import writes one summary row per import.
  No foreign keys: a deleted claim's history stays.
- ``status_events.withdrawn_at/by/note``: a withdrawn event stays in the history but no longer
  counts for the current status or "as of" answers.
- ``source_aliases``: other names of a source ("AP" for "Associated Press").
- views: ``status_history`` gains the withdrawn columns; ``audit_log_view`` is new.

Revision ID: 0008_audit_log
Revises: 0007_text_identity
Create Date: 2026-12-02 20:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_audit_log"
down_revision = "0007_text_identity"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_EFFECTIVE = (
    "CASE e.effective_precision WHEN 'year' THEN SUBSTR(CAST(e.effective_on AS TEXT), 1, 4) "
    "WHEN 'month' THEN SUBSTR(CAST(e.effective_on AS TEXT), 1, 7) "
    "ELSE CAST(e.effective_on AS TEXT) END"
)

STATUS_HISTORY_0001 = f"""
SELECT e.statement_id AS claim_id, e.status_code AS status, st.label AS status_label,
  {_EFFECTIVE} AS effective_on,
  e.effective_on AS effective_from, e.recorded_at, e.note,
  so.name AS evidence_source, e.evidence_statement_id AS evidence_claim_id, e.recorded_by
FROM status_events e
JOIN statuses st ON st.code = e.status_code
LEFT JOIN sources so ON so.id = e.evidence_source_id"""

STATUS_HISTORY = f"""
SELECT e.statement_id AS claim_id, e.status_code AS status, st.label AS status_label,
  {_EFFECTIVE} AS effective_on,
  e.effective_on AS effective_from, e.recorded_at, e.note,
  so.name AS evidence_source, e.evidence_statement_id AS evidence_claim_id, e.recorded_by,
  e.id AS event_id, e.withdrawn_at, e.withdrawn_by, e.withdrawn_note
FROM status_events e
JOIN statuses st ON st.code = e.status_code
LEFT JOIN sources so ON so.id = e.evidence_source_id"""

AUDIT_LOG_VIEW = """
SELECT a.id AS entry_id, a.changed_at, a.changed_by, a.table_name, a.row_id, a.action,
  a.claim_id, s.text AS claim_text, CAST(a.before AS TEXT) AS before_json,
  CAST(a.after AS TEXT) AS after_json
FROM audit_log a
LEFT JOIN statements s ON s.id = a.claim_id"""


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        sa.Column("changed_by", sa.String(length=100), nullable=True),
        sa.Column("table_name", sa.String(length=40), nullable=False),
        sa.Column("row_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=True),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.CheckConstraint(
            "action IN ('insert', 'update', 'delete', 'import')", name=op.f("ck_audit_log_action")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_changed_at"), "audit_log", ["changed_at"])
    op.create_index(op.f("ix_audit_log_changed_by"), "audit_log", ["changed_by"])
    op.create_index(op.f("ix_audit_log_claim_id"), "audit_log", ["claim_id"])
    op.create_index("ix_audit_log_table_row", "audit_log", ["table_name", "row_id"])
    op.create_table(
        "source_aliases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("alias", sa.String(length=300), nullable=False),
        sa.Column("alias_key", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sources.id"],
            name=op.f("fk_source_aliases_source_id_sources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source_aliases")),
        sa.UniqueConstraint("alias_key", name=op.f("uq_source_aliases_alias_key")),
    )
    op.create_index(op.f("ix_source_aliases_source_id"), "source_aliases", ["source_id"])
    op.execute("DROP VIEW IF EXISTS status_history")
    # plain ADD COLUMN (nullable) on both backends: no table rebuild, views stay valid
    op.add_column("status_events", sa.Column("withdrawn_at", sa.DateTime(), nullable=True))
    op.add_column("status_events", sa.Column("withdrawn_by", sa.String(length=100), nullable=True))
    op.add_column("status_events", sa.Column("withdrawn_note", sa.Text(), nullable=True))
    op.execute(f"CREATE VIEW status_history AS {STATUS_HISTORY}")
    op.execute(f"CREATE VIEW audit_log_view AS {AUDIT_LOG_VIEW}")


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS audit_log_view")
    op.execute("DROP VIEW IF EXISTS status_history")
    with op.batch_alter_table("status_events", schema=None) as batch_op:
        batch_op.drop_column("withdrawn_note")
        batch_op.drop_column("withdrawn_by")
        batch_op.drop_column("withdrawn_at")
    op.execute(f"CREATE VIEW status_history AS {STATUS_HISTORY_0001}")
    op.drop_index(op.f("ix_source_aliases_source_id"), table_name="source_aliases")
    op.drop_table("source_aliases")
    op.drop_index("ix_audit_log_table_row", table_name="audit_log")
    op.drop_index(op.f("ix_audit_log_claim_id"), table_name="audit_log")
    op.drop_index(op.f("ix_audit_log_changed_by"), table_name="audit_log")
    op.drop_index(op.f("ix_audit_log_changed_at"), table_name="audit_log")
    op.drop_table("audit_log")
