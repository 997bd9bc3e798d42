"""Every filter of ``claim list`` reaches statements through an index, never a full scan.

On a million claims a full ``SCAN statements`` costs seconds; these plans are what keeps
``claim list --speaker/--status/… --limit 20`` near the start-up floor. Checked with SQLite's
``EXPLAIN QUERY PLAN`` on a small database, with and without ANALYZE statistics.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from factdb.db import make_engine
from factdb.filters import ClaimFilter
from factdb.services.claims import AttributionInput, add_claim
from factdb.services.query import select_claims
from factdb.services.verdicts import add_verdict

STATUSES = ["alleged", "denied", "confirmed", "disputed", "unverified", "retracted"]
WORDS = ["nato", "russia", "mission", "intelligence", "officers", "expelled", "moscow", "ties"]

FILTERS = {
    "speaker": {"speaker": "Speaker 3"},
    "status": {"status": "denied"},
    "verdict class": {"verdict": "false"},
    "verdict label": {"verdict": "Mostly False"},
    "source": {"source": "Outlet 2"},
    "tag": {"tag": "topic-1"},
    "since": {"since": dt.date(2021, 6, 1)},
    "until": {"until": dt.date(2020, 3, 1)},
    "since+until": {"since": dt.date(2020, 3, 1), "until": dt.date(2020, 4, 1)},
    "as-of": {"status": "alleged", "as_of": dt.date(2020, 6, 1)},
    "search": {"search": "intelligence"},
    "search prefix": {"search": "intell* OR expel*"},
    "speaker+status": {"speaker": "Speaker 3", "status": "denied"},
    "speaker+search": {"speaker": "Speaker 3", "search": "nato"},
    "status+since": {"status": "denied", "since": dt.date(2021, 1, 1)},
    "tag+source": {"tag": "topic-1", "source": "Outlet 2"},
}
FULL_SCAN = re.compile(r"^SCAN statements\b(?!_fts)")


@pytest.fixture(scope="module")
def small_db(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Path:
    """A few hundred claims over speakers, statuses, sources, tags, verdicts and dates."""
    path = tmp_path_factory.mktemp("plans") / "plans.db"
    shutil.copyfile(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    with Session(engine) as session:
        for i in range(300):
            words = " ".join(WORDS[(i * k) % len(WORDS)] for k in (1, 3, 5, 7))
            claim = add_claim(
                session,
                text=f"Claim {i}: {words}.",
                speaker=f"Speaker {i % 12}",
                force_new_speaker=True,
                said_on=f"{2020 + i % 3}-{1 + i % 12:02d}-{1 + i % 28:02d}",
                tags=[f"topic-{i % 7}"],
                status=STATUSES[i % len(STATUSES)],
                sources=[
                    AttributionInput(
                        source=f"Outlet {i % 9}", url=f"https://o.test/{i}", force_new=True
                    )
                ],
            )
            if i % 4 == 0:
                add_verdict(
                    session,
                    claim.id,
                    ["False", "Mostly False", "True"][i % 3],
                    scale="Truth-O-Meter",
                )
        session.commit()
    engine.dispose()
    return path


def _plan(session: Session, claim_filter: ClaimFilter) -> list[str]:
    stmt = select_claims(session, claim_filter)
    sql = str(
        stmt.compile(dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True})
    )
    return [row[3] for row in session.execute(text("EXPLAIN QUERY PLAN " + sql))]


@pytest.mark.parametrize("analyzed", [False, True], ids=["no-stats", "analyzed"])
@pytest.mark.parametrize("limit", [None, 20])
@pytest.mark.parametrize("name", list(FILTERS))
def test_filter_uses_an_index(small_db, tmp_path, name, limit, analyzed):
    path = small_db
    if analyzed:
        path = tmp_path / "analyzed.db"
        shutil.copyfile(small_db, path)
    engine = make_engine(f"sqlite:///{path}")
    with Session(engine) as session:
        if analyzed:
            session.execute(text("ANALYZE"))
        plan = _plan(session, ClaimFilter(limit=limit, **FILTERS[name]))
        session.rollback()
    engine.dispose()
    scans = [line for line in plan if FULL_SCAN.match(line)]
    assert not scans, "\n".join(plan)
    assert any(line.startswith("SEARCH statements") for line in plan) or any(
        "statements_fts" in line for line in plan
    ), "\n".join(plan)


def test_the_check_would_catch_a_scan(small_db):
    """The pattern recognises a full scan (a filter on an unindexed column makes one)."""
    engine = make_engine(f"sqlite:///{small_db}")
    with Session(engine) as session:
        plan = [
            r[3]
            for r in session.execute(
                text("EXPLAIN QUERY PLAN SELECT id FROM statements WHERE context = 'x'")
            )
        ]
    engine.dispose()
    assert any(FULL_SCAN.match(line) for line in plan), plan


def test_evidence_lookups_use_the_partial_indexes(sqlite_path: Path) -> None:
    """The evidence indexes hold only events that cite evidence (migration 0006), and a
    lookup by evidence, like the foreign keys' ON DELETE SET NULL, still uses them."""
    engine = make_engine(f"sqlite:///{sqlite_path}")
    with Session(engine) as session:
        for column in ("evidence_source_id", "evidence_statement_id"):
            plan = " ".join(
                str(row[-1])
                for row in session.execute(
                    text(f"EXPLAIN QUERY PLAN SELECT id FROM status_events WHERE {column} = 7")
                )
            )
            assert f"ix_status_events_{column}" in plan, plan
            sql = session.execute(
                text("SELECT sql FROM sqlite_master WHERE name = :n"),
                {"n": f"ix_status_events_{column}"},
            ).scalar_one()
            assert sql.endswith(f"WHERE {column} IS NOT NULL")
    engine.dispose()
