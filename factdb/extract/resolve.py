"""Who is speaking: sources as written turned into speakers with a role and an employer.

- a name is matched against the names the caller knows, compared as data entry compares
  them (``factdb.textkeys.name_key``: case-, accent- and space-insensitive), so "Moscow" is
  the Russian government when that alias exists;
- a surname ("Lavrov") is the full name used earlier in the article ("Sergey Lavrov");
- a pronoun ("he", "they", "who") is the speaker it refers to: the nearest earlier one of the
  same kind, or the noun a relative clause hangs on;
- a description ("the ministry", "the Foreign Ministry") is the earlier or known name that
  contains its words;
- titles and appositions become the role ("NATO spokesperson Oana Lungescu": role "NATO
  spokesperson"), and an organisation named in the role is whom the speaker acts for.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from factdb.extract.model import Attribution, Speaker
from factdb.textkeys import name_key

_PERSON_PRONOUNS = {"he", "she", "him", "her", "i", "me"}
_GROUP_PRONOUNS = {"they", "them", "it", "we", "us"}
_RELATIVE = {"who", "which", "that", "whom"}
_ORG_LABELS = ("ORG", "GPE", "NORP", "FAC", "LOC")
_DETERMINERS = {"the", "a", "an", "this", "that", "these", "those"}


@dataclass(frozen=True)
class KnownName:
    """A name or alias the caller knows, the speaker name it stands for, and its kind."""

    alias: str
    speaker: str
    kind: str = "person"


class Resolver:
    """Resolves the sources of one article's attributions, in text order."""

    def __init__(self, doc: Any, known: Iterable[KnownName]) -> None:
        self.doc = doc
        self.known = {name_key(k.alias): k for k in known}
        self.seen: list[Speaker] = []  # speakers met so far, latest last

    def match_known(self, name: str) -> KnownName | None:
        """The known speaker answering to ``name`` exactly (as data entry matches)."""
        key = name_key(re.sub(r"^(the)\s+", "", name, flags=re.I))
        return self.known.get(name_key(name)) or self.known.get(key)

    def resolve(self, attribution: Attribution) -> Speaker:
        """The speaker of ``attribution`` (also remembered for later pronouns)."""
        source = attribution.about or attribution.source[0]
        span = self.doc.char_span(source.start, source.end, alignment_mode="expand")
        speaker = self._resolve_span(span, source.text) if span is not None else None
        if speaker is None:
            speaker = Speaker(name=source.text, kind="organisation")
        self.remember(speaker)
        return speaker

    def remember(self, speaker: Speaker) -> None:
        """Note a speaker for the pronouns and surnames that follow."""
        self.seen.append(speaker)

    def _resolve_span(self, span: Any, written: str) -> Speaker | None:
        root = span.root
        word = root.lower_
        if root.pos_ == "PRON" or word in _PERSON_PRONOUNS | _GROUP_PRONOUNS:
            if word in _RELATIVE and root.head.dep_ == "relcl":
                antecedent = root.head.head
                sub = self.doc[antecedent.left_edge.i : antecedent.i + 1]
                return self._resolve_span(sub, sub.text)
            person = word in _PERSON_PRONOUNS or word in _RELATIVE and root.lower_ == "who"
            return self._antecedent("person" if person else "organisation")
        people = [e for e in span.ents if e.label_ == "PERSON"]
        orgs = [e for e in span.ents if e.label_ in _ORG_LABELS]
        known = self.match_known(_strip_possessive(written))
        if known is not None:
            return Speaker(name=written, kind=known.kind, known=known.speaker)
        if people:
            name_ent = people[-1]
            return self._named(span, name_ent, "person")
        if orgs and _covers(orgs[-1], span):
            return self._named(span, orgs[-1], "organisation")
        return self._description(span, written)

    def _named(self, span: Any, ent: Any, kind: str) -> Speaker:
        """A speaker named in the span; the words around the name are its role."""
        name = _strip_possessive(ent.text)
        role_tokens = [
            t
            for t in span
            if not (ent.start <= t.i < ent.end) and not t.is_punct and t.lower_ not in ("'s",)
        ]
        while role_tokens and role_tokens[0].lower_ in _DETERMINERS:
            role_tokens.pop(0)
        role = " ".join(t.text for t in role_tokens) or None
        acts_for = None
        for e in span.ents:
            if e.label_ in ("ORG", "GPE") and e != ent:
                known = self.match_known(e.text)
                acts_for = known.speaker if known else e.text
        known = self.match_known(name)
        if known is None and kind == "person" and " " not in name:
            # a surname alone: the full name used earlier in the article
            for earlier in reversed(self.seen):
                full = earlier.known or earlier.name
                if earlier.kind == "person" and full.split()[-1] == name:
                    return Speaker(
                        name=earlier.name,
                        kind="person",
                        role=earlier.role,
                        acts_for=earlier.acts_for,
                        known=earlier.known,
                    )
        if known is None and kind == "organisation":
            # "The Foreign Ministry": a known or earlier name holding all its words
            described = self._description(span, _strip_possessive(span.text))
            if described is not None:
                return described
        if known is None:
            for earlier in reversed(self.seen):
                if earlier.name == name and earlier.known is None:
                    return Speaker(
                        name=name,
                        kind=earlier.kind,
                        role=earlier.role or role,
                        acts_for=earlier.acts_for or acts_for,
                    )
        return Speaker(
            name=name,
            kind=known.kind if known else kind,
            role=role,
            acts_for=acts_for,
            known=known.speaker if known else None,
        )

    def _antecedent(self, kind: str) -> Speaker | None:
        """The latest earlier speaker of ``kind``."""
        for earlier in reversed(self.seen):
            if earlier.kind == kind:
                return earlier
        return None

    def _description(self, span: Any, written: str) -> Speaker | None:
        """ "the ministry": the earlier or known speaker whose name contains its words."""
        words = [t.lower_ for t in span if not t.is_punct and t.lower_ not in _DETERMINERS]
        if not words:
            return None
        for earlier in reversed(self.seen):
            full = (earlier.known or earlier.name).lower()
            if all(w in full.split() for w in words):
                return earlier
        candidates = {
            k.speaker
            for k in self.known.values()
            if all(w in k.alias.lower().split() for w in words)
        }
        if len(candidates) == 1:
            (speaker,) = candidates
            kind = next(k.kind for k in self.known.values() if k.speaker == speaker)
            return Speaker(name=written, kind=kind, known=speaker)
        return None


def _strip_possessive(name: str) -> str:
    return re.sub(r"(’s|'s|’|')$", "", name.strip())


def _covers(ent: Any, span: Any) -> bool:
    """True when the entity is the span's head noun phrase, not a modifier in it."""
    return ent.start <= span.root.i < ent.end


def resolve_speakers(doc: Any, attributions: list[Attribution], known: Iterable[KnownName]) -> None:
    """Set the speaker of each attribution, in text order."""
    resolver = Resolver(doc, known)
    for attribution in attributions:
        attribution.speaker = resolver.resolve(attribution)
