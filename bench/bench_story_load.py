"""Story-file load benchmark: ``factdb story load`` of N claims against ``factdb import`` of the
same claims as JSON Lines, each into a fresh database, in the same run.

The claims come from the shared workload generator (../shared/bench/gen_claims.py); the story
file holds exactly what the JSON Lines file holds (speaker with role, one source with its URL,
the status, the date), written as a story: speakers and sources declared once, each claim with
its attribution and its status. Prints both times and the ratio (the goal: at most 2.0x).

    python bench/bench_story_load.py [--claims 100000] [--runs 1]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("FACTDB_SHARED_BENCH", ROOT.parent / "shared" / "bench"))
OUT = ROOT / "bench" / "out"
FACTDB = [sys.executable, "-m", "factdb"]


def _s(value: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(value, ensure_ascii=False)


def workload(n: int) -> tuple[Path, Path]:
    """The JSON Lines file and the equivalent story file (made once, cached in bench/out/)."""
    OUT.mkdir(parents=True, exist_ok=True)
    jsonl, story = OUT / f"claims_{n}.jsonl", OUT / f"story_{n}.toml"
    if not jsonl.exists():
        gen = SHARED / "gen_claims.py"
        if not gen.exists():
            sys.exit(f"skipped: the workload generator {gen} is absent")
        with jsonl.open("w", encoding="utf-8") as out:
            subprocess.run([sys.executable, str(gen), str(n)], stdout=out, check=True)
    if not story.exists():
        records = [json.loads(line) for line in jsonl.open(encoding="utf-8")]
        speakers: dict[str, str | None] = {}
        sources: dict[str, str] = {}
        for r in records:
            speakers.setdefault(r["speaker"], r.get("speaker_role"))
            if r.get("source_url"):
                sources.setdefault(r["source_url"], r["source"])
        lines = ['[story]\nid = "bench"\norigin = "bench"\n']
        for name, role in speakers.items():
            lines.append(f"[[speakers]]\nname = {_s(name)}\n")
            if role:
                lines.append(f"role = {_s(role)}\n")
        for url, name in sources.items():
            lines.append(f"[[sources]]\nname = {_s(name)}\nurl = {_s(url)}\n")
        for i, r in enumerate(records):
            lines.append(f'[[claims]]\nid = "c{i}"\nspeaker = {_s(r["speaker"])}\n')
            lines.append(f"text = {_s(r['text'])}\n")
            if r.get("said_on"):
                lines.append(f"said_on = {_s(r['said_on'])}\n")
            if r.get("source_url"):
                lines.append(f"attributions = [{{ source = {_s(r['source_url'])} }}]\n")
            if r.get("status"):
                on = r.get("said_on") or "2021"
                lines.append(f"status = [{{ status = {_s(r['status'])}, on = {_s(on)} }}]\n")
        story.write_text("".join(lines), encoding="utf-8")
    return jsonl, story


def timed(args: list[str], db: Path) -> float:
    """Seconds for one factdb command on a fresh database (created before the clock starts)."""
    db.unlink(missing_ok=True)
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    subprocess.run([*FACTDB, "--db", str(db), "init"], check=True, capture_output=True)
    start = time.perf_counter()
    done = subprocess.run([*FACTDB, "--db", str(db), *args], capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"factdb {' '.join(args)} failed: {done.stderr.strip()}")
    print(f"  {' '.join(args[:2])}: {elapsed:.1f} s  ({done.stderr.strip().splitlines()[-1]})")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    jsonl, story = workload(args.claims)
    db = OUT / "bench_story.db"
    imports, loads = [], []
    for _ in range(args.runs):
        imports.append(timed(["import", str(jsonl)], db))
        loads.append(timed(["story", "load", str(story)], db))
    floor, ours = statistics.median(imports), statistics.median(loads)
    print(f"{args.claims} claims: import (JSONL) {floor:.1f} s, story load {ours:.1f} s")
    print(f"ratio story load / import: {ours / floor:.2f}x (goal <= 2.0x)")


if __name__ == "__main__":
    main()
