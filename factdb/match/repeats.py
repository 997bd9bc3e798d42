"""Probable repeats: new claims (added or imported) that resemble recorded ones.

Used by ``claim add`` and ``import``: neither refuses a repeat (the same claim said again, by
someone else or in other words, is worth recording), they report it, and ``claim add
--repeats-of`` records the ``repeats`` link in the same step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from factdb import tables as t
from factdb.match.service import REPEAT_SCORE, EmptyQuery, match_claims

# an import adding more claims than this is not checked claim by claim (the user is told to
# run claim match --file instead); below it the check costs ~25 ms a claim
MAX_CHECKED = 5_000


@dataclass(frozen=True)
class Repeat:
    """Claim ``claim_id`` probably repeats claim ``of_id``."""

    claim_id: int
    of_id: int
    score: float
    verdict: str | None
    status: str | None

    def line(self) -> str:
        """'claim 17 resembles claim 12 (score 0.91), rated False'."""
        said = f"claim {self.claim_id} resembles claim {self.of_id} (score {self.score:.2f})"
        if self.verdict:
            said += f", rated {self.verdict}"
        elif self.status:
            said += f", status {self.status}"
        return said


def last_id(session: Session) -> int:
    """The highest claim id now (claims added later have larger ids)."""
    return session.scalar(select(func.max(t.statements.c.id))) or 0


def semantic_layer(session: Session) -> Any:
    """The semantic ranker when the extra is installed and the database has vectors, else None.

    New claims get their vectors here first, so they are compared like the rest.
    """
    from factdb.match import embedding, semantic

    if not embedding.available():
        return None
    try:
        return semantic.ranker(session)
    except semantic.NoVectors:
        return None


def embed_new(session: Session, after_id: int) -> int:
    """Store vectors for claims with id > ``after_id`` when the database already keeps vectors
    (the extra installed and at least one vector stored); returns how many were embedded."""
    from factdb.match import embedding, semantic

    if not embedding.available():
        return 0
    if session.scalar(select(t.claim_vectors.c.statement_id).limit(1)) is None:
        return 0
    done = 0
    for batch in semantic.missing_batches(session):
        batch = [(i, doc) for i, doc in batch if i > after_id]
        done += semantic.store(session, batch)
    return done


def find_repeats(session: Session, claim_ids: list[int], *, ranker: Any = None) -> list[Repeat]:
    """For each claim in ``claim_ids``, the recorded claim it most probably repeats, if any
    scores at least the layer's repeat threshold (``service.REPEAT_SCORE``)."""
    threshold = REPEAT_SCORE["semantic" if ranker is not None else "lexical"]
    st = t.statements
    texts = dict(session.execute(select(st.c.id, st.c.text).where(st.c.id.in_(claim_ids))).all())
    found = []
    for claim_id in claim_ids:
        try:
            best = match_claims(
                session,
                texts[claim_id],
                limit=1,
                min_score=threshold,
                exclude=claim_id,
                semantic=ranker,
            )
        except EmptyQuery:
            continue
        if best:
            m = best[0]
            verdicts = m.row["verdicts"]
            verdict = verdicts[-1].split(" (")[0] if verdicts else None
            found.append(Repeat(claim_id, m.claim_id, m.score, verdict, m.row["status"]))
    return found
