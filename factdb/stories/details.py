"""What a load records about claims besides the claims: status histories, links, verdicts.

A mixin of :class:`factdb.stories.apply.Applier` (which provides the session, the caches and the
report), kept apart so that each module reads in one sitting.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from factdb.dates import format_partial, parse_partial
from factdb.errors import FactdbError
from factdb.models import StatementLink, StatusEvent, Verdict
from factdb.stories import bulk
from factdb.stories.read import Problem, Story, StoryError
from factdb.text import clean


class ClaimDetails:
    """Status events, links and verdicts of the claims a load adds or finds again."""

    session: Any
    report: Any
    fresh: set[int]
    said: dict[int, Any]
    codes: dict[str, str]
    # the Applier's methods these steps use
    count: Callable[..., None]
    changed: Callable[[str, list[str]], None]
    claim_ref: Callable[[Story, str], int]
    source_ref: Callable[[str], Any]
    quiet: Callable[[], None]
    writer: Any

    def fresh_statuses(self, story: Story) -> None:
        """The status histories of the story's new claims, in one insert."""
        from factdb.services.statuses import check_status

        codes = self.codes
        now = self.writer.stamp(dt.datetime.now(dt.UTC).replace(tzinfo=None))
        stamp, sqlite, origin = self.writer.stamp, self.writer.sqlite, story.origin
        values = bulk.event_values
        rows = []
        fresh, said, claim_ids = self.fresh, self.said, story.claim_ids
        for i, data in enumerate(story.claims):
            items = data.get("status")
            if not items:
                continue
            claim_id = claim_ids.get(data.get("id"))
            if claim_id not in fresh:
                continue
            for item in items:
                if not item:
                    continue
                try:
                    code = codes.get(item["status"])
                    if code is None:
                        self.quiet()
                        code = codes[item["status"]] = check_status(
                            self.session, item["status"]
                        ).code
                    row = values(claim_id, said[claim_id], code, item, origin, now, stamp, sqlite)
                    evidence = item.get("evidence_claim") if len(item) > 2 else None
                    source = item.get("evidence_source") if len(item) > 2 else None
                    row += (
                        self.claim_ref(story, evidence) if evidence else None,
                        self.source_ref(source).id if source else None,
                    )
                except FactdbError as exc:
                    where = ("claims", i, "status", item["status"])
                    raise StoryError(story.path, [Problem(story.line(*where), str(exc))]) from None
                rows.append(row)
        self.writer.insert(StatusEvent, bulk.EVENT_COLUMNS, rows)
        self.count("status events added", len(rows))

    def statuses(self, story: Story, data: dict[str, Any]) -> None:
        """Add the file's status events the claim lacks; recompute its current status."""
        from factdb.services.claims import get_claim
        from factdb.services.statuses import (
            check_not_before_claim,
            check_status,
            refresh_current_status,
        )

        items = [i for i in data.get("status") or [] if i]
        claim_id = story.claim_ids[data["id"]]
        if not items or claim_id in self.fresh:
            return
        statement = get_claim(self.session, claim_id)
        events = {
            (e.status_code, e.effective_on, e.effective_precision, e.recorded_at): e
            for e in self.session.scalars(
                select(StatusEvent).where(StatusEvent.statement_id == claim_id)
            )
        }
        present = set(events)
        loose = {p[:3] for p in present}
        added = False
        for item in items:
            code = check_status(self.session, item["status"]).code
            when = parse_partial(item["on"])
            recorded = bulk.utc_timestamp(item.get("recorded_at"))
            identity = (code, when.start, when.precision)
            if (recorded is None and identity in loose) or (*identity, recorded) in present:
                self.count("status events present")
                event = events.get((*identity, recorded))
                if event is not None and item.get("withdrawn_at") and event.withdrawn_at is None:
                    # withdrawn in the file since the last load: withdrawn here too
                    for column, value in bulk.withdrawal(item).items():
                        setattr(event, column, value)
                    added = True
                    self.report.changes.append(
                        f"claim {data['id']!r} ({claim_id}): status {code!r} on {when} withdrawn"
                    )
                continue
            check_not_before_claim(statement, when, f"status {code!r}")
            evidence_claim = (
                self.claim_ref(story, item["evidence_claim"])
                if item.get("evidence_claim")
                else None
            )
            if evidence_claim == claim_id:
                raise FactdbError(f"claim {claim_id} cannot be evidence of its own status")
            self.session.add(
                StatusEvent(
                    statement_id=claim_id,
                    status_code=code,
                    effective_on=when.start,
                    effective_precision=when.precision,
                    recorded_at=recorded or dt.datetime.now(dt.UTC).replace(tzinfo=None),
                    note=item.get("note") or None,
                    evidence_source_id=self.source_ref(item["evidence_source"]).id
                    if item.get("evidence_source")
                    else None,
                    evidence_statement_id=evidence_claim,
                    recorded_by=item.get("recorded_by", story.origin) or None,
                    **bulk.withdrawal(item),
                )
            )
            present.add((*identity, recorded))
            loose.add(identity)
            self.count("status events added")
            added = True
            if claim_id not in self.fresh:
                self.report.changes.append(
                    f"claim {data['id']!r} ({claim_id}): status {code!r} on {when} added"
                )
        if added:
            refresh_current_status(self.session, statement)

    def links(self, story: Story, data: dict[str, Any]) -> None:
        """Add the file's links from this claim; update a link's date or note."""
        from factdb.services.links import link_claims

        from_id = story.claim_ids[data["id"]]
        for item in filter(None, data.get("links") or []):
            to_id = self.claim_ref(story, item["to"])
            row = self.session.scalar(
                select(StatementLink).where(
                    StatementLink.from_statement_id == from_id,
                    StatementLink.to_statement_id == to_id,
                    StatementLink.relation == item["relation"],
                )
            )
            if row is None:
                link_claims(
                    self.session,
                    from_id,
                    item["relation"],
                    to_id,
                    linked_on=item.get("on"),
                    note=item.get("note"),
                )
                self.count("links added")
                continue
            self.count("links present")
            when = parse_partial(item["on"]) if item.get("on") else None
            edits = []
            if format_partial(row.linked_on, row.linked_precision) != (str(when) if when else None):
                row.linked_on, row.linked_precision = (
                    (when.start, when.precision) if when else (None, None)
                )
                edits.append("date")
            if (row.note or None) != (item.get("note") or None):
                row.note = item.get("note") or None
                edits.append("note")
            self.changed(
                f"claim {data['id']!r} ({from_id}), link {item['relation']} {item['to']!r}", edits
            )

    def verdicts(self, story: Story, data: dict[str, Any]) -> None:
        """Add the file's verdicts the claim lacks (same label, reviewer and date)."""
        from factdb.services.verdicts import add_verdict

        claim_id = story.claim_ids[data["id"]]
        for item in filter(None, data.get("verdicts") or []):
            reviewed = parse_partial(item["reviewed_on"]).start if item.get("reviewed_on") else None
            query = select(Verdict.id).where(
                Verdict.statement_id == claim_id,
                Verdict.label == clean(item["label"]),
                Verdict.reviewed_on.is_(None)
                if reviewed is None
                else Verdict.reviewed_on == reviewed,
                Verdict.reviewer.is_(None)
                if not item.get("reviewer")
                else Verdict.reviewer == clean(item["reviewer"]),
            )
            # a new claim takes its verdicts as written (two alike included)
            if claim_id not in self.fresh and self.session.scalar(query) is not None:
                self.count("verdicts present")
                continue
            add_verdict(
                self.session,
                claim_id,
                item["label"],
                reviewer=item.get("reviewer"),
                reviewed_on=item.get("reviewed_on"),
                url=item.get("url"),
                scale=item.get("scale"),
                rating_value=item.get("rating_value"),
                best_rating=item.get("best_rating"),
                worst_rating=item.get("worst_rating"),
            )
            self.count("verdicts added")
