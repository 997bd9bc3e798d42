"""Free text to match terms: URLs and tweet furniture out, hashtags and @mentions split into
words, stopwords dropped. Nothing in the text is search syntax: every term is later quoted."""

from __future__ import annotations

import functools
import re
from typing import Any

from factdb.text import fold

_URL = re.compile(r"(?:https?://|www\.|pic\.twitter\.com/)\S*", re.IGNORECASE)
_MENTION = re.compile(r"(?<!\w)@(\w+)")
# "— Name (@handle) February 25, 2016": the signature of an embedded tweet; the author's name
# is kept (the claim is often about them: "Morgan Eastwood" on Clint Eastwood), the handle not,
# and the date's month and year only where asked for (``clean_text``)
_TWEET_TAIL = re.compile(r"[—–]\s*([^—–]*)\(@\w+\)\s*(\w+)\s+\d{1,2},\s*(\d{4})\W*$")
_HASHTAG = re.compile(r"#(\w+)")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=[A-Za-z])(?=\d)")
_WORD = re.compile(r"\w+")

# Words too common to say anything about which claim is meant (English, with the commonest of
# Spanish, French and Russian); folded like the index folds them.
_STOPWORDS = """
    a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further
    had has have having he her here hers herself him himself his how i if in into is it its
    itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves
    s t don will says said say also via rt amp
    el la los las de del y en que un una por con para es al lo se su sus como
    le les des du et est une pour dans qui au aux ce ces sur pas par
    и в не на что с по это как из к у о за то а но же от
"""
STOPWORDS = frozenset(_STOPWORDS.split())


def _split_hashtag(match: re.Match[str]) -> str:
    # the tag itself and its words: #AustralianFires is also "australian fires"
    split = _CAMEL.sub(" ", match.group(1))
    return f" {match.group(1)} {split} " if split != match.group(1) else f" {split} "


def _split_mention(match: re.Match[str]) -> str:
    # a mention names who the tweet is about as often as not: @JoeBiden is "Joe Biden"
    return f" {_CAMEL.sub(' ', match.group(1))} "


def clean_text(value: str, *, keep_date: bool = False) -> str:
    """``value`` without URLs and a trailing tweet signature's handle and date; hashtags also
    split into words (``#DefundTheCBC`` -> ``DefundTheCBC Defund The CBC``), @mentions replaced
    by theirs (``@JoeBiden`` -> ``Joe Biden``).

    ``keep_date``: the signature's month and year stay ("December 2019"): fact-checks date the
    claims they check ("in December 2019"), so the lexical layer matches on them (CheckThat!
    2020 dev MAP@5 0.799 -> 0.817); the semantic layer embeds the text without them.
    """
    value = _TWEET_TAIL.sub(r" \1 \2 \3 " if keep_date else r" \1 ", value)
    value = _URL.sub(" ", value)
    value = _MENTION.sub(_split_mention, value)
    value = _HASHTAG.sub(_split_hashtag, value)
    return " ".join(value.split())


def match_terms(value: str) -> list[str]:
    """The distinct folded words of ``value`` worth matching on, in order of first appearance.

    Stopwords are dropped unless nothing else is left (a query of only common words still
    matches something). Underscores separate words, as in the index.
    """
    words = _folded_words(clean_text(value, keep_date=True))
    kept = [w for w in words if w not in STOPWORDS and not (len(w) == 1 and w.isascii())]
    return list(dict.fromkeys(kept or words))


def _folded_words(value: str) -> list[str]:
    # the words of ``value`` folded as the index folds them; underscores separate words, as in
    # the index
    return [w for w in map(fold, _WORD.findall(value.replace("_", " "))) if w]


def word_forms(term: str) -> list[str]:
    """``term`` and its likely English inflections (plural / singular, -ing, -ed), ``term``
    first: "migrants" is also "migrant", "shooting" also "shoot". The index does not stem, so
    the lexical layer ORs the forms a claim might use; forms no claim has cost nothing.

    Only for lowercase ASCII words of four letters or more; anything else is its own only form.
    """
    if len(term) < 4 or not (term.isascii() and term.isalpha()):
        return [term]
    forms = [term]
    if term.endswith("ies"):
        forms.append(term[:-3] + "y")
    elif term.endswith("es"):
        forms += [term[:-2], term[:-1]]
    elif term.endswith("s") and not term.endswith("ss"):
        forms.append(term[:-1])
    else:
        forms.append(term + "s")
    if term.endswith("y"):
        forms.append(term[:-1] + "ies")
    if term.endswith("ing") and len(term) > 5:
        raw = term[:-3]
        forms += [raw, _undoubled(raw), raw + "e", raw + "s", _undoubled(raw) + "s", raw + "ed"]
    if term.endswith("ed") and len(term) > 4:
        raw = term[:-2]
        forms += [raw, _undoubled(raw), term[:-1], raw + "ing", raw + "s", _undoubled(raw) + "s"]
    return list(dict.fromkeys(forms))


def _undoubled(stem: str) -> str:
    # "expell(ed)" may be "expel", "shopp(ing)" is "shop" (both forms are tried)
    return stem[:-1] if len(stem) > 3 and stem[-1] == stem[-2] and stem[-1] not in "aeio" else stem


@functools.cache
def _english() -> Any:
    # imported on first use: the package loads all its 36 stemmers (20 ms), which commands
    # that never rank matches should not pay for
    import snowballstemmer

    return snowballstemmer.stemmer("english")


@functools.lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The Snowball (Porter 2) English stem of a folded ASCII word ("vaccines", "vaccination"
    -> "vaccin"); any other word is its own stem. Matching compares stems, so a claim's
    "denied" answers a query's "denies"; the full-text index itself stays unstemmed for search.
    """
    if len(word) < 3 or not (word.isascii() and word.isalpha()):
        return word
    return _english().stemWord(word)


def stemmed_words(value: str) -> list[str]:
    """Every word of ``value``, folded as the index folds it and stemmed, stopwords included
    (they count towards a text's length as they do in the index)."""
    return [stem(w) for w in _folded_words(value)]
