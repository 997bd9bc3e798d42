"""Kill ``factdb import`` with SIGKILL at random moments; check the database every time.

After every kill the database must pass ``PRAGMA integrity_check``, have an empty
``PRAGMA foreign_key_check``, and hold either all of the import or none of it (counts of claims,
status events and attributions compared with the state before and after a complete import).

    python bench/stress_kill.py [--runs 100] [--records 20000] [--seed N] [--keep DIR]

``tests/test_crash_safety.py`` runs the same check (imported from this file) 20+ times.
Prints one line per run and a summary; exits 1 if any run left the database inconsistent.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COUNTED = ("statements", "status_events", "attributions", "speakers", "sources")


def write_records(path: Path, n: int, *, tag: str = "crash") -> None:
    """``n`` interchange records (JSONL), every one new, with a status and a source each."""
    statuses = ["alleged", "denied", "confirmed", "disputed", "unverified", "retracted"]
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            record = {
                "text": f"{tag} claim {i}: officials expelled, the accusation called baseless",
                "speaker": f"{tag} speaker {i % 97:03d}",
                "speaker_role": "spokesperson",
                "source": f"{tag} outlet {i % 31}",
                "source_url": f"https://news.example/{tag}/{i % 499}",
                "said_on": f"20{10 + i % 12}-{1 + i % 12:02d}-{1 + i % 28:02d}",
                "status": statuses[i % len(statuses)],
            }
            f.write(json.dumps(record) + "\n")


def counts(db: Path) -> dict[str, int]:
    """Row counts of the tables an import writes."""
    conn = sqlite3.connect(db)
    try:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in COUNTED}
    finally:
        conn.close()


def check(db: Path) -> tuple[str, list]:
    """(integrity_check result, foreign_key_check rows)."""
    conn = sqlite3.connect(db)
    try:
        ok = "; ".join(r[0] for r in conn.execute("PRAGMA integrity_check").fetchall())
        fk = conn.execute("PRAGMA foreign_key_check").fetchall()
    finally:
        conn.close()
    return ok, fk


def import_command(db: Path, records: Path) -> list[str]:
    """The real CLI, as a user runs it."""
    return [sys.executable, "-m", "factdb", "--db", str(db), "import", "-q", str(records)]


def full_import(base: Path, records: Path, work: Path) -> tuple[dict[str, int], float]:
    """Counts after a complete import into a copy of ``base``, and how long it took."""
    db = work / "complete.db"
    fresh_copy(base, db)
    start = time.perf_counter()
    done = subprocess.run(import_command(db, records), capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"the uninterrupted import failed: {done.stderr.strip()[-500:]}")
    return counts(db), elapsed


def fresh_copy(base: Path, db: Path) -> None:
    """``db`` becomes an exact copy of ``base`` with no WAL or shared-memory file beside it."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    shutil.copyfile(base, db)


def kill_once(base: Path, records: Path, db: Path, delay: float) -> dict:
    """Start an import into a fresh copy of ``base``, SIGKILL it after ``delay`` s, inspect."""
    fresh_copy(base, db)
    proc = subprocess.Popen(
        import_command(db, records), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    time.sleep(delay)
    finished = proc.poll() is not None
    if not finished:
        proc.send_signal(signal.SIGKILL)
    proc.wait()
    wal = Path(str(db) + "-wal")
    wal_bytes = wal.stat().st_size if wal.exists() else 0  # > 0: it was killed while writing
    ok, fk = check(db)
    return {
        "delay": round(delay, 3),
        "finished": finished,
        "returncode": proc.returncode,
        "wal_bytes": wal_bytes,
        "integrity": ok,
        "foreign_keys": fk[:3],
        "counts": counts(db),
    }


def verdict(run: dict, before: dict[str, int], after: dict[str, int]) -> str:
    """'none', 'all', or a description of what is wrong."""
    if run["integrity"] != "ok":
        return f"integrity: {run['integrity'][:200]}"
    if run["foreign_keys"]:
        return f"foreign keys: {run['foreign_keys']}"
    if run["counts"] == before:
        return "none"
    if run["counts"] == after:
        return "all"
    return f"partial: {run['counts']} (before {before}, after {after})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--keep", type=Path, help="Keep the work files in this folder.")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)

    work = args.keep or Path(tempfile.mkdtemp(prefix="factdb-stress-"))
    work.mkdir(parents=True, exist_ok=True)
    base, records, db = work / "base.db", work / "records.jsonl", work / "victim.db"
    write_records(records, args.records)
    for suffix in ("", "-wal", "-shm"):
        Path(str(base) + suffix).unlink(missing_ok=True)
    init = subprocess.run(
        [sys.executable, "-m", "factdb", "--db", str(base), "init"], capture_output=True, text=True
    )
    if init.returncode != 0:
        print(init.stderr, file=sys.stderr)
        return 1
    write_records(work / "first.jsonl", 50, tag="existing")
    subprocess.run(import_command(base, work / "first.jsonl"), check=True, capture_output=True)
    conn = sqlite3.connect(base, isolation_level=None)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()

    before = counts(base)
    after, seconds = full_import(base, records, work)
    print(f"seed {seed}; {args.records} records; an uninterrupted import takes {seconds:.2f} s")
    tally: dict[str, int] = {}
    bad = 0
    for i in range(args.runs):
        run = kill_once(base, records, db, rng.uniform(0.0, seconds * 1.1))
        outcome = verdict(run, before, after)
        key = outcome if outcome in ("none", "all") else "BROKEN"
        if run["wal_bytes"] and not run["finished"]:
            key += " (killed mid-write)"
        tally[key] = tally.get(key, 0) + 1
        bad += outcome not in ("none", "all")
        print(
            f"run {i + 1:3d}: kill at {run['delay']:6.3f} s  wal {run['wal_bytes']:>9} B  "
            f"-> {outcome}"
        )
    print("summary: " + ", ".join(f"{k}: {v}" for k, v in sorted(tally.items())))
    print(f"{args.runs - bad}/{args.runs} runs left the database whole (all or none)")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
