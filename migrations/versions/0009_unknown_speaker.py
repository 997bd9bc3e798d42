"""speaker_scorecard credits no one with claims whose speaker is unknown

Claims nobody is known to have made (a Fact Check Tools claim without claimant, a ClaimReview
without author) belong to the reserved speaker ``(unknown)`` (``factdb.vocab.UNKNOWN_SPEAKER``,
created on first use). The documented ``speaker_scorecard`` view leaves that row out, as the
report's scorecard does; ``claim_overview`` still lists the claims under ``(unknown)``.

Revision ID: 0009_unknown_speaker
Revises: 0008_audit_log
Create Date: 2026-12-02 20:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009_unknown_speaker"
down_revision: str | None = "0008_audit_log"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# the view as 0001_core made it, and the same with the unknown speaker left out (by name, lower
# case: the reserved name compares case-insensitively, and the view must not depend on how a
# later version computes name keys)
_SCORECARD = """
SELECT sp.id AS speaker_id, sp.name AS speaker, COUNT(s.id) AS claims,
  SUM(CASE WHEN s.current_status = 'alleged' THEN 1 ELSE 0 END) AS alleged,
  SUM(CASE WHEN s.current_status = 'denied' THEN 1 ELSE 0 END) AS denied,
  SUM(CASE WHEN s.current_status = 'disputed' THEN 1 ELSE 0 END) AS disputed,
  SUM(CASE WHEN s.current_status = 'confirmed' THEN 1 ELSE 0 END) AS confirmed,
  SUM(CASE WHEN s.current_status IN ('false', 'misleading') THEN 1 ELSE 0 END)
    AS false_or_misleading,
  SUM(CASE WHEN s.current_status = 'retracted' THEN 1 ELSE 0 END) AS retracted
FROM speakers sp LEFT JOIN statements s ON s.speaker_id = sp.id
{where}GROUP BY sp.id, sp.name"""


def _view(where: str) -> None:
    op.execute("DROP VIEW IF EXISTS speaker_scorecard")
    op.execute(f"CREATE VIEW speaker_scorecard AS {_SCORECARD.format(where=where)}")


def upgrade() -> None:
    _view("WHERE LOWER(TRIM(sp.name)) <> '(unknown)'\n")


def downgrade() -> None:
    _view("")
