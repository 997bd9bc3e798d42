"""Shared fixtures: real databases on both backends, migrated once and copied per test.

SQLite tests get a fresh file copied from a template migrated once per run. PostgreSQL tests
read an admin URL from ``FACTDB_TEST_POSTGRES_URL`` (e.g.
``postgresql+psycopg://postgres@127.0.0.1/postgres``); each test gets its own database created
from a per-run template and dropped afterwards, so parallel or repeated runs never collide.
Without that variable the PostgreSQL half is skipped with a clear reason.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

from factdb.cli import cli
from factdb.db import make_engine
from factdb.migrate import upgrade

PG_ENV = "FACTDB_TEST_POSTGRES_URL"
BACKENDS = ["sqlite", "postgresql"]


def _pg_admin_url() -> str | None:
    return os.environ.get(PG_ENV) or None


def _pg_admin_engine() -> Engine:
    return create_engine(_pg_admin_url(), isolation_level="AUTOCOMMIT")  # type: ignore[arg-type]


def _pg_url_for(database: str) -> str:
    return make_url(_pg_admin_url()).set(database=database).render_as_string(hide_password=False)  # type: ignore[arg-type]


def create_pg_database(template: str | None = None) -> str:
    """Create a uniquely named PostgreSQL database (optionally from a template); return its URL."""
    name = f"factdb_test_{uuid.uuid4().hex[:12]}"
    admin = _pg_admin_engine()
    with admin.connect() as conn:
        suffix = f" TEMPLATE {template}" if template else ""
        conn.execute(text(f'CREATE DATABASE "{name}"{suffix}'))
    admin.dispose()
    return _pg_url_for(name)


def drop_pg_database(url: str) -> None:
    """Drop a database made by create_pg_database, ending any session still connected."""
    name = make_url(url).database
    admin = _pg_admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once per run."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A PostgreSQL database migrated to head once per run, used as a template."""
    if not _pg_admin_url():
        pytest.skip(
            f"PostgreSQL tests need {PG_ENV} (e.g. postgresql+psycopg://postgres@127.0.0.1/postgres)"
        )
    url = create_pg_database()
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    drop_pg_database(url)


@pytest.fixture
def sqlite_path(tmp_path: Path, sqlite_template: Path) -> Path:
    """A fresh, migrated SQLite database file for one test."""
    path = tmp_path / "factdb.db"
    shutil.copyfile(sqlite_template, path)
    return path


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    """A fresh, migrated database URL for one test, on each backend in turn."""
    if request.param == "sqlite":
        path = tmp_path / "factdb.db"
        shutil.copyfile(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    template = request.getfixturevalue("pg_template")
    url = create_pg_database(template=make_url(template).database)
    yield url
    drop_pg_database(url)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on the test's fresh database."""
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session on the fresh database; the test decides whether to commit."""
    with Session(engine, expire_on_commit=False) as s:
        yield s


class FactdbRunner:
    """Runs the real CLI in-process against one database with click's CliRunner."""

    def __init__(self, db: str) -> None:
        self.db = db
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None) -> Result:
        return self.runner.invoke(
            cli, ["--db", self.db, *args], input=input, catch_exceptions=False
        )


@pytest.fixture
def run(db_url: str) -> FactdbRunner:
    """CLI runner on a fresh migrated database (each backend)."""
    return FactdbRunner(db_url)


@pytest.fixture
def run_sqlite(sqlite_path: Path) -> FactdbRunner:
    """CLI runner on a fresh migrated SQLite file (for byte-for-byte checks)."""
    return FactdbRunner(str(sqlite_path))
