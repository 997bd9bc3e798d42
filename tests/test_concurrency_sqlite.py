"""Many writers and readers on one SQLite file at once: nothing lost, nothing locked, no torn reads.

Eight writer processes each add claims and change statuses, one transaction per write exactly as
the CLI does (``BEGIN IMMEDIATE`` through ``factdb.db``), while reader processes check that
every snapshot they see is consistent. A control runs the same load with deferred transactions
(plain ``BEGIN``) and must fail with "database is locked", which shows the test can fail.
A smaller variant drives the real ``factdb`` command line in separate processes.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

WRITERS = 8
CLAIMS_PER_WRITER = 200
STATUS_CHANGES_PER_WRITER = 100
SPEAKERS = ["Sergey Lavrov", "Oana Lungescu", "Jens Stoltenberg", "Maria Zakharova"]

# One writer process: add claims, then change statuses of half of them, interleaved so that
# claims and status changes from all writers mix. Every write is its own transaction.
WRITER = textwrap.dedent(
    """
    import json, sys, time
    from factdb.db import make_engine, session_scope
    from factdb.services.claims import add_claim
    from factdb.services.statuses import add_status_event

    url, wid, n_claims, n_changes, mode = sys.argv[1:6]
    wid, n_claims, n_changes = int(wid), int(n_claims), int(n_changes)
    speakers = json.loads(sys.argv[6])
    # write=True: BEGIN IMMEDIATE (what the CLI uses); write=False: plain deferred BEGIN
    engine = make_engine(url, write=(mode == "immediate"))
    ids, errors, changed = [], [], 0
    start = time.perf_counter()
    for i in range(n_claims):
        try:
            with session_scope(engine) as s:
                claim = add_claim(
                    s, text=f"writer {wid} claim {i}: the alliance expelled eight officials",
                    speaker=speakers[(wid + i) % len(speakers)], said_on="2021-10-06",
                    status="alleged", status_on="2021-10-06", tags=[f"w{wid}"],
                )
                s.flush()
                ids.append(claim.id)
        except Exception as exc:
            errors.append(str(exc).splitlines()[0])
        # every other claim: a status change on an earlier claim of this writer
        if i % 2 == 1 and changed < n_changes and ids:
            try:
                with session_scope(engine) as s:
                    add_status_event(s, ids[changed % len(ids)], "denied", "2021-10-07",
                                     note=f"writer {wid} change {changed}")
                changed += 1
            except Exception as exc:
                errors.append(str(exc).splitlines()[0])
    print(json.dumps({"wid": wid, "ids": ids, "changed": changed, "errors": errors,
                      "seconds": time.perf_counter() - start}))
    """
)

# One reader process: until the stop file appears, open read transactions and check invariants
# that hold at every commit. Two queries in one transaction must agree (a snapshot), and every
# claim's cached current_status must equal its latest status event.
READER = textwrap.dedent(
    """
    import json, os, sys, time
    from sqlalchemy import text
    from factdb.db import make_engine, session_scope

    url, stop = sys.argv[1:3]
    engine = make_engine(url, write=False)
    MISMATCH = '''
        SELECT count(*) FROM statements s
        WHERE s.current_status IS NOT (
            SELECT e.status_code FROM status_events e WHERE e.statement_id = s.id
            ORDER BY e.effective_on DESC, e.recorded_at DESC, e.id DESC LIMIT 1)
    '''
    snapshots, problems, seen = 0, [], set()
    while True:
        done = os.path.exists(stop)
        try:
            with session_scope(engine) as s:
                before = s.execute(text("SELECT count(*) FROM statements")).scalar()
                with_events = s.execute(text(
                    "SELECT count(DISTINCT statement_id) FROM status_events")).scalar()
                bad = s.execute(text(MISMATCH)).scalar()
                time.sleep(0.01)  # writers commit meanwhile; this snapshot must not move
                after = s.execute(text("SELECT count(*) FROM statements")).scalar()
            snapshots += 1
            seen.add(before)
            if not (before == after == with_events) or bad:
                problems.append([before, after, with_events, bad])
        except Exception as exc:
            problems.append(str(exc).splitlines()[0])
        if done:
            break
        time.sleep(0.03)  # leave the CPU to the writers between snapshots
    print(json.dumps({"snapshots": snapshots, "problems": problems[:5],
                      "distinct_counts": len(seen)}))
    """
)


def _spawn(code: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(proc: subprocess.Popen, timeout: float = 240) -> dict:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


def _run_writers(url: str, mode: str, n_claims: int, n_changes: int) -> list[dict]:
    procs = [
        _spawn(WRITER, url, str(w), str(n_claims), str(n_changes), mode, json.dumps(SPEAKERS))
        for w in range(WRITERS)
    ]
    return [_finish(p) for p in procs]


def _integrity(path: Path) -> tuple[str, list]:
    conn = sqlite3.connect(path)
    try:
        ok = conn.execute("PRAGMA integrity_check").fetchone()[0]
        fk = conn.execute("PRAGMA foreign_key_check").fetchall()
    finally:
        conn.close()
    return ok, fk


def test_eight_writers_and_readers_lose_nothing(sqlite_path: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{sqlite_path}"
    stop = tmp_path / "stop"
    readers = [_spawn(READER, url, str(stop)) for _ in range(2)]
    started = time.perf_counter()
    results = _run_writers(url, "immediate", CLAIMS_PER_WRITER, STATUS_CHANGES_PER_WRITER)
    elapsed = time.perf_counter() - started
    stop.touch()
    reads = [_finish(r) for r in readers]

    errors = [e for r in results for e in r["errors"]]
    assert errors == [], errors[:5]  # in particular no "database is locked"
    assert all(len(r["ids"]) == CLAIMS_PER_WRITER for r in results)
    assert all(r["changed"] == STATUS_CHANGES_PER_WRITER for r in results)

    conn = sqlite3.connect(sqlite_path)
    try:
        total = conn.execute("SELECT count(*) FROM statements").fetchone()[0]
        assert total == WRITERS * CLAIMS_PER_WRITER
        for r in results:  # every write of every writer is there, under its own id
            texts = dict(
                conn.execute(
                    "SELECT id, text FROM statements WHERE text LIKE ?", (f"writer {r['wid']} %",)
                ).fetchall()
            )
            assert sorted(texts) == sorted(r["ids"])
        notes = conn.execute(
            "SELECT count(*) FROM status_events "
            "WHERE status_code = 'denied' AND note LIKE 'writer %'"
        ).fetchone()[0]
        assert notes == WRITERS * STATUS_CHANGES_PER_WRITER
        events = conn.execute("SELECT count(*) FROM status_events").fetchone()[0]
        assert events == total + WRITERS * STATUS_CHANGES_PER_WRITER
        denied = conn.execute(
            "SELECT count(*) FROM statements WHERE current_status = 'denied'"
        ).fetchone()[0]
        assert denied == WRITERS * STATUS_CHANGES_PER_WRITER
    finally:
        conn.close()
    assert _integrity(sqlite_path) == ("ok", [])

    print(
        f"\n{WRITERS} writers: {total} claims and {notes} status changes committed in "
        f"{elapsed:.1f} s; {events} status events; readers took "
        f"{sum(r['snapshots'] for r in reads)} snapshots, "
        f"{sum(len(r['problems']) for r in reads)} inconsistent"
    )
    for read in reads:
        assert read["problems"] == [], read
        assert read["snapshots"] >= 2, read
    # the readers really overlapped the writes (they saw the count change)
    assert max(r["distinct_counts"] for r in reads) >= 2, (reads, elapsed)


def test_control_deferred_transactions_do_fail(sqlite_path: Path) -> None:
    """The same load with plain BEGIN: a read-then-write transaction loses the race."""
    url = f"sqlite:///{sqlite_path}"
    results = _run_writers(url, "deferred", 60, 30)
    errors = [e for r in results for e in r["errors"]]
    locked = sum("database is locked" in e for e in errors)
    print(f"\ncontrol (deferred BEGIN): {locked} of {len(errors)} errors are 'database is locked'")
    assert locked, errors[:5]


# --- the real command line ----------------------------------------------------------------

CLI_WRITERS = 4
CLI_CLAIMS = 2  # each CLI process costs ~0.6 s of CPU: sized for a shared 2-core CI


def _factdb(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "factdb", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )


def test_cli_writers_and_readers(sqlite_path: Path) -> None:
    """Real ``factdb`` processes: claim add / claim status while list, report and sql read."""
    db = str(sqlite_path)
    writers = [
        _factdb(
            "--db",
            db,
            "claim",
            "add",
            "--speaker",
            SPEAKERS[w % len(SPEAKERS)],
            "--said-on",
            "2021-10-06",
            "--status",
            "alleged",
            f"cli writer {w} claim {i}",
        )
        for w in range(CLI_WRITERS)
        for i in range(CLI_CLAIMS)
    ]
    check = (
        "SELECT count(*) AS bad FROM statements s WHERE s.current_status IS NOT ("
        "SELECT e.status_code FROM status_events e WHERE e.statement_id = s.id "
        "ORDER BY e.effective_on DESC, e.recorded_at DESC, e.id DESC LIMIT 1)"
    )
    readers = [
        _factdb("--db", db, "claim", "list", "--format", "jsonl"),
        _factdb("--db", db, "report"),
        _factdb("--db", db, "sql", "--format", "json", check),
    ]
    outcomes = [(p.args, *p.communicate(timeout=240), p.returncode) for p in writers + readers]
    failed = [(a[3:6], err.strip()[-300:]) for a, _, err, rc in outcomes if rc != 0]
    assert failed == []
    assert not any("locked" in err or "Traceback" in err for _, _, err, _ in outcomes)
    sql_out = outcomes[-1][1]
    assert json.loads(sql_out)[0]["bad"] == 0

    # then change every claim's status, again all at once
    conn = sqlite3.connect(sqlite_path)
    ids = [r[0] for r in conn.execute("SELECT id FROM statements WHERE text LIKE 'cli writer %'")]
    conn.close()
    assert len(ids) == CLI_WRITERS * CLI_CLAIMS
    changers = [
        _factdb("--db", db, "claim", "status", str(i), "denied", "--on", "2021-10-07") for i in ids
    ]
    outcomes = [(*p.communicate(timeout=240), p.returncode) for p in changers]
    assert [err.strip()[-300:] for _, err, rc in outcomes if rc != 0] == []

    conn = sqlite3.connect(sqlite_path)
    try:
        denied = conn.execute(
            "SELECT count(*) FROM statements WHERE current_status = 'denied'"
        ).fetchone()[0]
        events = conn.execute(
            "SELECT count(*) FROM status_events e JOIN statements s ON s.id = e.statement_id "
            "WHERE s.text LIKE 'cli writer %'"
        ).fetchone()[0]
    finally:
        conn.close()
    assert denied == len(ids)
    assert events == 2 * len(ids)
    assert _integrity(sqlite_path) == ("ok", [])
