"""claim vectors: each claim's sentence embedding, for the semantic matching layer

One row per claim that has been embedded: the model that made the vector (claims embedded by
another model are re-embedded, never compared across models) and the vector itself as bytes
(int8 components, 512 bytes for a 512-dimensional model; see factdb.match.semantic). A deleted
claim's vector goes with it (ON DELETE CASCADE). The table is empty until the optional
``match`` extra is installed and vectors are built.

Revision ID: 0010_claim_vectors
Revises: 0009_unknown_speaker
Create Date: 2026-12-02 20:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_claim_vectors"
down_revision: str | None = "0009_unknown_speaker"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "claim_vectors",
        sa.Column("statement_id", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["statement_id"],
            ["statements.id"],
            name=op.f("fk_claim_vectors_statement_id_statements"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("statement_id", name=op.f("pk_claim_vectors")),
    )


def downgrade() -> None:
    op.drop_table("claim_vectors")
