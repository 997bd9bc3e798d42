"""Claim selection (the shared filters), listing dicts and the detail record, on both backends."""

from __future__ import annotations

import datetime as dt
import shutil
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import BACKENDS, create_pg_database, drop_pg_database
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

from factdb.db import make_engine
from factdb.errors import FactdbError, NotFound
from factdb.filters import ClaimFilter
from factdb.services.claims import AttributionInput, add_claim
from factdb.services.links import link_claims
from factdb.services.query import claim_detail, list_claims, select_claims
from factdb.services.speakers import add_alias, create_speaker
from factdb.services.statuses import add_status_event
from factdb.services.verdicts import add_verdict

D = dt.date


@pytest.fixture(scope="module", params=BACKENDS)
def story_db(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    sqlite_template: Path,
) -> Iterator[tuple[Engine, dict[str, int]]]:
    """One story database per backend for the whole module; every test rolls back its changes."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("query") / "story.db"
        shutil.copyfile(sqlite_template, path)
        url = f"sqlite:///{path}"
    else:
        template = request.getfixturevalue("pg_template")
        url = create_pg_database(template=make_url(template).database)
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            ids = build_story(session)
            session.commit()
        yield engine, ids
    finally:
        engine.dispose()
        if request.param != "sqlite":
            drop_pg_database(url)


@pytest.fixture
def session(story_db: tuple[Engine, dict[str, int]]) -> Iterator[Session]:
    """A session on the story database whose changes are rolled back after the test."""
    with Session(story_db[0]) as s:
        yield s
        s.rollback()


@pytest.fixture
def story(story_db: tuple[Engine, dict[str, int]]) -> dict[str, int]:
    """The ids of the story's claims."""
    return story_db[1]


def build_story(session: Session) -> dict[str, int]:
    """A small story: an accusation, its denial, a quote, a month-dated and an undated claim."""
    ministry = create_speaker(session, "Russian Foreign Ministry", kind="organisation")
    add_alias(session, ministry, "Moscow")
    create_speaker(session, "Sergey Lavrov", role="Foreign Minister", acts_for="Moscow")
    accusation = add_claim(
        session,
        text="Eight members of Russia's mission were undeclared intelligence officers.",
        speaker="NATO",
        speaker_kind="organisation",
        said_on="2021-10-06",
        status="alleged",
        tags=["nato", "expulsions"],
        sources=[
            AttributionInput("Associated Press", kind="news_agency", verb="accused"),
            AttributionInput("Example Times", url="https://example.com/nato", verb="said"),
        ],
    )
    denial = add_claim(
        session,
        text="The accusation is baseless.",
        speaker="Moscow",
        said_on="2021-10-07",
        status="alleged",
        sources=[AttributionInput("Associated Press")],
    )
    add_status_event(session, accusation.id, "denied", "2021-10-07", evidence_claim_id=denial.id)
    link_claims(session, denial.id, "denies", accusation.id, linked_on="2021-10-07")
    quote = add_claim(
        session,
        text="We will suspend the work of our mission to NATO.",
        speaker="Sergey Lavrov",
        said_on="2021-10-18",
        tags=["nato"],
        sources=[AttributionInput("Associated Press", verb="according to", role="according_to")],
    )
    link_claims(session, quote.id, "responds-to", accusation.id)
    month = add_claim(
        session,
        text="NATO suspended the accreditation of eight officials.",
        speaker="NATO",
        said_on="2021-10",
        status="confirmed",
    )
    undated = add_claim(session, text="An undated remark.", speaker="NATO")
    add_verdict(session, accusation.id, "Half True", reviewed_on="2021-10-20")
    add_verdict(session, accusation.id, "Pants on Fire", reviewed_on="2021-11-01")
    add_verdict(session, quote.id, "Mostly True", reviewed_on="2021-10-20")
    add_verdict(session, quote.id, "Three Pinocchios")  # undated: older than any dated one
    add_verdict(session, denial.id, "Four Pinocchios")
    session.flush()
    return {
        "accusation": accusation.id,
        "denial": denial.id,
        "quote": quote.id,
        "month": month.id,
        "undated": undated.id,
    }


def ids(session: Session, **filters: Any) -> list[int]:
    return list(session.scalars(select_claims(session, ClaimFilter(**filters))))


def test_order_is_date_said_then_id_with_undated_first(session: Session, story: dict) -> None:
    assert ids(session) == [
        story["undated"],
        story["month"],  # 2021-10 compares as 2021-10-01
        story["accusation"],
        story["denial"],
        story["quote"],
    ]
    assert ids(session, limit=2) == [story["undated"], story["month"]]


def test_speaker_filter_by_name_or_alias(session: Session, story: dict) -> None:
    assert ids(session, speaker="nato") == [story["undated"], story["month"], story["accusation"]]
    assert ids(session, speaker="Russian Foreign Ministry") == [story["denial"]]
    assert ids(session, speaker="MOSCOW") == [story["denial"]]
    with pytest.raises(
        NotFound, match="unknown speaker 'Sergei Lavrov'; did you mean 'Sergey Lavrov'"
    ):
        ids(session, speaker="Sergei Lavrov")


def test_status_filter_current(session: Session, story: dict) -> None:
    assert ids(session, status="denied") == [story["accusation"]]
    assert ids(session, status="alleged") == [story["denial"]]
    assert ids(session, status="Confirmed") == [story["month"]]
    with pytest.raises(FactdbError, match="unknown status 'debunked'"):
        ids(session, status="debunked")


def test_as_of_alleged_the_day_before_the_denial_and_denied_from_that_day(
    session: Session, story: dict
) -> None:
    """The acceptance case: alleged on D1 (2021-10-06), denied on D2 (2021-10-07)."""
    accusation = story["accusation"]
    assert accusation in ids(session, status="alleged", as_of=D(2021, 10, 6))
    assert accusation not in ids(session, status="denied", as_of=D(2021, 10, 6))
    for day in (D(2021, 10, 7), D(2021, 10, 8), D(2030, 1, 1)):
        assert accusation in ids(session, status="denied", as_of=day)
        assert accusation not in ids(session, status="alleged", as_of=day)
    assert ids(session, status="alleged", as_of=D(2021, 10, 5)) == []

    def status_on(day: dt.date) -> str | None:
        rows = list_claims(session, ClaimFilter(as_of=day))
        return next(r["status"] for r in rows if r["id"] == accusation)

    assert status_on(D(2021, 10, 5)) is None
    assert status_on(D(2021, 10, 6)) == "alleged"
    assert status_on(D(2021, 10, 7)) == "denied"


def test_as_of_partial_dates_count_from_their_first_day(session: Session, story: dict) -> None:
    month = story["month"]  # confirmed, effective "2021-10" (its said_on)
    assert ids(session, status="confirmed", as_of=D(2021, 9, 30)) == []
    assert ids(session, status="confirmed", as_of=D(2021, 10, 1)) == [month]
    year = add_claim(session, text="A year-dated claim.", speaker="NATO", said_on="2020")
    add_status_event(session, year.id, "disputed", "2021")
    assert year.id not in ids(session, status="disputed", as_of=D(2020, 12, 31))
    assert year.id in ids(session, status="disputed", as_of=D(2021, 1, 1))


def test_as_of_same_day_events_latest_recorded_wins(session: Session, story: dict) -> None:
    accusation = story["accusation"]
    add_status_event(session, accusation, "disputed", "2021-10-07")
    assert ids(session, status="disputed", as_of=D(2021, 10, 7)) == [accusation]
    assert ids(session, status="denied", as_of=D(2021, 10, 7)) == []


def test_since_until_compare_first_days(session: Session, story: dict) -> None:
    assert ids(session, since=D(2021, 10, 7)) == [story["denial"], story["quote"]]
    assert ids(session, until=D(2021, 10, 6)) == [story["month"], story["accusation"]]
    assert ids(session, since=D(2021, 10, 1), until=D(2021, 10, 1)) == [story["month"]]


def test_verdict_filter_uses_the_latest_verdict(session: Session, story: dict) -> None:
    # the accusation's latest verdict is Pants on Fire (false), not Half True
    assert ids(session, verdict="false") == [story["accusation"]]
    assert ids(session, verdict="pants on fire") == [story["accusation"]]
    assert ids(session, verdict="Half True") == []
    assert ids(session, verdict="mixture") == []
    # the quote's dated verdict beats its undated one
    assert ids(session, verdict="true") == [story["quote"]]
    assert ids(session, verdict="Mostly-True") == [story["quote"]]
    # another spelling of the same rating on the same scale (LIAR's) finds it too
    assert ids(session, verdict="pants-fire") == [story["accusation"]]
    # an unknown label is matched verbatim (case-insensitively), its class is "other"
    assert ids(session, verdict="four pinocchios") == [story["denial"]]
    assert ids(session, verdict="other") == [story["denial"]]
    assert ids(session, verdict="no such label") == []


def test_source_and_tag_filters(session: Session, story: dict) -> None:
    assert ids(session, source="associated press") == [
        story["accusation"],
        story["denial"],
        story["quote"],
    ]
    assert ids(session, source="https://example.com/nato") == [story["accusation"]]
    with pytest.raises(NotFound, match="unknown source 'Asociated Pres'; did you mean"):
        ids(session, source="Asociated Pres")
    assert ids(session, tag="NATO") == [story["accusation"], story["quote"]]
    assert ids(session, tag="unknown") == []


def test_filters_combine(session: Session, story: dict) -> None:
    assert ids(session, speaker="NATO", tag="nato", status="denied", source="Example Times") == [
        story["accusation"]
    ]
    assert ids(session, speaker="NATO", since=D(2021, 10, 7)) == []


def test_search_is_delegated(
    session: Session, story: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []

    def apply_search(session: Session, stmt: Any, expression: str, **kwargs: Any) -> Any:
        from factdb.tables import statements

        calls.append(expression)
        return stmt.where(statements.c.text.like("%baseless%"))

    fake = types.ModuleType("factdb.services.search")
    fake.apply_search = apply_search  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "factdb.services.search", fake)
    assert ids(session, search="baseless") == [story["denial"]]
    assert calls == ["baseless"]


def test_list_claims_rows(session: Session, story: dict) -> None:
    rows = {r["id"]: r for r in list_claims(session, ClaimFilter())}
    row = rows[story["accusation"]]
    assert {k: row[k] for k in ("speaker", "said_on", "status", "verdict", "verdict_class")} == {
        "speaker": "NATO",
        "said_on": "2021-10-06",
        "status": "denied",
        "verdict": "Pants on Fire",
        "verdict_class": "false",
    }
    assert (row["source"], row["source_kind"], row["tags"]) == (
        "Associated Press",
        "news_agency",
        ["expulsions", "nato"],
    )
    assert rows[story["month"]]["said_on"] == "2021-10"
    assert rows[story["quote"]]["acts_for"] == "Russian Foreign Ministry"
    assert rows[story["undated"]]["said_on"] is None and rows[story["undated"]]["tags"] == []
    for key in ("id", "text", "speaker", "said_on", "status", "verdict", "verdict_class"):
        assert key in row
    for key in ("source", "tags", "speaker_role", "quote_kind", "origin", "external_id"):
        assert key in row


def test_list_claims_streams_in_chunks_in_order(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    import factdb.services.query as query

    monkeypatch.setattr(query, "_CHUNK", 3)
    for i in range(1, 12):
        add_claim(session, text=f"claim number {i}", speaker="Chunky", tags=["t"] if i % 2 else [])
    rows = list(list_claims(session, ClaimFilter(speaker="Chunky")))
    assert [r["text"] for r in rows] == [f"claim number {i}" for i in range(1, 12)]
    assert sum(1 for r in rows if r["tags"] == ["t"]) == 6


def test_claim_detail(session: Session, story: dict) -> None:
    detail = claim_detail(session, story["accusation"])
    assert detail["speaker"]["name"] == "NATO"
    assert [(a["position"], a["source"]["name"], a["verb"]) for a in detail["attributions"]] == [
        (1, "Associated Press", "accused"),
        (2, "Example Times", "said"),
    ]
    assert (detail["status"], detail["status_label"]) == ("denied", "Denied")
    assert [(e["status"], e["effective_on"]) for e in detail["status_history"]] == [
        ("alleged", "2021-10-06"),
        ("denied", "2021-10-07"),
    ]
    assert detail["status_history"][1]["evidence_claim_id"] == story["denial"]
    incoming = [(link["claim_id"], link["relation"]) for link in detail["links"]["incoming"]]
    assert incoming == [(story["denial"], "denies"), (story["quote"], "responds to")]
    assert detail["links"]["incoming"][0]["speaker"] == "Russian Foreign Ministry"
    assert detail["links"]["outgoing"] == []
    assert [v["label"] for v in detail["verdicts"]] == ["Half True", "Pants on Fire"]
    assert detail["verdicts"][1]["scale"] == "Truth-O-Meter"
    assert detail["tags"] == ["expulsions", "nato"]
    quote = claim_detail(session, story["quote"])
    assert quote["speaker"]["acts_for"] == "Russian Foreign Ministry"
    assert quote["links"]["outgoing"][0]["claim_id"] == story["accusation"]
    with pytest.raises(NotFound):
        claim_detail(session, 999)


# --- index use (SQLite's planner; the same predicates are plain indexed lookups elsewhere) ----


@pytest.mark.parametrize(
    ("filters", "index"),
    [
        ({"speaker": "NATO"}, "ix_statements_speaker_said"),
        ({"status": "denied"}, "ix_statements_status_said"),
        ({"status": "denied", "as_of": D(2021, 10, 7)}, "ix_status_events_status_code"),
        ({"verdict": "false"}, "ix_verdicts_normalised_class"),
        ({"source": "Associated Press"}, "ix_attributions_source_id"),
        ({"tag": "nato"}, "ix_statement_tags_tag_id"),
        ({"since": D(2021, 10, 7)}, "ix_statements_said_on"),
    ],
)
def test_filters_are_served_by_indexes(tmp_path, sqlite_template, filters, index) -> None:  # type: ignore[no-untyped-def]
    import shutil

    from factdb.db import make_engine

    path = tmp_path / "plan.db"
    shutil.copyfile(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    with Session(engine) as session:
        add_claim(
            session,
            text="x",
            speaker="NATO",
            said_on="2021-10-06",
            status="denied",
            tags=["nato"],
            sources=[AttributionInput("Associated Press")],
        )
        stmt = select_claims(session, ClaimFilter(**filters))
        sql = str(stmt.compile(engine, compile_kwargs={"literal_binds": True}))
        plan = [r[3] for r in session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + sql)]
    engine.dispose()
    assert any(index in line for line in plan), plan
    assert not any(line.startswith("SCAN statements") for line in plan), plan
