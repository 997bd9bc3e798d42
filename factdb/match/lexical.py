"""The lexical layer: the full-text index ranked for matching, not for search.

A query's cleaned terms (``clean.match_terms``) and their inflections (``clean.word_forms``:
the index does not stem) are ORed, so a claim need not contain every word of a tweet, nor in
the same form, to be found, and ranked by bm25 (SQLite FTS5) or ts_rank (PostgreSQL). The
claim's own text weighs more than its original-language text and far more than its speaker's
names, which are in the same index for search.

On a big database a term found in a large share of claims (a topic word such as "nato") would
make the OR expression hit most of the table and score every hit; such terms are left out of
the expression when rarer ones are there (they would add little to bm25 anyway, having a low
idf), and when all terms are that common the claims having all of them are ranked instead.
Document frequencies are read from the index's vocabulary on SQLite.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from sqlalchemy import func, literal_column, select, text
from sqlalchemy.orm import Session

from factdb import tables
from factdb.match.clean import match_terms, word_forms
from factdb.services.search import Or, Term, fold, pg_tsquery

# bm25 column weights: text, original_text, speaker (the index's column order)
WEIGHTS = (1.0, 0.6, 0.1)
# a term in more claims than this is dropped from the expression while rarer terms remain
COMMON_TERM_DOCS = 20_000
# at most this many terms are ORed (the rarest first): a long paragraph stays cheap
MAX_TERMS = 32
_WORD = re.compile(r"\w+")
# how many of the index's best hits the claims' context re-ranks, and the context's weight
# relative to the index's relevance (see ``_with_context``)
CONTEXT_DEPTH = 100
CONTEXT_WEIGHT = 0.5


@dataclass(frozen=True)
class LexicalHit:
    """A claim found by the lexical layer, with its relevance (higher is better)."""

    claim_id: int
    relevance: float


def doc_counts(session: Session, terms: list[str]) -> tuple[dict[str, int], int]:
    """(how many claims contain each term, the highest claim id as the size of the collection).

    SQLite reads the counts from the FTS5 vocabulary (a temporary fts5vocab table over the
    index); PostgreSQL counts the index's matches of each term.
    """
    total = session.scalar(select(func.max(tables.statements.c.id))) or 0
    counts: dict[str, int] = {}
    if session.get_bind().dialect.name == "sqlite":
        session.execute(
            text(
                "CREATE VIRTUAL TABLE IF NOT EXISTS temp.factdb_match_vocab "
                "USING fts5vocab(main, statements_fts, row)"
            )
        )
        query = text("SELECT doc FROM temp.factdb_match_vocab WHERE term = :t")
    else:
        query = text(
            "SELECT count(*) FROM statements_fts WHERE document @@ "
            "to_tsquery('simple'::regconfig, quote_literal(factdb_search_fold(:t)))"
        )
    for term in terms:
        counts[term] = session.scalar(query, {"t": term}) or 0
    return counts, total


def _select_terms(counts: dict[str, int]) -> tuple[list[str], bool]:
    """(the terms worth matching, whether all of them are common).

    Terms found nowhere are dropped; common ones too while rarer ones remain. When every term
    is common they are all kept, to be ANDed (see ``lexical_hits``).
    """
    present = sorted((n, t) for t, n in counts.items() if n > 0)
    rare = [t for n, t in present if n <= COMMON_TERM_DOCS]
    if rare:
        return rare[:MAX_TERMS], False
    return [t for _n, t in present][:MAX_TERMS], True


def _with_forms(
    chosen: list[str], forms: dict[str, list[str]], counts: dict[str, int]
) -> list[str]:
    """The chosen terms and those of their other forms some claims, but not too many, have."""
    return list(
        dict.fromkeys(
            f for t in chosen for f in forms[t] if f == t or 0 < counts[f] <= COMMON_TERM_DOCS
        )
    )


def _quoted(terms: list[str], operator: str) -> str:
    return f" {operator} ".join('"' + t.replace('"', '""') + '"' for t in terms)


def lexical_hits(
    session: Session, query: str, *, limit: int = 20, exclude: int | None = None
) -> list[LexicalHit]:
    """The ``limit`` claims best matching ``query`` (free text), best first.

    ``exclude``: a claim id left out (the claim a ``--claim ID`` query starts from). An empty
    list when the query has no words or none of them is in any claim.
    """
    terms = match_terms(query)
    if not terms:
        return []
    fetch = limit + (1 if exclude is not None else 0)
    # a deeper list than asked for, for the context to re-rank (``_with_context``)
    depth = max(fetch, CONTEXT_DEPTH)
    forms = {t: word_forms(t) for t in terms}
    ored = list(dict.fromkeys(f for t in terms[:MAX_TERMS] for f in forms[t]))
    counts: dict[str, int] | None = None
    if session.get_bind().dialect.name == "sqlite":
        counts = doc_counts(session, list(dict.fromkeys(f for fs in forms.values() for f in fs)))[0]
        # a term is as frequent as its commonest form: "shootings" is found as "shooting"
        chosen, all_common = _select_terms({t: max(counts[f] for f in forms[t]) for t in terms})
        if not chosen:
            return []
        # only common terms: claims with all of them (a small intersection of long lists) are
        # scored, not the hundreds of thousands with any; too few such claims and the two
        # rarest terms are ORed for the rest of the list
        ored = _with_forms(chosen, forms, counts)
        expressions = [_quoted(ored, "OR")]
        if all_common:
            # each term in its commonest form: claims must have them all
            common = [max(forms[t], key=lambda f: counts[f]) for t in chosen]
            expressions = [_quoted(common, "AND"), _quoted(common[:2], "OR")]
        fts = tables.sqlite_fts
        score = func.bm25(literal_column("statements_fts"), *WEIGHTS)
        rows: list[tuple[int, float]] = []
        for expression in expressions:
            stmt = (
                select(fts.c.rowid, score)
                .where(literal_column("statements_fts").op("MATCH")(expression))
                .order_by(score, fts.c.rowid)
                .limit(depth)
            )
            seen = {i for i, _ in rows}
            rows += [(int(i), -float(s)) for i, s in session.execute(stmt) if i not in seen]
            if len(rows) >= fetch:
                break
        rows = rows[:depth]
    else:
        node = Or(tuple(Term(f) for f in ored)) if len(ored) > 1 else Term(ored[0])
        fts = tables.pg_fts
        tsq = func.to_tsquery(literal_column("'simple'::regconfig"), pg_tsquery(session, node))
        # normalisation 1: divide by 1 + log(length), so long claims do not win by size alone
        score = func.ts_rank(fts.c.document, tsq, 1)
        stmt = (
            select(fts.c.statement_id, score)
            .where(fts.c.document.op("@@")(tsq))
            .order_by(score.desc(), fts.c.statement_id)
            .limit(depth)
        )
        rows = [(int(i), float(s)) for i, s in session.execute(stmt)]
    rows = _with_context(session, rows, ored, counts)
    return [LexicalHit(i, s) for i, s in rows if i != exclude][:limit]


def _context_bm25(
    words: list[str], terms: list[str], idf: dict[str, float], average: float
) -> float:
    """bm25 (k1 1.2, b 0.75, as FTS5's) of a context's folded ``words`` for ``terms``."""
    if not words:
        return 0.0
    norm = 1.2 * (0.25 + 0.75 * len(words) / average)
    total = 0.0
    for term in terms:
        tf = words.count(term)
        if tf:
            total += idf[term] * tf * 2.2 / (tf + norm)
    return total


def _with_context(
    session: Session,
    rows: list[tuple[int, float]],
    terms: list[str],
    counts: dict[str, int] | None,
) -> list[tuple[int, float]]:
    """``rows`` (claim id, relevance) re-ranked with the claims' context, best first.

    The context (a claim's free-text note: where and how it was said, or a fact-checker's
    headline for it) is not in the full-text index, which is the search index too; it is read
    for the index's best hits only, scored by bm25 for the query's terms, and added to the
    relevance, each scaled by its best in the list (``CONTEXT_WEIGHT`` for the context), so the
    relevance keeps its meaning on either backend. Claims without context keep their order.
    """
    if not rows:
        return rows
    st = tables.statements
    contexts = {
        i: _WORD.findall(fold(c).replace("_", " "))
        for i, c in session.execute(
            select(st.c.id, st.c.context).where(
                st.c.id.in_([i for i, _ in rows]), st.c.context.is_not(None)
            )
        )
        if c
    }
    if not contexts:
        return rows
    if counts is None:
        counts, total = doc_counts(session, terms)
    else:
        total = session.scalar(select(func.max(st.c.id))) or 0
    idf = {
        w: max(math.log((total - counts.get(w, 0) + 0.5) / (counts.get(w, 0) + 0.5)), 1e-6)
        for w in terms
    }
    average = sum(len(w) for w in contexts.values()) / len(contexts)
    extra = {i: _context_bm25(w, terms, idf, average) for i, w in contexts.items()}
    best = max(s for _, s in rows) or 1.0
    best_extra = max(extra.values()) or 1.0
    scored = [(i, s + CONTEXT_WEIGHT * best * extra.get(i, 0.0) / best_extra) for i, s in rows]
    return sorted(scored, key=lambda r: (-r[1], r[0]))
