"""Allegation statuses: the vocabulary, the dated event log, and "as of" answers.

Every change of where an allegation stands is a :class:`StatusEvent`; nothing is overwritten.
``Statement.current_status`` is a cache of the latest event (by effective date, then the time
it was recorded, then id) and is recomputed after every change.

Dates compare by their first day: an event dated ``2021-10`` (month precision) is in force from
2021-10-01, one dated ``2021`` from 2021-01-01.

A status change dated *before the claim was made* is refused: when the whole period the event's
date names (see :func:`factdb.dates.period_end`) ends before the period of the claim's date
begins, the event cannot be right. An event dated ``2021-10`` on a claim said on 2021-10-18 is
accepted (the month includes the day); one dated 2021-10-17 is refused.
"""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from factdb.dates import PartialDate, format_partial, parse_partial, period_end
from factdb.errors import Conflict, FactdbError, NotFound
from factdb.models import Statement, Status, StatusEvent

# normalise_code lives in textkeys (no models) so that listings can use it; re-exported here
from factdb.textkeys import normalise_code  # noqa: F401

_CODE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def status_codes(session: Session) -> list[str]:
    """All status codes, seeded and user-defined, in alphabetical order."""
    return list(session.scalars(select(Status.code).order_by(Status.code)))


def check_status(session: Session, code: str) -> Status:
    """The status called ``code``; an unknown code is an error that lists the valid ones."""
    status = session.get(Status, normalise_code(code)) if code and code.strip() else None
    if status is None:
        raise FactdbError(
            f"unknown status {code!r} (valid: {', '.join(status_codes(session))}; "
            "add your own with 'factdb status add')"
        )
    return status


def _as_partial(value: str | dt.date | PartialDate) -> PartialDate:
    if isinstance(value, PartialDate):
        return value
    if isinstance(value, dt.date):
        return PartialDate(value, "day")
    return parse_partial(value)


def check_not_before_claim(statement: Statement, when: PartialDate, what: str) -> None:
    """Refuse a date whose whole period ends before the claim's date begins."""
    if statement.said_on is None:
        return
    if period_end(when.start, when.precision) < statement.said_on:
        said = format_partial(statement.said_on, statement.said_precision)
        raise FactdbError(
            f"{what} dated {when} is before claim {statement.id} was made ({said}); refused"
        )


def _now() -> dt.datetime:
    # set in Python, not by the server: microseconds make the "then recorded_at" tie-break
    # meaningful for two events recorded in the same second (or the same PostgreSQL transaction)
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def add_status_event(
    session: Session,
    claim_id: int,
    status: str,
    effective_on: str | dt.date,
    *,
    note: str | None = None,
    evidence_source: str | int | None = None,
    evidence_claim_id: int | None = None,
    recorded_by: str | None = None,
    again: bool = False,
) -> StatusEvent:
    """Record that claim ``claim_id`` took ``status`` on ``effective_on``; refresh its cache.

    ``effective_on`` is YYYY, YYYY-MM or YYYY-MM-DD. A date before the claim was made is refused
    (see the module docstring). ``evidence_source`` is a source id, URL or name that must exist;
    ``evidence_claim_id`` another claim that supports the change. A status equal to the claim's
    current one is refused (Conflict: usually a command typed twice) unless ``again``.
    """
    from factdb.services.claims import get_claim
    from factdb.services.sources import get_source

    statement = get_claim(session, claim_id)
    status_row = check_status(session, status)
    when = _as_partial(effective_on)
    check_not_before_claim(statement, when, f"status {status_row.code!r}")
    evidence = get_source(session, evidence_source) if evidence_source not in (None, "") else None
    if evidence_claim_id is not None:
        if evidence_claim_id == statement.id:
            raise FactdbError(f"claim {statement.id} cannot be evidence of its own status")
        get_claim(session, evidence_claim_id)
    if current_status_locked(session, statement.id) == status_row.code and not again:
        raise Conflict(
            f"claim {statement.id} is already {status_row.code!r}; "
            "use --again to record the same status once more"
        )
    event = StatusEvent(
        statement_id=statement.id,
        status_code=status_row.code,
        effective_on=when.start,
        effective_precision=when.precision,
        recorded_at=_now(),
        note=note or None,
        evidence_source_id=evidence.id if evidence else None,
        evidence_statement_id=evidence_claim_id,
        recorded_by=recorded_by or None,
    )
    session.add(event)
    session.flush()
    refresh_current_status(session, statement)
    return event


def current_status_locked(session: Session, claim_id: int) -> str | None:
    """The claim's current status, read under a lock on its row until the transaction ends.

    Two commands recording the same status at once must not both find it new: on PostgreSQL
    the row lock (SELECT … FOR UPDATE) makes the second wait for the first to commit, then
    read what it wrote; SQLite's writers hold the database's write lock from BEGIN IMMEDIATE
    (``factdb.db``), so there the read is serialised already.
    """
    return session.execute(
        select(Statement.current_status).where(Statement.id == claim_id).with_for_update()
    ).scalar_one()


def _latest_event_query(claim_id: int):  # type: ignore[no-untyped-def]
    return (
        select(StatusEvent.status_code)
        .where(StatusEvent.statement_id == claim_id, StatusEvent.withdrawn_at.is_(None))
        .order_by(
            StatusEvent.effective_on.desc(), StatusEvent.recorded_at.desc(), StatusEvent.id.desc()
        )
        .limit(1)
    )


def refresh_current_status(session: Session, statement: Statement) -> None:
    """Recompute ``statement.current_status`` from its events (None when it has none)."""
    session.flush()
    # lock the claim's row first: a concurrent status change on the same claim then waits for
    # this transaction and recomputes from all events, instead of overwriting the cache with
    # a value computed before this one's event was visible (READ COMMITTED on PostgreSQL).
    # NO KEY UPDATE does not conflict with the key-share locks that inserting events takes.
    session.execute(
        select(Statement.id).where(Statement.id == statement.id).with_for_update(key_share=True)
    )
    statement.current_status = session.scalar(_latest_event_query(statement.id))
    session.flush()


def status_as_of(session: Session, claim_id: int, as_of: dt.date) -> str | None:
    """The claim's status as it stood on ``as_of`` (None if nothing was recorded by then).

    The latest event with ``effective_on <= as_of`` wins; a partial date counts from its first
    day, so an event dated ``2021-10`` is in force on 2021-10-01 and after.
    """
    from factdb.services.claims import get_claim

    get_claim(session, claim_id)
    return session.scalar(_latest_event_query(claim_id).where(StatusEvent.effective_on <= as_of))


def withdraw_status_event(
    session: Session,
    claim_id: int,
    event_id: int,
    *,
    note: str,
    withdrawn_by: str | None = None,
) -> StatusEvent:
    """Withdraw status event ``event_id`` of claim ``claim_id``: a correction, not a deletion.

    The event stays in the history, marked withdrawn (when, by whom, ``note`` saying why); the
    claim's current status is recomputed without it, and so are "as of" answers. A note is
    required (a correction nobody can explain is worse than the mistake); an event of another
    claim, or one already withdrawn, is refused.
    """
    from factdb.services.claims import get_claim

    statement = get_claim(session, claim_id)
    reason = " ".join((note or "").split())
    if not reason:
        raise FactdbError("say why the status event is withdrawn (--note)")
    event = session.get(StatusEvent, int(event_id))
    if event is None or event.statement_id != statement.id:
        raise NotFound(f"claim {statement.id} has no status event {event_id}")
    if event.withdrawn_at is not None:
        raise Conflict(
            f"status event {event.id} was already withdrawn on "
            f"{event.withdrawn_at:%Y-%m-%d %H:%M} ({event.withdrawn_note})"
        )
    event.withdrawn_at = _now()
    event.withdrawn_by = withdrawn_by or None
    event.withdrawn_note = reason
    refresh_current_status(session, statement)
    return event


def status_history(session: Session, claim_id: int) -> list[StatusEvent]:
    """Every status event of a claim, oldest first (the order that decides the current one);
    withdrawn events included (``withdrawn_at`` set)."""
    return list(
        session.scalars(
            select(StatusEvent)
            .where(StatusEvent.statement_id == claim_id)
            .order_by(StatusEvent.effective_on, StatusEvent.recorded_at, StatusEvent.id)
        )
    )


def list_statuses(session: Session) -> list[Status]:
    """The status vocabulary, alphabetically by code."""
    return list(session.scalars(select(Status).order_by(Status.code)))


def add_status_code(
    session: Session,
    code: str,
    label: str,
    description: str | None = None,
    terminal: bool = False,
) -> Status:
    """Add a user-defined status (code: lower-case letters, digits and ``_``)."""
    normal = normalise_code(code)
    if not _CODE.match(normal):
        raise FactdbError(
            f"invalid status code {code!r}: use letters, digits and '_', starting with a letter"
        )
    if session.get(Status, normal) is not None:
        raise Conflict(f"status {normal!r} already exists")
    label = " ".join((label or "").split())
    if not label:
        raise FactdbError("a status label cannot be empty")
    status = Status(code=normal, label=label, description=description or None, is_terminal=terminal)
    session.add(status)
    session.flush()
    return status
