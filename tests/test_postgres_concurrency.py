"""Several processes writing to one PostgreSQL database at once lose nothing.

Four worker processes each run the real ``factdb`` command line (click, in-process in the
worker, one command = one transaction, exactly as from a shell) to add claims by speakers,
sources and tags that do not exist yet and that every worker names at the same time, and to
change the statuses of claims that all workers change at once. Afterwards: every command
succeeded, every claim is there with its tags, no speaker or source was created twice, every
status event is there, and each claim's current_status equals its latest event.

Sized for CI (4 processes × 20 claims + 24 status changes). Skipped without
FACTDB_TEST_POSTGRES_URL.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

from conftest import FactdbRunner
from sqlalchemy import text

from factdb.db import make_engine, session_scope
from factdb.services.claims import AttributionInput, DuplicateClaim, add_claim
from factdb.services.statuses import add_status_event

WORKERS = 4
CLAIMS_PER_WORKER = 20
STATUS_CHANGES_PER_WORKER = 24
SHARED_CLAIMS = 6
# names nobody has created yet: every worker asks for them at the same moment
NEW_SPEAKERS = ["Maria Zakharova", "Dmitry Peskov", "Oana Lungescu"]
NEW_SOURCES = ["Interfax", "TASS", "Reuters"]
STATUSES = ["denied", "disputed", "confirmed", "alleged", "false"]

WORKER = textwrap.dedent(
    """
    import json, sys
    from click.testing import CliRunner
    from factdb.cli import cli

    url, wid, n_claims, n_changes = sys.argv[1], *map(int, sys.argv[2:5])
    speakers, sources, statuses, shared = json.loads(sys.argv[5])
    runner = CliRunner()
    ids, errors, changes = [], [], []

    def run(*args):
        result = runner.invoke(cli, ["--db", url, *args])
        if result.exit_code != 0:
            errors.append(" ".join(args[:2]) + ": " + (result.stderr or repr(result.exception)))
            return None
        return result.stdout

    for i in range(n_claims):
        out = run(
            "claim", "add", f"worker {wid} claim {i}: eight officials were expelled",
            "--speaker", speakers[(wid + i) % len(speakers)],
            "--said-on", "2021-10-06", "--status", "alleged",
            "--tag", f"w{wid}", "--tag", f"shared {i % 5}",
            "--source", sources[(wid + i) % len(sources)],
        )
        if out is not None:
            ids.append(int(out.split()[-1]))
        # status changes interleave with the adds; most hit the claims every worker changes
        for j in (2 * i, 2 * i + 1):
            if j >= n_changes:
                continue
            target = shared[(wid + j) % len(shared)] if j % 4 else (ids or shared)[-1]
            status = statuses[(wid * 7 + j) % len(statuses)]
            day = 7 + (wid + j) % 5
            # --again: a worker may well record the status a claim already has
            if run("claim", "status", str(target), status, "--on", f"2021-10-{day:02d}",
                   "--note", f"w{wid} c{j}", "--again") is not None:
                changes.append(target)
    print(json.dumps({"wid": wid, "ids": ids, "changes": changes, "errors": errors}))
    """
)


def _scalar(conn, sql: str) -> int:  # type: ignore[no-untyped-def]
    return conn.execute(text(sql)).scalar_one()


def test_concurrent_writers_lose_nothing(pg_url: str, tmp_path: Path) -> None:
    db_url = pg_url  # the conftest fixture: a fresh migrated PostgreSQL database
    run = FactdbRunner(db_url)
    shared = []
    for k in range(SHARED_CLAIMS):
        result = run("claim", "add", f"shared claim {k}", "--speaker", "NATO",
                     "--said-on", "2021-10-06", "--status", "alleged")  # fmt: skip
        assert result.exit_code == 0, result.stderr
        shared.append(int(result.stdout.split()[-1]))

    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    config = json.dumps([NEW_SPEAKERS, NEW_SOURCES, STATUSES, shared])
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                str(script),
                db_url,
                str(w),
                str(CLAIMS_PER_WORKER),
                str(STATUS_CHANGES_PER_WORKER),
                config,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for w in range(WORKERS)
    ]
    reports = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-2000:]
        reports.append(json.loads(out.strip().splitlines()[-1]))

    errors = [e for r in reports for e in r["errors"]]
    assert errors == [], errors[:5]
    ids = [i for r in reports for i in r["ids"]]
    changes = sum(len(r["changes"]) for r in reports)
    assert len(ids) == len(set(ids)) == WORKERS * CLAIMS_PER_WORKER
    assert changes == WORKERS * STATUS_CHANGES_PER_WORKER

    engine = make_engine(db_url, write=False)
    with engine.connect() as conn:
        total = SHARED_CLAIMS + len(ids)
        assert _scalar(conn, "SELECT COUNT(*) FROM statements") == total
        # one initial 'alleged' event per claim plus every status change
        assert _scalar(conn, "SELECT COUNT(*) FROM status_events") == total + changes
        # two tags per worker claim, each shared tag created once
        assert _scalar(conn, "SELECT COUNT(*) FROM statement_tags") == 2 * len(ids)
        assert _scalar(conn, "SELECT COUNT(*) FROM tags") == WORKERS + 5
        # every new speaker and source exists exactly once, whoever won the race
        assert _scalar(conn, "SELECT COUNT(*) FROM speakers") == 1 + len(NEW_SPEAKERS)
        sources = conn.execute(text("SELECT name, COUNT(*) FROM sources GROUP BY name")).all()
        assert sorted(sources) == sorted((name, 1) for name in NEW_SOURCES)
        assert _scalar(conn, "SELECT COUNT(*) FROM attributions") == len(ids)
        # the cache never disagrees with the event log, even where workers raced on a claim
        stale = conn.execute(
            text(
                """
                SELECT s.id, s.current_status, (
                  SELECT e.status_code FROM status_events e WHERE e.statement_id = s.id
                  ORDER BY e.effective_on DESC, e.recorded_at DESC, e.id DESC LIMIT 1) AS latest
                FROM statements s
                """
            )
        ).all()
        assert [row for row in stale if row[1] != row[2]] == []
        # the claims every worker changed really did get contended changes
        busy = _scalar(
            conn,
            "SELECT MIN(n) FROM (SELECT COUNT(*) AS n FROM status_events "
            f"WHERE statement_id IN ({', '.join(map(str, shared))}) GROUP BY statement_id) x",
        )
        assert busy > WORKERS
    engine.dispose()


# --- the races themselves, made deterministic: two sessions, the second starts while the first
# --- has written but not committed, then the first commits


def _race(url: str, first, second):  # type: ignore[no-untyped-def]
    """Run ``first`` in one transaction, ``second`` in another while the first is still open.

    Returns (first's result, second's result or exception, whether the second waited).
    """
    engine = make_engine(url)
    done = threading.Event()
    outcome: dict[str, object] = {}

    def run_second() -> None:
        try:
            with session_scope(engine) as s2:
                outcome["value"] = second(s2)
        except Exception as exc:  # reported to the test, not raised in the thread
            outcome["value"] = exc
        done.set()

    with session_scope(engine) as s1:
        value = first(s1)
        thread = threading.Thread(target=run_second)
        thread.start()
        waited = not done.wait(1.0)  # the second must queue behind the first's transaction
    thread.join(30)
    engine.dispose()
    return value, outcome.get("value"), waited


def test_two_commands_creating_the_same_speaker_tag_and_source(pg_url: str) -> None:
    def add(s, n):  # type: ignore[no-untyped-def]
        claim = add_claim(
            s, text=f"claim {n}", speaker="Brand New Speaker", tags=["brand new tag"],
            sources=[AttributionInput(source="Brand New Outlet")],
        )  # fmt: skip
        return (claim.speaker_id, claim.tags[0].id, claim.attributions[0].source_id)

    first, second, waited = _race(pg_url, lambda s: add(s, 1), lambda s: add(s, 2))
    assert not isinstance(second, Exception), second
    assert waited
    assert first == second  # the second command used what the first created


def test_concurrent_status_changes_keep_the_cache_right(pg_url: str) -> None:
    engine = make_engine(pg_url)
    with session_scope(engine) as s:
        claim_id = add_claim(
            s, text="contested", speaker="NATO", said_on="2021-10-06",
            status="alleged", status_on="2021-10-06",
        ).id  # fmt: skip
    engine.dispose()
    # the first records the later-dated change; the second, computed while the first is open,
    # must not overwrite the cache with its earlier-dated status
    _, second, _ = _race(
        pg_url,
        lambda s: add_status_event(s, claim_id, "confirmed", "2021-10-09"),
        lambda s: add_status_event(s, claim_id, "denied", "2021-10-08"),
    )
    assert not isinstance(second, Exception), second
    engine = make_engine(pg_url)
    with engine.connect() as conn:
        current = conn.execute(
            text("SELECT current_status FROM statements WHERE id = :i"), {"i": claim_id}
        ).scalar_one()
    engine.dispose()
    assert current == "confirmed"


def test_the_same_claim_added_twice_at_once_is_reported_as_a_duplicate(pg_url: str) -> None:
    engine = make_engine(pg_url)
    with session_scope(engine) as s:  # a known speaker: only the claim itself is contended
        add_claim(s, text="Said before.", speaker="NATO")
    engine.dispose()

    def add(s):  # type: ignore[no-untyped-def]
        return add_claim(s, text="Said once.", speaker="NATO", said_on="2021-10-06").id

    first, second, waited = _race(pg_url, add, add)
    assert waited
    assert isinstance(second, DuplicateClaim) and second.existing_id == first
