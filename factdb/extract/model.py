"""The records extraction produces: spans, speakers, chain links and attributions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Span:
    """A stretch of the input text: character offsets ``[start, end)`` and the text there."""

    start: int
    end: int
    text: str

    def as_dict(self) -> dict[str, Any]:
        """The JSON form: ``{"start", "end", "text"}``."""
        return {"start": self.start, "end": self.end, "text": self.text}


@dataclass
class Speaker:
    """Who said it, resolved: a name, a kind, a role and whom the speaker acts for.

    ``known`` is the name as the caller knows it (an exact name or alias match), else None:
    the speaker is proposed as new.
    """

    name: str
    kind: str = "person"
    role: str | None = None
    acts_for: str | None = None
    known: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "name": self.known or self.name,
            "as_written": self.name,
            "kind": self.kind,
            "role": self.role,
            "acts_for": self.acts_for,
            "known": self.known is not None,
        }


@dataclass
class ChainLink:
    """One source in a claim's chain: a news agency, a statement, a photo credit, the outlet."""

    source: str
    role: str
    verb: str | None = None
    kind: str = "news_agency"
    url: str | None = None
    published_on: str | None = None
    credit: str | None = None
    # the source this one reports (an outlet's rewrite of an agency's report)
    based_on: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The JSON form (empty fields left out)."""
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass
class Attribution:
    """One attribution: content, cue and source spans plus what was resolved from them."""

    content: list[Span]
    cue: list[Span]
    source: list[Span]
    quote_kind: str = "indirect"  # direct | indirect | mixed
    verb: str = ""
    sentence: Span | None = None
    speaker: Speaker | None = None
    chain: list[ChainLink] = field(default_factory=list)
    said_on: str | None = None
    date_cue: str | None = None
    links: list[dict[str, Any]] = field(default_factory=list)
    status: list[dict[str, Any]] = field(default_factory=list)
    # for a news agency's own report ("NATO cut …, the AP reported"): the subject of the
    # content, who is then the speaker while the agency becomes the chain's first link
    about: Span | None = None
    # the index of the attribution whose content holds this one ("X said, the AP reported")
    outer: int | None = None

    @property
    def content_text(self) -> str:
        """The content's parts joined by a space."""
        return " ".join(s.text for s in self.content)

    def as_dict(self) -> dict[str, Any]:
        """The JSON Lines record."""
        return {
            "content": [s.as_dict() for s in self.content],
            "cue": [s.as_dict() for s in self.cue],
            "source": [s.as_dict() for s in self.source],
            "quote_kind": self.quote_kind,
            "verb": self.verb,
            "speaker": self.speaker.as_dict() if self.speaker else None,
            "chain": [link.as_dict() for link in self.chain],
            "said_on": self.said_on,
            "date_cue": self.date_cue,
            "links": self.links,
            "status": self.status,
            "sentence": self.sentence.as_dict() if self.sentence else None,
        }


@dataclass
class Article:
    """The input as read: its text (offsets refer to it) and what the page said about itself."""

    text: str
    title: str | None = None
    outlet: str | None = None
    url: str | None = None
    published_on: str | None = None


@dataclass
class Extraction:
    """Everything proposed for one article."""

    article: Article
    attributions: list[Attribution]
