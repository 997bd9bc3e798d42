"""From an article to its proposed attributions: parse, find, resolve, chain, date, link."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

from factdb.extract import dates
from factdb.extract.attributions import find_attributions
from factdb.extract.channels import agency, channel_links, main_agency
from factdb.extract.model import Article, Attribution, ChainLink, Extraction, Span
from factdb.extract.nlp import pipeline
from factdb.extract.resolve import KnownName, resolve_speakers

__all__ = ["KnownName", "agency", "extract_article"]

# a photo caption's credit line: "Russian Foreign Ministry Press Service via AP"
_CREDIT = re.compile(r"(?:^|(?<=[.!?]) )([^.\n]{2,80}? via (?:AP|Getty Images|Reuters|AFP))\s*$")
_STATEMENT = re.compile(r"\bin an? (?:\w+ )?statement\b", re.I)
_DENY_OBJECTS = re.compile(r"\b(allegations?|accusations?|claims?|charges?|reports?)\b", re.I)
_ACCUSING = {"accuse", "allege", "claim", "charge", "say"}


def extract_article(
    article: Article, known: Iterable[KnownName] = (), *, doc: Any = None
) -> Extraction:
    """Every attribution in ``article``, with speaker, chain, date and plainly stated links.

    ``known`` lists the names (and aliases) the caller knows; ``doc`` is a parse of
    ``article.text`` made earlier (the benchmark parses once).
    """
    if doc is None:
        doc = pipeline()(article.text)
    # an attribution with no source ("allegations of fraud") says no one's words to record
    found = [a for a in find_attributions(doc) if a.source]
    _nest(found)
    _agency_reports(found, doc)
    resolve_speakers(doc, found, known)
    today = dates.article_date(article.published_on)
    if today is None:
        today = dates.date_in_text(article.text)
        if today is not None and article.published_on is None:
            article.published_on = today.isoformat()
    credits = _credits(article.text)
    for attribution in found:
        _date(attribution, doc, today)  # first: a statement in the chain takes its date
        _chain(attribution, found, credits, article)
    _whole_article_agency(article, found)
    _statuses(found, doc)
    return Extraction(article=article, attributions=found)


def _nest(found: list[Attribution]) -> None:
    """Mark each attribution whose cue lies in another's content ("X said, the AP reported")."""
    for i, inner in enumerate(found):
        cue = inner.cue[0]
        best = None
        for j, outer in enumerate(found):
            if j == i:
                continue
            if any(s.start <= cue.start < s.end for s in outer.content):
                size = sum(s.end - s.start for s in outer.content)
                if best is None or size < best[0]:
                    best = (size, j)
        inner.outer = best[1] if best else None


def _agency_reports(found: list[Attribution], doc: Any) -> None:
    """An agency's report of a fact ("NATO cut …, the AP reported") is about its subject."""
    for index, attribution in enumerate(found):
        if agency(attribution.source[0].text) is None:
            continue
        if any(a.outer == index for a in found):
            continue
        first = attribution.content[0]
        span = doc.char_span(first.start, first.end, alignment_mode="expand")
        if span is None:
            continue
        subjects = [t for t in span.root.children if t.dep_ in ("nsubj", "nsubjpass")]
        if subjects and subjects[0].pos_ in ("PROPN", "NOUN"):
            sub = subjects[0]
            start = sub.left_edge.idx
            end = sub.right_edge.idx + len(sub.right_edge.text)
            attribution.about = Span(start, end, doc.text[start:end])


def _chain(
    attribution: Attribution,
    found: list[Attribution],
    credits: list[tuple[int, int, str]],
    article: Article,
) -> None:
    """The sources between the speaker and the reader, innermost first; the outlet last.

    The speaker's own channel comes first ("in a statement", "told reporters"), then the
    agencies that carried the words ("the AP reported"), the photo credit, and the article's
    outlet, based on the agency when the article says it reports the agency's words.
    """
    sentence = attribution.sentence
    if sentence is not None and _STATEMENT.search(sentence.text):
        attribution.verb = f"{attribution.verb} {_STATEMENT.search(sentence.text).group(0)}"
    speaker = attribution.speaker
    chain: list[ChainLink] = channel_links(
        attribution,
        (speaker.known or speaker.name) if speaker else attribution.source[0].text,
        speaker is not None and speaker.kind == "organisation",
    )
    for link in chain:
        if link.role == "primary_document":
            link.published_on = attribution.said_on
    if attribution.about is not None:
        name = agency(attribution.source[0].text)
        verb = f"{attribution.source[0].text} {attribution.verb}"
        chain.append(
            ChainLink(source=name or attribution.source[0].text, role="reported_by", verb=verb)
        )
    outer_index = attribution.outer
    seen = 0
    while outer_index is not None and seen < 5:
        outer = found[outer_index]
        name = agency(outer.source[0].text)
        if name is not None:
            role = "according_to" if outer.verb == "according to" else "reported_by"
            verb = (
                outer.verb
                if outer.verb == "according to"
                else f"{outer.source[0].text} {outer.verb}"
            )
            chain.append(ChainLink(source=name, role=role, verb=verb))
        outer_index = outer.outer
        seen += 1
    for start, end, credit in credits:
        if sentence is not None and start <= sentence.start < end:
            chain.append(
                ChainLink(
                    source=_credit_source(credit),
                    role="photo_credit",
                    kind=_credit_kind(credit),
                    credit=credit,
                    published_on=article.published_on,
                )
            )
    if article.outlet or article.url:
        agencies = [c.source for c in chain if c.kind == "news_agency"]
        chain.append(
            ChainLink(
                source=article.outlet or article.url or "",
                role="published_by",
                kind="outlet",
                url=article.url,
                published_on=article.published_on,
                based_on=agencies[-1] if agencies else None,
            )
        )
    attribution.chain = _dedupe(chain)


def _whole_article_agency(article: Article, found: list[Attribution]) -> None:
    """The agency the article says it reports joins every chain, before the photo credit
    and the outlet (the seed's order: reported by the AP, the photo by AFP via Getty)."""
    name = main_agency(article.text, [a.chain for a in found])
    if name is None:
        return
    for a in found:
        if agency(a.source[0].text) == name or any(c.source == name for c in a.chain):
            continue
        outer = ("photo_credit", "published_by")
        at = next((i for i, c in enumerate(a.chain) if c.role in outer), len(a.chain))
        a.chain.insert(at, ChainLink(source=name, role="reported_by"))
        for link in a.chain[at + 1 :]:
            if link.role == "published_by":
                link.based_on = name


def _dedupe(chain: list[ChainLink]) -> list[ChainLink]:
    """The chain with each source once, where it first comes ("told the AP, the AP reported")."""
    seen: set[str] = set()
    out = []
    for link in chain:
        if link.source not in seen:
            seen.add(link.source)
            out.append(link)
    return out


def _credits(text: str) -> list[tuple[int, int, str]]:
    """Paragraphs ending with a photo credit: (start, end, credit)."""
    out = []
    for para in re.finditer(r"[^\n]+", text):
        m = _CREDIT.search(para.group())
        if m:
            out.append((para.start(), para.end(), m.group(1).strip()))
    return out


def _credit_source(credit: str) -> str:
    """The source a credit names: "X via AP" is X; "Name/AFP via Getty Images" the agency."""
    before, _, after = credit.partition(" via ")
    if "/" in before:
        return f"{before.rsplit('/', 1)[1]} via {after}"
    return before


def _credit_kind(credit: str) -> str:
    before = credit.partition(" via ")[0]
    return "press_service" if "press service" in before.lower() else "photo_agency"


def _date(attribution: Attribution, doc: Any, today: dt.date | None) -> None:
    """The date the statement was made: a date phrase of its sentence outside its content."""
    sentence = attribution.sentence
    if sentence is None:
        return
    inside = attribution.content
    for ent in doc.char_span(sentence.start, sentence.end, alignment_mode="expand").ents:
        if ent.label_ not in ("DATE", "TIME"):
            continue
        if any(s.start <= ent.start_char < s.end for s in inside):
            continue
        value = dates.resolve(ent.text, today)
        if value is not None:
            attribution.said_on = value
            attribution.date_cue = ent.text
            return


def _statuses(found: list[Attribution], doc: Any) -> None:
    """ "Moscow has denied the allegations": a proposed denies link and a denied status."""
    for i, attribution in enumerate(found):
        cue = attribution.cue[0]
        token = doc.char_span(cue.start, cue.end, alignment_mode="expand")
        if token is None or token.root.lemma_.lower() != "deny":
            continue
        if not _DENY_OBJECTS.search(attribution.content_text):
            continue
        for earlier in reversed(found[:i]):
            etoken = doc.char_span(
                earlier.cue[0].start, earlier.cue[0].end, alignment_mode="expand"
            )
            if etoken is not None and etoken.root.lemma_.lower() in _ACCUSING:
                attribution.links.append(
                    {"relation": "denies", "to": found.index(earlier), "proposed": True}
                )
                earlier.status.append(
                    {
                        "status": "denied",
                        "on": attribution.said_on,
                        "evidence": found.index(attribution),
                        "proposed": True,
                    }
                )
                break


def span_text(spans: list[Span]) -> str:
    """Spans' texts joined by a space."""
    return " ".join(s.text for s in spans)
