"""Wording shared by the Markdown and HTML renderers, so both say the same thing."""

from __future__ import annotations

import re

from factdb.reports.model import (
    ChainLink,
    ClaimEntry,
    HistoryEntry,
    LinkEntry,
    Report,
    SpeakerRow,
    VerdictEntry,
)

# C0/C1 controls (but not newline) are dropped: they are invisible, and in HTML they are parse
# errors that break XML tools reading the report
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f]")
_LINE_BREAKS = re.compile(r"\r\n|[\r\u2028\u2029\x85]")
_SAFE_URL = re.compile(r"^https?://[^\s<>\"'`\\]+$", re.IGNORECASE)


def clean(value: object) -> str:
    """Text with one kind of line break (``\\n``), tabs as spaces and controls removed."""
    text = _LINE_BREAKS.sub("\n", str(value)).replace("\t", " ")
    return _CONTROL.sub("", text)


def safe_url(url: str | None) -> str | None:
    """The URL when it is a plain http(s) address we may make a link of, else None."""
    if url and _SAFE_URL.match(url.strip()):
        return url.strip()
    return None


def words(code: str) -> str:
    """A vocabulary code as words: ``reported_by`` → ``reported by``."""
    return code.replace("_", " ")


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """``1 claim``, ``2 claims``."""
    return f"{count} {singular if count == 1 else (plural_form or singular + 's')}"


def filters_line(report: Report) -> str:
    """The filters used, in one line ("All claims" when there are none)."""
    if not report.filters:
        return "All claims in the database (no filters)."
    return "Filters: " + "; ".join(f"{label}: {value}" for label, value in report.filters) + "."


def scope_lines(report: Report) -> list[str]:
    """What the report covers: the period said and the as-of date, both from the data."""
    lines = []
    undated = sum(1 for c in report.claims if c.said.start is None)
    if report.period:
        first, last = report.period
        if first == last:
            # a day is said "on", a month or a year "in"
            line = f"Statements said {'on' if len(first) == 10 else 'in'} {first}"
        else:
            line = f"Statements said from {first} to {last}"
        lines.append(line + (f"; {plural(undated, 'undated statement')}." if undated else "."))
    elif undated:
        lines.append(f"{plural(undated, 'undated statement').capitalize()}.")
    if report.as_of is not None:
        lines.append(
            f"Statuses as they stood on {report.as_of.isoformat()}; "
            "events, links and verdicts dated later are not shown."
        )
    return lines


def speaker_label(name: str, role: str | None, acts_for: str | None) -> str:
    """``Sergey Lavrov (Foreign Minister, for Russian Foreign Ministry)``."""
    extra = [part for part in (role, f"for {acts_for}" if acts_for else None) if part]
    return f"{name} ({', '.join(extra)})" if extra else name


def speaker_statuses(row: SpeakerRow) -> str:
    """``Denied 2, Alleged 1``."""
    return ", ".join(f"{s.label} {s.count}" for s in row.statuses)


def speaker_verdicts(row: SpeakerRow) -> str:
    """``false 1, not rated 2`` (the latest verdict of each claim)."""
    parts = [f"{cls} {n}" for cls, n in row.verdict_classes]
    if row.unrated:
        parts.append(f"not rated {row.unrated}")
    return ", ".join(parts)


def claim_facts(claim: ClaimEntry) -> list[tuple[str, str]]:
    """The claim's plain facts as (label, value) pairs, empty ones left out."""
    facts = [
        ("Speaker", speaker_label(claim.speaker, claim.speaker_role, claim.acts_for)),
        ("Said", claim.said.text or "undated"),
        ("Quote kind", words(claim.quote_kind)),
    ]
    if claim.language:
        facts.append(("Language", claim.language))
    if claim.original_text:
        lang = f" ({claim.original_language})" if claim.original_language else ""
        facts.append((f"Original{lang}", claim.original_text))
    if claim.context:
        facts.append(("Context", claim.context))
    if claim.tags:
        facts.append(("Tags", ", ".join(claim.tags)))
    if claim.origin or claim.external_id:
        facts.append(("Origin", " ".join(p for p in (claim.origin, claim.external_id) if p)))
    return facts


def status_text(claim: ClaimEntry, as_of: object) -> tuple[str, str]:
    """(label, value) for the claim's status line."""
    label = "Status as of " + as_of.isoformat() if as_of is not None else "Current status"  # type: ignore[attr-defined]
    return label, claim.status_label or "no status recorded"


def chain_text(link: ChainLink) -> tuple[str, str, list[str]]:
    """(role, source name, details) of one attribution-chain link; details exclude the URL."""
    source = link.source
    details = [words(source.kind)]
    if link.verb:
        details.append(f"“{link.verb}”")
    if source.title:
        details.append(f"“{source.title}”")
    if source.published:
        details.append(f"published {source.published}")
    if source.credit:
        details.append(f"credit: {source.credit}")
    if source.based_on:
        details.append(f"based on {source.based_on}")
    return words(link.role), source.name, details


def history_cells(entry: HistoryEntry) -> list[str]:
    """Date, status, note, evidence, recorded by."""
    evidence = [entry.evidence_source] if entry.evidence_source else []
    if entry.evidence_claim_id is not None:
        evidence.append(f"claim #{entry.evidence_claim_id}")
    return [
        entry.when.text or "",
        entry.status_label,
        entry.note or "",
        ", ".join(evidence),
        entry.recorded_by or "",
    ]


def link_out_text(link: LinkEntry) -> str:
    """``denies claim #1 (NATO: “…”)`` for the claim the link starts from."""
    target = link.target
    quoted = f"({target.speaker}: “{target.excerpt}”)"
    return f"{words(link.relation).capitalize()} claim #{target.id} {quoted}"


def link_in_text(link: LinkEntry) -> str:
    """``Claim #4 (Russian government) denies this claim`` for the claim the link points to."""
    source = link.source
    quoted = f"({source.speaker}: “{source.excerpt}”)"
    return f"Claim #{source.id} {quoted} {words(link.relation)} this claim"


def link_suffix(link: LinkEntry) -> str:
    """Date and note of a link, for after its sentence."""
    parts = []
    if link.when.text:
        parts.append(f"on {link.when.text}")
    if link.note:
        parts.append(f"note: {link.note}")
    return f" ({'; '.join(parts)})" if parts else ""


def verdict_text(verdict: VerdictEntry) -> str:
    """``“False” (class false) by PolitiFact on 2021-10-19, Truth-O-Meter 1 of 0–5``."""
    parts = [f"“{verdict.label}” (class {verdict.verdict_class})"]
    if verdict.reviewer:
        parts.append(f"by {verdict.reviewer}")
    if verdict.when.text:
        parts.append(f"on {verdict.when.text}")
    text = " ".join(parts)
    if verdict.rating_value is not None:
        scale = f"{verdict.scale} " if verdict.scale else ""
        bounds = ""
        if verdict.best_rating is not None:
            low = verdict.worst_rating if verdict.worst_rating is not None else "?"
            bounds = f" on {low}–{verdict.best_rating}"
        text += f", {scale}rating {verdict.rating_value}{bounds}"
    elif verdict.scale:
        text += f", {verdict.scale}"
    return text


def bar_length(count: int, largest: int, width: int) -> int:
    """Bar length for ``count`` out of ``largest``: proportional, never 0 for a non-zero count."""
    if count <= 0 or largest <= 0:
        return 0
    return max(1, round(width * count / largest))


def share(count: int, total: int) -> str:
    """``40%`` (whole percent)."""
    return f"{round(100 * count / total)}%" if total else "0%"
