"""The report model: everything a report shows, gathered from the database in one pass.

``build_report`` selects claims with the shared ``ClaimFilter`` and loads their speakers,
attribution chains, status histories, links and verdicts in a few batched queries. The
renderers (``markdown.py``, ``html.py``) only format this model, so both formats show the same
facts. Everything is ordered explicitly, and nothing depends on the clock or on recording
timestamps, so the same database always gives the same report, byte for byte.

With ``as_of``, the report is a snapshot of that date: statuses are judged as they stood then,
and status events, links and verdicts dated later are left out (a partial date counts from its
first day, as everywhere in factdb).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from factdb.dates import format_partial
from factdb.filters import ClaimFilter
from factdb.models import (
    Attribution,
    ScaleRating,
    Source,
    Speaker,
    Statement,
    StatementLink,
    Status,
    StatusEvent,
    Verdict,
)
from factdb.textkeys import is_unknown_speaker

DEFAULT_TITLE = "Fact-check report"
NO_STATUS = "(none)"
_BATCH = 500
_PRECISION_RANK = {"year": 0, "month": 1, "day": 2, None: 2}
# within one day, a statement comes before the reactions to it
_KIND_RANK = {"statement": 0, "link": 1, "status": 2, "verdict": 3}
VERDICT_CLASS_ORDER = ("true", "mixture", "false", "other")


@dataclass(frozen=True)
class When:
    """A stored date with its precision; ``text`` renders it at that precision."""

    start: dt.date | None
    precision: str | None

    @property
    def text(self) -> str | None:
        """``2021``, ``2021-10`` or ``2021-10-18``; None when undated."""
        return format_partial(self.start, self.precision)

    def sort_key(self) -> tuple[int, dt.date, int]:
        """Undated last; then by first day; a coarser date before a finer one of that day."""
        if self.start is None:
            return (1, dt.date.max, 0)
        return (0, self.start, _PRECISION_RANK.get(self.precision, 2))


@dataclass(frozen=True)
class SourceInfo:
    """A source as a chain link or as evidence shows it."""

    id: int
    name: str
    kind: str
    title: str | None
    url: str | None
    credit: str | None
    published: str | None
    based_on: str | None


@dataclass(frozen=True)
class ChainLink:
    """One link of the attribution chain: role, verb as written, source."""

    position: int
    role: str
    verb: str | None
    source: SourceInfo


@dataclass(frozen=True)
class HistoryEntry:
    """One status event of a claim."""

    when: When
    status: str
    status_label: str
    note: str | None
    evidence_source: str | None
    evidence_source_id: int | None
    evidence_claim_id: int | None
    recorded_by: str | None


@dataclass(frozen=True)
class ClaimRef:
    """A claim mentioned from elsewhere (a link end), possibly outside the report."""

    id: int
    speaker: str
    excerpt: str
    in_report: bool


@dataclass(frozen=True)
class LinkEntry:
    """A typed, dated relation between two claims."""

    id: int
    source: ClaimRef
    relation: str
    target: ClaimRef
    when: When
    note: str | None


@dataclass(frozen=True)
class VerdictEntry:
    """A fact-checker's rating of a claim."""

    label: str
    verdict_class: str
    reviewer: str | None
    when: When
    url: str | None
    scale: str | None
    rating_value: int | None
    best_rating: int | None
    worst_rating: int | None


@dataclass
class ClaimEntry:
    """One claim with everything the report says about it."""

    id: int
    text: str
    quote_kind: str
    language: str | None
    original_text: str | None
    original_language: str | None
    said: When
    context: str | None
    speaker_id: int
    speaker: str
    speaker_kind: str
    speaker_role: str | None
    acts_for: str | None
    tags: list[str]
    status: str | None
    status_label: str | None
    origin: str | None
    external_id: str | None
    chain: list[ChainLink] = field(default_factory=list)
    history: list[HistoryEntry] = field(default_factory=list)
    links_out: list[LinkEntry] = field(default_factory=list)
    links_in: list[LinkEntry] = field(default_factory=list)
    verdicts: list[VerdictEntry] = field(default_factory=list)

    @property
    def latest_verdict(self) -> VerdictEntry | None:
        """The verdict that counts: latest review date (undated last), then latest recorded."""
        return self.verdicts[-1] if self.verdicts else None


@dataclass(frozen=True)
class StatusCount:
    """One bar of the status chart."""

    code: str
    label: str
    count: int


@dataclass(frozen=True)
class SpeakerRow:
    """One row of the per-speaker scorecard."""

    name: str
    kind: str
    role: str | None
    acts_for: str | None
    claims: int
    statuses: tuple[StatusCount, ...]
    verdict_classes: tuple[tuple[str, int], ...]
    unrated: int


@dataclass(frozen=True)
class TimelineEntry:
    """One dated event of the story: a statement, a status change, a link or a verdict."""

    when: When
    kind: str
    claim_id: int
    headline: str
    detail: str | None
    # an undated link sorts with the statement it comes from
    sort_when: When
    # the order among a claim's own events of the same kind (its status history order)
    seq: int = 0

    def sort_key(self) -> tuple:
        """By first day (undated last); on one day statements, links, statuses, verdicts.

        A coarser date sorts before a finer one of the same first day, except among one claim's
        status events, which keep the order their history (and its current status) has.
        """
        undated, start, precision = self.sort_when.sort_key()
        if self.kind == "status":
            precision = 0
        return (undated, start, _KIND_RANK[self.kind], precision, self.claim_id, self.seq)


@dataclass
class Report:
    """A whole report, ready to render."""

    title: str
    filters: list[tuple[str, str]]
    as_of: dt.date | None
    period: tuple[str, str] | None
    totals: list[tuple[str, int]]
    statuses: list[StatusCount]
    speakers: list[SpeakerRow]
    timeline: list[TimelineEntry]
    claims: list[ClaimEntry]


def describe_filter(claim_filter: ClaimFilter) -> list[tuple[str, str]]:
    """The filters in force, as (label, value) pairs in a fixed order."""
    labels = [
        ("speaker", "Speaker"),
        ("status", "Status"),
        ("verdict", "Verdict"),
        ("source", "Source"),
        ("tag", "Tag"),
        ("since", "Said on or after"),
        ("until", "Said on or before"),
        ("as_of", "Statuses as of"),
        ("search", "Search"),
        ("limit", "At most"),
    ]
    described = []
    for attr, label in labels:
        value = getattr(claim_filter, attr)
        if value is None:
            continue
        if isinstance(value, dt.date):
            value = value.isoformat()
        elif attr == "limit":
            value = f"{value} claims"
        described.append((label, str(value)))
    return described


def excerpt(text: str, limit: int = 160) -> str:
    """The text on one line, cut at a word boundary with an ellipsis when longer than limit."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[:limit].rsplit(" ", 1)[0] if " " in flat[:limit] else flat[:limit]
    return cut.rstrip(" ,;:.") + "…"


def _batches(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), _BATCH):
        yield ids[start : start + _BATCH]


def _not_after(when: When, as_of: dt.date | None) -> bool:
    """True when a dated thing belongs in an as-of snapshot (undated things always do)."""
    return as_of is None or when.start is None or when.start <= as_of


def _source_info(source: Source) -> SourceInfo:
    return SourceInfo(
        id=source.id,
        name=source.name,
        kind=source.kind,
        title=source.title,
        url=source.url,
        credit=source.credit,
        published=format_partial(source.published_on, source.published_precision),
        based_on=source.based_on.name if source.based_on is not None else None,
    )


def _event_order(event: StatusEvent) -> tuple:
    # the order the statuses service derives the current status from
    return (event.effective_on, event.recorded_at or dt.datetime.min, event.id)


def _verdict_order(verdict: Verdict) -> tuple:
    # the claim_overview view's "latest verdict": latest review date, undated ones last
    return (verdict.reviewed_on is not None, verdict.reviewed_on or dt.date.min, verdict.id)


def select_claim_ids(session: Session, claim_filter: ClaimFilter) -> list[int]:
    """The ids of the claims the filter selects (in the claims service's order)."""
    from factdb.services.query import select_claims

    return list(session.scalars(select_claims(session, claim_filter)))


def _claim_entry(statement: Statement, labels: dict[str, str], as_of: dt.date | None) -> ClaimEntry:
    speaker = statement.speaker
    # a withdrawn event was a mistake: a published report neither counts nor shows it
    events = sorted(
        (e for e in statement.status_events if e.withdrawn_at is None), key=_event_order
    )
    if as_of is not None:
        events = [e for e in events if e.effective_on <= as_of]
        status = events[-1].status_code if events else None
    else:
        status = statement.current_status
    verdicts = sorted(
        (
            v
            for v in statement.verdicts
            if as_of is None or v.reviewed_on is None or v.reviewed_on <= as_of
        ),
        key=_verdict_order,
    )
    return ClaimEntry(
        id=statement.id,
        text=statement.text,
        quote_kind=statement.quote_kind,
        language=statement.language,
        original_text=statement.original_text,
        original_language=statement.original_language,
        said=When(statement.said_on, statement.said_precision),
        context=statement.context,
        speaker_id=speaker.id,
        speaker=speaker.name,
        speaker_kind=speaker.kind,
        speaker_role=speaker.role,
        acts_for=speaker.acts_for.name if speaker.acts_for is not None else None,
        tags=sorted(tag.name for tag in statement.tags),
        status=status,
        status_label=labels.get(status, status) if status else None,
        origin=statement.origin,
        external_id=statement.external_id,
        chain=[
            ChainLink(a.position, a.role, a.verb, _source_info(a.source))
            for a in sorted(statement.attributions, key=lambda a: (a.position, a.id))
        ],
        history=[
            HistoryEntry(
                when=When(e.effective_on, e.effective_precision),
                status=e.status_code,
                status_label=labels.get(e.status_code, e.status_code),
                note=e.note,
                evidence_source=e.evidence_source.name if e.evidence_source else None,
                evidence_source_id=e.evidence_source_id,
                evidence_claim_id=e.evidence_statement_id,
                recorded_by=e.recorded_by,
            )
            for e in events
        ],
        verdicts=[
            VerdictEntry(
                label=v.label,
                verdict_class=v.normalised_class,
                reviewer=v.reviewer,
                when=When(v.reviewed_on, "day" if v.reviewed_on else None),
                url=v.url,
                scale=v.scale_rating.scale.name if v.scale_rating is not None else None,
                rating_value=v.rating_value,
                best_rating=v.best_rating,
                worst_rating=v.worst_rating,
            )
            for v in verdicts
        ],
    )


def _load_claims(
    session: Session, ids: list[int], labels: dict[str, str], as_of: dt.date | None
) -> list[ClaimEntry]:
    options = (
        selectinload(Statement.speaker).selectinload(Speaker.acts_for),
        selectinload(Statement.tags),
        selectinload(Statement.attributions)
        .selectinload(Attribution.source)
        .selectinload(Source.based_on),
        selectinload(Statement.status_events).selectinload(StatusEvent.evidence_source),
        selectinload(Statement.verdicts)
        .selectinload(Verdict.scale_rating)
        .selectinload(ScaleRating.scale),
    )
    entries: list[ClaimEntry] = []
    for batch in _batches(ids):
        statements = session.scalars(
            select(Statement).where(Statement.id.in_(batch)).options(*options)
        ).all()
        entries.extend(_claim_entry(s, labels, as_of) for s in statements)
        session.expunge_all()
    return entries


def _load_links(
    session: Session, claims: dict[int, ClaimEntry], as_of: dt.date | None
) -> list[LinkEntry]:
    """Links touching any claim of the report, each once, attached to both ends."""
    ids = sorted(claims)
    seen: dict[int, LinkEntry] = {}
    for batch in _batches(ids):
        rows = session.scalars(
            select(StatementLink)
            .where(
                or_(
                    StatementLink.from_statement_id.in_(batch),
                    StatementLink.to_statement_id.in_(batch),
                )
            )
            .options(
                selectinload(StatementLink.from_statement).selectinload(Statement.speaker),
                selectinload(StatementLink.to_statement).selectinload(Statement.speaker),
            )
        ).all()
        for link in rows:
            when = When(link.linked_on, link.linked_precision)
            if link.id in seen or not _not_after(when, as_of):
                continue
            seen[link.id] = LinkEntry(
                id=link.id,
                source=_ref(link.from_statement, claims),
                relation=link.relation,
                target=_ref(link.to_statement, claims),
                when=when,
                note=link.note,
            )
        session.expunge_all()
    links = sorted(seen.values(), key=lambda ln: (ln.when.sort_key(), ln.id))
    for link in links:
        if link.source.id in claims:
            claims[link.source.id].links_out.append(link)
        if link.target.id in claims:
            claims[link.target.id].links_in.append(link)
    return links


def _ref(statement: Statement, claims: dict[int, ClaimEntry]) -> ClaimRef:
    return ClaimRef(
        id=statement.id,
        speaker=statement.speaker.name,
        excerpt=excerpt(statement.text, 90),
        in_report=statement.id in claims,
    )


def _status_counts(
    statuses: Iterable[str | None], labels: dict[str, str]
) -> tuple[StatusCount, ...]:
    counts = Counter(s or NO_STATUS for s in statuses)
    return tuple(
        StatusCount(code, labels.get(code, "No status" if code == NO_STATUS else code), n)
        for code, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    )


def _unknown_speaker_ids(claims: list[ClaimEntry]) -> set[int]:
    """The id of the unknown speaker if some claim has it (a name key per speaker, not claim)."""
    speakers = {c.speaker_id: c.speaker for c in claims}
    return {i for i, name in speakers.items() if is_unknown_speaker(name)}


def _scorecard(claims: list[ClaimEntry], labels: dict[str, str]) -> list[SpeakerRow]:
    by_speaker: dict[int, list[ClaimEntry]] = {}
    for claim in claims:
        by_speaker.setdefault(claim.speaker_id, []).append(claim)
    # claims nobody is known to have made credit (or discredit) no one: the totals count them
    for speaker_id in _unknown_speaker_ids(claims):
        del by_speaker[speaker_id]
    rows = []
    for own in by_speaker.values():
        first = own[0]
        classes = Counter(c.latest_verdict.verdict_class for c in own if c.latest_verdict)
        rows.append(
            SpeakerRow(
                name=first.speaker,
                kind=first.speaker_kind,
                role=first.speaker_role,
                acts_for=first.acts_for,
                claims=len(own),
                statuses=_status_counts((c.status for c in own), labels),
                verdict_classes=tuple(
                    (cls, classes[cls]) for cls in VERDICT_CLASS_ORDER if classes[cls]
                ),
                unrated=sum(1 for c in own if c.latest_verdict is None),
            )
        )
    rows.sort(key=lambda r: (-r.claims, r.name.casefold(), r.name))
    return rows


def _said_headline(claim: ClaimEntry) -> str:
    verb = {
        "direct_quote": "said",
        "paraphrase": "said (paraphrased)",
        "summary": "said (summarised)",
        "translation": "said (translated)",
    }.get(claim.quote_kind, "said")
    return f"Claim #{claim.id}: {claim.speaker} {verb}"


def _sentences(parts: list[str]) -> str:
    """Join sentences; one that lacks a closing mark gets a full stop before the next."""
    parts = [p for p in parts if p]
    ended = [p if p[-1] in ".!?…\"'”»)" else f"{p}." for p in parts[:-1]]
    return " ".join([*ended, *parts[-1:]])


def _timeline(claims: list[ClaimEntry], links: list[LinkEntry]) -> list[TimelineEntry]:
    entries: list[TimelineEntry] = []
    said = {c.id: c.said for c in claims}
    for claim in claims:
        entries.append(
            TimelineEntry(
                claim.said,
                "statement",
                claim.id,
                _said_headline(claim),
                excerpt(claim.text),
                claim.said,
            )
        )
        for seq, event in enumerate(claim.history):
            evidence = [event.evidence_source] if event.evidence_source else []
            if event.evidence_claim_id is not None:
                evidence.append(f"claim #{event.evidence_claim_id}")
            details = [event.note.rstrip()] if event.note else []
            if evidence:
                details.append(f"Evidence: {', '.join(evidence)}.")
            entries.append(
                TimelineEntry(
                    event.when,
                    "status",
                    claim.id,
                    f"Status of claim #{claim.id} ({claim.speaker}): {event.status_label}",
                    _sentences(details) or None,
                    event.when,
                    seq,
                )
            )
        for seq, verdict in enumerate(claim.verdicts):
            by = f" by {verdict.reviewer}" if verdict.reviewer else ""
            entries.append(
                TimelineEntry(
                    verdict.when,
                    "verdict",
                    claim.id,
                    f"Claim #{claim.id} rated “{verdict.label}”{by}",
                    f"verdict class: {verdict.verdict_class}",
                    verdict.when,
                    seq,
                )
            )
    for link in links:
        anchor = link.source.id if link.source.in_report else link.target.id
        sort_when = link.when
        if link.when.start is None:
            sort_when = said.get(link.source.id) or said.get(link.target.id) or link.when
        entries.append(
            TimelineEntry(
                link.when,
                "link",
                anchor,
                f"Claim #{link.source.id} ({link.source.speaker}) {relation_text(link.relation)} "
                f"claim #{link.target.id} ({link.target.speaker})",
                link.note,
                sort_when,
                link.id,
            )
        )
    entries.sort(key=TimelineEntry.sort_key)
    return entries


def relation_text(relation: str) -> str:
    """A link relation as words: ``responds_to`` → ``responds to``."""
    return relation.replace("_", " ")


def build_report(
    session: Session, claim_filter: ClaimFilter | None = None, *, title: str | None = None
) -> Report:
    """Gather the report for the claims ``claim_filter`` selects (all claims by default)."""
    claim_filter = claim_filter or ClaimFilter()
    as_of = claim_filter.as_of
    labels = {code: label for code, label in session.execute(select(Status.code, Status.label))}
    ids = select_claim_ids(session, claim_filter)
    # the rows are read through a private session on the caller's connection (same
    # transaction, so it sees the caller's flushed changes) and dropped batch by batch:
    # memory holds the plain report entries, not every ORM object, and the caller's own
    # objects are never touched
    session.flush()
    reader = Session(bind=session.connection())
    try:
        claims = _load_claims(reader, ids, labels, as_of)
        # story order: by date said (undated last), then by id
        claims.sort(key=lambda c: (c.said.sort_key(), c.id))
        by_id = {c.id: c for c in claims}
        links = _load_links(reader, by_id, as_of)
    finally:
        reader.close()

    sources = {link.source.id for c in claims for link in c.chain} | {
        h.evidence_source_id for c in claims for h in c.history if h.evidence_source_id is not None
    }
    dated = [c.said for c in claims if c.said.start is not None]
    period = None
    if dated:
        first = min(dated, key=When.sort_key)
        last = max(dated, key=lambda w: (w.start, -_PRECISION_RANK.get(w.precision, 2)))
        period = (first.text or "", last.text or "")
    anonymous = _unknown_speaker_ids(claims)
    totals = [
        ("Claims", len(claims)),
        ("Speakers", len({c.speaker_id for c in claims} - anonymous)),
        ("Sources", len(sources)),
        ("Status events", sum(len(c.history) for c in claims)),
        ("Links", len(links)),
        ("Verdicts", sum(len(c.verdicts) for c in claims)),
    ]
    if anonymous:
        unknown = sum(1 for c in claims if c.speaker_id in anonymous)
        totals.insert(1, ("Claims by an unknown speaker", unknown))
    return Report(
        title=title or DEFAULT_TITLE,
        filters=describe_filter(claim_filter),
        as_of=as_of,
        period=period,
        totals=totals,
        statuses=list(_status_counts((c.status for c in claims), labels)),
        speakers=_scorecard(claims, labels),
        timeline=_timeline(claims, links),
        claims=claims,
    )
