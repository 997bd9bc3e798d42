"""The console script postpones full garbage collections only while modules load."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CODE = (
    "import gc, sys\n"
    "from factdb.cli import main\n"
    "sys.argv = ['factdb', *sys.argv[1:]]\n"
    "try:\n    main()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
    "print(gc.get_threshold(), len(gc.get_objects()) > 0, gc.get_freeze_count() > 0,"
    " file=sys.stderr)\n"
)


def _thresholds_after(*args: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", CODE, *args], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stderr.strip().splitlines()[-1]


def test_a_database_command_restores_the_default_threshold(sqlite_path: Path) -> None:
    young, middle, full = __import__("gc").get_threshold()
    after = _thresholds_after("--db", str(sqlite_path), "claim", "list", "--limit", "1")
    # default full threshold back, the loaded modules frozen
    assert after == f"({young}, {middle}, 10) True True"


def test_help_ends_with_full_collections_still_postponed() -> None:
    from factdb.cli import STARTUP_FULL_GC_THRESHOLD

    after = _thresholds_after("--help")
    assert f", {STARTUP_FULL_GC_THRESHOLD}) True False" in after
