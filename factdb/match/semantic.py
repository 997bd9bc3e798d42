"""The semantic layer: multilingual sentence embeddings stored in the database, read back and
scored against a query.

The models, and the thread that loads them, are ``factdb.match.embedding``'s.

A claim's vector is the models' L2-normalised vectors side by side, each stored as int8 (each
component scaled by 127 / that part's largest component): 1,280 bytes a claim, and each cosine
is unchanged up to rounding (each part is re-normalised when scored). A row names the models
that made it, so vectors of another model are never compared.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import delete, exists, func, insert, select
from sqlalchemy.orm import Session

from factdb import tables as t
from factdb.errors import FactdbError
from factdb.match.embedding import (
    DIM,
    MODEL,
    PARTS,
    embed,
    embed_query,
    encoders,
    models_for,
    query_language,
    start_loading,
)

BATCH = 256
# stored vectors read at a time: 10 MiB of int8 whatever the number of claims
READ_BLOCK = 8192
# stored vectors widened to float32 at a time for a matrix product: one 5 MiB buffer, reused
# (a fresh array a block costs more in page faults than the product itself)
WIDEN_ROWS = 1024


class NoVectors(FactdbError):
    """The database has no claim vectors of these models yet."""


def _no_vectors(session: Session) -> NoVectors:
    """The error saying that the database has no vectors of ``MODEL``, and what to do."""
    cv = t.claim_vectors
    other = session.scalar(select(cv.c.model).where(cv.c.model != MODEL).limit(1))
    if other is not None:
        return NoVectors(
            f"this database's claim vectors are of another model ({other}): "
            "run 'factdb match index' to build this version's"
        )
    return NoVectors(
        "this database has no claim vectors yet: run 'factdb match index' to build them"
    )


def to_bytes(vectors: Any) -> list[bytes]:
    """int8 bytes of each row of ``vectors`` (each model's part scaled so that its largest
    component is ±127)."""
    import numpy as np

    scaled = np.empty(vectors.shape, dtype=np.float32)
    for _name, start, end in PARTS:
        part = vectors[:, start:end]
        peak = np.abs(part).max(axis=1, keepdims=True)
        peak[peak == 0] = 1.0
        scaled[:, start:end] = part / peak * 127
    return [row.tobytes() for row in np.rint(scaled).astype(np.int8)]


def document(text: str, speaker: str) -> str:
    """What is embedded for a claim: who said it and what ("NATO says: ...").

    Queries name the speaker as often as not ("NATO says the envoys were spies"); with the
    speaker in the claim's vector such a query finds the claim rather than another about the
    same subject (on the seed story, cosine 0.67 instead of 0.53).
    """
    return f"{speaker} says: {text}"


def store(session: Session, claims: list[tuple[int, str]]) -> int:
    """Embed and store the vectors of ``claims`` ((id, document) pairs, see ``document``),
    replacing any old ones."""
    if not claims:
        return 0
    ids = [i for i, _ in claims]
    blobs = to_bytes(embed([text for _, text in claims]))
    cv = t.claim_vectors
    session.execute(delete(cv).where(cv.c.statement_id.in_(ids)))
    session.execute(
        insert(cv),
        [{"statement_id": i, "model": MODEL, "vector": b} for i, b in zip(ids, blobs, strict=True)],
    )
    return len(ids)


def _has_vector() -> Any:
    """Whether the statement has a vector of this model: a correlated EXISTS, one primary-key
    probe a claim (``NOT IN`` a subquery re-read every vector for each batch of a build)."""
    st, cv = t.statements, t.claim_vectors
    return exists().where(cv.c.statement_id == st.c.id, cv.c.model == MODEL).correlate(st)


def missing(session: Session) -> int:
    """How many claims have no vector of this model."""
    query = select(func.count()).select_from(t.statements).where(~_has_vector())
    return session.scalar(query) or 0


def missing_batches(session: Session, size: int = BATCH) -> Iterator[list[tuple[int, str]]]:
    """(id, document) batches of the claims without a vector, in id order.

    Each batch is read after the previous one was stored, so the caller may commit between
    batches: an interrupted build resumes where it stopped.
    """
    st, sp = t.statements, t.speakers
    after = 0
    while True:
        rows = session.execute(
            select(st.c.id, st.c.text, sp.c.name)
            .join(sp, sp.c.id == st.c.speaker_id)
            .where(st.c.id > after, ~_has_vector())
            .order_by(st.c.id)
            .limit(size)
        ).all()
        if not rows:
            return
        after = rows[-1][0]
        yield [(i, document(text, speaker)) for i, text, speaker in rows]


class VectorIndex:
    """Every stored vector of ``MODEL``, read once, kept as int8 blocks for scoring.

    The vectors stay int8 in memory (1,280 bytes a claim: 128 MB for 100,000 claims, where a
    float32 matrix would take 512 MB and its normalisation as much again in temporaries);
    ``cosines`` widens one block at a time to float32 for the matrix product.
    """

    def __init__(self, ids: Any, blocks: list[Any]) -> None:
        import numpy as np

        self.ids = ids
        self.blocks = blocks
        # 1 / the norm of each vector's part of each model, (rows, models) (``take_norms``; the
        # stored int8 scale is arbitrary: the cosine re-normalises)
        self.inverse_norms: Any = None
        # claim ids in ascending order and where each is, for looking single claims up
        self._order = np.argsort(ids, kind="stable")
        self._sorted = ids[self._order]
        # (DIM, models): 1 where a column belongs to the model, so that one matrix product
        # sums each model's part of a row apart
        self._parts = np.zeros((DIM, len(PARTS)), dtype=np.float32)
        for n, (_name, start, end) in enumerate(PARTS):
            self._parts[start:end, n] = 1.0

    def __len__(self) -> int:
        return len(self.ids)

    def _widened(self) -> Iterator[tuple[int, Any]]:
        """(first row, float32 copy) of every ``WIDEN_ROWS`` stored rows, in order, each
        written into the same buffer (valid until the next one)."""
        import numpy as np

        buffer = np.empty((WIDEN_ROWS, DIM), dtype=np.float32)
        start = 0
        for block in self.blocks:
            for at in range(0, len(block), WIDEN_ROWS):
                part = block[at : at + WIDEN_ROWS]
                wide = buffer[: len(part)]
                wide[...] = part
                yield start + at, wide
            start += len(block)

    def take_norms(self) -> None:
        """Take 1 / the norm of each vector's part of each model (once; the first ``cosines``
        does it): exact sums of the int8 squares."""
        import numpy as np

        if self.inverse_norms is not None:
            return
        norms = np.empty((len(self.ids), len(PARTS)), dtype=np.float32)
        start = 0
        for block in self.blocks:
            for n, (_name, first, end) in enumerate(PARTS):
                part = block[:, first:end]
                squares = np.einsum("ij,ij->i", part, part, dtype=np.int32)
                norms[start : start + len(block), n] = squares
            start += len(block)
        norms = np.sqrt(norms)
        norms[norms == 0] = 1.0  # an all-zero part scores 0 against everything
        self.inverse_norms = 1.0 / norms

    def cosines(self, query: Any) -> Any:
        """(models, rows): the cosine similarity of each model's part of the query (its unit
        vectors side by side, as ``embed_query`` gives) to that part of every stored vector."""
        import numpy as np

        self.take_norms()
        # the query's parts in separate columns: one product gives every model's dot products
        by_part = self._parts * query[:, None]
        out = np.empty((len(self.ids), len(PARTS)), dtype=np.float32)
        for start, wide in self._widened():
            np.dot(wide, by_part, out=out[start : start + len(wide)])
        out *= self.inverse_norms
        return out.T

    def positions(self, claim_ids: list[int]) -> dict[int, int]:
        """Where each of ``claim_ids`` that has a vector is in ``ids`` (others left out)."""
        import numpy as np

        if not claim_ids or not len(self.ids):
            return {}
        wanted = np.asarray(claim_ids, dtype=np.int64)
        at = np.minimum(np.searchsorted(self._sorted, wanted), len(self._sorted) - 1)
        found = self._sorted[at] == wanted
        return {int(c): int(self._order[a]) for c, a, f in zip(wanted, at, found, strict=True) if f}


def load_vectors(session: Session, block: int = READ_BLOCK) -> VectorIndex:
    """Every stored vector of this model, read ``block`` rows at a time into int8 arrays.

    NoVectors when there is none; an error when a stored vector is not ``DIM`` bytes.
    """
    import numpy as np

    driver: Any = session.connection().connection.dbapi_connection
    dialect = session.get_bind().dialect
    if dialect.name == "sqlite" and _utf8(driver):
        read = _sqlite_blocks(driver, block)
    else:
        read = _cursor_blocks(session, driver, block)
    ids, blocks = [], []
    for claim_ids, raw in read:
        if len(raw) != len(claim_ids) * DIM:
            raise FactdbError(f"a stored vector of {MODEL} is not {DIM} bytes: rebuild them")
        ids.append(claim_ids)
        blocks.append(np.frombuffer(raw, dtype=np.int8).reshape(len(claim_ids), DIM))
    if not blocks:
        raise _no_vectors(session)
    return VectorIndex(np.concatenate(ids), blocks)


def _utf8(driver: Any) -> bool:
    """Whether a SQLite database keeps its text as UTF-8 (``group_concat`` then joins blobs
    byte for byte; in a UTF-16 one it would transcode them)."""
    cursor = driver.cursor()
    try:
        return str(cursor.execute("PRAGMA encoding").fetchone()[0]).upper() == "UTF-8"
    finally:
        cursor.close()


# a block of stored vectors in claim id order, joined (the two aggregates see the rows in the
# same order, so the ids and the vectors line up)
_SQLITE_BLOCK = (
    "SELECT max(statement_id), group_concat(statement_id), "
    "CAST(group_concat(vector, '') AS BLOB) FROM ("
    "SELECT statement_id, vector FROM claim_vectors WHERE model = ? AND statement_id > ? "
    "ORDER BY statement_id LIMIT ?)"
)


def _sqlite_blocks(driver: Any, block: int) -> Iterator[tuple[Any, bytes]]:
    """(claim ids, their vectors' bytes end to end) of ``block`` stored vectors at a time,
    joined by SQLite (``group_concat``) in one step a block.

    Row by row, the driver hands the interpreter lock back and forth for every row while the
    models load in another thread, which holds it most of the time: 100,000 vectors took
    0.8-1.2 s to read beside the load instead of 0.2 s alone. Joined by SQLite, a block is
    one call that runs without the lock, beside the load.
    """
    import numpy as np

    cursor = driver.cursor()
    try:
        after = -(2**63)  # below any SQLite integer
        while True:
            last, claim_ids, raw = cursor.execute(_SQLITE_BLOCK, (MODEL, after, block)).fetchone()
            if last is None:
                return
            yield np.array(str(claim_ids).split(","), dtype=np.int64), bytes(raw)
            after = last
    finally:
        cursor.close()


def _cursor_blocks(session: Session, driver: Any, block: int) -> Iterator[tuple[Any, bytes]]:
    """(claim ids, their vectors' bytes end to end) of ``block`` stored vectors at a time,
    from the driver's own cursor in the session's transaction (a server-side one on
    PostgreSQL), as plain tuples: SQLAlchemy's Row objects cost ~0.1 s of interpreter time a
    100,000 claims."""
    import numpy as np

    cv = t.claim_vectors
    query = select(cv.c.statement_id, cv.c.vector).where(cv.c.model == MODEL)
    dialect = session.get_bind().dialect
    compiled = query.compile(dialect=dialect)
    params: Any = compiled.params
    if compiled.positiontup is not None:  # SQLite's "?" placeholders
        params = tuple(compiled.params[name] for name in compiled.positiontup)
    # a named cursor is psycopg's server-side one: the rows stream instead of arriving at once
    named = dialect.name == "postgresql"
    cursor = driver.cursor(name="factdb_vectors") if named else driver.cursor()
    try:
        cursor.execute(str(compiled), params)
        while rows := cursor.fetchmany(block):
            claim_ids, blobs = zip(*rows, strict=True)
            # bytes, or memoryviews on some drivers: both join
            yield np.array(claim_ids, dtype=np.int64), b"".join(blobs)
    finally:
        cursor.close()


def ranker(session: Session) -> Any:
    """A semantic ranker for ``match_claims`` over the vectors stored now (read once).

    The ranker gives each model's cosine ({model name: {claim id: cosine}}) of the union of
    each model's ``shortlist`` best claims and the ``others`` that have vectors, for the
    models that know the query's language (``models_for``).

    The models load in a thread (``embedding.start_loading``: started here unless the command
    started it earlier) while this thread reads the vectors and the caller goes on (the
    lexical layer's query); a query waits for the load. NoVectors when the database has none
    (before any load starts); SemanticUnavailable without the extra.
    """
    import numpy as np

    encoders()  # the extra's absence is its one clear error, before anything starts
    cv = t.claim_vectors
    if session.scalar(select(cv.c.statement_id).where(cv.c.model == MODEL).limit(1)) is None:
        raise _no_vectors(session)
    loading = start_loading()
    try:
        vectors = load_vectors(session)
    except BaseException:
        loading.cancel()
        raise

    def rank(
        _session: Session, query: str, shortlist: int, exclude: int | None, others: list[int]
    ) -> dict[str, dict[int, float]]:
        loading.wait()
        # the models that know the query's language (all but the English one, for a query
        # in another)
        counted = models_for(query_language(query))
        cosines = {
            name: per_model
            for (name, _start, _end), per_model in zip(
                PARTS, vectors.cosines(embed_query(query)), strict=True
            )
            if name in counted
        }
        k = min(shortlist + 1, len(vectors))
        # each model's shortlist, and the other candidates: every one scored by every model
        rows = {
            int(n) for per_model in cosines.values() for n in np.argpartition(-per_model, k - 1)[:k]
        }
        rows.update(vectors.positions(others).values())
        found = {
            name: {int(vectors.ids[n]): float(per_model[n]) for n in rows}
            for name, per_model in cosines.items()
        }
        for per_model in found.values():
            per_model.pop(exclude, None)  # type: ignore[arg-type]
        return found

    return rank
