"""``kill -9`` during a large import, over and over: the database is always whole.

Each run copies a small database, starts the real ``factdb import`` on it, sends SIGKILL at a
random moment and then checks ``integrity_check``, ``foreign_key_check`` and that the database
holds all of that import or none of it. ``bench/stress_kill.py`` runs the same check as often as
you like (it is where the helpers used here live).
"""

from __future__ import annotations

import importlib.util
import random
import sqlite3
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RUNS = 20
RECORDS = 6000


def _load_stress():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("stress_kill", ROOT / "bench" / "stress_kill.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


stress = _load_stress()


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> dict:
    """A base database with some claims, the records to import, and the counts before/after."""
    work = tmp_path_factory.mktemp("crash")
    base = work / "base.db"
    base.write_bytes(sqlite_template.read_bytes())
    first = work / "first.jsonl"
    stress.write_records(first, 40, tag="existing")
    subprocess.run(stress.import_command(base, first), check=True, capture_output=True)
    conn = sqlite3.connect(base, isolation_level=None)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    records = work / "records.jsonl"
    stress.write_records(records, RECORDS)
    before = stress.counts(base)
    after, seconds = stress.full_import(base, records, work)
    assert after["statements"] == before["statements"] + RECORDS
    assert after["status_events"] == before["status_events"] + RECORDS
    return {
        "work": work,
        "base": base,
        "records": records,
        "before": before,
        "after": after,
        "seconds": seconds,
    }


def test_kill_9_during_import_leaves_all_or_nothing(setup: dict) -> None:
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    seconds = setup["seconds"]
    outcomes = []
    mid_write = 0
    for _ in range(RUNS):
        # from well into start-up to just past the end: loading, batches, commit, checkpoint
        delay = rng.uniform(0.35 * seconds, 1.05 * seconds)
        run = stress.kill_once(setup["base"], setup["records"], setup["work"] / "victim.db", delay)
        outcome = stress.verdict(run, setup["before"], setup["after"])
        outcomes.append((run["delay"], run["wal_bytes"], outcome))
        mid_write += bool(run["wal_bytes"]) and not run["finished"]
    broken = [o for o in outcomes if o[2] not in ("none", "all")]
    assert not broken, (seed, broken)
    # the kills really landed while the import was writing (not only before or after it)
    assert mid_write >= 2, (seed, seconds, outcomes)


def test_a_killed_import_can_simply_be_run_again(setup: dict) -> None:
    """After a kill, running the same import again completes it, with nothing twice."""
    victim = setup["work"] / "again.db"
    run = stress.kill_once(setup["base"], setup["records"], victim, 0.7 * setup["seconds"])
    assert stress.verdict(run, setup["before"], setup["after"]) in ("none", "all")
    done = subprocess.run(
        stress.import_command(victim, setup["records"]), capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-1000:]
    assert stress.counts(victim) == setup["after"]
    assert stress.check(victim) == ("ok", [])
