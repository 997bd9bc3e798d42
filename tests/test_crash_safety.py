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
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RUNS = 20
AT_COMMIT_RUNS = 4
AT_COMMIT_RETRIES = 12
RECORDS = 1500


def _load_stress():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("stress_kill", ROOT / "bench" / "stress_kill.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


stress = _load_stress()


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[dict]:
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
    server = stress.ForkServer()
    after, seconds = stress.full_import(base, records, work, server)
    assert after["statements"] == before["statements"] + RECORDS
    assert after["status_events"] == before["status_events"] + RECORDS
    yield {
        "spawn": server,
        "work": work,
        "base": base,
        "records": records,
        "before": before,
        "after": after,
        "seconds": seconds,
    }
    server.close()


def test_kill_9_during_import_leaves_all_or_nothing(setup: dict) -> None:
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    seconds = setup["seconds"]
    outcomes = []
    mid_write = 0
    for _ in range(RUNS):
        # timed from when the import opens the database to just past its end: reading,
        # batches, the commit, the checkpoint
        delay = rng.uniform(0.0, 1.05 * seconds)
        run = stress.kill_once(
            setup["base"],
            setup["records"],
            setup["work"] / "victim.db",
            delay,
            spawn=setup["spawn"],
        )
        outcome = stress.verdict(run, setup["before"], setup["after"])
        outcomes.append((run["delay"], run["wal_bytes"], outcome))
        mid_write += not run["finished"]
    broken = [o for o in outcomes if o[2] not in ("none", "all")]
    tally = {k: sum(o[2] == k for o in outcomes) for k in ("none", "all")}
    print(
        f"\n{RUNS} kills (seed {seed}): {tally['none']} none, {tally['all']} all, "
        f"{len(broken)} broken; {mid_write} while the import was running"
    )
    assert not broken, (seed, broken)
    # most kills really landed while the import was running (not after it had finished)
    assert mid_write >= RUNS // 2, (seed, seconds, outcomes)


def test_kill_9_while_committing(setup: dict) -> None:
    """The dangerous moment: the commit is writing the WAL, or the checkpoint is copying it."""
    rng = random.Random()
    outcomes: list[tuple[float, int, str]] = []
    # random delays first; then, until one kill has landed with pages in the WAL (how fast the
    # commit is depends on the machine's load), kills right as the commit is seen to begin
    delays = [rng.uniform(0.0, 0.03) for _ in range(AT_COMMIT_RUNS)] + [0.0] * AT_COMMIT_RETRIES
    for i, delay in enumerate(delays):
        if i >= AT_COMMIT_RUNS and any(o[1] > 0 for o in outcomes):
            break
        run = stress.kill_once(
            setup["base"],
            setup["records"],
            setup["work"] / "victim.db",
            delay,
            at_commit=True,
            spawn=setup["spawn"],
        )
        outcomes.append(
            (run["delay"], run["wal_bytes"], stress.verdict(run, setup["before"], setup["after"]))
        )
    print(f"\nkills during the commit: {outcomes}")
    assert all(o[2] in ("none", "all") for o in outcomes), outcomes
    # some kills really did land after the commit began writing pages
    assert any(o[1] > 0 for o in outcomes), outcomes


def test_a_killed_import_can_simply_be_run_again(setup: dict) -> None:
    """After a kill, running the same import again completes it, with nothing twice.

    This one runs the real ``python -m factdb`` processes, as a user would.
    """
    victim = setup["work"] / "again.db"
    run = stress.kill_once(setup["base"], setup["records"], victim, 0.7 * setup["seconds"])
    assert stress.verdict(run, setup["before"], setup["after"]) in ("none", "all")
    done = subprocess.run(
        stress.import_command(victim, setup["records"]), capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-1000:]
    assert stress.counts(victim) == setup["after"]
    assert stress.check(victim) == ("ok", [])
