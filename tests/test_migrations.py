"""Migrations: pytest-alembic's built-in tests, the plain Alembic CLI, and ``init``/``db …``.

The four built-in tests (single head, upgrade, model definitions match DDL, up/down
consistency) run against a file-backed SQLite database made with factdb's own engine settings
(foreign keys on, WAL), and against a fresh PostgreSQL database per test when
``FACTDB_TEST_POSTGRES_URL`` is set (dropped afterwards). pytest-alembic's ``alembic_config``
and ``alembic_engine`` fixtures are overridden here, in this module, so they cannot clash with
the fixtures of ``tests/conftest.py``.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from click.testing import CliRunner, Result
from conftest import PG_ENV, create_pg_database, drop_pg_database
from pytest_alembic import tests as builtin
from pytest_alembic.config import Config as PytestAlembicConfig
from sqlalchemy.engine import Engine

from factdb import migrate
from factdb.cli import cli
from factdb.db import make_engine
from factdb.schema_version import HEAD_REVISION, KNOWN_REVISIONS

ROOT = Path(__file__).resolve().parent.parent


# --- pytest-alembic ------------------------------------------------------------------------------


@pytest.fixture
def alembic_config() -> PytestAlembicConfig:
    """factdb's migrations, wherever pytest was started from."""
    return PytestAlembicConfig.from_raw_config(
        {"file": str(ROOT / "alembic.ini"), "script_location": str(migrate.migrations_dir())}
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def alembic_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database on each backend: a real SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'alembic.db'}")
        yield engine
        engine.dispose()
        return
    if not os.environ.get(PG_ENV):
        pytest.skip(f"PostgreSQL migration tests need {PG_ENV}")
    url = create_pg_database()
    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()
        drop_pg_database(url)


def test_single_head_revision(alembic_runner) -> None:  # type: ignore[no-untyped-def]
    builtin.test_single_head_revision(alembic_runner)


def test_upgrade(alembic_runner) -> None:  # type: ignore[no-untyped-def]
    builtin.test_upgrade(alembic_runner)


def test_model_definitions_match_ddl(alembic_runner) -> None:  # type: ignore[no-untyped-def]
    builtin.test_model_definitions_match_ddl(alembic_runner)


def test_up_down_consistency(alembic_runner) -> None:  # type: ignore[no-untyped-def]
    builtin.test_up_down_consistency(alembic_runner)


# --- the constants ordinary commands check against -------------------------------------------


def test_schema_version_constants_match_alembic() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config())
    assert script.get_heads() == [HEAD_REVISION]
    assert migrate.head_revision() == HEAD_REVISION
    assert {rev.revision for rev in script.walk_revisions()} == set(KNOWN_REVISIONS)


# --- the plain Alembic CLI from the repository root ------------------------------------------


def alembic(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ``alembic ARGS`` as a user would, from the repository root."""
    return subprocess.run(
        [sys.executable, "-m", "alembic", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "FACTDB_DATABASE": "/nonexistent/never-used.db"},
    )


def test_plain_alembic_upgrade_and_check_on_sqlite(tmp_path: Path) -> None:
    db = tmp_path / "plain.db"
    upgraded = alembic("-x", f"db={db}", "upgrade", "head")
    assert upgraded.returncode == 0, upgraded.stderr
    checked = alembic("-x", f"db={db}", "check")
    assert checked.returncode == 0, checked.stderr + checked.stdout
    assert "No new upgrade operations detected" in checked.stdout + checked.stderr
    current = alembic("-x", f"db={db}", "current")
    assert HEAD_REVISION in current.stdout
    # and factdb accepts what Alembic made
    listed = CliRunner().invoke(cli, ["--db", str(db), "claim", "list"])
    assert listed.exit_code == 0, listed.output


def test_plain_alembic_upgrade_and_check_on_postgresql() -> None:
    if not os.environ.get(PG_ENV):
        pytest.skip(f"PostgreSQL migration tests need {PG_ENV}")
    url = create_pg_database()
    try:
        upgraded = alembic("-x", f"db={url}", "upgrade", "head")
        assert upgraded.returncode == 0, upgraded.stderr
        checked = alembic("-x", f"db={url}", "check")
        assert checked.returncode == 0, checked.stderr + checked.stdout
    finally:
        drop_pg_database(url)


# --- init and db … through the factdb CLI ----------------------------------------------------


def factdb(db: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--db", str(db), *args], catch_exceptions=False)


def revision_in(db: Path) -> str | None:
    conn = sqlite3.connect(db)
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        return row[0] if row else None
    finally:
        conn.close()


def test_init_creates_then_is_idempotent(tmp_path: Path) -> None:
    db = tmp_path / "deep" / "er" / "factdb.db"
    first = factdb(db, "init")
    assert first.exit_code == 0, first.output
    assert f"created database sqlite:///{db} (revision {HEAD_REVISION})" in first.stderr
    assert revision_in(db) == HEAD_REVISION
    second = factdb(db, "init")
    assert second.exit_code == 0
    assert "up to date" in second.stderr


def test_db_commands(tmp_path: Path) -> None:
    db = tmp_path / "factdb.db"
    assert factdb(db, "init").exit_code == 0
    current = factdb(db, "db", "current")
    assert current.exit_code == 0 and current.stdout.strip() == f"{HEAD_REVISION} (head)"

    history = factdb(db, "db", "history")
    revisions = [line.split()[2] for line in history.stdout.splitlines()]
    assert set(revisions) == set(KNOWN_REVISIONS) and revisions[-1] == HEAD_REVISION
    assert history.stdout.splitlines()[0].startswith("base -> ")

    checked = factdb(db, "db", "check")
    assert checked.exit_code == 0 and checked.stdout.startswith("ok: schema at")

    down = factdb(db, "db", "downgrade", "base")
    assert down.exit_code == 0, down.output
    assert f"from {HEAD_REVISION} to base" in down.stderr
    assert revision_in(db) is None
    assert factdb(db, "db", "current").stdout.strip() == "base (empty)"
    refused = CliRunner().invoke(cli, ["--db", str(db), "db", "check"])
    assert refused.exit_code == 1 and f"'factdb --db {db} init'" in refused.stderr

    up = factdb(db, "db", "upgrade")
    assert up.exit_code == 0, up.output
    assert revision_in(db) == HEAD_REVISION
    assert factdb(db, "db", "check").exit_code == 0


def test_db_downgrade_one_step_and_back(tmp_path: Path) -> None:
    db = tmp_path / "factdb.db"
    assert factdb(db, "init").exit_code == 0
    revisions = [rev for rev, _down, _msg in migrate.history()]
    previous = revisions[-2] if len(revisions) > 1 else None
    down = factdb(db, "db", "downgrade")  # default: one step back
    assert down.exit_code == 0, down.output
    assert revision_in(db) == previous
    state = factdb(db, "db", "current").stdout.strip()
    assert state == (f"{previous} (behind head {HEAD_REVISION})" if previous else "base (empty)")
    up = factdb(db, "db", "upgrade")
    assert up.exit_code == 0
    assert f"to {HEAD_REVISION}" in up.stderr
    assert revision_in(db) == HEAD_REVISION


def test_db_downgrade_to_an_unknown_revision_is_one_line(tmp_path: Path) -> None:
    db = tmp_path / "factdb.db"
    assert factdb(db, "init").exit_code == 0
    before = db.read_bytes()
    result = CliRunner().invoke(cli, ["--db", str(db), "db", "downgrade", "nonsense"])
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "nonsense" in lines[0]
    assert db.read_bytes() == before


# --- SQLite table rebuilds run without foreign-key enforcement, and are checked ----------------


def test_sqlite_migration_leaving_dangling_references_is_refused(run_sqlite, sqlite_path) -> None:
    """Migrations run with foreign keys off on SQLite (a table rebuild would cascade
    otherwise); PRAGMA foreign_key_check then refuses a result with broken references, and
    the database stays at its revision."""
    assert run_sqlite("seed").exit_code == 0
    with sqlite3.connect(sqlite_path) as conn:  # foreign keys are off on a plain connection
        conn.execute(
            "INSERT INTO attributions (statement_id, source_id, role, position) "
            "VALUES (9999, 1, 'reported_by', 1)"
        )
    result = run_sqlite("db", "downgrade", "0004_fts_external_content")
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "Error: schema change refused: 1 row(s) would reference missing rows "
        "(first: attributions row 19 -> statements)"
    ]
    assert run_sqlite("db", "current").output.strip() == f"{HEAD_REVISION} (head)"
