"""Name and text keys: what "the same name" and "the same claim" mean.

Names compare case-, accent- and whitespace-insensitively: ``name_key("  SERGÉY   lavrov")``
equals ``name_key("Sergey Lavrov")``. Both keys also ignore invisible characters (controls,
format characters such as the zero-width space and joiner, and the default-ignorable Hangul
fillers, which are read as the blank they show) and compare look-alike letters by their
UTS #39 skeleton (ICU's SpoofChecker), so that ``Ѕergey Lavrоv`` with a Cyrillic Ѕ and о is
Sergey Lavrov. A key is only ever compared: the stored text keeps its own script (Cyrillic
"Сергей Лавров" stays Cyrillic, and its key is not Sergey Lavrov's; aliases bridge scripts).
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from typing import Any

from factdb.text import strip_invisible
from factdb.vocab import UNKNOWN_SPEAKER

_SPACE = re.compile(r"\s+")
CONTENT_KEY_DIGITS = 16

# blank-looking letters that ICU drops as default-ignorable: a name written with one between
# its words reads as two words, so they count as a space (U+2800 is the blank braille cell)
_BLANKS = dict.fromkeys([0x115F, 0x1160, 0x3164, 0xFFA0, 0x2800], " ")


@functools.cache
def _spoof_checker() -> Any:
    # imported on first use: ICU's data is large, and listings never compute a key
    import icu

    return icu.SpoofChecker()


def skeleton(text: str) -> str:
    """The UTS #39 skeleton of ``text`` (ICU): look-alike characters map to one prototype and
    default-ignorable characters are dropped. A comparison key, never text to store."""
    return _spoof_checker().getSkeleton(0, text)  # type: ignore[no-any-return]


class _FoldTable(dict[int, str]):
    """Each (case-folded) character's look-alike prototype, asked of ICU once per character.

    A skeleton is case-sensitive (Cyrillic "В" looks like "B", its lower case "в" like no
    Latin letter) while keys must not be: a character counts as the Latin letter its lower
    case or, failing that, its upper case looks like, else as its lower case's prototype.
    """

    def __missing__(self, code: int) -> str:
        char = chr(code)
        lower = skeleton(char).casefold()
        result = lower
        if not lower.isascii():
            upper = skeleton(char.upper()).casefold()
            if upper.isascii():
                result = upper
        self[code] = result
        return result


_FOLD = _FoldTable()


def _unaccent(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _fold_name(name: str) -> str:
    """A name's key before spaces are collapsed."""
    text = strip_invisible(name).translate(_BLANKS)
    # until nothing changes, so that a key is its own key: a prototype may carry a mark or
    # be a compatibility character ("%" looks like "º/₀", which NFKD spells "o/0")
    for _ in range(4):
        folded = _unaccent(_unaccent(text).translate(_FOLD))
        if folded == text:
            break
        text = folded
    return text


def _fold_claim(text: str) -> str:
    """A claim text's identity before spaces are collapsed (accents count in claims)."""
    text = unicodedata.normalize("NFKC", strip_invisible(text).translate(_BLANKS))
    return unicodedata.normalize("NFD", text.casefold()).translate(_FOLD)


@functools.cache
def _ascii_tables() -> tuple[dict[int, str], dict[int, str]]:
    """The name and claim folds of each ASCII character: for printable ASCII text both folds
    work a character at a time, so a table gives the same result without the normalisation
    steps (tests/test_text_identity.py compares the two). Not for controls: an escape
    sequence is removed whole."""
    chars = [chr(c) for c in range(128)]
    return {ord(c): _fold_name(c) for c in chars}, {ord(c): _fold_claim(c) for c in chars}


class _AsciiFold:
    """A character-by-character table applied to ASCII text at C speed: the one-to-one part
    by ``bytes.translate`` (``str.translate`` looks each character up in a dict, ten times
    slower), the few characters with longer prototypes ("m" looks like "rn") by replace."""

    def __init__(self, table: dict[int, str]) -> None:
        single = {k: v for k, v in table.items() if len(v) == 1 and v.isascii()}
        self.bytes_table = bytes(ord(single.get(b, chr(b))) for b in range(256))
        self.deleted = bytes(k for k, v in table.items() if not v)
        self.longer = [
            (bytes([k]), v.encode("utf-8"))
            for k, v in table.items()
            if len(v) > 1 or not v.isascii()
        ]
        # replacing after translating is right only if no one-to-one result is replaced again
        sources = {k for k, _v in self.longer}
        if any(v.encode() in sources for v in single.values()):
            raise RuntimeError("ASCII fold table: a one-to-one result has a longer prototype")

    def __call__(self, text: str) -> str:
        data = text.encode("ascii").translate(self.bytes_table, self.deleted)
        for source, prototype in self.longer:
            if source in data:
                data = data.replace(source, prototype)
        return data.decode("utf-8")


@functools.cache
def _ascii_folds() -> tuple[_AsciiFold, _AsciiFold]:
    names, claims = _ascii_tables()
    return _AsciiFold(names), _AsciiFold(claims)


@functools.lru_cache(maxsize=65_536)  # names repeat: an import resolves each one many times
def name_key(name: str) -> str:
    """Case-, accent-, whitespace- and look-alike-insensitive comparison key for a name."""
    plain = name.isascii() and name.isprintable()
    folded = _ascii_folds()[0](name) if plain else _fold_name(name)
    return _SPACE.sub(" ", folded).strip()


def spelling_key(name: str) -> str:
    """A name as a reader would type it again: case-, accent- and space-insensitive, but every
    letter its own. Two names with one :func:`name_key` and different spelling keys differ
    only by look-alike or invisible characters."""
    return _SPACE.sub(" ", _unaccent(name)).strip()


def look_alike_characters(typed: str, known: str) -> list[str]:
    """The characters of ``typed`` that ``known`` lacks (else those of ``known`` that
    ``typed`` lacks), named (``U+0405 CYRILLIC CAPITAL LETTER DZE``): what makes a name that
    matches only by look-alikes differ."""
    found: dict[str, None] = {}
    for one, other in ((typed, known), (known, typed)):
        own = set(_unaccent(other))
        found = dict.fromkeys(c for c in one if not own.issuperset(_unaccent(c)) and c != " ")
        if found:
            break
    return [f"U+{ord(c):04X} {unicodedata.name(c, 'unnamed character')}" for c in found]


def fold_ascii_claim(text: str) -> str:
    """:func:`content_identity`'s text for cleaned ASCII text (no tab, no run of spaces, no
    line break): the loader's fast path."""
    return _ascii_folds()[1](text)


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
    """What makes two claims the same: speaker, text (NFKC, invisible characters ignored,
    look-alikes by skeleton, case-folded, spaces collapsed) and the date said as written
    (``2021``, ``2021-10`` or ``2021-10-18``)."""
    plain = text.isascii() and text.isprintable()
    folded = _ascii_folds()[1](text) if plain else _fold_claim(text)
    return speaker_id, _SPACE.sub(" ", folded).strip(), said_on or ""


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
