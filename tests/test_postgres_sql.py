"""``factdb sql`` is read-only on PostgreSQL too, for writes hidden inside reading statements.

tests/test_sql.py runs the main matrix of hostile queries on both backends; these are the
PostgreSQL forms that start with a reading keyword yet would write (a data-modifying CTE under
a SELECT, EXPLAIN ANALYZE of a DELETE, sequence and large-object functions). Each is refused or
leaves nothing behind. Skipped without FACTDB_TEST_POSTGRES_URL.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import FactdbRunner
from sqlalchemy import text

from factdb.db import make_engine

REFUSED = [
    "WITH gone AS (DELETE FROM status_events RETURNING *) SELECT count(*) FROM gone",
    "WITH added AS (INSERT INTO tags (name) VALUES ('x') RETURNING id) SELECT * FROM added",
    "EXPLAIN ANALYZE DELETE FROM status_events",
    "EXPLAIN (ANALYZE) UPDATE statements SET current_status = NULL",
    "SELECT setval('tags_id_seq', 1000)",
    "SELECT nextval('statements_id_seq')",
    "SELECT factdb_nonexistent_function()",
    "SELECT lo_create(0)",
    "SELECT set_config('search_path', 'nowhere', false)",
    "SELECT pg_advisory_lock(42)",
]
# allowed to run (they only read or act on the session), but nothing may outlive the query
HARMLESS = [
    "SELECT count(*) FROM claim_overview",
    "SELECT pg_column_size(text) FROM statements LIMIT 1",
]


def _state(url: str) -> list:
    engine = make_engine(url)
    with engine.connect() as conn:
        state = [
            conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in ("statements", "status_events", "tags", "statements_fts")
        ] + [
            conn.execute(text("SELECT count(*) FROM pg_largeobject_metadata")).scalar_one(),
            conn.execute(text("SELECT last_value FROM tags_id_seq")).scalar_one(),
            # this database's only: other test runs share the server
            conn.execute(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = "
                    "(SELECT oid FROM pg_database WHERE datname = current_database())"
                )
            ).all(),
        ]
    engine.dispose()
    return state


@pytest.fixture
def seeded_pg(pg_url: str) -> Iterator[str]:
    result = FactdbRunner(pg_url)("seed")
    assert result.exit_code == 0, result.stderr
    yield pg_url


def test_hidden_writes_are_refused_and_nothing_changes(seeded_pg: str) -> None:
    run = FactdbRunner(seeded_pg)
    before = _state(seeded_pg)
    assert before[0] > 0 and before[1] > 0
    for query in REFUSED:
        result = run("sql", "--", query)
        assert result.exit_code == 1, (query, result.stdout)
        assert result.stderr.startswith("Error: ") and result.stdout == "", query
        assert _state(seeded_pg) == before, query
    for query in HARMLESS:
        result = run("sql", "--format", "csv", "--", query)
        assert result.exit_code == 0, (query, result.stderr)
        assert _state(seeded_pg) == before, query
