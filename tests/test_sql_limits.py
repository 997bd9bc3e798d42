"""``factdb sql`` is bounded: in time (the whole command), in result size, in memory.

And on PostgreSQL, functions that act outside the transaction are refused, and the query can
run as a restricted role that could not call them anyway (docs/postgres.md).
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text

from factdb.db import make_engine
from factdb.pgfunctions import called_functions


def one_error(result, code: int = 1) -> str:  # type: ignore[no-untyped-def]
    """The single ``Error:`` line of a failed command."""
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


ROWS = (
    "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < {n}) SELECT i FROM r"
)


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "-inf", "1e9", "abc", ""])
def test_timeout_must_be_finite_and_positive(run_sqlite, value: str) -> None:
    line = one_error(run_sqlite("sql", "--timeout", value, "SELECT 1"), code=2)
    assert "--timeout" in line or "seconds" in line


def test_a_small_timeout_that_is_valid_works(run_sqlite) -> None:
    result = run_sqlite("sql", "--timeout", "0.5", "--format", "csv", "SELECT 1 AS one")
    assert result.exit_code == 0 and result.stdout == "one\n1\n"


def test_the_time_limit_covers_fetching_all_rows(run) -> None:
    """Each row is cheap; two million of them are not: the limit is for the whole command."""
    line = one_error(run("sql", "--timeout", "0.2", "--max-rows", "9999999", ROWS.format(n=2e6)))
    assert "time limit of 0.2 s" in line


@pytest.mark.parametrize(
    "query",
    [
        "SELECT randomblob(1000000000)",
        "SELECT zeroblob(1000000000)",
        "SELECT length(zeroblob(1000000000))",
        "SELECT hex(zeroblob(50000000))",
        "SELECT group_concat(hex(zeroblob(1000000))) FROM (" + ROWS.format(n=100) + ")",
    ],
)
def test_sqlite_single_huge_values_fail_at_once(run_sqlite, query: str) -> None:
    """SQLite's length limit is --max-bytes: no progress handler sees a single built-in call."""
    line = one_error(run_sqlite("sql", "--timeout", "30", query))
    assert "larger than the limit of 64 MiB" in line


@pytest.mark.parametrize(
    "query",
    [
        # half a minute inside one printf() call, which no progress handler interrupts
        "SELECT printf('%.*c', 1e9, 'x')",
        # instr() of two long texts that differ only at the end: quadratic, in one call
        "SELECT instr(hex(zeroblob(20000000)), hex(zeroblob(5000000)) || '1')",
    ],
)
def test_sqlite_single_long_calls_stop_at_the_time_limit(
    run_sqlite, sqlite_path: Path, query: str
) -> None:
    files = sorted(p.name for p in sqlite_path.parent.iterdir())
    line = one_error(run_sqlite("sql", "--timeout", "1", query))
    assert "time limit of 1 s" in line
    # the killed reader's -wal/-shm are removed too
    assert sorted(p.name for p in sqlite_path.parent.iterdir()) == files


def test_result_size_caps(run) -> None:
    assert run("sql", "--max-rows", "10", "--format", "csv", ROWS.format(n=10)).exit_code == 0
    line = one_error(run("sql", "--max-rows", "10", ROWS.format(n=11)))
    assert "more than 10 rows" in line and "--max-rows" in line
    line = one_error(run("sql", "--max-bytes", "1000", ROWS.format(n=1000)))
    assert "larger than the limit of 1,000 bytes" in line and "--max-bytes" in line
    big = (
        "SELECT 'x' || repeat('y', 3000000)"
        if run.db.startswith("postgresql")
        else ("SELECT 'x' || hex(zeroblob(1500000))")
    )
    line = one_error(run("sql", "--max-bytes", "2000000", big))
    assert "larger than the limit" in line


def test_postgres_huge_value_is_stopped_on_the_server(run) -> None:
    """repeat() builds 200 MB on the server; the size check refuses it before it is sent."""
    if not run.db.startswith("postgresql"):
        pytest.skip("PostgreSQL's repeat(); SQLite's equivalents are above")
    line = one_error(run("sql", "--timeout", "60", "SELECT repeat('x', 200000000) AS big"))
    assert "larger than the limit of 64 MiB" in line


def test_out_of_memory_is_one_error_line(sqlite_path: Path) -> None:
    """A process with little address space and a query within the caps: one Error line."""
    code = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (300 << 20, 300 << 20))\n"
        "from factdb.cli import main\n"
        f"sys.argv = ['factdb', '--db', {str(sqlite_path)!r}, 'sql', '--max-bytes', '900000000',"
        " '--format', 'csv', 'SELECT zeroblob(150000000) AS a, zeroblob(150000000) AS b']\n"
        "main()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 1, done.stderr
    assert done.stderr.strip().splitlines() == [
        "Error: out of memory while running the query (add a LIMIT or lower --max-bytes)"
    ]


# --- PostgreSQL: functions that act outside the transaction -----------------------------------

DENIED = [
    "SELECT pg_reload_conf()",
    "SELECT pg_switch_wal()",
    "SELECT pg_stat_reset()",
    "SELECT pg_stat_reset_shared('bgwriter')",
    "SELECT pg_terminate_backend(pg_backend_pid())",
    "SELECT pg_cancel_backend(1)",
    "SELECT pg_rotate_logfile()",
    "SELECT set_config('statement_timeout', '0', false)",
    "SELECT set_config('role', 'postgres', true)",
    "SELECT nextval('tags_id_seq')",
    "SELECT setval('tags_id_seq', 1)",
    "SELECT pg_advisory_lock(1)",
    "SELECT pg_try_advisory_xact_lock(1)",
    "SELECT pg_notify('channel', 'hello')",
    "SELECT lo_import('/etc/passwd')",
    "SELECT lo_export(1, '/tmp/x')",
    "SELECT lo_create(0)",
    "SELECT pg_read_file('/etc/passwd')",
    "SELECT pg_read_binary_file('/etc/passwd')",
    "SELECT pg_ls_dir('.')",
    "SELECT dblink_exec('dbname=postgres', 'DROP TABLE x')",
    "SELECT query_to_xml('SELECT pg_reload_conf()', true, true, '')",
    "SELECT * FROM ts_stat('SELECT pg_reload_conf()')",
    # spellings that must not slip through
    'SELECT "pg_reload_conf"()',
    "SELECT pg_catalog.pg_reload_conf()",
    'SELECT pg_catalog . "pg_reload_conf" ( )',
    "SELECT PG_RELOAD_CONF()",
    "SELECT pg_reload_conf/* a comment */()",
    "SELECT pg_reload_conf -- a comment\n()",
    'SELECT U&"pg\\005freload_conf"()',
    "SELECT count(*) FROM statements WHERE pg_reload_conf()",
]


@pytest.mark.parametrize(
    "query, names",
    [
        ("SELECT 'pg_reload_conf()'", set()),
        ("SELECT $$pg_reload_conf()$$, E'set_config(' AS x", set()),
        ('SELECT "set_config" FROM t', set()),
        ("SELECT lower(text) FROM statements", {"lower"}),
        ('SELECT pg_catalog."Lower"(x)', {"lower"}),
        ("SELECT count(*) OVER (PARTITION BY a) FROM t", {"count", "over"}),
    ],
)
def test_called_functions(query: str, names: set[str]) -> None:
    assert called_functions(query) == names


@given(st.text())
def test_text_in_a_string_or_comment_is_never_a_call(inside: str) -> None:
    quoted = "'" + inside.replace("'", "''") + "'"
    assert called_functions(f"SELECT {quoted} AS x") == set()
    comment = inside.replace("*", "").replace("/", "")  # nothing that ends or nests it
    assert called_functions(f"SELECT 1 /* {comment} */") == set()


@given(
    st.sampled_from(["pg_reload_conf", "set_config", "lo_import", "dblink_exec"]),
    st.sampled_from(["", " ", "\n", "/* c */", "--c\n"]),
    st.sampled_from(["", "pg_catalog.", "pg_catalog . ", '"pg_catalog".']),
    st.booleans(),
)
def test_a_denied_call_is_found_however_spelt(name, gap, schema, quoted) -> None:  # type: ignore[no-untyped-def]
    from factdb.pgfunctions import refuse_denied_functions
    from factdb.sqlguard import SqlRefused

    spelt = f'"{name}"' if quoted else name.upper()
    with pytest.raises(SqlRefused):
        refuse_denied_functions(f"SELECT {schema}{spelt}{gap}('x')")


def test_called_functions_refuses_uescape() -> None:
    from factdb.sqlguard import SqlRefused

    with pytest.raises(SqlRefused):
        called_functions("SELECT U&\"pg!005freload_conf\" UESCAPE '!' ()")


def test_postgres_functions_outside_the_transaction_are_refused(pg_url: str) -> None:
    from conftest import FactdbRunner

    run = FactdbRunner(pg_url)
    for query in DENIED:
        line = one_error(run("sql", "--", query))
        assert "is not allowed" in line, (query, line)
    # names inside strings are data, not calls
    result = run("sql", "--format", "csv", "SELECT 'pg_reload_conf()' AS text")
    assert result.exit_code == 0 and result.stdout == "text\npg_reload_conf()\n"


# --- PostgreSQL: a restricted role -------------------------------------------------------------


@pytest.fixture
def reader_role(pg_url: str) -> Iterator[str]:
    """The role docs/postgres.md tells a desk to create (a per-test name: roles are global)."""
    role = f"factdb_reader_{uuid.uuid4().hex[:8]}"
    engine = make_engine(pg_url)
    with engine.begin() as conn:
        user = conn.execute(text("SELECT current_user")).scalar_one()
        for statement in (
            f"CREATE ROLE {role} NOLOGIN",
            f"GRANT USAGE ON SCHEMA public TO {role}",
            f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}",
            f"GRANT {role} TO {user}",
        ):
            conn.execute(text(statement))
    try:
        yield role
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP OWNED BY {role}"))
            conn.execute(text(f"DROP ROLE {role}"))
        engine.dispose()


def test_sql_runs_as_the_restricted_role(pg_url: str, reader_role: str) -> None:
    from conftest import FactdbRunner

    run = FactdbRunner(pg_url)
    result = run("sql", "--role", reader_role, "--format", "csv", "SELECT current_user AS u")
    assert result.stdout == f"u\n{reader_role}\n", result.stderr
    result = run("sql", "--role", reader_role, "SELECT count(*) FROM claim_overview")
    assert result.exit_code == 0, result.stderr
    # what only a superuser may read
    line = one_error(run("sql", "--role", reader_role, "SELECT count(*) FROM pg_authid"))
    assert "permission denied" in line
    # the environment variable does the same
    os.environ["FACTDB_SQL_ROLE"] = reader_role
    try:
        result = run("sql", "--format", "csv", "SELECT current_user AS u")
    finally:
        del os.environ["FACTDB_SQL_ROLE"]
    assert result.stdout == f"u\n{reader_role}\n"
    line = one_error(run("sql", "--role", "no_such_role_here", "SELECT 1"))
    assert "no_such_role_here" in line


def test_the_role_alone_cannot_act_outside_the_transaction(pg_url: str, reader_role: str) -> None:
    """Without factdb's own refusal: the role set up as documented is refused by the server."""
    engine = make_engine(pg_url)
    try:
        for call in (
            "pg_reload_conf()",
            "pg_switch_wal()",
            "pg_stat_reset()",
            "pg_rotate_logfile()",
            "pg_terminate_backend(pg_backend_pid())",
            "pg_read_file('/etc/passwd')",
            "lo_import('/etc/passwd')",
            "setval('tags_id_seq', 1)",
        ):
            with engine.connect() as conn:
                conn.execute(text(f"SET ROLE {reader_role}"))
                with pytest.raises(Exception, match="permission denied|must be a superuser"):
                    conn.execute(text(f"SELECT {call}"))
    finally:
        engine.dispose()


def test_role_is_for_postgres_only(run_sqlite) -> None:
    line = one_error(run_sqlite("sql", "--role", "reader", "SELECT 1"), code=2)
    assert "PostgreSQL" in line
