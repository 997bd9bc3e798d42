"""Shared fixtures: real databases on both backends, migrated once and copied per test.

SQLite tests get a fresh file copied from a template migrated once per run. PostgreSQL tests
read an admin URL from ``FACTDB_TEST_POSTGRES_URL`` (e.g.
``postgresql+psycopg://postgres@127.0.0.1/postgres``); each test gets its own database created
from a per-run template and dropped afterwards, so parallel or repeated runs never collide.
Without that variable the PostgreSQL half is skipped with a clear reason.
"""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, settings
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from factdb.cli import cli
from factdb.db import make_engine
from factdb.migrate import upgrade

# Hypothesis profiles. "ci" (chosen when CI is set; .ci/run sets CI=true) is deterministic:
# the same examples on every run (derandomize), no example database, no deadline or speed
# health check (a busy shared machine must not fail a test by its timing), and a failure
# prints the blob that replays it. "dev" (every other run) keeps exploring new random
# examples and replays the failures it saved in .hypothesis/. A failure found either way is
# then kept as an explicit @example in its test (see tests/test_fuzz_cli.py).
# HYPOTHESIS_PROFILE=ci|dev chooses explicitly.
_UNTIMED = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
settings.register_profile("ci", derandomize=True, database=None, print_blob=True, **_UNTIMED)
settings.register_profile("dev", print_blob=True, **_UNTIMED)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
)

PG_ENV = "FACTDB_TEST_POSTGRES_URL"
PG_PREFIX = "factdb_test_"
# a database of a killed run older than this is dropped when the next run starts
PG_STALE_HOURS = 6.0
BACKENDS = ["sqlite", "postgresql"]


def _pg_admin_url() -> str | None:
    return os.environ.get(PG_ENV) or None


def _pg_admin_engine() -> Engine:
    # NullPool: every admin connection is really closed when its block ends, so none lingers
    # on a database that is about to be used as a template or dropped
    return create_engine(_pg_admin_url(), isolation_level="AUTOCOMMIT", poolclass=NullPool)  # type: ignore[arg-type]


def _pg_url_for(database: str) -> str:
    return make_url(_pg_admin_url()).set(database=database).render_as_string(hide_password=False)  # type: ignore[arg-type]


def create_pg_database(template: str | None = None) -> str:
    """Create a uniquely named PostgreSQL database (optionally from a template); return its URL.

    The name carries its creation time (``factdb_test_<unix time>_<random>``) so that databases
    left behind by a killed run can be recognised as stale and dropped by a later run.
    PostgreSQL refuses to copy a template that has a session open on it (it waits up to 5 s
    for sessions to end first); nothing in these fixtures keeps one open.
    """
    name = f"{PG_PREFIX}{int(time.time())}_{uuid.uuid4().hex[:10]}"
    # without a template, copy template0: template1 may have someone connected to it
    source = template or "template0"
    admin = _pg_admin_engine()
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{source}"'))
    finally:
        admin.dispose()
    return _pg_url_for(name)


def drop_pg_database(url: str) -> None:
    """Drop a database made by create_pg_database, ending any session still connected."""
    name = make_url(url).database
    admin = _pg_admin_engine()
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def drop_stale_pg_databases(max_age_hours: float = PG_STALE_HOURS) -> list[str]:
    """Drop test databases left by runs that were killed more than ``max_age_hours`` ago.

    Only names made by create_pg_database are considered, only when their embedded creation
    time is old enough, and only when nobody is connected (no FORCE): a long run still using
    its databases keeps them. Returns the names dropped.
    """
    cutoff = time.time() - max_age_hours * 3600
    admin = _pg_admin_engine()
    dropped = []
    try:
        with admin.connect() as conn:
            names = conn.execute(
                # a database someone is connected to is skipped here rather than waited for
                # (DROP DATABASE waits 5 s for sessions to end before it gives up)
                text(
                    "SELECT datname FROM pg_database d WHERE datname LIKE :p AND NOT EXISTS "
                    "(SELECT 1 FROM pg_stat_activity a WHERE a.datname = d.datname)"
                ),
                {"p": PG_PREFIX.replace("_", r"\_") + "%"},
            ).scalars()
            for name in list(names):
                stamp = name[len(PG_PREFIX) :].split("_", 1)[0]
                if not stamp.isdigit() or int(stamp) > cutoff:
                    continue
                try:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
                    dropped.append(name)
                except DBAPIError:  # in use (or already being dropped): leave it
                    pass
    finally:
        admin.dispose()
    return dropped


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once per run."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    # fold the WAL into the main file outside any transaction (the write engine's BEGIN
    # IMMEDIATE would make the checkpoint fail), so that copying the one file is enough
    import sqlite3

    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return path


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A PostgreSQL database migrated to head once per run, used as a template."""
    if not _pg_admin_url():
        pytest.skip(
            f"PostgreSQL tests need {PG_ENV} (e.g. postgresql+psycopg://postgres@127.0.0.1/postgres)"
        )
    drop_stale_pg_databases()
    url = create_pg_database()
    try:
        engine = make_engine(url)
        try:
            upgrade(engine)
        finally:
            # closes the pooled connection: CREATE DATABASE ... TEMPLATE needs it gone
            engine.dispose()
        yield url
    finally:
        drop_pg_database(url)


class PgDatabases:
    """Copies of the run's template made ahead of need and dropped behind the tests.

    CREATE DATABASE and DROP DATABASE (which waits for a checkpoint) cost from a few hundred
    milliseconds to seconds on a busy server. A background thread creates databases while
    tests run, so a test usually finds its database ready; drops run in a few threads at once
    (concurrent drops share one checkpoint) and never hold up the next test. Each test still
    gets a database nobody else has used.
    """

    def __init__(self, template_url: str, ahead: int = 2) -> None:
        self.template = make_url(template_url).database
        self.ready: queue.Queue[str] = queue.Queue()
        self.jobs: queue.Queue[str] = queue.Queue()
        self.thread = threading.Thread(target=self._work, name="pg-databases", daemon=True)
        self.thread.start()
        self.dropper = ThreadPoolExecutor(max_workers=8, thread_name_prefix="pg-drop")
        for _ in range(ahead):
            self.jobs.put("create")

    def _work(self) -> None:
        while True:
            if self.jobs.get() == "stop":
                return
            # on failure take() creates in the foreground, where the error is reported
            with contextlib.suppress(Exception):
                self.ready.put(create_pg_database(template=self.template))

    def take(self) -> str:
        """A fresh database's URL (made now if none is ready)."""
        try:
            url = self.ready.get_nowait()
        except queue.Empty:
            return create_pg_database(template=self.template)
        self.jobs.put("create")  # replace the one taken
        return url

    def give_back(self, url: str) -> None:
        """Drop ``url`` in the background."""
        self.dropper.submit(drop_pg_database, url)

    def close(self) -> None:
        """Finish pending drops, then drop the databases made ahead and never used."""
        self.jobs.put("stop")
        self.thread.join()
        while not self.ready.empty():
            self.dropper.submit(drop_pg_database, self.ready.get_nowait())
        self.dropper.shutdown(wait=True)


@pytest.fixture(scope="session")
def pg_databases(pg_template: str) -> Iterator[PgDatabases]:
    """The run's supply of fresh PostgreSQL databases (see PgDatabases)."""
    databases = PgDatabases(pg_template)
    try:
        yield databases
    finally:
        databases.close()


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
    yield request.getfixturevalue("pg_url")


@pytest.fixture
def pg_url(pg_databases: PgDatabases) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for one test (skipped without the variable)."""
    url = pg_databases.take()
    try:
        yield url
    finally:
        pg_databases.give_back(url)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on the test's fresh database."""
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def second_engine(db_url: str, tmp_path: Path, sqlite_template: Path, request) -> Iterator[Engine]:  # type: ignore[no-untyped-def]
    """Another empty database on the same backend as ``engine``."""
    if db_url.startswith("sqlite"):
        path = tmp_path / "second.db"
        shutil.copyfile(sqlite_template, path)
        eng = make_engine(f"sqlite:///{path}")
        yield eng
        eng.dispose()
        return
    databases = request.getfixturevalue("pg_databases")
    url = databases.take()
    eng = make_engine(url)
    try:
        yield eng
    finally:
        eng.dispose()
        databases.give_back(url)


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


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Skipped tests summarised by reason, one line each (the PostgreSQL half is one line).

    pytest's own ``-rs`` summary prints a line per test location, which without a PostgreSQL
    server means a couple of hundred identical lines; ``addopts`` leaves skips out of it.
    """
    reasons: dict[str, int] = {}
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        reason = reason.removeprefix("Skipped: ")
        reasons[reason] = reasons.get(reason, 0) + 1
    if not reasons:
        return
    terminalreporter.section("skipped tests, by reason", sep="-")
    for reason, count in sorted(reasons.items(), key=lambda item: -item[1]):
        terminalreporter.line(f"SKIPPED {count}: {reason}")
