"""Matching a query against the recorded claims: shortlists from each layer, one fused score,
and each match described as a desk needs it (speaker, date, status, verdicts).

Scores are in [0, 1]. The lexical score of a claim is the geometric mean of how much of the
query's information (idf-weighted terms) the claim covers and how much of the claim's words
the query has: an identical claim scores 1, a tweet quoting a claim among other words scores
high, a claim sharing one common word scores low. The semantic score is the cosine similarity
of the two sentence embeddings.

With the lexical layer alone, matches are ordered by the layer's own relevance (bm25 /
ts_rank), which ranks better than the overlap score on CheckThat! 2020 dev; the overlap score
is what is shown and what ``min_score`` and the repeat threshold compare. With both layers
the score shown (and compared) is ``SEMANTIC_WEIGHT`` × cosine + the rest × relevance
relative to the best lexical hit, plus ``SPEAKER_BONUS`` when the query names the claim's
speaker; the order is a weighted reciprocal-rank fusion of the two layers' ranks (each
candidate's ``SEMANTIC_SHARE`` / (``RRF_K`` + its rank by cosine) + the rest / (``RRF_K`` +
its lexical rank)) plus ``COSINE_WEIGHT`` × its cosine, the speaker bonus moving a claim up a
rank's worth. Every candidate has a lexical rank: the semantic layer's finds are scored by the
lexical layer too (``lexical.rescore``). Ranks rather than
scores because the two layers' scores are on scales that vary from query to query: on
CheckThat! 2020 train and dev the rank fusion beats every weighting of the scores (see
bench/bench_match.py). The semantic layer embeds the query as cleaned for matching (no
URLs, handles split into names), which ranks better than the raw tweet.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from factdb import tables as t
from factdb.dates import format_partial
from factdb.errors import FactdbError
from factdb.match.clean import clean_text, match_terms
from factdb.match.lexical import doc_counts, lexical_hits, rescore

# how many candidates each layer proposes before the fused score re-ranks them
SHORTLIST = 50
SEMANTIC_WEIGHT = 0.85
# added to the fused score of a claim whose speaker the query names ("NATO says ..."): who said
# it is half of what makes two claims the same claim
SPEAKER_BONUS = 0.05
# the rank fusion's weight of the semantic rank, and its constant (a small one lets the first
# few ranks of either layer count for much more than the rest); tuned on CheckThat! 2020
# train and dev
SEMANTIC_SHARE = 0.45
RRF_K = 5
# ranks hide how far apart two cosines are ("lemons cure cancer" at 0.84 against a claim at
# 0.43 that shares the query's one English word): a little of the cosine itself is added to the
# rank fusion (CheckThat! 2020 dev 0.863 -> 0.867; cross-language Spanish 90% -> 96%)
COSINE_WEIGHT = 0.05
# "probably repeats": the score at or above which add and import report a resemblance
REPEAT_SCORE = {"lexical": 0.75, "semantic": 0.8}


class EmptyQuery(FactdbError):
    """The query has no words to match on."""


@dataclass
class Match:
    """One recorded claim matching a query."""

    claim_id: int
    score: float
    lexical: float | None = None
    semantic: float | None = None
    # what the matches are ordered by (the rank fusion, or bm25 for the lexical layer alone)
    rank_key: float = 0.0
    row: dict[str, Any] = field(default_factory=dict)


def lexical_scores(
    session: Session, query_terms: list[str], texts: dict[int, str]
) -> dict[int, float]:
    """The lexical score (module docstring) of each claim text against the query's terms."""
    if not query_terms or not texts:
        return {i: 0.0 for i in texts}
    counts, total = doc_counts(session, query_terms)
    idf = {w: math.log(1 + (total + 1) / (1 + counts.get(w, 0))) for w in query_terms}
    whole = sum(idf.values())
    scores = {}
    for claim_id, value in texts.items():
        words = set(match_terms(value))
        shared = [w for w in query_terms if w in words]
        if not shared or not words:
            scores[claim_id] = 0.0
            continue
        covered = sum(idf[w] for w in shared) / whole
        scores[claim_id] = math.sqrt(covered * len(shared) / len(words))
    return scores


def _texts(session: Session, ids: list[int]) -> dict[int, str]:
    st = t.statements
    rows = session.execute(
        select(st.c.id, st.c.text, st.c.original_text).where(st.c.id.in_(ids))
    ).all()
    return {i: f"{txt} {orig}" if orig else txt for i, txt, orig in rows}


def named_speakers(session: Session, query_terms: list[str], ids: list[int]) -> set[int]:
    """Those of claims ``ids`` whose speaker (name or an alias) the query names in full."""
    if not ids or not query_terms:
        return set()
    st, sp, al = t.statements, t.speakers, t.speaker_aliases
    words = set(query_terms)
    by_speaker: dict[int, list[int]] = {}
    for claim_id, speaker_id in session.execute(
        select(st.c.id, st.c.speaker_id).where(st.c.id.in_(ids))
    ):
        by_speaker.setdefault(speaker_id, []).append(claim_id)
    names = session.execute(
        select(sp.c.id, sp.c.name)
        .where(sp.c.id.in_(by_speaker))
        .union_all(select(al.c.speaker_id, al.c.alias).where(al.c.speaker_id.in_(by_speaker)))
    ).all()
    named = set()
    for speaker_id, name in names:
        parts = match_terms(name)
        if parts and all(p in words for p in parts):
            named.update(by_speaker[speaker_id])
    return named


def describe(session: Session, ids: list[int]) -> dict[int, dict[str, Any]]:
    """Speaker, date said, current status, text and every verdict of each claim."""
    if not ids:
        return {}
    st, sp, v = t.statements, t.speakers, t.verdicts
    out: dict[int, dict[str, Any]] = {}
    for i, txt, said, precision, status, speaker in session.execute(
        select(
            st.c.id, st.c.text, st.c.said_on, st.c.said_precision, st.c.current_status, sp.c.name
        )
        .join(sp, sp.c.id == st.c.speaker_id)
        .where(st.c.id.in_(ids))
    ):
        out[i] = {
            "id": i,
            "text": txt,
            "speaker": speaker,
            "said_on": format_partial(said, precision),
            "status": status,
            "verdicts": [],
        }
    for claim_id, label, reviewer, reviewed_on in session.execute(
        select(v.c.statement_id, v.c.label, v.c.reviewer, v.c.reviewed_on)
        .where(v.c.statement_id.in_(ids))
        .order_by(v.c.statement_id, v.c.reviewed_on, v.c.id)
    ):
        parts = [p for p in (reviewer, reviewed_on and str(reviewed_on)) if p]
        out[claim_id]["verdicts"].append(label + (f" ({', '.join(parts)})" if parts else ""))
    return out


# (session, query, shortlist size, excluded id, other candidates) -> cosine of each claim in
# the semantic shortlist and of each other candidate that has a vector
SemanticRanker = Callable[[Session, str, int, int | None, list[int]], dict[int, float]]


def match_claims(
    session: Session,
    query: str,
    *,
    limit: int = 10,
    min_score: float = 0.0,
    exclude: int | None = None,
    semantic: SemanticRanker | None = None,
) -> list[Match]:
    """The recorded claims most likely making the same claim as ``query``, best first.

    ``semantic``: the semantic layer's ranker (``factdb.match.semantic``), or None for the
    lexical layer alone. ``exclude``: a claim id never returned (the claim queried with
    ``--claim``). EmptyQuery when the query has no words at all.
    """
    terms = match_terms(query)
    if not terms:
        raise EmptyQuery("the query has no words to match on")
    shortlist = max(SHORTLIST, limit)
    hits = lexical_hits(session, query, limit=shortlist, exclude=exclude)
    lexical_ids = [h.claim_id for h in hits]
    cleaned = clean_text(query) or query
    cosines = semantic(session, cleaned, shortlist, exclude, lexical_ids) if semantic else {}
    ids = list(dict.fromkeys(lexical_ids + list(cosines)))
    if cosines:
        # every candidate ranked lexically, the semantic layer's finds too: a claim the index
        # missed (its context has the query's words, its text not) gets the rank it deserves
        hits = rescore(session, query, ids)
        lexical_ids = [h.claim_id for h in hits if h.relevance > 0]
    lexical = lexical_scores(session, terms, _texts(session, ids))
    # the lexical layer's own relevance, scaled to [0, 1] by the best hit (bm25 / ts_rank):
    # on CheckThat! dev it ranks better than the overlap score, which is what is shown
    best = max((h.relevance for h in hits), default=0.0) or 1.0
    relevance = {h.claim_id: h.relevance / best for h in hits}
    named = named_speakers(session, terms, ids) if semantic is not None else set()
    lexical_rank = {c: n for n, c in enumerate(lexical_ids)}
    by_cosine = sorted(cosines, key=lambda c: (-cosines[c], lexical_rank.get(c, shortlist)))
    semantic_rank = {c: n for n, c in enumerate(by_cosine)}
    matches = []
    for claim_id in ids:
        lex = lexical.get(claim_id, 0.0)
        if semantic is not None:
            cos = cosines.get(claim_id)
            if cos is None:
                continue  # a claim without a vector is ranked by the lexical layer only
            fused = SEMANTIC_WEIGHT * cos + (1 - SEMANTIC_WEIGHT) * relevance.get(claim_id, 0.0)
            fused = min(fused + (SPEAKER_BONUS if claim_id in named else 0.0), 1.0)
            # a named speaker moves the claim up one rank in both layers
            up = 1 if claim_id in named else 0
            key = SEMANTIC_SHARE / (RRF_K + semantic_rank[claim_id] - up) + (1 - SEMANTIC_SHARE) / (
                RRF_K + lexical_rank.get(claim_id, shortlist) - up
            )
            key += COSINE_WEIGHT * cos
            matches.append(Match(claim_id, max(fused, 0.0), lex, cos, key))
        else:
            matches.append(Match(claim_id, lex, lex, None, relevance.get(claim_id, 0.0)))
    # best rank key first; among equals the lexical layer's order, then the newer claim
    order = {c: n for n, c in enumerate(lexical_ids)}
    matches.sort(key=lambda m: (-m.rank_key, order.get(m.claim_id, len(order)), -m.claim_id))
    matches = [m for m in matches if m.score >= min_score][:limit]
    rows = describe(session, [m.claim_id for m in matches])
    for m in matches:
        m.row = rows[m.claim_id]
    return matches
