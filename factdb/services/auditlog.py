"""Reading the audit log (``factdb log``); writing it is ``factdb.audit``'s job."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from factdb.models import AuditEntry

# a change's summary in tables: at most this many characters per value
_VALUE_WIDTH = 40


def _short(value: Any) -> str:
    text = "(none)" if value is None else str(value)
    flat = " ".join(text.split())
    return flat if len(flat) <= _VALUE_WIDTH else flat[: _VALUE_WIDTH - 1] + "…"


def describe(entry: AuditEntry) -> str:
    """One line saying what changed: "position: 2 → 1", or the inserted/deleted row's gist."""
    before, after = entry.before or {}, entry.after or {}
    if entry.action == "update":
        return "; ".join(
            f"{key}: {_short(before.get(key))} → {_short(after.get(key))}" for key in after
        )
    if entry.action == "import":
        return (
            f"{after.get('added', 0)} added, {after.get('changed', 0)} changed "
            f"(new claims {after.get('first_claim_id')}–{after.get('last_claim_id')}) "
            f"from {after.get('file') or 'a file'}"
        )
    values = after if entry.action == "insert" else before
    for key in ("text", "name", "alias", "status_code", "relation", "label"):
        if values.get(key) is not None:
            extra = ""
            if key == "relation":
                extra = f" claim {values.get('to_statement_id')}"
            elif key == "status_code":
                extra = f" from {values.get('effective_on')}"
            return f"{key}: {_short(values[key])}{extra}"
    if "source_id" in values:
        role = str(values.get("role") or "").replace("_", " ")
        return f"source id {values['source_id']} at position {values.get('position')}, {role}"
    return ""


def read_log(
    session: Session,
    *,
    claim_id: int | None = None,
    since: dt.date | None = None,
    by: str | None = None,
    table: str | None = None,
    limit: int | None = None,
) -> Iterator[dict[str, Any]]:
    """Audit entries, oldest first: id, changed_at, changed_by, action, table, row_id,
    claim_id, change (a one-line summary), before and after (the JSON values).

    ``claim_id`` keeps the entries of one claim (its own row and its attributions, status
    events, verdicts and outgoing links; a deleted claim's entries stay), ``since`` those made
    on or after that day, ``by`` one person's, ``table`` one table's.
    """
    query = select(AuditEntry).order_by(AuditEntry.id)
    if claim_id is not None:
        query = query.where(AuditEntry.claim_id == claim_id)
    if since is not None:
        query = query.where(AuditEntry.changed_at >= dt.datetime.combine(since, dt.time()))
    if by:
        query = query.where(AuditEntry.changed_by == by.strip())
    if table:
        query = query.where(AuditEntry.table_name == table.strip())
    if limit is not None:
        query = query.limit(limit)
    for entry in session.scalars(query):
        yield {
            "id": entry.id,
            "changed_at": entry.changed_at,
            "changed_by": entry.changed_by,
            "action": entry.action,
            "table": entry.table_name,
            "row_id": entry.row_id,
            "claim_id": entry.claim_id,
            "change": describe(entry),
            "before": entry.before,
            "after": entry.after,
        }
