"""How a speaker's words reached the reporter: the agencies, statements and interviews.

"in a statement", "in an interview with CNN", "told reporters", "told the AP": each is a
source of the claim's chain, named and given its role and verb, the speaker's own channel
first (docs/story-files.md lists the roles).
"""

from __future__ import annotations

import re

from factdb.extract.model import Attribution, ChainLink

# news agencies by the names articles use for them: (pattern, name recorded)
AGENCIES = (
    (r"(the )?(Associated Press|AP)", "Associated Press"),
    (r"Reuters", "Reuters"),
    (r"(AFP|Agence France-Presse)", "Agence France-Presse"),
    (r"(TASS|Tass)", "TASS"),
    (r"Interfax", "Interfax"),
    (r"(RIA Novosti|RIA)", "RIA Novosti"),
    (r"Bloomberg( News)?", "Bloomberg"),
    (r"(dpa|Deutsche Presse-Agentur)", "Deutsche Presse-Agentur"),
    (r"Xinhua", "Xinhua"),
    (r"(UPI|United Press International)", "United Press International"),
)
_AGENCY_RE = [(re.compile(rf"^{p}$", re.I if "AP" not in p else 0), n) for p, n in AGENCIES]

_NAME = r"(?:the )?[A-Z][\w.&'’-]*(?: (?:[A-Z][\w.&'’-]*|of|and|&))*"
# "in a statement", "in a separate written statement", "in an interview with CNN"
_MEDIUM = re.compile(
    rf"\bin an? (?:[\w-]+ ){{0,2}}?(statement|news release|press release|letter|email|"
    rf"e-mail|tweet|post|interview|news conference|press conference)\b"
    rf"(?: (?:with|to|on) ({_NAME}))?"
)
# "told reporters", "told the AP", "told Fox News"
_TOLD = re.compile(rf"\b(?:told|telling|tells) (reporters|journalists|the press|the media|{_NAME})")
# words that make a name a news outlet's: "Fox News", "The Washington Post", "CNN"
_MEDIA_WORDS = frozenset(
    re.findall(
        r"\S+",
        """News Times Post Journal Radio TV Television Network Channel Magazine Daily Tribune
    Herald Gazette Press Broadcasting Telegraph Guardian Observer Chronicle Inquirer Standard
    Times CNN NBC CBS ABC MSNBC CNBC Fox NPR PBS BBC Breitbart Politico Axios Reuters Bloomberg
    """,
    )
)
_PRESS = {"reporters", "journalists", "the press", "the media"}
_DOCUMENTS = {"statement", "news release", "press release", "letter", "email", "e-mail"}
_SOCIAL = {"tweet", "post"}
_BRIEFINGS = {"news conference", "press conference"}


def agency(name: str) -> str | None:
    """The news agency ``name`` stands for, if it is one."""
    text = name.strip()
    for pattern, agency_name in _AGENCY_RE:
        if pattern.match(text):
            return agency_name
    return None


def channel_links(attribution: Attribution, speaker: str, organisation: bool) -> list[ChainLink]:
    """The sources the attribution's own words name between the speaker and the reporter.

    Only the words around the cue are read (the content is what was said, not how), so
    "said in a statement" counts and a statement mentioned inside a quote does not.
    """
    sentence = attribution.sentence
    if sentence is None:
        return []
    speaker = re.sub(r"^[Tt]he ", "", speaker)
    masked = list(sentence.text)
    for span in attribution.content:
        for i in range(max(span.start, sentence.start), min(span.end, sentence.end)):
            masked[i - sentence.start] = " "
    text = "".join(masked)
    cue = attribution.cue[0].start - sentence.start
    verb = attribution.cue[0].text
    links: list[ChainLink] = []
    for m in _MEDIUM.finditer(text):
        if abs(m.start() - cue) > 80:
            continue
        noun, other = m.group(1), m.group(2)
        said = f"{verb} {m.group(0)}" if m.group(0) not in verb else verb
        if noun in _DOCUMENTS:
            kind = "government_document" if organisation else "other"
            links.append(
                ChainLink(source=f"{speaker} {noun}", role="primary_document", verb=said, kind=kind)
            )
        elif noun in _SOCIAL:
            links.append(
                ChainLink(
                    source=f"{speaker} {noun}",
                    role="primary_document",
                    verb=said,
                    kind="social_media",
                )
            )
        elif noun in _BRIEFINGS:
            links.append(
                ChainLink(source=f"{speaker} {noun}", role="said_by", verb=said, kind="other")
            )
        outlet = _outlet_link(other, said) if other else None
        if outlet is not None:
            links.append(outlet)
    for m in _TOLD.finditer(text):
        if abs(m.start() - cue) > 80:
            continue
        who = m.group(1)
        said = m.group(0)
        if who.lower() in _PRESS:
            links.append(
                ChainLink(
                    source=f"{speaker} remarks to {who}", role="said_by", verb=said, kind="other"
                )
            )
        else:
            outlet = _outlet_link(who, said)
            if outlet is not None:
                links.append(outlet)
    return links  # the pipeline keeps each source once in the whole chain


def _outlet_link(name: str, verb: str) -> ChainLink | None:
    """The outlet or agency the speaker spoke to (the first to report the words), if the
    name is one: "told the AP", "told Fox News"; not "told Stumpf"."""
    named = agency(name)
    if named is not None:
        return ChainLink(source=named, role="quoted_by", verb=verb, kind="news_agency")
    if not _MEDIA_WORDS & set(re.findall(r"[\w]+", name)):
        return None
    name = re.sub(r"^the ", "", name)
    return ChainLink(source=name, role="first_reported", verb=verb, kind="outlet")


# "For more reporting from the Associated Press": the article says whose report it rewrites
_REPORTING_FROM = re.compile(rf"\breporting (?:from|by) ({_NAME})")


def main_agency(text: str, chains: list[list[ChainLink]]) -> str | None:
    """The agency the whole article reports, when the text says so.

    Either in words ("For more reporting from the Associated Press") or by citing the same
    agency for two or more statements ("…, the AP reported", "according to the AP").
    """
    for m in _REPORTING_FROM.finditer(text):
        named = agency(m.group(1))
        if named is not None:
            return named
    counts: dict[str, int] = {}
    for chain in chains:
        for name in {c.source for c in chain if c.kind == "news_agency" and c.role != "quoted_by"}:
            counts[name] = counts.get(name, 0) + 1
    best = max(counts.items(), key=lambda kv: kv[1], default=None)
    return best[0] if best and best[1] >= 2 else None
