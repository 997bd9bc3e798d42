"""Benchmark: a lexical ``claim match`` on a million claims, as a ratio to the start-up floor.

Usage::

    python bench/bench_match_speed.py [--claims 1000000] [--data DIR] [--runs 5]

Reuses bench_search.py's database (``DIR/factdb_N.db``, built from ``gen_claims.py`` with the
ordinary CLI) and its timing: the floor (``python -c "import sqlalchemy.orm, click,
tabulate"``) and each command are run interleaved round by round, one warm-up round
discarded; medians and the ratio to the floor's median are printed (target ≤ 1.5×), with the
peak memory (max RSS) of each command.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_search import FLOOR, GEN, build, factdb_command, wall  # noqa: E402

QUERIES = [
    "NATO accuses Russia of expelling diplomats kalide",
    "were the expelled Russian diplomats secretly intelligence officers?",
    "Moscow says the alliance threat is baseless #nato https://t.co/x",
]


def peak_mb(cmd: list[str]) -> float:
    """Max RSS of one run of ``cmd`` in MB (that child's own rusage, from wait4)."""
    child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _pid, _status, usage = os.wait4(child.pid, 0)
    child.returncode = 0
    return usage.ru_maxrss / 1024


def main() -> None:
    """Time the floor and lexical matches; print medians, ratios and peak memory."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--claims", type=int, default=1_000_000)
    parser.add_argument("--data", type=Path, default=Path(__file__).parent / "data")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    db = build(args.claims, args.data, GEN)
    base = [*factdb_command(), "--db", str(db), "claim", "match", "--layer", "lexical"]
    commands = {"floor": FLOOR} | {f"match {q[:40]!r}": [*base, q] for q in QUERIES}
    times: dict[str, list[float]] = {name: [] for name in commands}
    for round_ in range(args.runs + 1):
        for name, cmd in commands.items():
            seconds = wall(cmd)
            if round_:
                times[name].append(seconds)
    floor = statistics.median(times["floor"])
    for name, cmd in commands.items():
        median = statistics.median(times[name])
        print(f"{name}: {median:.3f} s, {median / floor:.2f}x floor, peak {peak_mb(cmd):.0f} MB")


if __name__ == "__main__":
    main()
