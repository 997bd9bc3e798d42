"""The lexical layer: the full-text index ranked for matching, not for search.

A query's cleaned terms (``clean.match_terms``) and their inflections (``clean.word_forms``:
the index does not stem) are ORed, so a claim need not contain every word of a tweet, nor in
the same form, to be found, and ranked by bm25 (SQLite FTS5) or ts_rank (PostgreSQL). The
claim's own text weighs more than its original-language text and far more than its speaker's
names, which are in the same index for search.

The index's best hits (``CANDIDATES``) are then ranked again (``_rescored``): by BM25F over
word stems, of the claim's text and of its context, which the index has not got (it is the
search index: unstemmed, and without context). On CheckThat! 2020 dev this takes MAP@5 from
0.756 to 0.799. With the semantic layer, its candidates are scored the same way (``rescore``).

On a big database a term found in a large share of claims (a topic word such as "nato") would
make the OR expression hit most of the table and score every hit; such terms are left out of
the expression when rarer ones are there (they would add little to bm25 anyway, having a low
idf), and when all terms are that common the claims having all of them are ranked instead.
Document frequencies are read from the index's vocabulary on SQLite.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import func, literal, literal_column, select, text
from sqlalchemy.orm import Session

from factdb import tables
from factdb.match.clean import match_terms, stem, stemmed_words, word_forms
from factdb.services.search import Or, Term, pg_tsquery

# bm25 column weights: text, original_text, speaker (the index's column order)
WEIGHTS = (1.0, 0.6, 0.1)
# a term in more claims than this is dropped from the expression while rarer terms remain
COMMON_TERM_DOCS = 20_000
# at most this many terms are ORed (the rarest first): a long paragraph stays cheap
MAX_TERMS = 32
# how many of the index's best hits are scored again with stems and context (``_rescored``),
# and that scoring's constants: bm25's k1 and b, and the weights of the claim's text and its
# context; tuned on CheckThat! 2020 train and dev
CANDIDATES = 100
K1 = 1.2
B = 0.75
FIELD_WEIGHTS = (1.0, 1.0)


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


def _server_words(session: Session, terms: list[str]) -> list[str]:
    """Those of ``terms`` that PostgreSQL's ``factdb_search_fold`` leaves a word of."""
    folded = session.execute(select(*[func.factdb_search_fold(literal(t)) for t in terms])).one()
    return [t for t, f in zip(terms, folded, strict=True) if f and f.split()]


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
    # a deeper list than asked for, to be scored again (``_rescored``)
    depth = max(fetch, CANDIDATES)
    forms = {t: word_forms(t) for t in terms}
    ored = list(dict.fromkeys(f for t in terms[:MAX_TERMS] for f in forms[t]))
    # document frequencies and the collection's size, when read here (SQLite)
    stats: tuple[dict[str, int], int] | None = None
    if session.get_bind().dialect.name == "sqlite":
        stats = doc_counts(session, list(dict.fromkeys(f for fs in forms.values() for f in fs)))
        counts = stats[0]
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
        # a word Python counts as one may have no letters or digits for the server's folding
        # (a Mende Kikakui digit): such a term would make the tsquery invalid, and can match
        # nothing anyway
        ored = _server_words(session, ored)
        if not ored:
            return []
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
    ranked = _rescored(session, [i for i, _ in rows], terms, forms, stats)
    return [LexicalHit(i, s) for i, s in ranked if i != exclude][:limit]


def rescore(session: Session, query: str, ids: list[int]) -> list[LexicalHit]:
    """Claims ``ids`` scored for ``query`` as ``lexical_hits`` scores the index's hits, best
    first: for candidates another layer found (the semantic layer's), so that every candidate
    has a lexical rank, a claim whose context words the query being ranked by it too."""
    terms = match_terms(query)
    if not terms or not ids:
        return []
    forms = {t: word_forms(t) for t in terms}
    return [LexicalHit(i, s) for i, s in _rescored(session, ids, terms, forms, None)]


def _field_tf(words: list[str], stems: set[str], average: float) -> dict[str, float]:
    """Each query stem's frequency in a field's ``words``, normalised for the field's length
    against its ``average`` length as bm25 does (b = ``B``)."""
    if not words:
        return {}
    norm = 1 - B + B * len(words) / (average or 1.0)
    counts: dict[str, float] = {}
    for w in words:
        if w in stems:
            counts[w] = counts.get(w, 0.0) + 1.0 / norm
    return counts


def _rescored(
    session: Session,
    ids: list[int],
    terms: list[str],
    forms: dict[str, list[str]],
    stats: tuple[dict[str, int], int] | None,
) -> list[tuple[int, float]]:
    """Claims ``ids`` ranked by BM25F over stems, best first: (claim id, score) pairs.

    The index is built for search: unstemmed, and without the claim's context (a free-text
    note: where and how it was said, or a fact-checker's headline for it). Matching wants
    both, so the index's best hits are scored again here: each claim's text (with its
    original-language text) and its context are read, folded and stemmed (``clean.stem``),
    and scored by BM25F (per-field length normalisation, ``FIELD_WEIGHTS``, k1 ``K1``) for
    the query's stems, each weighted by the idf of its commonest form in the index.
    ``stats``: the forms' document frequencies and the collection's size (``doc_counts``), when
    the caller has read them already.
    """
    if not ids:
        return []
    st = tables.statements
    fields: dict[int, tuple[list[str], list[str]]] = {
        i: (stemmed_words(f"{txt} {orig or ''}"), stemmed_words(ctx or ""))
        for i, txt, orig, ctx in session.execute(
            select(st.c.id, st.c.text, st.c.original_text, st.c.context).where(st.c.id.in_(ids))
        )
    }
    counts, total = stats or doc_counts(
        session, list(dict.fromkeys(f for t in terms for f in forms[t]))
    )
    # a stem is as frequent as the commonest form of the query words that have it
    df: dict[str, int] = {}
    for term in terms:
        s = stem(term)
        df[s] = max(df.get(s, 0), *(counts.get(f, 0) for f in forms[term]))
    idf = {s: math.log(1 + (total - n + 0.5) / (n + 0.5)) for s, n in df.items()}
    stems = set(idf)
    averages = [
        sum(len(f[k]) for f in fields.values()) / max(sum(1 for f in fields.values() if f[k]), 1)
        for k in range(2)
    ]
    scored = []
    for claim_id in ids:
        text_words, context_words = fields.get(claim_id, ([], []))
        tf = {s: 0.0 for s in stems}
        for weight, words, average in zip(
            FIELD_WEIGHTS, (text_words, context_words), averages, strict=True
        ):
            for s, n in _field_tf(words, stems, average).items():
                tf[s] += weight * n
        score = sum(idf[s] * tf[s] / (K1 + tf[s]) for s in stems if tf[s])
        scored.append((claim_id, score))
    return sorted(scored, key=lambda r: (-r[1], r[0]))
