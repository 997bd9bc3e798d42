"""The conversation around a claim: the claims linked to it, and to those, in date order.

NATO's accusation, Moscow's denial of it, Lavrov's retaliation that responds to the expulsions,
NATO's answer to Lavrov: following links both ways from one claim gives the whole exchange.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from factdb.dates import format_partial
from factdb.models import Speaker, Statement, StatementLink
from factdb.services.claims import get_claim
from factdb.services.links import relation_text

# a conversation larger than this is cut (and said to be): a thread is read, not exported
MAX_THREAD = 200


def claim_thread(session: Session, claim_id: int, *, depth: int | None = None) -> dict[str, Any]:
    """The claims reachable from ``claim_id`` through links (either direction).

    ``depth`` bounds how many links away (None: the whole connected exchange, up to
    ``MAX_THREAD`` claims). Returns ``{"claim_id", "truncated", "claims": [...]}``; each claim
    (date said order, undated last, then id) has id, said_on, speaker, status (current), text,
    ``links`` (this claim's relations to other claims of the thread, as "denies 1") and
    ``answered_by`` (claims of the thread that relate to it, as "2 denies").
    """
    root = get_claim(session, claim_id)
    seen = {root.id: 0}
    frontier = [root.id]
    links: list[StatementLink] = []
    known_links: set[int] = set()
    truncated = False
    level = 0
    while frontier and (depth is None or level < depth):
        level += 1
        found = session.scalars(
            select(StatementLink)
            .where(
                or_(
                    StatementLink.from_statement_id.in_(frontier),
                    StatementLink.to_statement_id.in_(frontier),
                )
            )
            .order_by(StatementLink.id)
        ).all()
        frontier = []
        for link in found:
            if link.id in known_links:
                continue
            for other in (link.from_statement_id, link.to_statement_id):
                if other not in seen:
                    if len(seen) >= MAX_THREAD:
                        truncated = True
                        continue
                    seen[other] = level
                    frontier.append(other)
            if link.from_statement_id in seen and link.to_statement_id in seen:
                known_links.add(link.id)
                links.append(link)
    rows = session.execute(
        select(Statement, Speaker.name)
        .join(Speaker, Speaker.id == Statement.speaker_id)
        .where(Statement.id.in_(list(seen)))
    ).all()
    claims = []
    for statement, speaker in rows:
        claims.append(
            {
                "id": statement.id,
                "said_on": format_partial(statement.said_on, statement.said_precision),
                "speaker": speaker,
                "status": statement.current_status,
                "text": statement.text,
                "distance": seen[statement.id],
                "links": [
                    f"{relation_text(link.relation)} {link.to_statement_id}"
                    for link in links
                    if link.from_statement_id == statement.id
                ],
                "answered_by": [
                    f"{link.from_statement_id} {relation_text(link.relation)}"
                    for link in links
                    if link.to_statement_id == statement.id
                ],
                "_order": (statement.said_on is None, statement.said_on or dt.date.min),
            }
        )
    claims.sort(key=lambda c: (*c.pop("_order"), c["id"]))
    return {"claim_id": root.id, "truncated": truncated, "claims": claims}
