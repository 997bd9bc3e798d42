"""Render a report as one self-contained HTML page (inline CSS and SVG; no script, no network).

Every value from the database goes through ``markup.el``/``esc`` (``html.escape``); elements
holding people's text carry ``dir="auto"`` so right-to-left text lays out correctly; only plain
http(s) URLs become links, anything else (``javascript:``…) is shown as text. The markup is
also well-formed XML.
"""

from __future__ import annotations

from collections.abc import Iterator

from factdb.reports import text as t
from factdb.reports.chart import status_chart, status_colour
from factdb.reports.markup import Safe, el, join
from factdb.reports.model import (
    NO_STATUS,
    ClaimEntry,
    ClaimRef,
    HistoryEntry,
    LinkEntry,
    Report,
)

CSS = """
:root{color-scheme:light}
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",Arial,sans-serif;
color:#1f2937;background:#fff;max-width:64rem;margin:2rem auto;padding:0 1rem}
h1{font-size:1.9rem;margin:0 0 .3rem}
h2{font-size:1.35rem;margin:2rem 0 .6rem;padding-bottom:.2rem;border-bottom:2px solid #e5e7eb}
h3{font-size:1.1rem;margin:0 0 .4rem}
h4{font-size:.95rem;margin:1rem 0 .3rem;color:#374151}
.meta{color:#4b5563;margin:.2rem 0}
nav{margin:1rem 0;font-size:.95rem}
nav a{margin-inline-end:1rem}
a{color:#1d4ed8}
table{border-collapse:collapse;width:100%;margin:.4rem 0 1rem;font-size:.95rem}
table.compact{width:auto;min-width:20rem}
.scroll{overflow-x:auto}
th,td{border:1px solid #e5e7eb;padding:.3rem .5rem;text-align:start;vertical-align:top}
th{background:#f3f4f6;font-weight:600}
.num{text-align:end;font-variant-numeric:tabular-nums;white-space:nowrap}
.nowrap{white-space:nowrap}
ul.totals{display:flex;flex-wrap:wrap;gap:.75rem;list-style:none;padding:0;margin:0}
ul.totals li{border:1px solid #e5e7eb;border-radius:6px;padding:.5rem 1rem;min-width:7rem}
ul.totals .n{display:block;font-size:1.7rem;font-weight:700;font-variant-numeric:tabular-nums}
figure{margin:0 0 .5rem}
svg.chart{max-width:100%;height:auto}
svg.chart text{font:13px system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;fill:#1f2937}
.pill{display:inline-block;padding:0 .55em;border-radius:1em;color:#fff;font-size:.85em;
white-space:nowrap}
article.claim{border-top:1px solid #d1d5db;padding-top:1rem;margin-top:1.5rem}
blockquote{margin:.4rem 0 .8rem;padding:.5rem 1rem;border-inline-start:4px solid #9ca3af;
background:#f9fafb;font-size:1.05rem}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.15rem 1rem;margin:.4rem 0}
dl.facts dt{font-weight:600;color:#374151}
dl.facts dd{margin:0}
.kind{color:#6b7280;font-size:.9em}
.role{display:block;color:#6b7280;font-size:.85em}
.group{white-space:nowrap;margin-inline-end:.4rem}
#timeline td:first-child{width:6.5rem}
#timeline td:nth-child(2){width:40%}
#timeline td a{text-decoration:none}
#timeline td a:hover{text-decoration:underline}
h2+article.claim{border-top:0;padding-top:0}
.muted{color:#6b7280}
@media print{nav{display:none}article.claim{break-inside:avoid-page}a{color:inherit}}
""".strip()


def pill(code: str | None, label: str | None) -> Safe:
    """A status as a coloured label."""
    code = code or NO_STATUS
    return el(
        "span",
        label or "no status recorded",
        class_="pill",
        style=f"background:{status_colour(code)}",
        data_status=code,
    )


def url_link(url: str | None, label: str | None = None) -> Safe | None:
    """A link for a plain http(s) URL (opens nothing else); other URLs are shown as text."""
    if not url:
        return None
    safe = t.safe_url(url)
    if safe is None:
        return el("span", url, class_="muted", dir="auto")
    return el("a", label or url, href=safe, rel="noopener noreferrer", dir="auto")


def claim_ref(ref: ClaimRef, *, capital: bool = False) -> Safe:
    """``claim #3``, a link within the page when that claim is in the report."""
    words = f"{'Claim' if capital else 'claim'} #{ref.id}"
    if ref.in_report:
        return el("a", words, href=f"#claim-{ref.id}")
    return el("span", words, title="not in this report")


def _table(
    headers: list[tuple[str, str | None]], rows: list[list[Safe]], cls: str | None = None
) -> Safe:
    head = el("thead", el("tr", *(el("th", h, class_=c, scope="col") for h, c in headers)))
    table = el("table", head, el("tbody", *(el("tr", *row) for row in rows)), class_=cls)
    # a wide table scrolls on its own on a narrow screen instead of widening the page
    return el("div", table, class_="scroll")


def td(value: object, cls: str | None = None) -> Safe:
    """A data cell; people's text lays out in its own direction."""
    return el("td", value, class_=cls, dir=None if cls == "num" else "auto")


def _header(report: Report) -> Safe:
    parts = [
        el("h1", report.title, dir="auto"),
        el("p", t.filters_line(report), class_="meta", dir="auto"),
    ]
    parts += [el("p", line, class_="meta") for line in t.scope_lines(report)]
    nav = el(
        "nav",
        *(
            el("a", label, href=f"#{target}")
            for target, label in (
                ("totals", "Totals"),
                ("statuses", "Status breakdown"),
                ("speakers", "Speaker scorecard"),
                ("timeline", "Timeline"),
                ("claims", "Claims"),
            )
        ),
    )
    return el("header", *parts, nav)


def _totals(report: Report) -> Safe:
    items = [el("li", el("span", str(n), class_="n"), label) for label, n in report.totals]
    return el("section", el("h2", "Totals"), el("ul", *items, class_="totals"), id="totals")


def _statuses(report: Report) -> Safe:
    if not report.statuses:
        return el("section", el("h2", "Status breakdown"), el("p", "No claims."), id="statuses")
    total = sum(s.count for s in report.statuses)
    rows = [
        [
            el("td", pill(s.code, s.label)),
            td(str(s.count), "num"),
            td(t.share(s.count, total), "num"),
        ]
        for s in report.statuses
    ]
    caption = (
        "Current status of each claim"
        if report.as_of is None
        else (f"Status of each claim as of {report.as_of.isoformat()}")
    )
    return el(
        "section",
        el("h2", "Status breakdown"),
        el("figure", status_chart(report.statuses), el("figcaption", caption, class_="meta")),
        _table([("Status", None), ("Claims", "num"), ("Share", "num")], rows, "compact"),
        id="statuses",
    )


def _speakers(report: Report) -> Safe:
    rows = []
    for r in report.speakers:
        who = [el("strong", r.name, dir="auto")]
        extra = [p for p in (r.role, f"for {r.acts_for}" if r.acts_for else None) if p]
        if extra:
            who.append(el("span", ", ".join(extra), class_="role", dir="auto"))
        statuses = join(
            (el("span", pill(s.code, s.label), f" {s.count}", class_="group") for s in r.statuses),
            " ",
        )
        rows.append(
            [
                el("td", *who, dir="auto"),
                td(str(r.claims), "num"),
                el("td", statuses),
                td(t.speaker_verdicts(r), "nowrap"),
            ]
        )
    body = (
        _table([("Speaker", None), ("Claims", "num"), ("Statuses", None), ("Verdicts", None)], rows)
        if rows
        else el("p", "No speakers.")
    )
    note = el(
        "p",
        "Statuses count each claim once, at its "
        + ("current status." if report.as_of is None else "status as of that date.")
        + " Verdicts count each claim's latest verdict class.",
        class_="meta",
    )
    return el("section", el("h2", "Speaker scorecard"), body, note if rows else None, id="speakers")


def _timeline(report: Report) -> Safe:
    rows = [
        [
            td(e.when.text or "undated", "nowrap"),
            el("td", el("a", e.headline, href=f"#claim-{e.claim_id}"), dir="auto"),
            td(e.detail or ""),
        ]
        for e in report.timeline
    ]
    body = (
        _table([("Date", None), ("Event", None), ("Details", None)], rows)
        if rows
        else el("p", "Nothing dated.")
    )
    return el("section", el("h2", "Timeline"), body, id="timeline")


def _link_item(link: LinkEntry, outgoing: bool) -> Safe:
    if outgoing:
        other = link.target
        sentence = [f"{t.words(link.relation).capitalize()} ", claim_ref(other)]
    else:
        other = link.source
        sentence = [claim_ref(other, capital=True)]
    quoted = f" ({other.speaker}: “{other.excerpt}”)"
    tail = "" if outgoing else f" {t.words(link.relation)} this claim"
    return el("li", *sentence, quoted, tail, t.link_suffix(link), dir="auto")


def _evidence(entry: HistoryEntry, in_report: set[int]) -> list[object]:
    """The evidence of a status event: a source name and/or a claim (linked when shown)."""
    parts: list[object] = [entry.evidence_source] if entry.evidence_source else []
    claim_id = entry.evidence_claim_id
    if claim_id is not None:
        if parts:
            parts.append(", ")
        parts.append(claim_ref(ClaimRef(claim_id, "", "", claim_id in in_report)))
    return parts


def _claim(claim: ClaimEntry, report: Report, in_report: set[int]) -> Safe:
    said = f", {claim.said.text}" if claim.said.text else ""
    label, _ = t.status_text(claim, report.as_of)
    facts: list[Safe] = []
    for key, value in t.claim_facts(claim):
        # the original words are marked with their language (fonts, hyphenation, screen readers)
        lang = claim.original_language if value == claim.original_text else None
        facts += [el("dt", key), el("dd", value, dir="auto", lang=lang)]
    facts += [el("dt", label), el("dd", pill(claim.status, claim.status_label))]
    parts = [
        el("h3", f"Claim #{claim.id}: {claim.speaker}{said}", dir="auto"),
        el("blockquote", claim.text, dir="auto", lang=claim.language),
        el("dl", *facts, class_="facts"),
    ]
    if claim.chain:
        items = []
        for link in claim.chain:
            role, name, details = t.chain_text(link)
            items.append(
                el(
                    "li",
                    f"{role}: ",
                    el("strong", name, dir="auto"),
                    el("span", f" ({', '.join(details)})", class_="kind"),
                    " " if link.source.url else None,
                    url_link(link.source.url),
                    dir="auto",
                )
            )
        parts += [el("h4", "Attribution chain"), el("ol", *items)]
    if claim.history:
        rows = [
            [
                td(h.when.text or "", "nowrap"),
                el("td", pill(h.status, h.status_label)),
                td(h.note or ""),
                el("td", *_evidence(h, in_report), dir="auto"),
                td(h.recorded_by or ""),
            ]
            for h in claim.history
        ]
        headers = [
            ("Date", None),
            ("Status", None),
            ("Note", None),
            ("Evidence", None),
            ("Recorded by", None),
        ]
        parts += [el("h4", "Status history"), _table(headers, rows)]
    if claim.links_out or claim.links_in:
        items = [_link_item(ln, True) for ln in claim.links_out]
        items += [_link_item(ln, False) for ln in claim.links_in]
        parts += [el("h4", "Links"), el("ul", *items)]
    if claim.verdicts:
        items = [
            el(
                "li",
                t.verdict_text(v),
                " " if v.url else None,
                url_link(v.url, "review"),
                dir="auto",
            )
            for v in claim.verdicts
        ]
        parts += [el("h4", "Verdicts"), el("ul", *items)]
    return el("article", *parts, class_="claim", id=f"claim-{claim.id}")


def iter_html(report: Report) -> Iterator[str]:
    """The report as HTML in pieces (one per claim at the end), so a big one can stream."""
    head = el(
        "head",
        el("meta", charset="utf-8"),
        el("meta", name="viewport", content="width=device-width, initial-scale=1"),
        el("meta", name="generator", content="factdb"),
        el("title", report.title),
        el("style", Safe(CSS)),
    )
    yield f'<!DOCTYPE html>\n<html lang="en">\n{head}\n<body>'
    for section in (_header, _totals, _statuses, _speakers, _timeline):
        yield f"\n{section(report)}"
    yield f'\n<section id="claims">{el("h2", "Claims")}'
    if not report.claims:
        yield el("p", "No claims match.")
    in_report = {c.id for c in report.claims}
    for claim in report.claims:
        yield _claim(claim, report, in_report)
    yield "</section>\n</body></html>\n"


def render_html(report: Report) -> str:
    """The whole report as one HTML document (ends with a newline)."""
    return "".join(iter_html(report))
