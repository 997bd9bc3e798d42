"""The keys of a story file: for each table, its keys with their type and whether required.

Adding a field to the format is one line here (and its handling in apply/export): the checker,
the line finder and the documentation test all read these tables.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from factdb.textkeys import name_key

# key → (expected type, required). A list type is written as (list, item type).
Spec = dict[str, tuple[Any, bool]]
STR_LIST = (list, str)
TABLE_LIST = (list, dict)

ATTRIBUTION: Spec = {
    "source": (str, True),
    "role": (str, False),
    "verb": (str, False),
    "position": (int, False),
}
STORY: Spec = {
    "id": (str, True),
    "origin": (str, False),
    "title": (str, False),
    "language": (str, False),
    "tags": (STR_LIST, False),
    # appended to every claim's chain unless the claim already cites that source in that role
    "chain": (TABLE_LIST, False),
    "outlet": (str, False),
}
SPEAKER: Spec = {
    "name": (str, True),
    "kind": (str, False),
    "role": (str, False),
    "acts_for": (str, False),
    "aliases": (STR_LIST, False),
    "external_ids": (dict, False),
    "notes": (str, False),
}
SOURCE: Spec = {
    "name": (str, True),
    "kind": (str, False),
    "url": (str, False),
    "title": (str, False),
    "credit": (str, False),
    "published_on": (str, False),
    "based_on": (str, False),
    "notes": (str, False),
}
STATUS_EVENT: Spec = {
    "status": (str, True),
    "on": (str, True),
    "note": (str, False),
    "evidence_claim": (str, False),
    "evidence_source": (str, False),
    "recorded_by": (str, False),
    "recorded_at": (str, False),
    # a withdrawn event stays in the history but no longer counts (claim status --withdraw)
    "withdrawn_at": (str, False),
    "withdrawn_by": (str, False),
    "withdrawn_note": (str, False),
}
LINK: Spec = {
    "relation": (str, True),
    "to": (str, True),
    "on": (str, False),
    "note": (str, False),
}
VERDICT: Spec = {
    "label": (str, True),
    "reviewer": (str, False),
    "reviewed_on": (str, False),
    "url": (str, False),
    "scale": (str, False),
    "rating_value": (int, False),
    "best_rating": (int, False),
    "worst_rating": (int, False),
}
CLAIM: Spec = {
    "id": (str, True),
    "speaker": (str, True),
    "text": (str, True),
    "quote_kind": (str, False),
    "language": (str, False),
    "original_text": (str, False),
    "original_language": (str, False),
    "said_on": (str, False),
    "context": (str, False),
    "tags": (STR_LIST, False),
    # the stored identity; by default origin = the story's, external_id = "<story id>/<id>";
    # "" means none (the claim is then recognised by speaker, text and date)
    "origin": (str, False),
    "external_id": (str, False),
    "attributions": (TABLE_LIST, False),
    "status": (TABLE_LIST, False),
    "links": (TABLE_LIST, False),
    "verdicts": (TABLE_LIST, False),
}
# the nested lists of a claim and the spec of their items
CLAIM_ITEMS: dict[str, Spec] = {
    "attributions": ATTRIBUTION,
    "status": STATUS_EVENT,
    "links": LINK,
    "verdicts": VERDICT,
}
TOP: Spec = {
    "story": (dict, True),
    "speakers": (TABLE_LIST, False),
    "sources": (TABLE_LIST, False),
    "claims": (TABLE_LIST, True),
}
# the top-level lists and the spec of their tables
TOP_ITEMS: dict[str, Spec] = {"speakers": SPEAKER, "sources": SOURCE, "claims": CLAIM}

DEFAULT_ORIGIN = "story"
DEFAULT_ROLE = "reported_by"
DEFAULT_QUOTE_KIND = "direct_quote"


def type_name(expected: Any) -> str:
    """How a type is named in a problem message ("a list of strings")."""
    if isinstance(expected, tuple):
        return "a list of tables" if expected[1] is dict else "a list of strings"
    return {str: "a string", int: "an integer", dict: "a table"}[expected]


def has_type(value: Any, expected: Any) -> bool:
    """True when ``value`` is of the spec's ``expected`` type (bool is not an integer)."""
    if isinstance(expected, tuple):
        if not isinstance(value, list):
            return False
        kind = expected[1]
        return all(isinstance(v, kind) for v in value)
    if expected is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, expected)


# a story names the same few speakers and sources in thousands of claims: their keys are
# computed once each (name_key is Unicode normalisation and case folding, ~25 µs a call)
key = lru_cache(maxsize=100_000)(name_key)


# the specs are module constants: what :func:`fast_shape` works out is worked out once each
# (the spec is kept with it, so that an id reused by another dict is never mistaken for it)
_FAST: dict[int, tuple[Spec, Any]] = {}


def fast_shape(
    shape: Spec,
) -> tuple[frozenset[str], dict[str, type], tuple[str, ...], tuple[tuple[str, type], ...]]:
    """A spec as the common case is checked: its required keys, each key's exact type (a list
    for a list of items), the required string keys (not to be blank) and the list keys with the
    type of their items."""
    found = _FAST.get(id(shape))
    if found is None or found[0] is not shape:
        types = {k: (t[0] if isinstance(t, tuple) else t) for k, (t, _need) in shape.items()}
        nonblank = tuple(k for k, (t, need) in shape.items() if need and t is str)
        lists = tuple((k, t[1]) for k, (t, _need) in shape.items() if isinstance(t, tuple))
        required = frozenset(k for k, (_t, need) in shape.items() if need)
        found = _FAST[id(shape)] = (shape, (required, types, nonblank, lists))
    return found[1]  # type: ignore[no-any-return]
