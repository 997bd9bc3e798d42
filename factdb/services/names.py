"""Near-match detection for names: "did you mean 'Sergey Lavrov'?"."""

from __future__ import annotations

from collections.abc import Iterable

from rapidfuzz import fuzz, process

from factdb.errors import FactdbError
from factdb.text import clean
from factdb.textkeys import look_alike_characters, name_key, spelling_key

# token_sort_ratio on keys: "Lavrov Sergey" ~ "Sergey Lavrov"; 85 catches one-letter
# transliteration differences (Sergei/Sergey) without pairing unrelated short names
NEAR_MATCH_SCORE = 85


class NearMatch(FactdbError):
    """A new name nearly matches existing ones; the caller must confirm it is really new."""

    def __init__(self, noun: str, name: str, candidates: list[str]) -> None:
        self.noun = noun
        self.name = name
        self.candidates = candidates
        quoted = " or ".join(f"'{c}'" for c in candidates)
        super().__init__(f"{noun} '{name}' is not known; did you mean {quoted}?")


class LookAlike(FactdbError):
    """A name that matches a known one only through look-alike or invisible characters."""

    def __init__(self, noun: str, typed: str, known: str) -> None:
        self.known = known
        odd = look_alike_characters(typed, known)
        detail = f" ({', '.join(odd)})" if odd else ""
        super().__init__(
            f"{noun} {typed!r} is written with look-alike or invisible characters{detail}; "
            f"did you mean {known!r}?"
        )


def check_look_alike(noun: str, typed: str, known: list[str]) -> None:
    """Refuse ``typed`` (which has the name key of one of ``known``, the names a row answers
    to) unless it is spelt like one of them: case, accents and spaces aside, every letter
    the same. One row, one identity: a look-alike spelling is a typo or a trick."""
    cleaned = clean(typed)
    spelled = spelling_key(cleaned)
    if any(spelling_key(k) == spelled for k in known):
        return
    key = name_key(cleaned)
    raise LookAlike(noun, cleaned, next((k for k in known if name_key(k) == key), known[0]))


def near_matches(name: str, existing: Iterable[tuple[str, str]], limit: int = 3) -> list[str]:
    """Names among ``existing`` (pairs of display name and key) that nearly match ``name``."""
    key = name_key(name)
    choices = {}
    for display, existing_key in existing:
        choices.setdefault(existing_key, display)
    found = process.extract(
        key, list(choices), scorer=fuzz.token_sort_ratio, score_cutoff=NEAR_MATCH_SCORE, limit=limit
    )
    return [choices[match] for match, _score, _index in found]


# column widths in models.py: checked here so both backends refuse the same values, with a
# clear message (SQLite would store anything; PostgreSQL would fail with a bare type error)
NAME_MAX = 300
URL_MAX = 2000
TEXT_MAX = 100_000  # titles and notes: Text columns, but a bound keeps mistakes visible


def check_length(value: str | None, limit: int, what: str) -> str | None:
    """Refuse a value longer than its column (a NUL, like every control character, is
    cleaned away before the value is stored: ``factdb.text``)."""
    if value is None:
        return None
    if len(value) > limit:
        raise FactdbError(f"{what} is too long ({len(value)} characters; at most {limit})")
    return value


def check_name(name: str, what: str) -> str:
    """A cleaned, non-empty name whose text and key fit their columns."""
    cleaned = clean(name)
    if not cleaned:
        raise FactdbError(f"{what} cannot be empty")
    check_length(cleaned, NAME_MAX, what)
    # the key can be longer than the name: NFKD spells out ligatures ("ﬃ" → "ffi")
    check_length(name_key(cleaned), NAME_MAX, what)
    return cleaned


# the largest id a row can have (SQLite's and PostgreSQL's 64-bit integers)
MAX_ID = 2**63 - 1


def as_id(ref: str | int) -> int | None:
    """``ref`` as a row id when it is one (an int, or digits naming a number a row id can be);
    None when it can only be a name (digits past any possible id, like "0" * 5000, included)."""
    if isinstance(ref, int):
        return ref if 0 <= ref <= MAX_ID else None
    significant = ref.lstrip("0") if ref.isascii() and ref.isdigit() else None
    if significant is None or len(significant) > len(str(MAX_ID)):
        return None
    # without the leading zeros: Python refuses to convert more than 4300 digits
    number = int(significant or "0")
    return number if number <= MAX_ID else None
