"""shorter claim content keys: the first 16 hex digits (64 bits) of the SHA-1

A claim's content key (speaker, normalised text, date said) was the whole 40-digit SHA-1 in
hex. Its unique index is what every import and data entry probes for duplicates; at 40
characters it outgrew the page cache of a million-claim import and dominated the import's
time. 64 bits keep an accidental collision improbable (about 3 in 100 million for a million
claims), and the importer and data entry compare the claims themselves when keys match, so a
collision is reported, never merged silently.

The column stays VARCHAR(40): upgrade cuts every key to its first 16 digits; downgrade
computes the full keys again from the claims with the rule frozen here.

Revision ID: 0003_short_content_key
Revises: 0002_fts
Create Date: 2026-11-27 01:30:00
"""

import hashlib
import re
import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_short_content_key"
down_revision: str | None = "0002_fts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SPACE = re.compile(r"\s+")
_BATCH = 10_000


def _full_key(speaker_id: int, text: str, said: str | None) -> str:
    """The 40-digit key of revisions 0001/0002 (textkeys.content_key as it was)."""
    normalised = _SPACE.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()
    payload = f"{speaker_id}\x1f{normalised}\x1f{said or ''}"
    return hashlib.sha1(payload.encode("utf-8")).hexdigest()


def _said(said_on: object, precision: str | None) -> str | None:
    """A stored partial date as the key was computed from it: YYYY, YYYY-MM or YYYY-MM-DD."""
    if said_on is None:
        return None
    day = str(said_on)[:10]
    return {"year": day[:4], "month": day[:7]}.get(precision or "day", day)


def upgrade() -> None:
    op.execute("UPDATE statements SET content_key = substr(content_key, 1, 16)")


def downgrade() -> None:
    bind = op.get_bind()
    statements = sa.table(
        "statements",
        sa.column("id", sa.Integer),
        sa.column("speaker_id", sa.Integer),
        sa.column("text", sa.Text),
        sa.column("said_on", sa.Date),
        sa.column("said_precision", sa.String),
        sa.column("content_key", sa.String),
    )
    last = 0
    while True:
        rows = bind.execute(
            sa.select(
                statements.c.id,
                statements.c.speaker_id,
                statements.c.text,
                statements.c.said_on,
                statements.c.said_precision,
            )
            .where(statements.c.id > last)
            .order_by(statements.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        bind.execute(
            sa.update(statements)
            .where(statements.c.id == sa.bindparam("row_id"))
            .values(content_key=sa.bindparam("key")),
            [
                {
                    "row_id": row.id,
                    "key": _full_key(
                        row.speaker_id, row.text, _said(row.said_on, row.said_precision)
                    ),
                }
                for row in rows
            ],
        )
        last = rows[-1].id
