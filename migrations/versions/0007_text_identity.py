"""text identity: name and content keys ignore invisible characters and compare look-alikes

Speakers' and sources' name keys, aliases' keys and claims' content keys are computed again
with the rules of ``factdb.textkeys`` as of this revision: invisible characters (controls,
format characters such as the zero-width space and joiner, Hangul fillers) are ignored and
look-alike letters compare by their UTS #39 skeleton (ICU), so that ``Ѕergey Lavrоv`` written
with Cyrillic letters is Sergey Lavrov and a zero-width space does not make a new claim.

Rows that were two identities only through such characters now share a key. The unique
indexes cannot hold two equal keys, and a migration must not merge people or claims behind
the desk's back: the row with the lowest id takes the key, each other row keeps a key of its
own (the shared key, ``~`` and its id), and the migration logs them so that the desk can merge
them (``factdb speaker merge``; ``factdb claim delete`` for a repeated claim). New input
matches the row holding the shared key.

Downgrade computes the keys of revision 0006 again (the rules frozen below).

Revision ID: 0007_text_identity
Revises: 0006_partial_evidence_indexes
Create Date: 2026-12-02 20:10:00
"""

import hashlib
import logging
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0007_text_identity"
down_revision: str | None = "0006_partial_evidence_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LOG = logging.getLogger("alembic.runtime.migration")
_SPACE = re.compile(r"\s+")
_BATCH = 5_000


# --- the keys of revision 0006, frozen for downgrade -------------------------------------------


def _name_key_0006(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SPACE.sub(" ", stripped.casefold()).strip()


def _content_key_0006(speaker_id: int, text: str, said: str | None) -> str:
    normalised = _SPACE.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()
    payload = f"{speaker_id}\x1f{normalised}\x1f{said or ''}"
    return hashlib.sha1(payload.encode("utf-8")).hexdigest()[:16]


def _said(said_on: object, precision: str | None) -> str | None:
    """A stored partial date as the key is computed from it: YYYY, YYYY-MM or YYYY-MM-DD."""
    if said_on is None:
        return None
    day = str(said_on)[:10]
    return {"year": day[:4], "month": day[:7]}.get(precision or "day", day)


# --- recomputing ---------------------------------------------------------------------------


def _recompute(
    table: str,
    key_column: str,
    columns: Sequence[str],
    compute: Callable[[Any], str],
    *,
    taken: Iterable[str] = (),
    what: str,
) -> dict[str, int]:
    """Set ``key_column`` of every row of ``table`` to ``compute(row)``; a key already held
    (by a row of lower id, or in ``taken``) becomes ``key~id``. Returns key -> row id."""
    bind = op.get_bind()
    tbl = sa.table(table, sa.column("id", sa.Integer), sa.column(key_column, sa.String))
    rows = bind.execute(
        sa.text(f"SELECT id, {key_column}, {', '.join(columns)} FROM {table} ORDER BY id")
    ).all()
    holders: dict[str, int] = dict.fromkeys(taken, 0)
    changes: list[dict[str, Any]] = []
    for row in rows:
        key = compute(row)
        if key in holders:
            _LOG.warning(
                "%s %d now has the same identity as %s %d: kept apart; merge them if they are one",
                what,
                row.id,
                what,
                holders[key],
            )
            key = f"{key}~{row.id}"
        holders[key] = row.id
        if key != row[1]:
            changes.append({"row_id": row.id, "new_key": key})
    # two steps: a row's new key may be another row's old key, and the index is unique
    update = tbl.update().where(tbl.c.id == sa.bindparam("row_id"))
    for step in (lambda c: f"~{c['row_id']}~", lambda c: c["new_key"]):
        for start in range(0, len(changes), _BATCH):
            batch = changes[start : start + _BATCH]
            bind.execute(
                update.values({key_column: sa.bindparam("value")}),
                [{"row_id": c["row_id"], "value": step(c)} for c in batch],
            )
    return {k: v for k, v in holders.items() if v}


def _apply(
    name_key: Callable[[str], str], content_key: Callable[[int, str, str | None], str]
) -> None:
    speakers = _recompute(
        "speakers", "name_key", ["name"], lambda r: name_key(r.name), what="speaker"
    )
    # an alias answering to another speaker's name key: the speaker's own name wins
    _recompute(
        "speaker_aliases",
        "alias_key",
        ["alias"],
        lambda r: name_key(r.alias),
        taken=speakers,
        what="speaker alias",
    )
    # source names repeat legitimately (only URLs are unique): no collision handling needed
    bind = op.get_bind()
    sources = sa.table("sources", sa.column("id", sa.Integer), sa.column("name_key", sa.String))
    rows = bind.execute(sa.text("SELECT id, name, name_key FROM sources")).all()
    changed = [
        {"row_id": r.id, "value": name_key(r.name)} for r in rows if name_key(r.name) != r.name_key
    ]
    if changed:
        bind.execute(
            sources.update()
            .where(sources.c.id == sa.bindparam("row_id"))
            .values(name_key=sa.bindparam("value")),
            changed,
        )
    _recompute(
        "statements",
        "content_key",
        ["speaker_id", "text", "said_on", "said_precision"],
        lambda r: content_key(r.speaker_id, r.text, _said(r.said_on, r.said_precision)),
        what="claim",
    )


def upgrade() -> None:
    # the rules of this revision are factdb's own (ICU's skeleton data comes with them)
    from factdb.textkeys import content_key, name_key

    _apply(name_key, content_key)


def downgrade() -> None:
    _apply(_name_key_0006, _content_key_0006)
