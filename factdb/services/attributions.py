"""Correcting a claim's attribution chain: add a source at a position, remove one, move one.

Positions stay contiguous (1, 2, 3, …) after every change, so "the second source" always means
something. Reordering passes through temporary positions (the unique (claim, position)
constraint is checked row by row on both backends); the audit log records only each row's
net change (see ``factdb.audit.paused``).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from factdb import audit
from factdb.errors import FactdbError, NotFound
from factdb.models import Attribution
from factdb.services.claims import AttributionInput, add_attribution, get_claim


def chain(session: Session, claim_id: int) -> list[Attribution]:
    """The claim's attributions in chain order."""
    return list(
        session.scalars(
            select(Attribution)
            .where(Attribution.statement_id == claim_id)
            .order_by(Attribution.position, Attribution.id)
        )
    )


def _at(rows: list[Attribution], position: int, claim_id: int) -> Attribution:
    for row in rows:
        if row.position == position:
            return row
    shown = f"1 to {len(rows)}" if rows else "none: the claim has no sources"
    raise NotFound(f"claim {claim_id} has no source at position {position} (positions: {shown})")


def _renumber(session: Session, claim_id: int, ordered: list[Attribution]) -> None:
    """Give ``ordered`` the positions 1..n, logging each row whose position changed once."""
    before = {row.id: row.position for row in ordered}
    with audit.paused(session):
        # out of the way first: no two rows of a claim may share a position at any moment
        for row in ordered:
            row.position = -row.id
        session.flush()
        for index, row in enumerate(ordered, start=1):
            row.position = index
        session.flush()
    audit.log_updates(
        session,
        "attributions",
        (
            (row.id, {"statement_id": claim_id}, {"position": before[row.id]}, {"position": p})
            for p, row in enumerate(ordered, start=1)
        ),
    )


def add_source(
    session: Session, claim_id: int, attribution: AttributionInput, position: int | None = None
) -> Attribution:
    """Add a source to the claim's chain, last or at ``position`` (later ones move down)."""
    statement = get_claim(session, claim_id)
    rows = chain(session, statement.id)
    if position is not None and not 1 <= position <= len(rows) + 1:
        raise FactdbError(f"position {position} is outside the chain (1 to {len(rows) + 1})")
    row = add_attribution(session, statement, attribution)
    if position is not None and position != row.position:
        rows.insert(position - 1, row)
        _renumber(session, statement.id, rows)
    return row


def remove_source(session: Session, claim_id: int, position: int) -> Attribution:
    """Remove the attribution at ``position``; the ones after it move up. Returns it."""
    statement = get_claim(session, claim_id)
    rows = chain(session, statement.id)
    row = _at(rows, position, statement.id)
    session.delete(row)
    session.flush()
    rows.remove(row)
    if any(r.position != i for i, r in enumerate(rows, start=1)):
        _renumber(session, statement.id, rows)
    session.expire(statement, ["attributions"])
    return row


def move_source(session: Session, claim_id: int, position: int, to: int) -> list[Attribution]:
    """Move the attribution at ``position`` to position ``to``; returns the new chain."""
    statement = get_claim(session, claim_id)
    rows = chain(session, statement.id)
    row = _at(rows, position, statement.id)
    if not 1 <= to <= len(rows):
        raise FactdbError(f"position {to} is outside the chain (1 to {len(rows)})")
    if to == position:
        raise FactdbError(f"the source is already at position {to}")
    rows.remove(row)
    rows.insert(to - 1, row)
    _renumber(session, statement.id, rows)
    session.expire(statement, ["attributions"])
    return rows
