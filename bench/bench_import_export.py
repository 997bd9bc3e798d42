"""Import/export benchmark: factdb against the shared floors and sqlite-utils, in one run.

Generates the shared workload once (cached in bench/out/), then measures, each in its own
process, wall time and peak RSS (os.wait4's rusage of that one child):

  floor_load.py, floor_load.py --fts         the load floors (without / with a full-text index)
  factdb import                              keeps its full-text index: compare with --fts
  sqlite-utils insert --nl (+ enable-fts)    the peer, flat, in its own virtual environment
  floor_export.py, factdb export --format csv

and prints the ratios the issue sets as targets (import <= 2.0x floor_load, export <= 1.5x
floor_export, both <= 150 MiB). Medians over --runs. The machine is shared: compare ratios
from one run, never absolute seconds from different runs.

Usage: python bench/bench_import_export.py [--n 1000000] [--runs 1] [--skip-peer] [--export-only]
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

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("FACTDB_SHARED_BENCH", ROOT.parent / "shared" / "bench"))
OUT = ROOT / "bench" / "out"
PYTHON = sys.executable
FACTDB = [PYTHON, "-m", "factdb"]


def measure(
    argv: list[str], *, stdout: int | None = subprocess.DEVNULL
) -> tuple[float, float, float]:
    """(wall s, peak RSS MiB, CPU s) of one child process; a failure stops the benchmark.

    The disk first catches up with what earlier runs wrote, so that no run pays for the
    writeback of the one before it.
    """
    os.sync()
    start = time.perf_counter()
    process = subprocess.Popen(argv, stdout=stdout, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    stderr = process.stderr.read().decode() if process.stderr else ""
    if process.returncode != 0:
        raise SystemExit(f"failed ({process.returncode}): {' '.join(argv)}\n{stderr}")
    return wall, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def remove_db(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def workload(n: int) -> Path:
    path = OUT / f"claims-{n}.jsonl"
    if not path.exists():
        print(f"generating {path.name} …", file=sys.stderr)
        with open(f"{path}.tmp", "wb") as f:
            subprocess.run([PYTHON, str(SHARED / "gen_claims.py"), str(n)], stdout=f, check=True)
        os.replace(f"{path}.tmp", path)
    return path


def peer_venv() -> Path | None:
    """sqlite-utils in its own virtual environment (created once under bench/out/)."""
    venv = OUT / "su-venv"
    tool = venv / "bin" / "sqlite-utils"
    if not tool.exists():
        print("installing sqlite-utils in bench/out/su-venv …", file=sys.stderr)
        try:
            subprocess.run([PYTHON, "-m", "venv", str(venv)], check=True)
            subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "sqlite-utils"], check=True)
        except subprocess.CalledProcessError:
            print("could not install sqlite-utils: peer skipped", file=sys.stderr)
            return None
    return tool


def load(record, claims, peer, floor_db, fts_db, factdb_db, peer_db):  # type: ignore[no-untyped-def]
    """The loads: the floors, factdb import and the sqlite-utils peer."""
    remove_db(floor_db)
    record(
        "floor_load",
        measure([PYTHON, str(SHARED / "floor_load.py"), str(claims), str(floor_db)]),
    )
    remove_db(fts_db)
    record(
        "floor_load --fts",
        measure([PYTHON, str(SHARED / "floor_load.py"), "--fts", str(claims), str(fts_db)]),
    )
    remove_db(factdb_db)
    subprocess.run([*FACTDB, "--db", str(factdb_db), "init"], check=True, capture_output=True)
    record("factdb import", measure([*FACTDB, "--db", str(factdb_db), "import", "-q", str(claims)]))
    if peer is not None:
        remove_db(peer_db)
        record(
            "sqlite-utils insert --nl",
            measure([str(peer), "insert", str(peer_db), "statements", str(claims), "--nl"]),
        )
        record(
            "sqlite-utils enable-fts",
            measure([str(peer), "enable-fts", str(peer_db), "statements", "text", "--fts5"]),
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="claims in the workload")
    parser.add_argument("--runs", type=int, default=1, help="repetitions (medians reported)")
    parser.add_argument("--skip-peer", action="store_true", help="do not run sqlite-utils")
    parser.add_argument(
        "--export-only",
        action="store_true",
        help="only the exports, from the databases a previous run left in bench/out/",
    )
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    claims = workload(args.n)
    peer = None if args.skip_peer else peer_venv()
    results: dict[str, list[tuple[float, float, float]]] = {}

    def record(name: str, figures: tuple[float, float, float]) -> None:
        results.setdefault(name, []).append(figures)
        wall_s, rss_mib, cpu_s = figures
        print(
            f"  {name:<34} {wall_s:8.2f} s {rss_mib:7.1f} MiB {cpu_s:8.2f} s CPU", file=sys.stderr
        )

    floor_db, fts_db, factdb_db, peer_db = (
        OUT / "floor.db",
        OUT / "floor_fts.db",
        OUT / "factdb.db",
        OUT / "su.db",
    )
    for run in range(1, args.runs + 1):
        print(f"run {run}/{args.runs}", file=sys.stderr)
        if not args.export_only:
            load(record, claims, peer, floor_db, fts_db, factdb_db, peer_db)
        record(
            "floor_export",
            measure(
                [PYTHON, str(SHARED / "floor_export.py"), str(floor_db), str(OUT / "floor.csv")]
            ),
        )
        record(
            "factdb export --format csv",
            measure(
                [
                    *FACTDB,
                    "--db",
                    str(factdb_db),
                    "export",
                    "--format",
                    "csv",
                    "-o",
                    str(OUT / "factdb.csv"),
                ]
            ),
        )

    def wall(name: str) -> float:
        return statistics.median(f[0] for f in results[name])

    def rss(name: str) -> float:
        return max(f[1] for f in results[name])

    def cpu(name: str) -> float:
        return statistics.median(f[2] for f in results[name])

    print(f"\nfactdb import/export benchmark: {args.n:,} claims, {args.runs} run(s), medians")
    print(f"{'what':<34} {'wall s':>8} {'peak MiB':>9} {'CPU s':>8}")
    for name in results:
        print(f"{name:<34} {wall(name):8.2f} {rss(name):9.1f} {cpu(name):8.2f}")
    print()
    loaded = "factdb import" in results
    exp = wall("factdb export --format csv")
    lines = [("export / floor_export", exp / wall("floor_export"), 1.5)]
    if loaded:
        imp = wall("factdb import")
        lines[:0] = [
            ("import / floor_load", imp / wall("floor_load"), 2.0),
            ("import / floor_load --fts (both keep FTS)", imp / wall("floor_load --fts"), 2.0),
        ]
    if "sqlite-utils insert --nl" in results:
        flat = wall("sqlite-utils insert --nl")
        with_fts = flat + wall("sqlite-utils enable-fts")
        lines.append(("import / sqlite-utils insert --nl", imp / flat, 1.0))
        lines.append(("import / sqlite-utils insert + enable-fts", imp / with_fts, 1.0))
    print("wall-time ratios (the targets):")
    for label, ratio, target in lines:
        verdict = "ok" if ratio <= target else "MISSED"
        print(f"{label:<44} {ratio:5.2f}x  (target <= {target}x: {verdict})")
    # on a shared machine wall time depends on the neighbours; CPU time much less so
    print("CPU-time ratios (for reference):")
    if loaded:
        import_cpu = cpu("factdb import") / cpu("floor_load --fts")
        print(f"{'import / floor_load --fts':<44} {import_cpu:5.2f}x")
    export_cpu = cpu("factdb export --format csv") / cpu("floor_export")
    print(f"{'export / floor_export':<44} {export_cpu:5.2f}x")
    for name in ("factdb import", "factdb export --format csv"):
        if name in results:
            verdict = "ok" if rss(name) <= 150 else "MISSED"
            print(f"{name + ' peak RSS':<44} {rss(name):5.1f} MiB (target <= 150: {verdict})")
    shutil.rmtree(OUT / "tmp", ignore_errors=True)


if __name__ == "__main__":
    main()
