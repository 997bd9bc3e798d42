"""Benchmark: search and filtered listing on a million claims, as ratios to the start-up floor.

Usage::

    python bench/bench_search.py [--claims 1000000] [--data DIR] [--runs 5]

Builds (or reuses) ``DIR/claims_N.jsonl`` from ``../shared/bench/gen_claims.py`` and
``DIR/factdb_N.db`` from it with ``factdb init`` + ``factdb import`` (the ordinary path a user
takes), then times, in the same run and interleaved round by round so that the machine's noise
falls on all of them alike:

- the floor: ``python -c "import sqlalchemy.orm, click, tabulate"``;
- ``factdb claim search WORD --limit 20`` for a rare, a common and a very common word;
- ``factdb claim list --speaker NAME --limit 20`` and ``--status S --limit 20``.

It prints each command's median wall time and its ratio to the floor's median (target ≤ 1.5×).
One warm-up round is discarded: the figures are for a warm page cache.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GEN = ROOT.parent / "shared" / "bench" / "gen_claims.py"
FLOOR = [sys.executable, "-c", "import sqlalchemy.orm, click, tabulate"]
# for information: the floor with gc.freeze(), as factdb's CLI does after loading its modules
# (frozen objects are also skipped by the full collection at interpreter exit)
FROZEN_FLOOR = [sys.executable, "-c", "import sqlalchemy.orm, click, tabulate, gc; gc.freeze()"]
FROZEN = "(information) floor with gc.freeze()"
TARGET = 1.5
# hit counts on the 1M workload (README of the shared benchmark): ~3.1k, ~207k, ~894k
WORDS = ["kalide", "intelligence", "nato"]


def factdb_command() -> list[str]:
    """The installed ``factdb`` script beside this Python (what a user runs), else ``-m``."""
    script = Path(sys.executable).with_name("factdb")
    if script.exists():
        return [str(script)]
    found = shutil.which("factdb")
    return [found] if found else [sys.executable, "-m", "factdb"]


def build(claims: int, data: Path, gen: Path) -> Path:
    """The benchmark database, generated and imported unless already there."""
    data.mkdir(parents=True, exist_ok=True)
    jsonl = data / f"claims_{claims}.jsonl"
    if not jsonl.exists():
        print(f"generating {jsonl} …", file=sys.stderr)
        tmp = jsonl.with_suffix(".tmp")
        with tmp.open("w") as out:
            subprocess.run([sys.executable, str(gen), str(claims)], stdout=out, check=True)
        tmp.rename(jsonl)
    db = data / f"factdb_{claims}.db"
    if not db.exists():
        print(f"importing into {db} (factdb init + factdb import) …", file=sys.stderr)
        tmp = db.with_name(db.name + ".building")
        for leftover in data.glob(tmp.name + "*"):
            leftover.unlink()
        factdb = factdb_command()
        subprocess.run([*factdb, "--db", str(tmp), "init"], check=True, capture_output=True)
        start = time.perf_counter()
        subprocess.run(
            [*factdb, "--db", str(tmp), "import", str(jsonl)],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        print(f"import took {time.perf_counter() - start:.1f} s", file=sys.stderr)
        # checkpoint and close so that the file is complete on its own, then move it in place
        subprocess.run(
            [
                sys.executable,
                "-c",
                "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); "
                "c.execute('PRAGMA wal_checkpoint(TRUNCATE)'); c.close()",
                str(tmp),
            ],
            check=True,
        )
        tmp.rename(db)
    return db


def pick(db: Path) -> tuple[str, str]:
    """A speaker name and a status present in the database (read-only)."""
    import sqlite3

    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        speaker = conn.execute("SELECT name FROM speakers ORDER BY id LIMIT 1").fetchone()[0]
        status = conn.execute(
            "SELECT current_status FROM statements WHERE current_status IS NOT NULL LIMIT 1"
        ).fetchone()[0]
    finally:
        conn.close()
    return speaker, status


def compile_bytecode() -> None:
    """Compile factdb's modules to .pyc once, as ``pip install`` does for an installed package.

    The floor's modules (SQLAlchemy, click, tabulate in site-packages) have their bytecode;
    an editable checkout run under PYTHONDONTWRITEBYTECODE (set in some environments) would
    otherwise recompile every factdb module on every run (~10-15 ms), which no installed copy
    pays. Stale .pyc files are ignored by Python, so this never runs old code.
    """
    import compileall

    compileall.compile_dir(str(Path(__file__).resolve().parent.parent / "factdb"), quiet=1)


def wall(cmd: list[str]) -> float:
    """Wall time of one run; a failing command stops the benchmark."""
    start = time.perf_counter()
    result = subprocess.run(cmd, capture_output=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{result.stderr.decode(errors='replace')}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--claims", type=int, default=1_000_000)
    parser.add_argument("--data", type=Path, default=ROOT / "bench" / "data")
    parser.add_argument("--gen", type=Path, default=GEN)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    db = build(args.claims, args.data, args.gen)
    compile_bytecode()
    speaker, status = pick(db)
    factdb = [*factdb_command(), "--db", str(db)]
    commands: dict[str, list[str]] = {
        "floor: import sqlalchemy.orm, click, tabulate": FLOOR,
        FROZEN: FROZEN_FLOOR,
    }
    for word in WORDS:
        commands[f"claim search {word} --limit 20"] = [
            *factdb,
            "claim",
            "search",
            word,
            "--limit",
            "20",
        ]
    commands[f"claim list --speaker '{speaker}' --limit 20"] = [
        *factdb,
        "claim",
        "list",
        "--speaker",
        speaker,
        "--limit",
        "20",
    ]
    commands[f"claim list --status {status} --limit 20"] = [
        *factdb,
        "claim",
        "list",
        "--status",
        status,
        "--limit",
        "20",
    ]
    times: dict[str, list[float]] = {name: [] for name in commands}
    for round_ in range(args.runs + 1):
        for name, cmd in commands.items():
            elapsed = wall(cmd)
            if round_:  # round 0 warms the page cache
                times[name].append(elapsed)
    floor = statistics.median(times[next(iter(commands))])
    print(
        f"{args.claims:,} claims, {db} ({os.path.getsize(db) / 2**20:.0f} MiB), "
        f"median of {args.runs} runs"
    )
    print(f"{'command':<52} {'median':>8} {'ratio':>7}")
    worst = 0.0
    for name, values in times.items():
        median = statistics.median(values)
        ratio = median / floor
        if name not in (next(iter(commands)), FROZEN):
            worst = max(worst, ratio)
        frozen = median / statistics.median(times[FROZEN])
        print(f"{name:<52} {median:7.3f}s {ratio:6.2f}×  ({frozen:4.2f}× the frozen floor)")
    verdict = "within" if worst <= TARGET else "ABOVE"
    print(f"worst ratio {worst:.2f}× — {verdict} the {TARGET}× target")


if __name__ == "__main__":
    main()
