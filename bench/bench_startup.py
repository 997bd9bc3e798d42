"""Start-up benchmark: factdb's commands as ratios to the import floors, measured in one run.

    python bench/bench_startup.py [--runs 15] [--claims 1000000] [--gen PATH] [--db PATH]

- ``factdb --help`` and ``factdb claim --help`` vs ``python -c "import click"`` (target <= 1.3x)
- ``factdb claim list --limit 20`` on a database of ``--claims`` claims vs
  ``python -c "import sqlalchemy.orm, click, tabulate"`` (target <= 1.3x)

The database is built once with the real ``factdb import`` of ``gen_claims.py`` output and
cached in bench/out/ (gitignored). Runs are interleaved round-robin so that the machine's noise
hits every command alike; medians are reported.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
DEFAULT_GEN = Path("/work/shared/bench/gen_claims.py")
TARGET = 1.3


def factdb_exe() -> list[str]:
    """The console script installed beside this interpreter (what a user runs)."""
    script = Path(sys.executable).parent / "factdb"
    return [str(script)] if script.exists() else [sys.executable, "-m", "factdb"]


def build_database(claims: int, gen: Path, records: Path | None = None) -> Path:
    """``bench/out/claims-N.db``, made by ``factdb import`` of ``gen_claims.py N`` (cached)."""
    OUT.mkdir(exist_ok=True)
    db = OUT / f"claims-{claims}.db"
    if db.exists():
        return db
    records = records or OUT / f"claims-{claims}.jsonl"
    if not records.exists():
        print(f"generating {records} …", file=sys.stderr)
        with records.open("wb") as f:
            subprocess.run([sys.executable, str(gen), str(claims)], stdout=f, check=True)
    partial = db.with_suffix(".partial.db")
    for suffix in ("", "-wal", "-shm"):
        Path(str(partial) + suffix).unlink(missing_ok=True)
    print(f"importing {records} into {db} …", file=sys.stderr)
    start = time.perf_counter()
    subprocess.run([*factdb_exe(), "--db", str(partial), "init"], check=True)
    subprocess.run([*factdb_exe(), "--db", str(partial), "import", "-q", str(records)], check=True)
    print(f"imported in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    partial.rename(db)
    return db


def compile_bytecode() -> None:
    """Compile factdb's modules to .pyc once, as ``pip install`` does for an installed package.

    The floor's modules (SQLAlchemy, click, tabulate in site-packages) have their bytecode;
    an editable checkout run under PYTHONDONTWRITEBYTECODE (set in some environments) would
    otherwise recompile every factdb module on every run (~10-15 ms), which no installed copy
    pays. Stale .pyc files are ignored by Python, so this never runs old code.
    """
    import compileall

    compileall.compile_dir(str(Path(__file__).resolve().parent.parent / "factdb"), quiet=1)


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {done.stderr.decode()[-500:]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--claims", type=int, default=1_000_000)
    parser.add_argument("--gen", type=Path, default=DEFAULT_GEN, help="gen_claims.py")
    parser.add_argument(
        "--records", type=Path, help="gen_claims.py output already made (else generated)"
    )
    parser.add_argument("--build-only", action="store_true", help="Only build the database.")
    parser.add_argument(
        "--db", type=Path, help="An existing factdb database of --claims claims (else built)"
    )
    args = parser.parse_args()

    db = args.db or build_database(args.claims, args.gen, args.records)
    if args.build_only:
        return 0
    compile_bytecode()
    exe = factdb_exe()
    py = [sys.executable]
    commands = {
        "import click": [*py, "-c", "import click"],
        "factdb --help": [*exe, "--help"],
        "factdb claim --help": [*exe, "claim", "--help"],
        "import sqlalchemy.orm, click, tabulate": [
            *py,
            "-c",
            "import sqlalchemy.orm, click, tabulate",
        ],
        # for information: the floor with gc.freeze(), the start-up measure factdb takes (frozen
        # objects are skipped by the full collection at interpreter exit, too)
        "import sqlalchemy.orm, click, tabulate; gc.freeze()": [
            *py,
            "-c",
            "import sqlalchemy.orm, click, tabulate, gc; gc.freeze()",
        ],
        "factdb claim list --limit 20": [*exe, "--db", str(db), "claim", "list", "--limit", "20"],
    }
    env_note = os.environ.get("FACTDB_DATABASE")
    if env_note:
        print(f"(FACTDB_DATABASE={env_note} is ignored: --db is given)")
    for cmd in commands.values():  # warm the page cache and .pyc files once
        timed(cmd)
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, cmd in commands.items():
            samples[name].append(timed(cmd))
    median = {name: statistics.median(values) for name, values in samples.items()}

    rows = [
        ("factdb --help", "import click"),
        ("factdb claim --help", "import click"),
        ("factdb claim list --limit 20", "import sqlalchemy.orm, click, tabulate"),
    ]
    info = ("factdb claim list --limit 20", "import sqlalchemy.orm, click, tabulate; gc.freeze()")
    print(f"{args.runs} interleaved runs each, medians; database: {db.name} ({args.claims} claims)")
    print(f"{'command':32} {'median':>8}   {'floor':40} {'median':>8}  ratio  target")
    ok = True
    for name, floor in rows:
        ratio = median[name] / median[floor]
        ok &= ratio <= TARGET
        mark = "ok" if ratio <= TARGET else "MISSED"
        print(
            f"{name:32} {median[name] * 1000:6.0f}ms   {floor:40} {median[floor] * 1000:6.0f}ms"
            f"  {ratio:4.2f}x  <= {TARGET}x {mark}"
        )
    name, floor = info
    print(
        f"{name:32} {median[name] * 1000:6.0f}ms   {'… ; gc.freeze() (information)':40} "
        f"{median[floor] * 1000:6.0f}ms  {median[name] / median[floor]:4.2f}x"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
