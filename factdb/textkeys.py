"""Name and text keys: what "the same name" and "the same claim" mean.

Names compare case-, accent- and whitespace-insensitively: ``name_key("  SERGÉY   lavrov")``
equals ``name_key("Sergey Lavrov")``. Scripts are kept as they are (Cyrillic stays Cyrillic);
aliases bridge scripts.
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata

from factdb.vocab import UNKNOWN_SPEAKER

_SPACE = re.compile(r"\s+")
CONTENT_KEY_DIGITS = 16


def clean_text(value: str) -> str:
    """Unicode NFC with runs of spaces and tabs collapsed on each line and the ends trimmed."""
    value = unicodedata.normalize("NFC", value)
    lines = [_SPACE.sub(" ", line).strip() for line in value.splitlines()]
    return "\n".join(lines).strip()


def name_key(name: str) -> str:
    """Case-, accent- and whitespace-insensitive comparison key for a name."""
    # casefold before decomposing too: some letters carry an accent that casefolding turns
    # into a letter (Greek "ᾀ" folds to "ἀι", as its upper case "ἈΙ" does)
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SPACE.sub(" ", stripped.casefold()).strip()


@functools.lru_cache(maxsize=4096)  # asked once per exported or reported claim
def is_unknown_speaker(name: str) -> bool:
    """Whether ``name`` is the reserved name of the unknown speaker (``vocab.UNKNOWN_SPEAKER``)."""
    return name_key(name) == name_key(UNKNOWN_SPEAKER)


def content_key(speaker_id: int, text: str, said_on: str | None) -> str:
    """Stable key of a claim: the same speaker saying the same words on the same date.

    The first :data:`CONTENT_KEY_DIGITS` hex digits of the SHA-1 of :func:`content_identity`
    (64 bits: short enough to keep the unique index small, see migration 0003). Equal keys of
    different claims are improbable but possible: compare identities before merging.
    """
    payload = "\x1f".join(map(str, content_identity(speaker_id, text, said_on)))
    return hashlib.sha1(payload.encode("utf-8")).hexdigest()[:CONTENT_KEY_DIGITS]


def content_identity(speaker_id: int, text: str, said_on: str | None) -> tuple[int, str, str]:
    """What makes two claims the same: speaker, text (NFKC, case-folded, spaces collapsed) and
    the date said as written (``2021``, ``2021-10`` or ``2021-10-18``)."""
    normalised = _SPACE.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()
    return speaker_id, normalised, said_on or ""


def normalise_code(code: str) -> str:
    """The canonical spelling of a status code: lower case, ``_`` for spaces and hyphens."""
    return "_".join(code.strip().lower().replace("-", " ").split())


def normalise_tag(tag: str) -> str:
    """Tags are compared and stored in lower case with single spaces."""
    return " ".join(tag.split()).lower()


def label_key(label: str) -> str:
    """Comparison key of a rating label (the rule frozen in migration 0001 as ``_label_key``)."""
    decomposed = unicodedata.normalize("NFKD", label)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join(stripped.replace("-", " ").replace("_", " ").split())
