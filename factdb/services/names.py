"""Near-match detection for names: "did you mean 'Sergey Lavrov'?"."""

from __future__ import annotations

from collections.abc import Iterable

from rapidfuzz import fuzz, process

from factdb.errors import FactdbError
from factdb.textkeys import name_key

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
