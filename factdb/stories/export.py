"""The database, or any selection of its claims, as story-file data (plain dicts and lists).

Everything ``claim show`` prints survives the trip through a story file: speakers with kind,
role, acts-for, aliases, external ids and notes; sources with every field and what they are
based on; each claim's fields, its identity (origin + external id), its attribution chain in
order with positions, its whole status history with recorded-at and recorded-by, its links and
its verdicts with their scales. :mod:`factdb.stories.tomldoc` turns the result into TOML.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from factdb.dates import format_partial
from factdb.filters import ClaimFilter
from factdb.models import (
    Attribution,
    RatingScale,
    ScaleRating,
    Source,
    Speaker,
    Statement,
    StatementLink,
    StatusEvent,
    Verdict,
)
from factdb.stories import spec
from factdb.textkeys import name_key

EXPORT_STORY_ID = "export"


@dataclass
class Exported:
    """A story file's data, and what a selection had to leave out (links to claims outside)."""

    data: dict[str, Any]
    claims: int = 0
    left_out: Counter[str] = field(default_factory=Counter)


def _drop_empty(table: dict[str, Any]) -> dict[str, Any]:
    """The table without None values (a story file has no null)."""
    return {k: v for k, v in table.items() if v is not None}


def _selected_ids(session: Session, claim_filter: ClaimFilter, story: str | None) -> list[int]:
    from factdb.services.query import select_claims

    ids = select(select_claims(session, claim_filter).subquery().c.id)
    query = select(Statement.id).where(Statement.id.in_(ids)).order_by(Statement.id)
    if story:
        query = query.where(Statement.external_id.startswith(f"{story}/", autoescape=True))
    return list(session.scalars(query))


def _story_identity(claims: list[Statement], story: str | None) -> tuple[str, str]:
    """The (story id, origin) most of the claims were loaded under, else a neutral one."""
    pairs = Counter(
        (c.external_id.split("/", 1)[0], c.origin)
        for c in claims
        if c.origin and c.external_id and "/" in c.external_id
    )
    if story:
        pairs = Counter({k: n for k, n in pairs.items() if k[0] == story})
    if pairs:
        return pairs.most_common(1)[0][0]
    return story or EXPORT_STORY_ID, spec.DEFAULT_ORIGIN


def _claim_keys(claims: list[Statement], story_id: str, origin: str) -> dict[int, dict[str, Any]]:
    """Each claim's key in the file, with an explicit identity when it is not the default."""
    keys: dict[int, dict[str, Any]] = {}
    used: set[str] = set()
    prefix = f"{story_id}/"
    for c in claims:
        local = (c.external_id or "")[len(prefix) :]
        if (
            c.origin == origin
            and (c.external_id or "").startswith(prefix)
            and local
            and "/" not in local
        ):
            keys[c.id] = {"id": local}
            used.add(local)
    for c in claims:
        if c.id in keys:
            continue
        key = f"claim-{c.id}"
        while key in used:
            key += "x"
        used.add(key)
        keys[c.id] = {"id": key, "origin": c.origin or "", "external_id": c.external_id or ""}
    return keys


def export_story(
    session: Session,
    claim_filter: ClaimFilter | None = None,
    *,
    story: str | None = None,
    title: str | None = None,
) -> Exported:
    """The claims the filter selects (and the speakers and sources they need) as story data.

    ``story`` keeps only claims stored under that story id (external ids "<story>/…"). With no
    filter and no story, every speaker and source is written too, even those no claim cites.
    """
    claim_filter = claim_filter or ClaimFilter()
    everything = claim_filter == ClaimFilter() and not story
    ids = _selected_ids(session, claim_filter, story)
    claims = list(
        session.scalars(
            select(Statement)
            .where(Statement.id.in_(ids))
            .order_by(Statement.id)
            .options(
                selectinload(Statement.tags),
                selectinload(Statement.speaker),
                selectinload(Statement.attributions).selectinload(Attribution.source),
                selectinload(Statement.status_events),
                selectinload(Statement.verdicts),
            )
        )
    )
    story_id, origin = _story_identity(claims, story)
    keys = _claim_keys(claims, story_id, origin)
    out = Exported(data={}, claims=len(claims))
    speakers = _speakers(session, claims, everything)
    sources = _sources(session, claims, everything)
    source_refs = _source_refs(sources)
    out.data["story"] = _drop_empty({"id": story_id, "origin": origin, "title": title})
    out.data["speakers"] = [_speaker_table(s) for s in speakers]
    out.data["sources"] = [_source_table(s, source_refs) for s in sources]
    links = _links(session, [c.id for c in claims])
    scales = _scale_names(session)
    out.data["claims"] = [
        _claim_table(c, keys, source_refs, links.get(c.id, []), scales, out.left_out)
        for c in claims
    ]
    return out


def _speakers(session: Session, claims: list[Statement], everything: bool) -> list[Speaker]:
    if everything:
        return list(session.scalars(select(Speaker).order_by(Speaker.id)))
    found: dict[int, Speaker] = {}
    pending = [c.speaker for c in claims]
    while pending:
        speaker = pending.pop()
        if speaker.id not in found:
            found[speaker.id] = speaker
            if speaker.acts_for is not None:
                pending.append(speaker.acts_for)
    return sorted(found.values(), key=lambda s: s.id)


def _sources(session: Session, claims: list[Statement], everything: bool) -> list[Source]:
    if everything:
        found = list(session.scalars(select(Source)))
    else:
        by_id: dict[int, Source] = {}
        pending = [a.source for c in claims for a in c.attributions]
        pending += [e.evidence_source for c in claims for e in c.status_events if e.evidence_source]
        while pending:
            source = pending.pop()
            if source.id not in by_id:
                by_id[source.id] = source
                if source.based_on is not None:
                    pending.append(source.based_on)
        found = list(by_id.values())
    # sources without a URL first: a name then means the one without a URL, as it does on load
    return sorted(found, key=lambda s: (s.url is not None, s.id))


def _source_refs(sources: list[Source]) -> dict[int, str]:
    """How the file names each source: its name, or its URL when another shares the name."""
    names = Counter(name_key(s.name) for s in sources)
    refs: dict[int, str] = {}
    for s in sources:
        shared = names[name_key(s.name)] > 1
        refs[s.id] = s.url if shared and s.url else s.name
    return refs


def _speaker_table(s: Speaker) -> dict[str, Any]:
    return _drop_empty(
        {
            "name": s.name,
            "kind": s.kind,
            "role": s.role,
            "acts_for": s.acts_for.name if s.acts_for else None,
            "aliases": [a.alias for a in s.aliases] or None,
            "external_ids": dict(s.external_ids) if s.external_ids else None,
            "notes": s.notes,
        }
    )


def _source_table(s: Source, refs: dict[int, str]) -> dict[str, Any]:
    return _drop_empty(
        {
            "name": s.name,
            "kind": s.kind,
            "url": s.url,
            "title": s.title,
            "credit": s.credit,
            "published_on": format_partial(s.published_on, s.published_precision),
            "based_on": refs.get(s.based_on_id) if s.based_on_id else None,
            "notes": s.notes,
        }
    )


def _links(session: Session, ids: list[int]) -> dict[int, list[StatementLink]]:
    found: dict[int, list[StatementLink]] = {}
    wanted = set(ids)
    for link in session.scalars(select(StatementLink).order_by(StatementLink.id)):
        if link.from_statement_id in wanted:
            found.setdefault(link.from_statement_id, []).append(link)
    return found


def _scale_names(session: Session) -> dict[int, str]:
    rows = session.execute(select(ScaleRating.id, RatingScale.name).join(RatingScale))
    return {rating_id: name for rating_id, name in rows}


def _claim_table(
    c: Statement,
    keys: dict[int, dict[str, Any]],
    source_refs: dict[int, str],
    links: list[StatementLink],
    scales: dict[int, str],
    left_out: Counter[str],
) -> dict[str, Any]:
    table: dict[str, Any] = dict(keys[c.id])
    table.update(
        _drop_empty(
            {
                "speaker": c.speaker.name,
                "text": c.text,
                "quote_kind": c.quote_kind,
                "language": c.language,
                "original_text": c.original_text,
                "original_language": c.original_language,
                "said_on": format_partial(c.said_on, c.said_precision),
                "context": c.context,
                "tags": [t.name for t in c.tags] or None,
            }
        )
    )
    chain = []
    for i, a in enumerate(c.attributions, start=1):
        item = _drop_empty({"source": source_refs[a.source_id], "role": a.role, "verb": a.verb})
        if a.position != i:
            item["position"] = a.position
        chain.append(item)
    if chain:
        table["attributions"] = chain
    history = []
    for e in c.status_events:
        evidence = keys.get(e.evidence_statement_id or -1)
        if e.evidence_statement_id and evidence is None:
            left_out["status evidence outside the selection"] += 1
        history.append(_event_table(e, evidence, source_refs))
    if history:
        table["status"] = history
    out_links = []
    for link in links:
        target = keys.get(link.to_statement_id)
        if target is None:
            left_out["links to claims outside the selection"] += 1
            continue
        out_links.append(
            _drop_empty(
                {
                    "relation": link.relation,
                    "to": target["id"],
                    "on": format_partial(link.linked_on, link.linked_precision),
                    "note": link.note,
                }
            )
        )
    if out_links:
        table["links"] = out_links
    verdicts = [_verdict_table(v, scales) for v in sorted(c.verdicts, key=lambda v: v.id)]
    if verdicts:
        table["verdicts"] = verdicts
    return table


def _event_table(
    e: StatusEvent, evidence: dict[str, Any] | None, refs: dict[int, str]
) -> dict[str, Any]:
    table = _drop_empty(
        {
            "status": e.status_code,
            "on": format_partial(e.effective_on, e.effective_precision),
            "note": e.note,
            "evidence_claim": evidence["id"] if evidence else None,
            "evidence_source": refs.get(e.evidence_source_id) if e.evidence_source_id else None,
        }
    )
    # written even when empty: a missing recorded_by means the story's origin on load
    table["recorded_by"] = e.recorded_by or ""
    table["recorded_at"] = e.recorded_at.isoformat()
    if e.withdrawn_at is not None:
        table["withdrawn_at"] = e.withdrawn_at.isoformat()
        table["withdrawn_by"] = e.withdrawn_by or ""
        table["withdrawn_note"] = e.withdrawn_note or ""
    return table


def _verdict_table(v: Verdict, scales: dict[int, str]) -> dict[str, Any]:
    return _drop_empty(
        {
            "label": v.label,
            "reviewer": v.reviewer,
            "reviewed_on": v.reviewed_on.isoformat() if v.reviewed_on else None,
            "url": v.url,
            "scale": scales.get(v.scale_rating_id) if v.scale_rating_id else None,
            "rating_value": v.rating_value,
            "best_rating": v.best_rating,
            "worst_rating": v.worst_rating,
        }
    )
