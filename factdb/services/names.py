"""Near-match detection for names: "did you mean 'Sergey Lavrov'?"."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from rapidfuzz import fuzz, process

from factdb.errors import FactdbError
from factdb.text import clean
from factdb.textkeys import look_alike_characters, name_key, spelling_key

if TYPE_CHECKING:
    from sqlalchemy import Select
    from sqlalchemy.orm import Session

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
    """Names among ``existing`` (pairs of display name and key) that nearly match ``name``:
    misspellings ("Sergei Lavrov"), and short forms (:func:`is_short_form`: "Lavrov",
    "S. Lavrov", "AP" for "Associated Press"). The name itself (same key) is never returned.

    An alias comes as (its owner's name, the alias's key): a speaker or source matched by its
    name and by an alias is suggested once, by its name."""
    key = name_key(name)
    choices: dict[str, str] = {}
    for display, existing_key in existing:
        choices.setdefault(existing_key, display)
    choices.pop(key, None)
    # more keys than names wanted: a name and its aliases may take several of the best places
    found = process.extract(
        key,
        list(choices),
        scorer=fuzz.token_sort_ratio,
        score_cutoff=NEAR_MATCH_SCORE,
        limit=limit * 3,
    )
    matches: list[str] = []
    for match, _score, _index in found:
        if len(matches) < limit and choices[match] not in matches:
            matches.append(choices[match])
    for existing_key, display in choices.items():
        if len(matches) >= limit:
            break
        if display not in matches and is_short_form(key, existing_key):
            matches.append(display)
    return matches


def suggest(session: Session, name: str, *queries: Select[Any]) -> list[str]:
    """ "Did you mean" candidates for ``name`` among the (display name, key) rows the
    ``queries`` select: the one mechanism behind speakers' and sources' suggestions (names and
    aliases alike)."""
    rows = [row for query in queries for row in session.execute(query)]
    return near_matches(name, [(row[0], row[1]) for row in rows])


# words left out of an abbreviation: "AP" is Associated Press, "UN" the United Nations
_MINOR_WORDS = frozenset({"of", "the", "and", "for", "de", "la", "le", "du", "des", "der", "und"})
_WORD = re.compile(r"[^\W_]+")


def _words(key: str) -> list[str]:
    return _WORD.findall(key)


def is_short_form(short: str, full: str) -> bool:
    """Whether the name key ``short`` is a surname, initials or abbreviation of ``full``.

    "lavrov" and "s. lavrov" of "sergey lavrov"; "ap" of "associated press"; "afp" of
    "agence france-presse". Single words must be 3+ letters to count as a surname (a stray
    "a" is nobody's surname); an abbreviation is 2-8 letters.
    """
    words, full_words = _words(short), _words(full)
    if not words or len(full_words) < 2 or words == full_words:
        return False
    if len(words) == 1:
        word = words[0]
        if len(word) >= 3 and word == full_words[-1]:
            return True
        initials = "".join(w[0] for w in full_words if w not in _MINOR_WORDS)
        return 2 <= len(word) <= 8 and word in (initials, "".join(w[0] for w in full_words))
    if len(words) != len(full_words):
        return False
    # "s lavrov" / "s. lavrov": each word equal, or an initial of the full one; one spelled out
    spelled = sum(a == b for a, b in zip(words, full_words, strict=True))
    initials = all(
        a == b or (len(a) == 1 and b.startswith(a)) for a, b in zip(words, full_words, strict=True)
    )
    return initials and 0 < spelled < len(words)


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


# session.info key: the speakers and sources created in this transaction (see note_created)
CREATED_KEY = "created_names"


def note_created(session: Session, noun: str, name: str, kind: str, guessed: bool) -> None:
    """Remember that this transaction created speaker/source ``name`` of ``kind`` (``guessed``
    when nobody said the kind), so that the command can say so: nothing is created silently."""
    session.info.setdefault(CREATED_KEY, []).append((noun, name, kind, guessed))


def created_names(session: Session) -> list[str]:
    """One line per speaker or source this transaction created: "new speaker 'Kremlin'
    (organisation? guessed from the name)"."""
    lines = []
    for noun, name, kind, guessed in session.info.get(CREATED_KEY, []):
        shown = kind.replace("_", " ")
        said = f"{shown}? guessed from the name" if guessed else shown
        lines.append(f"new {noun} {name!r} ({said})")
    return lines
