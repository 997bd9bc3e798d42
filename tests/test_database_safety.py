"""Database-level bad inputs: each gives one ``Error: …`` line on stderr, exit 1, and leaves the
file byte-for-byte as it was (its WAL included).

- a file that is not SQLite;
- a database whose schema is behind this factdb (the message says to run ``factdb db upgrade``);
  simulated with a made-up older revision, and for real by downgrading one revision when the
  migration history has more than one;
- a database whose schema is ahead (a revision this factdb does not know): refused, even by
  ``init`` and ``db upgrade``;
- a SQLite file without a factdb schema;
- a read-only database file. Tests run as root, and root ignores file modes, so a mode of 0444
  would prove nothing: the file is made immutable with ``chattr +i`` (which stops root too);
  when not root, a 0444 mode is used. Reading a read-only database still works;
- a missing file for any command but ``init``/``db upgrade``: refused, and not created;
- on PostgreSQL (with ``FACTDB_TEST_POSTGRES_URL``): no schema, a newer schema, a server that
  cannot be reached.
"""

from __future__ import annotations

import gc
import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import factdb.db
import factdb.schema_version
from factdb import migrate
from factdb.cli import cli
from factdb.db import make_engine

WRITES = [
    ["speaker", "add", "Oana Lungescu", "--role", "NATO spokesperson"],
    ["source", "add", "Associated Press", "--kind", "news_agency"],
    ["claim", "add", "--speaker", "Sergey Lavrov", "We will respond."],
]
READS = [["speaker", "list"], ["source", "list"], ["claim", "list"]]


def invoke(db: Path, *args: str) -> Result:
    """Run the CLI in-process; an escaped exception is kept on the result (a test failure)."""
    result = CliRunner().invoke(cli, ["--db", str(db), *args], catch_exceptions=True)
    # close the command's pooled connections: SQLite reuses a still-open read-write file
    # descriptor for a new connection to the same file, which would defeat chattr +i below
    gc.collect()
    return result


def one_error(result: Result, *mentions: str) -> str:
    """Exit 1, no traceback, exactly one ``Error: …`` line on stderr mentioning ``mentions``."""
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"uncaught {result.exception!r}: {result.output}"
    )
    assert result.exit_code == 1, (result.exit_code, result.output)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert result.stdout == ""
    for text in mentions:
        assert text in lines[0], lines[0]
    return lines[0]


def digest(path: Path) -> str:
    """The file's bytes plus whatever its WAL holds (committed data may sit in the WAL)."""
    h = hashlib.sha256(path.read_bytes())
    wal = path.with_name(path.name + "-wal")
    if wal.exists() and wal.stat().st_size:
        h.update(wal.read_bytes())
    return h.hexdigest()


def set_revision(db: Path, revision: str) -> None:
    """Write ``revision`` into alembic_version and fold the WAL into the file."""
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("UPDATE alembic_version SET version_num = ?", (revision,))
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def checkpoint(db: Path) -> None:
    """Fold the WAL into the main file so that the file alone is the database."""
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def refuses_everything(db: Path, commands: list[list[str]], *mentions: str) -> None:
    """Each command fails with one line mentioning ``mentions``; the file never changes."""
    before = digest(db)
    for args in commands:
        one_error(invoke(db, *args), *mentions)
        assert digest(db) == before, args


@pytest.fixture
def populated(sqlite_path: Path) -> Path:
    """A migrated database with one speaker and one claim, WAL folded in."""
    for args in (
        ["speaker", "add", "Sergey Lavrov"],
        ["claim", "add", "--speaker", "Sergey Lavrov", "Contacts continue."],
    ):
        result = invoke(sqlite_path, *args)
        assert result.exit_code == 0, result.output
    checkpoint(sqlite_path)
    return sqlite_path


# --- not SQLite --------------------------------------------------------------------------------


def test_a_file_that_is_not_sqlite(tmp_path: Path) -> None:
    db = tmp_path / "claims.csv"
    db.write_text("speaker,text\nSergey Lavrov,We will respond.\n", encoding="utf-8")
    commands = [*WRITES, *READS, ["init"], ["db", "upgrade"], ["db", "current"]]
    refuses_everything(db, commands, f"{db} is not a SQLite database")


def test_sqlite_without_a_factdb_schema(tmp_path: Path) -> None:
    db = tmp_path / "other.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE notes (body TEXT)")
    conn.commit()
    conn.close()
    # the suggested command names the --db given, so that it can be pasted as it is
    refuses_everything(db, [*WRITES, *READS], "no factdb schema", f"'factdb --db {db} init'")


# --- behind / ahead ----------------------------------------------------------------------------


def test_schema_behind_simulated(populated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An older revision this factdb knows of: refused with the command that fixes it."""
    older = "0000_older"
    known = factdb.schema_version.KNOWN_REVISIONS | {older}
    # db.py binds the names at import: patch them where they are read
    monkeypatch.setattr(factdb.schema_version, "KNOWN_REVISIONS", known)
    monkeypatch.setattr(factdb.db, "KNOWN_REVISIONS", known)
    set_revision(populated, older)
    upgrade = f"'factdb --db {populated} db upgrade'"
    line = one_error(invoke(populated, "speaker", "list"), "behind", upgrade)
    assert older in line and factdb.schema_version.HEAD_REVISION in line
    refuses_everything(populated, [*WRITES, *READS], "behind", upgrade)


def _previous_revision() -> str | None:
    """The revision before head, or None when the history has a single revision."""
    revisions = [rev for rev, _down, _msg in migrate.history()]
    return revisions[-2] if len(revisions) > 1 else None


@pytest.mark.skipif(
    _previous_revision() is None,
    reason="the migration history has one revision: no real older schema to build",
)
def test_schema_behind_for_real(populated: Path) -> None:
    """Downgraded by one revision: refused until ``factdb db upgrade``, which then works."""
    previous = _previous_revision()
    engine = make_engine(f"sqlite:///{populated}")
    migrate.downgrade(engine, previous)  # type: ignore[arg-type]
    engine.dispose()
    checkpoint(populated)
    upgrade = f"'factdb --db {populated} db upgrade'"
    line = one_error(invoke(populated, "claim", "list"), "behind", upgrade)
    assert previous in line  # type: ignore[operator]
    refuses_everything(populated, [*WRITES, *READS], upgrade)
    upgraded = invoke(populated, "db", "upgrade")
    assert upgraded.exit_code == 0, upgraded.output
    listed = invoke(populated, "claim", "list", "--format", "csv")
    assert listed.exit_code == 0 and "Contacts continue." in listed.stdout


def test_schema_ahead_is_refused(populated: Path) -> None:
    set_revision(populated, "9999_from_the_future")
    refuses_everything(
        populated,
        [*WRITES, *READS, ["init"], ["db", "upgrade"], ["db", "check"]],
        "9999_from_the_future",
        "newer factdb",
    )


# --- read-only ---------------------------------------------------------------------------------


@contextmanager
def read_only(path: Path) -> Iterator[None]:
    """Make ``path`` impossible to write, even for root (``chattr +i``); skip if we cannot."""
    if os.geteuid() != 0:
        mode = path.stat().st_mode
        path.chmod(0o444)
        try:
            yield
        finally:
            path.chmod(mode)
        return
    if shutil.which("chattr") is None:
        pytest.skip("running as root without chattr: nothing can make a file read-only for root")
    done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"running as root on a filesystem without chattr +i: {done.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def run_factdb(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run factdb in its own process, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "factdb", "--db", str(db), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_read_only_database_file(populated: Path) -> None:
    """In separate processes: in-process, SQLite would reuse a read-write file descriptor that
    an earlier command's connection left open, so the file would not look read-only at all."""
    gc.collect()
    before = digest(populated)
    with read_only(populated):
        # the test is only meaningful if writing really fails for this process
        with pytest.raises(PermissionError):
            populated.open("r+b").close()
        for args in [*WRITES, ["db", "downgrade", "base"]]:
            done = run_factdb(populated, *args)
            assert done.returncode == 1, (args, done.stdout, done.stderr)
            assert done.stdout == ""
            lines = done.stderr.strip().splitlines()
            assert len(lines) == 1, done.stderr
            assert lines[0].startswith(f"Error: database {populated} is read-only"), lines[0]
            assert digest(populated) == before, args
        # a read-only database can still be read
        listed = run_factdb(populated, "claim", "list", "--format", "jsonl")
        assert listed.returncode == 0, listed.stderr
        assert "Contacts continue." in listed.stdout
        assert digest(populated) == before


# --- missing file ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [*WRITES, *READS, ["db", "current"], ["db", "check"], ["db", "downgrade", "base"]],
    ids=lambda a: " ".join(a[:2]),
)
def test_missing_file_is_not_created(tmp_path: Path, args: list[str]) -> None:
    db = tmp_path / "nowhere.db"
    one_error(invoke(db, *args), f"no database at {db}", f"'factdb --db {db} init'")
    assert list(tmp_path.iterdir()) == []


def test_init_creates_the_missing_file(tmp_path: Path) -> None:
    db = tmp_path / "sub" / "new.db"
    result = invoke(db, "init")
    assert result.exit_code == 0, result.output
    assert "created database" in result.stderr
    assert invoke(db, "speaker", "list").exit_code == 0


# --- the same gate on PostgreSQL -----------------------------------------------------------------


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database (dropped afterwards)."""
    from conftest import PG_ENV, create_pg_database, drop_pg_database

    if not os.environ.get(PG_ENV):
        pytest.skip(f"PostgreSQL tests need {PG_ENV}")
    url = create_pg_database()
    yield url
    drop_pg_database(url)


def pg_invoke(url: str, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--db", url, *args], catch_exceptions=True)


def test_postgresql_without_schema_then_ahead(pg_url: str) -> None:
    for args in [*WRITES, *READS]:
        one_error(pg_invoke(pg_url, *args), "no factdb schema", f"'factdb --db {pg_url} init'")
    assert pg_invoke(pg_url, "init").exit_code == 0
    engine = make_engine(pg_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    engine.dispose()
    for args in [*WRITES, *READS, ["init"], ["db", "upgrade"]]:
        one_error(pg_invoke(pg_url, *args), "9999_from_the_future", "newer factdb")
    engine = make_engine(pg_url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM speakers").scalar() == 0
    engine.dispose()


def test_postgresql_server_unreachable() -> None:
    # port 1 on localhost: nothing listens there
    url = "postgresql+psycopg://postgres@127.0.0.1:1/factdb"
    for args in (["speaker", "list"], ["init"]):
        one_error(pg_invoke(url, *args), "connection")
