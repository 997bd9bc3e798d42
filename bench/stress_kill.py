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
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

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


class Subprocess:
    """An import running as its own ``python -m factdb`` process: exactly what a user runs."""

    def __init__(self, db: Path, records: Path) -> None:
        self.proc = subprocess.Popen(
            import_command(db, records), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)

    def wait(self) -> int:
        self.proc.communicate()
        return self.proc.returncode


# A warm interpreter that forks one child per import: the child runs the same CLI code
# (``cli.main``) without paying ~0.5 s of interpreter and SQLAlchemy start-up each time, so the
# test suite can afford many kills. Nothing is opened before the fork.
FORK_SERVER = """
import json, os, sys
from factdb.cli import cli
import factdb.cli.importcmd, factdb.io.loader, factdb.io.readers, factdb.db, sqlalchemy.orm
for line in sys.stdin:
    request = json.loads(line)
    if request["op"] == "run":
        pid = os.fork()
        if pid == 0:
            null = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(null, fd)
            code = 1
            try:
                cli.main(args=request["args"], prog_name="factdb", standalone_mode=False)
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
            except BaseException:
                code = 1
            os._exit(code)
        print(pid, flush=True)
    elif request["op"] == "wait":
        _, status = os.waitpid(request["pid"], 0)
        print(os.waitstatus_to_exitcode(status), flush=True)
"""


class ForkServer:
    """Starts imports as forks of one warm interpreter (see FORK_SERVER)."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", FORK_SERVER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def _ask(self, request: dict) -> int:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        return int(self.proc.stdout.readline())

    def __call__(self, db: Path, records: Path) -> Forked:
        args = ["--db", str(db), "import", "-q", str(records)]
        return Forked(self, self._ask({"op": "run", "args": args}))

    def close(self) -> None:
        assert self.proc.stdin
        self.proc.stdin.close()
        self.proc.wait()


class Forked:
    """One forked import; until the server reaps it, a finished child stays a zombie."""

    def __init__(self, server: ForkServer, pid: int) -> None:
        self.server, self.pid = server, pid

    def alive(self) -> bool:
        try:
            state = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return False
        return state != "Z"

    def kill(self) -> None:
        os.kill(self.pid, signal.SIGKILL)

    def wait(self) -> int:
        return self.server._ask({"op": "wait", "pid": self.pid})


def _start(db: Path, records: Path, spawn: Callable) -> tuple[Any, float | None]:
    """Start the import; return once it has opened the database (its WAL file appears).

    Returns the process and when it opened the database (None if it exited first), so that
    kills are timed from the moment the import starts working on the database rather than
    from the interpreter's start-up, which is all-or-nothing trivially.
    """
    wal = Path(str(db) + "-wal")
    proc = spawn(db, records)
    while proc.alive():
        if wal.exists():
            return proc, time.perf_counter()
        time.sleep(0.002)
    return proc, None


def full_import(
    base: Path, records: Path, work: Path, spawn: Callable = Subprocess
) -> tuple[dict[str, int], float]:
    """Counts after a complete import into a copy of ``base``, and how long it worked on the
    database (from opening it to exiting)."""
    db = work / "complete.db"
    fresh_copy(base, db)
    proc, opened = _start(db, records, spawn)
    while proc.alive():
        time.sleep(0.002)
    elapsed = time.perf_counter() - opened if opened else 0.0
    if proc.wait() != 0:
        raise RuntimeError("the uninterrupted import failed")
    return counts(db), elapsed


def fresh_copy(base: Path, db: Path) -> None:
    """``db`` becomes an exact copy of ``base`` with no WAL or shared-memory file beside it."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    shutil.copyfile(base, db)


def _wait_for_commit(proc: Any, db: Path) -> None:
    """Return as soon as the import starts committing (its WAL grows past the header)."""
    wal = Path(str(db) + "-wal")
    while proc.alive():
        try:
            if wal.stat().st_size > 32:
                return
        except FileNotFoundError:
            pass
        time.sleep(0.0005)


def kill_once(
    base: Path,
    records: Path,
    db: Path,
    delay: float,
    *,
    at_commit: bool = False,
    spawn: Callable = Subprocess,
) -> dict:
    """Start an import into a fresh copy of ``base``; SIGKILL it ``delay`` s after it opened
    the database (or, with ``at_commit``, ``delay`` s after its commit began writing the WAL);
    inspect what is left."""
    fresh_copy(base, db)
    proc, opened = _start(db, records, spawn)
    if at_commit:
        _wait_for_commit(proc, db)
        time.sleep(delay)
    elif opened is not None:
        time.sleep(max(0.0, delay - (time.perf_counter() - opened)))
    finished = not proc.alive()
    if not finished:
        proc.kill()
    returncode = proc.wait()
    wal = Path(str(db) + "-wal")
    wal_bytes = wal.stat().st_size if wal.exists() else 0  # > 0: it had written pages
    ok, fk = check(db)
    return {
        "delay": round(delay, 3),
        "finished": finished,
        "returncode": returncode,
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
    parser.add_argument(
        "--at-commit",
        type=float,
        default=0.2,
        metavar="SHARE",
        help="Share of runs killed 0-50 ms after the commit starts (default 0.2).",
    )
    parser.add_argument("--keep", type=Path, help="Keep the work files in this folder.")
    parser.add_argument(
        "--fork",
        action="store_true",
        help="Fork each import from a warm interpreter (faster) instead of a new process.",
    )
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

    spawn: Any = ForkServer() if args.fork else Subprocess
    before = counts(base)
    after, seconds = full_import(base, records, work, spawn)
    print(
        f"seed {seed}; {args.records} records; an uninterrupted import works on the database "
        f"for {seconds:.2f} s (kills are timed from when it opens the database)"
    )
    tally: dict[str, int] = {}
    bad = 0
    for i in range(args.runs):
        at_commit = rng.random() < args.at_commit
        delay = rng.uniform(0.0, 0.05) if at_commit else rng.uniform(0.0, seconds * 1.05)
        run = kill_once(base, records, db, delay, at_commit=at_commit, spawn=spawn)
        when = "after commit began" if at_commit else "after open"
        outcome = verdict(run, before, after)
        key = outcome if outcome in ("none", "all") else "BROKEN"
        if not run["finished"]:
            key += " (killed)" if run["wal_bytes"] == 0 else " (killed, pages in WAL)"
        tally[key] = tally.get(key, 0) + 1
        bad += outcome not in ("none", "all")
        print(
            f"run {i + 1:3d}: kill at {run['delay']:6.3f} s {when:18}  "
            f"wal {run['wal_bytes']:>9} B  -> {outcome}"
        )
    print("summary: " + ", ".join(f"{k}: {v}" for k, v in sorted(tally.items())))
    print(f"{args.runs - bad}/{args.runs} runs left the database whole (all or none)")
    if args.fork:
        spawn.close()
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
