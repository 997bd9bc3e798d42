"""The PostgreSQL test fixtures themselves: unique databases, stale ones cleaned up safely."""

from __future__ import annotations

import time
import uuid

import pytest
from conftest import (
    PG_PREFIX,
    _pg_admin_engine,
    _pg_url_for,
    create_pg_database,
    drop_pg_database,
    drop_stale_pg_databases,
)
from sqlalchemy import text

from factdb.db import make_engine


def _exists(name: str) -> bool:
    admin = _pg_admin_engine()
    with admin.connect() as conn:
        found = conn.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
        ).first()
    admin.dispose()
    return found is not None


def _make(name: str) -> str:
    admin = _pg_admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE template0'))
    admin.dispose()
    return _pg_url_for(name)


def test_stale_databases_are_dropped_unless_recent_or_in_use(pg_template: str) -> None:
    old = int(time.time()) - 7 * 3600
    stale = _make(f"{PG_PREFIX}{old}_{uuid.uuid4().hex[:10]}")
    busy = _make(f"{PG_PREFIX}{old}_{uuid.uuid4().hex[:10]}")
    recent = create_pg_database()
    engine = make_engine(busy)
    try:
        with engine.connect():  # someone is still using this one: it stays
            dropped = drop_stale_pg_databases()
        names = [url.rsplit("/", 1)[1] for url in (stale, busy, recent)]
        assert names[0] in dropped and not _exists(names[0])
        assert names[1] not in dropped and _exists(names[1])
        assert names[2] not in dropped and _exists(names[2])
    finally:
        engine.dispose()
        for url in (stale, busy, recent):
            drop_pg_database(url)


@pytest.mark.parametrize("round_", [1, 2])
def test_each_test_gets_its_own_migrated_database(pg_url: str, round_: int) -> None:
    engine = make_engine(pg_url)
    with engine.begin() as conn:
        # nothing from the other round is here: the table starts empty every time
        assert conn.execute(text("SELECT COUNT(*) FROM tags")).scalar_one() == 0
        conn.execute(text("INSERT INTO tags (name) VALUES ('left behind')"))
        assert conn.execute(text("SELECT current_database()")).scalar_one().startswith(PG_PREFIX)
    engine.dispose()
