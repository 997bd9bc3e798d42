"""Render a report as Markdown (CommonMark with GitHub-style tables).

Everything that comes from the database is escaped: Markdown punctuation (``*``, ``_``,
backticks, ``[``, ``]``, ``<``, ``>``, ``|``, ``~``, ``\\``) gets a backslash, entity-like ``&``
too, so text is shown as written and never becomes markup or raw HTML; line breaks inside table
cells become ``<br>``; lines of quoted text that would start a heading or a list are escaped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from factdb.reports import text as t
from factdb.reports.model import ClaimEntry, Report

_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")
_ENTITY = re.compile(r"&(?=#?[0-9A-Za-z]+;)")
_BLOCK_START = re.compile(r"^([#+\-=>])|^(\d+)([.)])")
BAR = "█"
BAR_WIDTH = 20


def md(value: object, *, newline: str = "<br>") -> str:
    """Escape text for inline Markdown; line breaks become ``newline``."""
    escaped = _ENTITY.sub(r"\\&", _SPECIAL.sub(r"\\\1", t.clean(value)))
    return newline.join(part.strip() for part in escaped.split("\n"))


def md_block(value: object, prefix: str = "") -> list[str]:
    """Escape multi-line text as block lines (each with ``prefix``), keeping its line breaks."""
    lines = [line.strip() for line in t.clean(value).split("\n")]
    out: list[str] = []
    for i, line in enumerate(lines):
        escaped = md(line)
        escaped = _BLOCK_START.sub(
            lambda m: f"\\{m.group(1)}" if m.group(1) else f"{m.group(2)}\\{m.group(3)}", escaped
        )
        # a hard line break (trailing backslash) inside a paragraph; blank lines stay paragraphs
        follows = i + 1 < len(lines) and lines[i + 1] and escaped
        end = "\\" if follows else ""
        out.append(f"{prefix}{escaped}{end}".rstrip())
    return out


def md_url(url: str | None) -> str:
    """A URL as an autolink when it is a plain http(s) address, else as escaped text."""
    safe = t.safe_url(url)
    if safe:
        return "<" + safe.replace("|", "%7C") + ">"
    return md(url or "")


def table(headers: list[str], rows: list[list[str]], align: list[str] | None = None) -> list[str]:
    """A GitHub-style table; cells must already be escaped."""
    align = align or ["l"] * len(headers)
    rule = ["---:" if a == "r" else "---" for a in align]
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(rule) + " |"]
    lines += ["| " + " | ".join(cell or " " for cell in row) + " |" for row in rows]
    return lines


def _head(report: Report) -> list[str]:
    lines = [f"# {md(report.title, newline=' ')}", "", md(t.filters_line(report))]
    lines += ["", *(md(line) for line in t.scope_lines(report))] if t.scope_lines(report) else []
    lines += ["", "## Totals", ""]
    lines += table(
        [label for label, _ in report.totals],
        [[str(n) for _, n in report.totals]],
        ["r"] * len(report.totals),
    )
    return lines


def _statuses(report: Report) -> list[str]:
    lines = ["", "## Status breakdown", ""]
    if not report.statuses:
        return [*lines, "No claims."]
    total = sum(s.count for s in report.statuses)
    largest = max(s.count for s in report.statuses)
    rows = [
        [
            md(s.label),
            str(s.count),
            t.share(s.count, total),
            BAR * t.bar_length(s.count, largest, BAR_WIDTH),
        ]
        for s in report.statuses
    ]
    return lines + table(["Status", "Claims", "Share", "Chart"], rows, ["l", "r", "r", "l"])


def _speakers(report: Report) -> list[str]:
    lines = ["", "## Speaker scorecard", ""]
    if not report.speakers:
        return [*lines, "No speakers."]
    rows = [
        [
            md(t.speaker_label(r.name, r.role, r.acts_for)),
            str(r.claims),
            md(t.speaker_statuses(r)),
            md(t.speaker_verdicts(r)),
        ]
        for r in report.speakers
    ]
    return lines + table(["Speaker", "Claims", "Statuses", "Verdicts"], rows, ["l", "r", "l", "l"])


def _timeline(report: Report) -> list[str]:
    lines = ["", "## Timeline", ""]
    if not report.timeline:
        return [*lines, "Nothing dated."]
    rows = [
        [md(e.when.text or "undated"), md(e.headline), md(e.detail or "")] for e in report.timeline
    ]
    return lines + table(["Date", "Event", "Details"], rows)


def _claim(claim: ClaimEntry, report: Report) -> list[str]:
    said = f", {claim.said.text}" if claim.said.text else ""
    lines = ["", f"### Claim #{claim.id}: {md(claim.speaker, newline=' ')}{md(said)}", ""]
    lines += md_block(claim.text, "> ")
    lines.append("")
    label, status = t.status_text(claim, report.as_of)
    facts = [*t.claim_facts(claim), (label, status)]
    lines += [f"- **{md(k)}:** {md(v)}" for k, v in facts]
    if claim.chain:
        lines += ["", "**Attribution chain**", ""]
        for link in claim.chain:
            role, name, details = t.chain_text(link)
            url = f" {md_url(link.source.url)}" if link.source.url else ""
            lines.append(
                f"{link.position}. {md(role)}: **{md(name)}** ({md(', '.join(details))}){url}"
            )
    if claim.history:
        lines += ["", "**Status history**", ""]
        rows = [[md(cell) for cell in t.history_cells(h)] for h in claim.history]
        lines += table(["Date", "Status", "Note", "Evidence", "Recorded by"], rows)
    if claim.links_out or claim.links_in:
        lines += ["", "**Links**", ""]
        lines += [f"- {md(t.link_out_text(ln) + t.link_suffix(ln))}" for ln in claim.links_out]
        lines += [f"- {md(t.link_in_text(ln) + t.link_suffix(ln))}" for ln in claim.links_in]
    if claim.verdicts:
        lines += ["", "**Verdicts**", ""]
        for verdict in claim.verdicts:
            url = f" {md_url(verdict.url)}" if verdict.url else ""
            lines.append(f"- {md(t.verdict_text(verdict))}{url}")
    return lines


def iter_markdown(report: Report) -> Iterator[str]:
    """The report as Markdown in pieces (one per claim at the end), so a big one can stream."""
    lines = _head(report) + _statuses(report) + _speakers(report) + _timeline(report)
    lines += ["", "## Claims"]
    if not report.claims:
        lines += ["", "No claims match."]
    yield "\n".join(lines) + "\n"
    for claim in report.claims:
        yield "\n".join(_claim(claim, report)) + "\n"


def render_markdown(report: Report) -> str:
    """The whole report as one Markdown document (ends with a newline)."""
    return "".join(iter_markdown(report))
