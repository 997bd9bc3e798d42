"""Writing an extraction as a story file: the TOML format of ``seeds/`` (``factdb seed FILE``).

Kept in this one module so that it follows the story-file format wherever that goes. Strings
are written as TOML basic strings through ``json.dumps`` (JSON's escapes are valid TOML), and
every proposal carries its evidence (sentence and character offsets) as comments, so that a
reviewer can check it against the article before loading.
"""

from __future__ import annotations

import json
import re
from typing import Any

from factdb.extract.model import Attribution, Extraction, Speaker
from factdb.extract.pipeline import agency

_QUOTE_KIND = {"direct": "direct_quote", "indirect": "paraphrase", "mixed": "paraphrase"}


def _s(value: str) -> str:
    """A TOML string."""
    return json.dumps(value, ensure_ascii=False)


def slug(text: str, words: int = 5) -> str:
    """A short id from the first words of ``text``."""
    parts = re.findall(r"[a-z0-9]+", text.lower())[:words]
    return "-".join(parts) or "item"


def claim_text(attribution: Attribution) -> str:
    """The claim as a sentence: quote marks of a whole quote and a leading "that" dropped."""
    parts = []
    for span in attribution.content:
        text = span.text.strip()
        if attribution.quote_kind == "direct" and len(text) > 1 and text[0] in '“"':
            text = text[1:-1].strip() if text[-1] in '”"' else text[1:].strip()
        text = text.rstrip(",;:").strip()
        if parts and parts[-1][-1:] not in ".!?":
            parts[-1] += "."  # '"…," he said. "…"': the first part ended the sentence
        parts.append(text)
    text = " ".join(parts)
    text = re.sub(r"^that\s+", "", text)
    if text and text[0].islower():
        text = text[0].upper() + text[1:]
    if text and text[-1] not in ".!?\"”'’":
        text += "."
    return text


def _comment(text: str) -> str:
    """``text`` as comment lines."""
    return "\n".join(f"# {line}".rstrip() for line in text.splitlines())


def _offsets(spans: list[Any]) -> str:
    return ", ".join(f"{s.start}-{s.end}" for s in spans)


def is_claim(attribution: Attribution, found: list[Attribution]) -> bool:
    """Whether an attribution becomes a claim: a news agency reporting others is a chain link."""
    if agency(attribution.source[0].text) is None:
        return True
    index = found.index(attribution)
    return not any(a.outer == index for a in found)


def speaker_name(speaker: Speaker | None) -> str:
    """The name a claim gives its speaker: the known name, else the name as resolved."""
    if speaker is None:
        return "unknown"
    return speaker.known or speaker.name


def write_story(extraction: Extraction, story_id: str) -> str:
    """The story file text for ``extraction``."""
    article = extraction.article
    found = extraction.attributions
    claims = [a for a in found if is_claim(a, found)]
    out: list[str] = [
        "# Proposed by `factdb extract`: review every claim against the article, then load it",
        "# with `factdb seed FILE` (or `factdb story load FILE`). Nothing here is in the database",
        "# yet. Offsets are character offsets into the article text as read.",
    ]
    if article.published_on:
        out.append(f"# Article date: {article.published_on} (relative dates resolve against it).")
    out += ["", "[story]", f"id = {_s(story_id)}", 'origin = "extract"']
    if article.title:
        out.append(f"title = {_s(article.title)}")
    out.append('language = "en"')

    declared: dict[str, Speaker] = {}
    for a in claims:
        sp = a.speaker
        if sp is None:
            continue
        if sp.known is not None:
            # declared too, so that the file loads into an empty database, with the role and
            # employer the article gives ("NATO spokesperson Oana Lungescu"); against a
            # database that knows the speaker, loading a different role is an edit to review
            had = declared.get(sp.known)
            if had is None or (had.role is None and sp.role):
                _declare_employer(declared, sp, found)
                declared[sp.known] = Speaker(
                    name=sp.known, kind=sp.kind, role=sp.role, acts_for=sp.acts_for, known=sp.known
                )
            continue
        _declare_employer(declared, sp, found)
        declared.setdefault(sp.name, sp)
    # whom a speaker acts for comes before the speaker (the loader resolves it by name)
    employers = {sp.acts_for for sp in declared.values() if sp.acts_for}
    ordered = sorted(declared.values(), key=lambda sp: (sp.known or sp.name) not in employers)
    if declared:
        out += ["", "# --- speakers " + "-" * 77]
    for sp in ordered:
        note = "known: in the database" if sp.known else "new: check the name and kind"
        out += ["", f"# {note}", "[[speakers]]", f"name = {_s(sp.name)}", f"kind = {_s(sp.kind)}"]
        if sp.role:
            out.append(f"role = {_s(sp.role)}")
        if sp.acts_for:
            out.append(f"acts_for = {_s(sp.acts_for)}")

    sources: dict[str, Any] = {}
    for a in claims:
        for link in a.chain:
            sources.setdefault(link.source, link)
    if sources:
        out += ["", "# --- sources " + "-" * 78]
    for link in sources.values():
        out += ["", "[[sources]]", f"name = {_s(link.source)}", f"kind = {_s(link.kind)}"]
        for key in ("url", "credit", "published_on", "based_on"):
            value = getattr(link, key)
            if value:
                out.append(f"{key} = {_s(value)}")

    ids: dict[int, str] = {}
    for a in claims:
        base = slug(f"{speaker_name(a.speaker)} {claim_text(a)}", 6)
        local, n = base, 2
        while local in ids.values():
            local, n = f"{base}-{n}", n + 1
        ids[found.index(a)] = local

    out += ["", "# --- claims " + "-" * 79]
    for a in claims:
        out += ["", *_claim(a, found, ids, article.published_on)]
    return "\n".join(out) + "\n"


def _declare_employer(declared: dict[str, Speaker], sp: Speaker, found: list[Attribution]) -> None:
    """Declare whom ``sp`` acts for when nothing else in the file or database names it."""
    if sp.acts_for and sp.acts_for not in declared and not _known_target(sp.acts_for, found):
        declared.setdefault(sp.acts_for, Speaker(name=sp.acts_for, kind="organisation"))


def _known_target(name: str, found: list[Attribution]) -> bool:
    """True when ``name`` is a known speaker's name in this extraction."""
    return any(a.speaker and a.speaker.known == name for a in found)


def _claim(
    a: Attribution, found: list[Attribution], ids: dict[int, str], article_date: str | None
) -> list[str]:
    """The lines of one claim table with its evidence comments."""
    index = found.index(a)
    sp = a.speaker
    lines = []
    if a.sentence is not None:
        lines.append(
            _comment(f"evidence ({a.sentence.start}-{a.sentence.end}): {a.sentence.text.strip()}")
        )
    lines.append(
        _comment(
            f"source {a.source[0].text!r} ({_offsets(a.source)}), cue "
            f"{' '.join(c.text for c in a.cue)!r} ({_offsets(a.cue)}), "
            f"content ({_offsets(a.content)}), {a.quote_kind}"
        )
    )
    if sp is not None and sp.known is None:
        lines.append(_comment(f"proposed new speaker {sp.name!r} ({sp.kind})"))
    if a.date_cue:
        lines.append(_comment(f"date from {a.date_cue!r}"))
    lines += [
        "[[claims]]",
        f"id = {_s(ids[index])}",
        f"speaker = {_s(speaker_name(sp))}",
        f"quote_kind = {_s(_QUOTE_KIND[a.quote_kind])}",
        f"text = {_s(claim_text(a))}",
    ]
    if a.said_on:
        lines.append(f"said_on = {_s(a.said_on)}")
    if a.chain:
        lines.append("attributions = [")
        for link in a.chain:
            verb = f", verb = {_s(link.verb)}" if link.verb else ""
            lines.append(f"  {{ source = {_s(link.source)}, role = {_s(link.role)}{verb} }},")
        lines.append("]")
    status = [s for s in a.status if (s.get("on") or article_date) and s["evidence"] in ids]
    if status:
        lines.append("# proposed: the text states this status plainly")
        lines.append("status = [")
        for s in status:
            on = s.get("on") or article_date
            evidence = ids[s["evidence"]]
            fields = f"status = {_s(s['status'])}, on = {_s(on)}, evidence_claim = {_s(evidence)}"
            lines.append(f"  {{ {fields} }},")
        lines.append("]")
    links = [link for link in a.links if link["to"] in ids]
    if links:
        lines.append("# proposed: the text states this link plainly")
        lines.append("links = [")
        for link in links:
            on = f", on = {_s(a.said_on)}" if a.said_on else ""
            lines.append(
                f"  {{ relation = {_s(link['relation'])}, to = {_s(ids[link['to']])}{on} }},"
            )
        lines.append("]")
    return lines
