"""Matching a query against the recorded claims: shortlists from each layer, one fused score,
and each match described as a desk needs it (speaker, date, status, verdicts).

Scores are in [0, 1]. The lexical score of a claim is the geometric mean of how much of the
query's information (idf-weighted terms) the claim covers and how much of the claim's words
the query has: an identical claim scores 1, a tweet quoting a claim among other words scores
high, a claim sharing one common word scores low. The semantic score is the cosine similarity
of the two texts' Universal Sentence Encoder embeddings (below).

With the lexical layer alone, matches are ordered by the layer's own relevance (bm25 /
ts_rank), which ranks better than the overlap score on CheckThat! 2020 dev; the overlap score
is what is shown and what ``min_score`` and the repeat threshold compare.

With both layers the order is a weighted reciprocal-rank fusion of the lexical layer's
ranking and each embedding model's (``factdb.match.semantic``: USE for translations, e5 and,
for English queries, MiniLM for rewordings): each candidate's ``share`` / (``rrf_k`` + its
rank) summed over the rankings (the lexical layer has what the models' shares leave), plus
each model's ``cosine_weights`` × its cosine, since ranks hide how far apart two cosines are
("lemons cure cancer" at 0.84 against a claim at 0.43 that shares the query's one English
word). A claim whose speaker the query names ("NATO says ...") moves up one rank in each.
Ranks rather than scores because the layers' scores are on scales that vary from query to
query. The constants (``FUSION``) were chosen on CheckThat! 2020 train by
bench/tune_match_fusion.py and checked on dev. Every candidate has a lexical rank: the
semantic layer's finds are scored by the lexical layer too (``lexical.rescore``). The semantic
layer embeds the query as cleaned for matching (no URLs, handles split into names), which
ranks better than the raw tweet.

The score shown (and compared with ``min_score`` and the repeat threshold) is
``SEMANTIC_WEIGHT`` × USE's cosine + the rest × relevance relative to the best lexical hit,
plus ``SPEAKER_BONUS`` when the query names the claim's speaker: on CheckThat! 2020 dev, 90 %
of the claims score 0.01-0.30 against a tweet by USE's cosine and the best one 0.51 (middle
value), by e5's 0.75-0.81 and 0.87; USE's read as a degree of likeness, and the thresholds
stay where they were set.
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
from factdb.match.embedding import E5Small, MiniLMEncoder, UniversalSentenceEncoder
from factdb.match.lexical import doc_counts, lexical_hits, rescore

USE, E5, MINILM = UniversalSentenceEncoder.name, E5Small.name, MiniLMEncoder.name

# how many candidates each layer proposes before the fused score re-ranks them
SHORTLIST = 50
SEMANTIC_WEIGHT = 0.85
# added to the fused score of a claim whose speaker the query names ("NATO says ..."): who said
# it is half of what makes two claims the same claim
SPEAKER_BONUS = 0.05
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


# (session, query, shortlist size, excluded id, other candidates) -> each model's cosine
# ({model name: {claim id: cosine}}) of each claim in its shortlists and of each other candidate
# that has a vector
SemanticRanker = Callable[[Session, str, int, int | None, list[int]], dict[str, dict[int, float]]]


@dataclass
class Candidate:
    """What both layers say of one candidate claim, before the fusion orders them."""

    claim_id: int
    # the lexical layer's rank (0 first; the shortlist's size when it does not rank the claim)
    # and relevance relative to its best hit (bm25 / ts_rank, in [0, 1])
    lexical_rank: int
    relevance: float
    # the overlap score shown for the lexical layer (module docstring)
    overlap: float
    # each model's cosine and rank among the semantic candidates (0 first); empty for the
    # lexical layer alone
    cosines: dict[str, float] = field(default_factory=dict)
    semantic_ranks: dict[str, int] = field(default_factory=dict)
    speaker_named: bool = False


@dataclass(frozen=True)
class Fusion:
    """The constants of the fused order (module docstring): each model's share of the
    reciprocal-rank fusion (the lexical layer has the rest), its constant, and each model's
    cosine weight."""

    shares: dict[str, float]
    rrf_k: float
    cosine_weights: dict[str, float]

    def key(self, c: Candidate) -> float:
        """What a candidate is ordered by, best highest."""
        up = 1 if c.speaker_named else 0  # a named speaker moves it up one rank in each layer
        lexical_share = 1 - sum(self.shares.values())
        key = lexical_share / (self.rrf_k + c.lexical_rank - up)
        for model, share in self.shares.items():
            if model not in c.cosines:  # a model that does not know the query's language
                continue
            key += share / (self.rrf_k + c.semantic_ranks[model] - up)
            key += self.cosine_weights[model] * c.cosines[model]
        return key


# chosen on CheckThat! 2020 train by bench/tune_match_fusion.py (train 0.927, dev 0.925), USE's
# cosine weight kept at 0.3 or more for the cross-language set's sake (see that script): e5
# ranks rewordings, USE's cosine keeps translations first
FUSION = Fusion(
    shares={USE: 0.0, E5: 0.3, MINILM: 0.0},
    rrf_k=5,
    cosine_weights={USE: 0.3, E5: 0.75, MINILM: 0.5},
)


def candidates(
    session: Session,
    query: str,
    *,
    shortlist: int = SHORTLIST,
    exclude: int | None = None,
    semantic: SemanticRanker | None = None,
) -> list[Candidate]:
    """Each layer's ``shortlist`` best claims for ``query``, with what every layer says of
    each (a claim the semantic layer finds without a vector of every model is left out).
    EmptyQuery when the query has no words at all."""
    terms = match_terms(query)
    if not terms:
        raise EmptyQuery("the query has no words to match on")
    hits = lexical_hits(session, query, limit=shortlist, exclude=exclude)
    lexical_ids = [h.claim_id for h in hits]
    cleaned = clean_text(query) or query
    cosines = semantic(session, cleaned, shortlist, exclude, lexical_ids) if semantic else {}
    scored = set.intersection(*(set(c) for c in cosines.values())) if cosines else set()
    ids = list(dict.fromkeys(lexical_ids + sorted(scored)))
    if semantic is not None:
        # every candidate ranked lexically, the semantic layer's finds too: a claim the index
        # missed (its context has the query's words, its text not) gets the rank it deserves
        hits = rescore(session, query, ids)
        lexical_ids = [h.claim_id for h in hits if h.relevance > 0]
        # a claim without vectors has no place in the fused order (lexical matches show it)
        ids = [i for i in ids if i in scored]
    overlap = lexical_scores(session, terms, _texts(session, ids))
    # the lexical layer's own relevance, scaled to [0, 1] by the best hit (bm25 / ts_rank):
    # on CheckThat! dev it ranks better than the overlap score, which is what is shown
    best = max((h.relevance for h in hits), default=0.0) or 1.0
    relevance = {h.claim_id: h.relevance / best for h in hits}
    lexical_rank = {c: n for n, c in enumerate(lexical_ids)}
    named = named_speakers(session, terms, ids) if semantic is not None else set()
    found = {
        i: Candidate(i, lexical_rank.get(i, shortlist), relevance.get(i, 0.0), overlap.get(i, 0.0))
        for i in ids
    }
    for model, by_claim in cosines.items():
        order = sorted(scored, key=lambda c: (-by_claim[c], lexical_rank.get(c, shortlist), -c))
        for n, claim_id in enumerate(order):
            found[claim_id].cosines[model] = by_claim[claim_id]
            found[claim_id].semantic_ranks[model] = n
    for claim_id in named:
        found[claim_id].speaker_named = True
    return list(found.values())


def fused(candidates_: list[Candidate], fusion: Fusion = FUSION) -> list[Match]:
    """The candidates as matches, best first: by the fusion (module docstring) when they carry
    the semantic layer's cosines, else by the lexical layer's relevance; among equals the
    lexical order, then the newer claim."""
    matches = []
    for c in candidates_:
        if c.cosines:
            shown = c.cosines[USE]  # the cosine shown and compared: see the module docstring
            score = SEMANTIC_WEIGHT * shown + (1 - SEMANTIC_WEIGHT) * c.relevance
            score = min(score + (SPEAKER_BONUS if c.speaker_named else 0.0), 1.0)
            matches.append(Match(c.claim_id, max(score, 0.0), c.overlap, shown, fusion.key(c)))
        else:
            matches.append(Match(c.claim_id, c.overlap, c.overlap, None, c.relevance))
    rank = {c.claim_id: c.lexical_rank for c in candidates_}
    matches.sort(key=lambda m: (-m.rank_key, rank[m.claim_id], -m.claim_id))
    return matches


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
    found = candidates(
        session, query, shortlist=max(SHORTLIST, limit), exclude=exclude, semantic=semantic
    )
    matches = [m for m in fused(found) if m.score >= min_score][:limit]
    rows = describe(session, [m.claim_id for m in matches])
    for m in matches:
        m.row = rows[m.claim_id]
    return matches
