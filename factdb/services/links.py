"""Typed, dated links between claims: Moscow's statement *denies* NATO's accusation."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from factdb.dates import parse_partial
from factdb.errors import Conflict, FactdbError, NotFound
from factdb.models import LINK_RELATIONS, StatementLink


def normalise_relation(relation: str) -> str:
    """The stored relation for what a user typed ("responds to", "responds-to" → responds_to)."""
    normal = "_".join((relation or "").strip().lower().replace("-", " ").replace("_", " ").split())
    if normal not in LINK_RELATIONS:
        shown = ", ".join(r.replace("_", " ") for r in LINK_RELATIONS)
        raise FactdbError(f"unknown link relation {relation!r} (use: {shown})")
    return normal


def relation_text(relation: str) -> str:
    """A relation as prose: ``responds_to`` → "responds to"."""
    return relation.replace("_", " ")


def link_claims(
    session: Session,
    from_id: int,
    relation: str,
    to_id: int,
    *,
    linked_on: str | None = None,
    note: str | None = None,
) -> StatementLink:
    """Record that claim ``from_id`` <relation> claim ``to_id`` (e.g. 7 denies 3).

    Both claims must exist; a claim cannot be linked to itself; the same link twice is refused.
    ``linked_on`` is YYYY, YYYY-MM or YYYY-MM-DD.
    """
    from factdb.services.claims import get_claim

    normal = normalise_relation(relation)
    if int(from_id) == int(to_id):
        raise FactdbError(f"a claim cannot be linked to itself (claim {from_id})")
    source = get_claim(session, from_id)
    target = get_claim(session, to_id)
    when = parse_partial(linked_on) if linked_on else None
    existing = session.scalar(
        select(StatementLink.id).where(
            StatementLink.from_statement_id == source.id,
            StatementLink.to_statement_id == target.id,
            StatementLink.relation == normal,
        )
    )
    if existing is not None:
        raise Conflict(
            f"claim {source.id} already {relation_text(normal)} claim {target.id} (link {existing})"
        )
    link = StatementLink(
        from_statement_id=source.id,
        to_statement_id=target.id,
        relation=normal,
        linked_on=when.start if when else None,
        linked_precision=when.precision if when else None,
        note=note or None,
    )
    session.add(link)
    session.flush()
    return link


def find_link(session: Session, from_id: int, relation: str, to_id: int) -> StatementLink:
    """The link ``from_id`` <relation> ``to_id``; NotFound otherwise."""
    normal = normalise_relation(relation)
    link = session.scalar(
        select(StatementLink).where(
            StatementLink.from_statement_id == int(from_id),
            StatementLink.to_statement_id == int(to_id),
            StatementLink.relation == normal,
        )
    )
    if link is None:
        raise NotFound(f"no link: claim {from_id} {relation_text(normal)} claim {to_id}")
    return link


def unlink(session: Session, link_id: int) -> StatementLink:
    """Remove link ``link_id`` (the audit log keeps what it was); returns the removed link."""
    link = session.get(StatementLink, int(link_id))
    if link is None:
        raise NotFound(f"no link with id {link_id}")
    session.delete(link)
    session.flush()
    return link
