"""Temporary claim selection for reports until ``factdb.services.query`` lands.

TODO(reports): delete this module once ``services.query.select_claims`` exists; the report
model already prefers it.
"""

from __future__ import annotations

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from factdb.filters import ClaimFilter
from factdb.models import (
    Attribution,
    Source,
    Speaker,
    SpeakerAlias,
    Statement,
    StatementTag,
    StatusEvent,
    Tag,
    Verdict,
)
from factdb.textkeys import name_key


def select_claims(session: Session, claim_filter: ClaimFilter) -> Select:
    """Claim ids matching the filter, ordered by date said then id."""
    f = claim_filter
    stmt = select(Statement.id)
    if f.speaker:
        key = name_key(f.speaker)
        alias_ids = select(SpeakerAlias.speaker_id).where(SpeakerAlias.alias_key == key)
        speaker_ids = select(Speaker.id).where(
            or_(Speaker.name_key == key, Speaker.id.in_(alias_ids))
        )
        stmt = stmt.where(Statement.speaker_id.in_(speaker_ids))
    if f.status:
        if f.as_of is not None:
            latest = (
                select(StatusEvent.status_code)
                .where(
                    StatusEvent.statement_id == Statement.id, StatusEvent.effective_on <= f.as_of
                )
                .order_by(
                    StatusEvent.effective_on.desc(),
                    StatusEvent.recorded_at.desc(),
                    StatusEvent.id.desc(),
                )
                .limit(1)
                .scalar_subquery()
            )
            stmt = stmt.where(latest == f.status)
        else:
            stmt = stmt.where(Statement.current_status == f.status)
    if f.verdict:
        latest_id = (
            select(Verdict.id)
            .where(Verdict.statement_id == Statement.id)
            .order_by(Verdict.reviewed_on.is_(None), Verdict.reviewed_on.desc(), Verdict.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        label = f.verdict.strip().lower()
        stmt = stmt.where(
            select(Verdict.id)
            .where(
                Verdict.id == latest_id,
                or_(func.lower(Verdict.label) == label, Verdict.normalised_class == label),
            )
            .exists()
        )
    if f.source:
        stmt = stmt.where(
            select(Attribution.id)
            .join(Source, Source.id == Attribution.source_id)
            .where(
                Attribution.statement_id == Statement.id,
                or_(Source.url == f.source, Source.name_key == name_key(f.source)),
            )
            .exists()
        )
    if f.tag:
        stmt = stmt.where(
            select(StatementTag.tag_id)
            .join(Tag, Tag.id == StatementTag.tag_id)
            .where(and_(StatementTag.statement_id == Statement.id, Tag.name == f.tag.lower()))
            .exists()
        )
    if f.since is not None:
        stmt = stmt.where(Statement.said_on >= f.since)
    if f.until is not None:
        stmt = stmt.where(Statement.said_on <= f.until)
    if f.search:
        stmt = stmt.where(Statement.text.ilike(f"%{f.search}%"))
    stmt = stmt.order_by(Statement.said_on, Statement.id)
    if f.limit is not None:
        stmt = stmt.limit(f.limit)
    return stmt
