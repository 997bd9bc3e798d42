"""Two commands recording the same status on one claim at once: the second waits for the
first and is refused as a repeat, on both backends (PostgreSQL by the claim row's lock, SQLite
by the write lock its writers take at BEGIN). Deterministic: the first holds its transaction
open until the second is seen waiting."""

from __future__ import annotations

import threading

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from factdb.errors import Conflict
from factdb.models import StatusEvent
from factdb.services.claims import add_claim
from factdb.services.statuses import add_status_event


def test_the_same_status_twice_at_once_is_recorded_once(engine: Engine) -> None:
    with Session(engine) as s:
        claim_id = add_claim(
            s,
            text="Russia runs spies at NATO.",
            speaker="NATO",
            speaker_kind="organisation",
            said_on="2021-10-06",
            status="alleged",
        ).id
        s.commit()
    outcome: dict[str, str] = {}

    def second() -> None:
        with Session(engine) as s:
            try:
                add_status_event(s, claim_id, "denied", "2021-10-07")
                s.commit()
                outcome["second"] = "recorded"
            except Conflict as exc:
                outcome["second"] = str(exc)

    with Session(engine) as first:
        add_status_event(first, claim_id, "denied", "2021-10-07")
        waiting = threading.Thread(target=second)
        waiting.start()
        waiting.join(timeout=1.5)
        # the check of the second waits on the first's lock instead of reading a stale status
        assert waiting.is_alive() and not outcome
        first.commit()
    waiting.join(timeout=60)
    assert not waiting.is_alive()
    assert outcome["second"].startswith(f"claim {claim_id} is already 'denied'")
    with Session(engine) as s:
        events = s.scalar(
            select(func.count())
            .select_from(StatusEvent)
            .where(StatusEvent.statement_id == claim_id)
        )
    assert events == 2  # alleged, then denied once
