"""Typed declarative models for every concept in DESIGN.md.

Schema changes happen only through Alembic migrations in ``migrations/``; a test proves that
these models and the migrations never drift.

Dates that people say come with a precision: ``said_on`` and friends store the *first day* of
the period (2021-10 is stored as 2021-10-01) next to a ``*_precision`` of ``year``, ``month``
or ``day``. Comparisons (``--since``, ``--until``, ``--as-of``) therefore treat a partial date
as its first day; rendering uses the precision so nothing invented is ever shown.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    event,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

from factdb.text import clean
from factdb.vocab import (  # noqa: F401  (re-exported: services import them from here)
    ATTRIBUTION_ROLES,
    LINK_RELATIONS,
    PRECISIONS,
    QUOTE_KINDS,
    SOURCE_KINDS,
    SPEAKER_KINDS,
    VERDICT_CLASSES,
)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _in(column: str, values: tuple[str, ...]) -> str:
    """SQL for a CHECK that ``column`` takes one of ``values`` (portable across backends)."""
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


class Base(DeclarativeBase):
    """Declarative base carrying the naming convention for constraints and indexes."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Speaker(Base):
    """A person or an organisation that says things; may act for another speaker."""

    __tablename__ = "speakers"
    __table_args__ = (CheckConstraint(_in("kind", SPEAKER_KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    # casefolded, accent- and whitespace-insensitive form of name: what uniqueness means
    name_key: Mapped[str] = mapped_column(String(300), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default="person")
    role: Mapped[str | None] = mapped_column(String(300))
    acts_for_id: Mapped[int | None] = mapped_column(
        ForeignKey("speakers.id", ondelete="SET NULL"), index=True
    )
    external_ids: Mapped[dict[str, str] | None] = mapped_column(JSON)
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())

    acts_for: Mapped[Speaker | None] = relationship(remote_side=[id])
    aliases: Mapped[list[SpeakerAlias]] = relationship(
        back_populates="speaker", cascade="all, delete-orphan", order_by="SpeakerAlias.id"
    )


class SpeakerAlias(Base):
    """Another name for a speaker, in any script ("Moscow", "Сергей Лавров")."""

    __tablename__ = "speaker_aliases"

    id: Mapped[int] = mapped_column(primary_key=True)
    speaker_id: Mapped[int] = mapped_column(
        ForeignKey("speakers.id", ondelete="CASCADE"), index=True
    )
    alias: Mapped[str] = mapped_column(String(300))
    alias_key: Mapped[str] = mapped_column(String(300), unique=True)

    speaker: Mapped[Speaker] = relationship(back_populates="aliases")


class Source(Base):
    """Where a statement appeared or was reported: an agency report, an article, a photo."""

    __tablename__ = "sources"
    __table_args__ = (CheckConstraint(_in("kind", SOURCE_KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    name_key: Mapped[str] = mapped_column(String(300), index=True)
    kind: Mapped[str] = mapped_column(String(30), default="outlet")
    title: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(2000), unique=True)
    published_on: Mapped[dt.date | None] = mapped_column(Date)
    published_precision: Mapped[str | None] = mapped_column(String(5))
    credit: Mapped[str | None] = mapped_column(String(300))
    based_on_id: Mapped[int | None] = mapped_column(
        ForeignKey("sources.id", ondelete="SET NULL"), index=True
    )
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())

    based_on: Mapped[Source | None] = relationship(remote_side=[id])
    aliases: Mapped[list[SourceAlias]] = relationship(
        back_populates="source", cascade="all, delete-orphan", order_by="SourceAlias.id"
    )


class SourceAlias(Base):
    """Another name of a source ("AP" for "Associated Press"), used wherever names resolve."""

    __tablename__ = "source_aliases"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    alias: Mapped[str] = mapped_column(String(300))
    alias_key: Mapped[str] = mapped_column(String(300), unique=True)

    source: Mapped[Source] = relationship(back_populates="aliases")


class Tag(Base):
    """A free label on statements ("nato", "expulsions")."""

    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)


class StatementTag(Base):
    """Association of a statement with a tag."""

    __tablename__ = "statement_tags"

    statement_id: Mapped[int] = mapped_column(
        ForeignKey("statements.id", ondelete="CASCADE"), primary_key=True
    )
    tag_id: Mapped[int] = mapped_column(
        ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Statement(Base):
    """What was said (the CLI calls it a claim): text, who, when, in which words."""

    __tablename__ = "statements"
    __table_args__ = (
        CheckConstraint(_in("quote_kind", QUOTE_KINDS), name="quote_kind"),
        CheckConstraint(_in("said_precision", PRECISIONS), name="said_precision"),
        UniqueConstraint("origin", "external_id"),
        Index("ix_statements_speaker_said", "speaker_id", "said_on"),
        Index("ix_statements_status_said", "current_status", "said_on"),
        # a unique index, not a table constraint, so that a bulk load into an empty table can
        # build it once at the end (SQLite cannot drop a constraint; see migration 0005)
        Index("uq_statements_content_key", "content_key", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    quote_kind: Mapped[str] = mapped_column(String(20), default="direct_quote")
    language: Mapped[str | None] = mapped_column(String(20))
    original_text: Mapped[str | None] = mapped_column(Text)
    original_language: Mapped[str | None] = mapped_column(String(20))
    said_on: Mapped[dt.date | None] = mapped_column(Date, index=True)
    said_precision: Mapped[str | None] = mapped_column(String(5))
    context: Mapped[str | None] = mapped_column(Text)
    speaker_id: Mapped[int] = mapped_column(ForeignKey("speakers.id", ondelete="RESTRICT"))
    # derived from status_events by services.statuses.refresh_current_status; cached here so
    # that "--status S" is an index lookup on a million claims
    current_status: Mapped[str | None] = mapped_column(
        ForeignKey("statuses.code", ondelete="RESTRICT")
    )
    # sha1 over (speaker id, normalised text, said_on): a claim identical to an existing one by
    # the same speaker on the same date is reported, not duplicated
    content_key: Mapped[str] = mapped_column(String(40))
    origin: Mapped[str | None] = mapped_column(String(100))
    external_id: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime, server_default=func.now(), onupdate=func.now()
    )

    speaker: Mapped[Speaker] = relationship()
    tags: Mapped[list[Tag]] = relationship(secondary="statement_tags", order_by=Tag.name)
    attributions: Mapped[list[Attribution]] = relationship(
        back_populates="statement", cascade="all, delete-orphan", order_by="Attribution.position"
    )
    status_events: Mapped[list[StatusEvent]] = relationship(
        back_populates="statement",
        cascade="all, delete-orphan",
        foreign_keys="StatusEvent.statement_id",
        order_by="(StatusEvent.effective_on, StatusEvent.recorded_at, StatusEvent.id)",
    )
    verdicts: Mapped[list[Verdict]] = relationship(
        back_populates="statement", cascade="all, delete-orphan", order_by="Verdict.id"
    )


class Attribution(Base):
    """One link of the chain "how we know": statement ↔ source, with a role and the verb."""

    __tablename__ = "attributions"
    __table_args__ = (
        CheckConstraint(_in("role", ATTRIBUTION_ROLES), name="role"),
        UniqueConstraint("statement_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("statements.id", ondelete="CASCADE"))
    source_id: Mapped[int] = mapped_column(
        ForeignKey("sources.id", ondelete="RESTRICT"), index=True
    )
    role: Mapped[str] = mapped_column(String(30), default="reported_by")
    verb: Mapped[str | None] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer, default=1)

    statement: Mapped[Statement] = relationship(back_populates="attributions")
    source: Mapped[Source] = relationship()


class Status(Base):
    """The allegation-status vocabulary: seeded by a migration, extensible by users."""

    __tablename__ = "statuses"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    label: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    is_terminal: Mapped[bool] = mapped_column(Boolean, default=False)


class StatusEvent(Base):
    """One dated change of an allegation's status; never overwritten."""

    __tablename__ = "status_events"
    __table_args__ = (
        CheckConstraint(_in("effective_precision", PRECISIONS), name="effective_precision"),
        Index("ix_status_events_statement_effective", "statement_id", "effective_on"),
        # evidence is rare: partial indexes hold only the events that cite some (an index of
        # every event's empty evidence was 17 MB per million claims, written on every import)
        Index(
            "ix_status_events_evidence_source_id",
            "evidence_source_id",
            sqlite_where=text("evidence_source_id IS NOT NULL"),
            postgresql_where=text("evidence_source_id IS NOT NULL"),
        ),
        Index(
            "ix_status_events_evidence_statement_id",
            "evidence_statement_id",
            sqlite_where=text("evidence_statement_id IS NOT NULL"),
            postgresql_where=text("evidence_statement_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("statements.id", ondelete="CASCADE"))
    status_code: Mapped[str] = mapped_column(
        ForeignKey("statuses.code", ondelete="RESTRICT"), index=True
    )
    effective_on: Mapped[dt.date] = mapped_column(Date)
    effective_precision: Mapped[str] = mapped_column(String(5), default="day")
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())
    note: Mapped[str | None] = mapped_column(Text)
    evidence_source_id: Mapped[int | None] = mapped_column(
        ForeignKey("sources.id", ondelete="SET NULL")
    )
    evidence_statement_id: Mapped[int | None] = mapped_column(
        ForeignKey("statements.id", ondelete="SET NULL")
    )
    recorded_by: Mapped[str | None] = mapped_column(String(100))
    # a withdrawn event stays in the history (when, by whom and why it was withdrawn) but no
    # longer counts: the current status and "as of" answers are worked out without it
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    withdrawn_by: Mapped[str | None] = mapped_column(String(100))
    withdrawn_note: Mapped[str | None] = mapped_column(Text)

    statement: Mapped[Statement] = relationship(
        back_populates="status_events", foreign_keys=[statement_id]
    )
    status: Mapped[Status] = relationship()
    evidence_source: Mapped[Source | None] = relationship()
    evidence_statement: Mapped[Statement | None] = relationship(
        foreign_keys=[evidence_statement_id]
    )


class StatementLink(Base):
    """A typed, dated relation between two statements (a denial *denies* an accusation)."""

    __tablename__ = "statement_links"
    __table_args__ = (
        CheckConstraint(_in("relation", LINK_RELATIONS), name="relation"),
        CheckConstraint("from_statement_id <> to_statement_id", name="not_self"),
        CheckConstraint(_in("linked_precision", PRECISIONS), name="linked_precision"),
        UniqueConstraint("from_statement_id", "to_statement_id", "relation"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    from_statement_id: Mapped[int] = mapped_column(ForeignKey("statements.id", ondelete="CASCADE"))
    to_statement_id: Mapped[int] = mapped_column(
        ForeignKey("statements.id", ondelete="CASCADE"), index=True
    )
    relation: Mapped[str] = mapped_column(String(20))
    linked_on: Mapped[dt.date | None] = mapped_column(Date)
    linked_precision: Mapped[str | None] = mapped_column(String(5))
    note: Mapped[str | None] = mapped_column(Text)

    from_statement: Mapped[Statement] = relationship(foreign_keys=[from_statement_id])
    to_statement: Mapped[Statement] = relationship(foreign_keys=[to_statement_id])


class RatingScale(Base):
    """A fact-checker's rating scale (PolitiFact's Truth-O-Meter, …)."""

    __tablename__ = "rating_scales"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    publisher: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)

    ratings: Mapped[list[ScaleRating]] = relationship(
        back_populates="scale", order_by="ScaleRating.ordinal"
    )


class ScaleRating(Base):
    """One label of a rating scale with its ordinal value and normalised class."""

    __tablename__ = "scale_ratings"
    __table_args__ = (
        CheckConstraint(_in("normalised_class", VERDICT_CLASSES), name="normalised_class"),
        UniqueConstraint("scale_id", "label_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scale_id: Mapped[int] = mapped_column(ForeignKey("rating_scales.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(100))
    label_key: Mapped[str] = mapped_column(String(100), index=True)
    ordinal: Mapped[int] = mapped_column(Integer)
    normalised_class: Mapped[str] = mapped_column(String(10))
    description: Mapped[str | None] = mapped_column(Text)

    scale: Mapped[RatingScale] = relationship(back_populates="ratings")


class Verdict(Base):
    """A fact-checker's rating of a statement, kept apart from the allegation status."""

    __tablename__ = "verdicts"
    __table_args__ = (
        CheckConstraint(_in("normalised_class", VERDICT_CLASSES), name="normalised_class"),
        Index("ix_verdicts_statement_reviewed", "statement_id", "reviewed_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("statements.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(Text)
    reviewer: Mapped[str | None] = mapped_column(String(300))
    reviewed_on: Mapped[dt.date | None] = mapped_column(Date)
    url: Mapped[str | None] = mapped_column(String(2000))
    scale_rating_id: Mapped[int | None] = mapped_column(
        ForeignKey("scale_ratings.id", ondelete="SET NULL"), index=True
    )
    rating_value: Mapped[int | None] = mapped_column(Integer)
    best_rating: Mapped[int | None] = mapped_column(Integer)
    worst_rating: Mapped[int | None] = mapped_column(Integer)
    normalised_class: Mapped[str] = mapped_column(String(10), default="other", index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())

    statement: Mapped[Statement] = relationship(back_populates="verdicts")
    scale_rating: Mapped[ScaleRating | None] = relationship()


class ClaimVector(Base):
    """A claim's sentence embedding (the semantic matching layer), and the model that made it."""

    __tablename__ = "claim_vectors"

    statement_id: Mapped[int] = mapped_column(
        ForeignKey("statements.id", ondelete="CASCADE"), primary_key=True
    )
    model: Mapped[str] = mapped_column(String(100))
    vector: Mapped[bytes] = mapped_column(LargeBinary)


# --- one rule set for stored text ---------------------------------------------------------

_TEXT_COLUMNS: dict[type, list[tuple[str, bool, bool]]] = {}


def _text_columns(cls: type[Base]) -> list[tuple[str, bool, bool]]:
    """(attribute, multi-line, nullable) of the text columns of a model; keys left out."""
    found = _TEXT_COLUMNS.get(cls)
    if found is None:
        found = [
            (attr.key, isinstance(attr.expression.type, Text), bool(attr.expression.nullable))
            for attr in cls.__mapper__.column_attrs
            if isinstance(attr.expression.type, String) and not attr.key.endswith("_key")
        ]
        _TEXT_COLUMNS[cls] = found
    return found


@event.listens_for(Session, "before_flush")
def _clean_stored_text(session: Session, _context: object, _instances: object) -> None:
    """Whatever path a row comes by, its text is stored by the rules of ``factdb.text``: the
    services clean what they check, and this catches any field they pass through as given.
    Only loaded values are looked at (reading an expired one here would query mid-flush)."""
    for row in (*session.new, *session.dirty):
        if not isinstance(row, Base):
            continue
        state = row.__dict__
        for attr, multiline, nullable in _text_columns(type(row)):
            value = state.get(attr)
            if type(value) is str:
                cleaned = clean(value, multiline=multiline)
                if cleaned != value:
                    # nothing left of an optional field is no value, as the importers read it
                    setattr(row, attr, None if nullable and not cleaned else cleaned)


AUDIT_ACTIONS = ("insert", "update", "delete", "import")


class AuditEntry(Base):
    """One change to the data, written in the transaction that made it (see factdb.audit).

    No foreign keys on purpose: the entries of a deleted claim stay, naming its id.
    """

    __tablename__ = "audit_log"
    __table_args__ = (
        CheckConstraint(_in("action", AUDIT_ACTIONS), name="action"),
        Index("ix_audit_log_table_row", "table_name", "row_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    changed_by: Mapped[str | None] = mapped_column(String(100), index=True)
    table_name: Mapped[str] = mapped_column(String(40))
    row_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(10))
    claim_id: Mapped[int | None] = mapped_column(Integer, index=True)
    before: Mapped[dict[str, object] | None] = mapped_column(JSON)
    after: Mapped[dict[str, object] | None] = mapped_column(JSON)


# every change to an audited table is logged in its transaction (factdb.audit); registered
# here so that whatever uses the models gets it
from factdb import audit as _audit  # noqa: E402

_audit.install(Base)
