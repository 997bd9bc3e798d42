"""Faults a desk will meet: a full disk, a read-only file, a directory that cannot be written, a
file that is not SQLite, a truncated or corrupted database, a database from a newer factdb.

Each gives one ``Error: …`` line on stderr and a non-zero exit, never a traceback, and never
makes the file worse: its bytes are compared before and after every command. ``db backup``
(the SQLite online backup API) is tested here too, including while a writer is writing.

As root, file modes do not stop writes, so "cannot be written" is made real with ``chattr +i``
(immutable; ext4 and most Linux filesystems) or, when not root, with file modes. A read-only
database *file* is covered by tests/test_database_safety.py (same technique), not repeated here.
"""

from __future__ import annotations

import gc
import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from factdb.cli import cli
from factdb.db import MAX_PAGE_COUNT_ENV

LAVROV = "Sergey Lavrov"


def invoke(db: Path | str, *args: str, env: dict[str, str] | None = None) -> Result:
    """Run the CLI in-process, catching everything so that a traceback is a test failure."""
    result = CliRunner().invoke(cli, ["--db", str(db), *args], catch_exceptions=True, env=env)
    gc.collect()  # close the command's pooled connections so the file is quiet again
    return result


def assert_clean_failure(result: Result, *, code: int = 1, mentions: str | None = None) -> str:
    """Exit ``code``, no exception escaped, and stderr is exactly one ``Error: …`` line."""
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"uncaught {result.exception!r}\n{result.output}"
    )
    assert result.exit_code == code, (result.exit_code, result.output)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "Traceback" not in result.output
    if mentions:
        assert mentions.lower() in lines[0].lower(), lines[0]
    return lines[0]


def digest(path: Path) -> str:
    """The file's bytes, plus whatever its WAL holds (a WAL with data is part of the database)."""
    h = hashlib.sha256(path.read_bytes())
    wal = path.with_name(path.name + "-wal")
    if wal.exists() and wal.stat().st_size:
        h.update(wal.read_bytes())
    return h.hexdigest()


def add_claims(db: Path, n: int) -> None:
    """Give the database some content, through the services, in one transaction."""
    from factdb.db import make_engine, session_scope
    from factdb.services.claims import add_claim

    engine = make_engine(f"sqlite:///{db}")
    with session_scope(engine) as s:
        for i in range(n):
            add_claim(s, text=f"fault fixture claim {i}", speaker=LAVROV, said_on="2021-10-06")
    engine.dispose()
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def count_claims(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT count(*) FROM statements").fetchone()[0]
    finally:
        conn.close()


@pytest.fixture
def populated(sqlite_path: Path) -> Path:
    add_claims(sqlite_path, 40)
    return sqlite_path


def write_commands(tmp: Path) -> list[list[str]]:
    """Commands that try to change the database (each must fail cleanly under a fault)."""
    (tmp / "inputs").mkdir(exist_ok=True)
    records = tmp / "inputs" / "in.jsonl"
    records.write_text(
        "".join(f'{{"text": "imported claim {i}", "speaker": "{LAVROV}"}}\n' for i in range(50)),
        encoding="utf-8",
    )
    return [
        ["speaker", "add", "Oana Lungescu", "--role", "NATO spokesperson"],
        ["claim", "add", "--speaker", LAVROV, "Moscow calls the accusation baseless"],
        ["claim", "status", "1", "denied", "--on", "2021-10-07"],
        ["import", str(records)],
    ]


READ_COMMANDS = [
    ["claim", "list", "--limit", "5"],
    ["sql", "SELECT count(*) FROM statements"],
    ["speaker", "list"],
]


# --- disk full ---------------------------------------------------------------------------------


def page_count(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("PRAGMA page_count").fetchone()[0]
    finally:
        conn.close()


def test_disk_full_fails_cleanly_and_changes_nothing(populated: Path, tmp_path: Path) -> None:
    before, claims = digest(populated), count_claims(populated)
    env = {MAX_PAGE_COUNT_ENV: str(page_count(populated))}  # not one page more
    big = "the alliance expelled eight officials " * 20_000  # ~760 kB: must grow the file
    result = invoke(populated, "claim", "add", "--speaker", LAVROV, big, env=env)
    assert_clean_failure(result, mentions="full")
    assert digest(populated) == before

    many = tmp_path / "many.jsonl"
    many.write_text(
        "".join(
            f'{{"text": "disk full claim {i} {"x" * 400}", "speaker": "Speaker {i % 50}"}}\n'
            for i in range(3000)
        ),
        encoding="utf-8",
    )
    result = invoke(populated, "import", str(many), env=env)
    assert_clean_failure(result, mentions="full")
    assert digest(populated) == before
    assert count_claims(populated) == claims

    # with room again, the same write succeeds: nothing was left half-done in the way
    result = invoke(populated, "claim", "add", "--speaker", LAVROV, big)
    assert result.exit_code == 0, result.output
    assert count_claims(populated) == claims + 1


# --- read-only file, unwritable directory ------------------------------------------------------


@contextmanager
def immutable(path: Path) -> Iterator[None]:
    """Make ``path`` unchangeable even for root (``chattr +i``), or skip when that is impossible."""
    if os.geteuid() != 0:
        mode = path.stat().st_mode
        path.chmod(0o555 if path.is_dir() else 0o444)
        try:
            yield
        finally:
            path.chmod(mode)
        return
    if shutil.which("chattr") is None:
        pytest.skip("chattr is not available to make a file read-only for root")
    done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"this filesystem has no immutable flag: {done.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def test_directory_that_cannot_be_written(populated: Path, tmp_path: Path) -> None:
    """The file is writable but its folder is not: SQLite cannot make its WAL beside it."""
    before = digest(populated)
    commands = write_commands(tmp_path)
    with immutable(populated.parent):
        for args in commands:
            line = assert_clean_failure(invoke(populated, *args))
            assert "factdb init" not in line, line
        # a new database in that folder cannot be created either
        assert_clean_failure(invoke(populated.parent / "new.db", "init"))
        # nor can a backup be written there
        assert_clean_failure(invoke(populated, "db", "backup", str(populated.parent / "b.db")))
    assert digest(populated) == before
    assert not (populated.parent / "new.db").exists()
    assert not list(populated.parent.glob(".b.db.*"))


# --- files that are not (whole) factdb databases -----------------------------------------------


def make_not_sqlite(db: Path) -> None:
    db.write_text("speaker,text\nSergey Lavrov,this is a CSV file, not a database\n")


def make_truncated(db: Path) -> None:
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 3])


def make_corrupted(db: Path) -> None:
    data = bytearray(db.read_bytes())
    page = int.from_bytes(data[16:18], "big") or 65536
    # keep the header page, overwrite every other page with a repeating garbage pattern
    for i in range(page, len(data)):
        data[i] = (i * 151) % 256
    db.write_bytes(bytes(data))


def make_damaged_pages(db: Path) -> None:
    """A few pages in the middle garbled: only what touches them can notice."""
    data = bytearray(db.read_bytes())
    page = int.from_bytes(data[16:18], "big") or 65536
    middle = (len(data) // page // 2) * page
    for i in range(middle, min(len(data), middle + 3 * page)):
        data[i] = (i * 151) % 256
    db.write_bytes(bytes(data))


def make_newer(db: Path) -> None:
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def make_empty_file(db: Path) -> None:
    db.write_bytes(b"")


FAULTS = {
    "not-sqlite": (make_not_sqlite, "not a SQLite database"),
    "truncated": (make_truncated, None),
    "corrupted": (make_corrupted, None),
    "damaged-pages": (make_damaged_pages, None),
    "newer-factdb": (make_newer, "newer factdb"),
    "empty-file": (make_empty_file, " init'"),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_bad_database_files(fault: str, populated: Path, tmp_path: Path) -> None:
    make, mentions = FAULTS[fault]
    make(populated)
    before = digest(populated)
    backup_to = tmp_path / "backup.db"
    commands = [*write_commands(tmp_path), *READ_COMMANDS]
    if fault != "empty-file":  # like init, 'db upgrade' makes an empty file a database
        commands.append(["db", "upgrade"])
    if fault in ("truncated", "corrupted"):
        # a damaged file must not be "backed up" as if it were fine
        commands.append(["db", "backup", str(backup_to)])
    for args in commands:
        result = invoke(populated, *args)
        if fault == "damaged-pages" or args[0] == "sql":
            # Only what touches a damaged page can notice it, and 'sql' is a raw read-only
            # query that does not gate on the schema revision: either a clean answer or one
            # clean line, and never a change to the file.
            if result.exit_code != 0:
                assert_clean_failure(result)
            else:
                assert result.exception is None, result.exception
        else:
            line = assert_clean_failure(result, mentions=mentions if args[0] != "db" else None)
            if fault in ("truncated", "corrupted"):
                # a damaged file is called damaged, never "create it with 'factdb init'"
                assert "factdb init" not in line, line
        if result.exit_code != 0:
            assert digest(populated) == before, args
        before = digest(populated)  # a command that succeeded may have changed it
    assert not backup_to.exists()


# --- backup ------------------------------------------------------------------------------------


def integrity(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def test_backup_copies_a_database(populated: Path, tmp_path: Path) -> None:
    target = tmp_path / "copies" / "backup.db"
    target.parent.mkdir()
    result = invoke(populated, "db", "backup", str(target))
    assert result.exit_code == 0, result.output
    assert "integrity ok" in result.stderr
    assert integrity(target) == "ok"
    assert count_claims(target) == count_claims(populated) == 40
    # the copy is a working factdb database
    assert invoke(target, "claim", "list", "--format", "jsonl").stdout.count("\n") == 40
    # refuses to overwrite without --force, and overwrites with it
    assert_clean_failure(invoke(populated, "db", "backup", str(target)), mentions="--force")
    assert invoke(populated, "db", "backup", "--force", str(target)).exit_code == 0
    # refuses to copy a database onto itself
    before = digest(populated)
    assert_clean_failure(invoke(populated, "db", "backup", "--force", str(populated)))
    assert digest(populated) == before


def test_backup_refuses_postgresql() -> None:
    result = CliRunner().invoke(
        cli,
        ["--db", "postgresql+psycopg://nobody@127.0.0.1:1/none", "db", "backup", "x.db"],
        catch_exceptions=True,
    )
    line = assert_clean_failure(result)
    assert "pg_dump" in line


BACKGROUND_WRITER = textwrap.dedent(
    """
    import sys, time
    from factdb.db import make_engine, session_scope
    from factdb.services.claims import add_claim
    url, stop = sys.argv[1:3]
    engine = make_engine(url)
    n = 0
    while True:
        with session_scope(engine) as s:
            add_claim(s, text=f"written during the backup {n}", speaker="Oana Lungescu")
        n += 1
        if n >= 30 and __import__("os").path.exists(stop):
            break
    print(n)
    """
)


def test_backup_while_a_writer_writes(populated: Path, tmp_path: Path) -> None:
    stop = tmp_path / "stop"
    writer = subprocess.Popen(
        [sys.executable, "-c", BACKGROUND_WRITER, f"sqlite:///{populated}", str(stop)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        counts = []
        for i in range(3):
            target = tmp_path / f"live{i}.db"
            result = invoke(populated, "db", "backup", str(target))
            assert result.exit_code == 0, result.output
            assert integrity(target) == "ok"
            n = count_claims(target)
            # a snapshot: the 40 fixture claims plus a whole number of committed writes
            conn = sqlite3.connect(target)
            written = conn.execute(
                "SELECT count(*) FROM statements WHERE text LIKE 'written during the backup %'"
            ).fetchone()[0]
            texts = {r[0] for r in conn.execute("SELECT text FROM statements")}
            conn.close()
            assert n == 40 + written
            # committed writes appear in order, with no gaps: 0..written-1
            assert {f"written during the backup {k}" for k in range(written)} <= texts
            counts.append(written)
    finally:
        stop.touch()
        out, err = writer.communicate(timeout=120)
    assert writer.returncode == 0, err[-2000:]
    assert int(out) >= 30
    assert count_claims(populated) == 40 + int(out)
    assert counts == sorted(counts)
