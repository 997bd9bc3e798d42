"""``factdb sql`` is read-only whatever the query says; ``factdb schema`` describes everything.

Every hostile query must be refused with one line on stderr and exit 1, leave the database
file byte-for-byte unchanged and create no file beside it.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from factdb.db import make_engine
from factdb.sqlguard import (
    SCHEMA_DOCS,
    SqlRefused,
    open_sqlite_readonly,
    single_statement,
)

LOOP = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"

# hostile inputs for either backend ({dir} is the database's directory)
HOSTILE = [
    "DELETE FROM statuses",
    "delete from statuses where 1",
    "INSERT INTO tags (name) VALUES ('x')",
    "REPLACE INTO tags (name) VALUES ('x')",
    "UPDATE statuses SET label = 'x'",
    "DROP TABLE verdicts",
    "DROP VIEW claim_overview",
    "CREATE TABLE evil (x INTEGER)",
    "CREATE INDEX ix_evil ON statuses (label)",
    "ALTER TABLE statuses ADD COLUMN evil INTEGER",
    "CREATE TEMP TABLE evil (x INTEGER)",
    "CREATE TEMP VIEW evil AS SELECT 1",
    "WITH x AS (SELECT 1) DELETE FROM statuses",
    "WITH x AS (SELECT 1) INSERT INTO tags (name) SELECT 'x' FROM x",
    "WITH x AS (SELECT 1) UPDATE statuses SET label = 'x'",
    "SELECT 1; DELETE FROM statuses",
    "SELECT 1;DELETE FROM statuses;",
    "SELECT 1; -- a comment\nDELETE FROM statuses",
    "SELECT 1 /* ; */ ; DELETE FROM statuses",
    "SELECT '--'; DELETE FROM statuses",
    "SELECT 1 -- harmless?\n; DELETE FROM statuses",
    "/* SELECT 1; */ DELETE FROM statuses",
    "-- SELECT 1\nDELETE FROM statuses",
    "SELECT ';' AS s; DROP TABLE tags",
    "BEGIN",
    "COMMIT",
    "ROLLBACK",
    "SAVEPOINT a",
    "ANALYZE",
    "REINDEX",
    "VACUUM",
    "",
    "   ;  ",
    "-- only a comment",
]
SQLITE_HOSTILE = [
    "ATTACH '{dir}/evil.db' AS evil",
    "ATTACH ':memory:' AS evil",
    "ATTACH DATABASE '{dir}/evil.db' AS evil; CREATE TABLE evil.t (x)",
    "DETACH main",
    "VACUUM INTO '{dir}/copy.db'",
    "PRAGMA query_only = 0",
    "PRAGMA query_only = OFF",
    "PRAGMA writable_schema = 1",
    "PRAGMA writable_schema = ON",
    "PRAGMA journal_mode = DELETE",
    "PRAGMA journal_mode = WAL",
    "PRAGMA user_version = 7",
    "PRAGMA application_id = 7",
    "PRAGMA foreign_keys = OFF",
    "PRAGMA temp_store_directory = '{dir}'",
    "PRAGMA wal_checkpoint(TRUNCATE)",
    "PRAGMA optimize",
    "PRAGMA incremental_vacuum",
    "SELECT load_extension('{dir}/evil')",
    "SELECT load_extension('mod_spatialite')",
    "SELECT fts3_tokenizer('simple')",
    "CREATE VIRTUAL TABLE temp.evil USING fts5(x)",
    "CREATE TRIGGER evil AFTER INSERT ON tags BEGIN DELETE FROM statuses; END",
    LOOP,
]
PG_HOSTILE = [
    "SET TRANSACTION READ WRITE",
    "SELECT set_config('transaction_read_only', 'off', true)",
    "SELECT nextval(pg_get_serial_sequence('tags', 'id'))",
    "SELECT * FROM statuses FOR UPDATE",
    "COPY statuses TO STDOUT",
    "DO $$ BEGIN DELETE FROM statuses; END $$",
    "SELECT $$;$$; DELETE FROM statuses",
    "TRUNCATE statuses",
    "CALL nothing()",
    "SELECT pg_sleep(10)",
    LOOP,
]


def _fingerprint(path: Path) -> tuple[str, list[str]]:
    """The database file's hash and the names of every file in its directory."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return digest, sorted(p.name for p in path.parent.iterdir())


@pytest.mark.parametrize("query", HOSTILE + SQLITE_HOSTILE)
def test_hostile_query_is_refused_and_nothing_changes_sqlite(run_sqlite, sqlite_path, query):
    before = _fingerprint(sqlite_path)
    result = run_sqlite("sql", "--timeout", "0.5", "--", query.format(dir=sqlite_path.parent))
    assert result.exit_code == 1, result.stdout
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "Traceback" not in result.stderr
    assert _fingerprint(sqlite_path) == before


# what the authorizer alone must refuse, with the keyword and one-statement checks bypassed
AUTHORIZER_ONLY = [
    "DELETE FROM statuses",
    "INSERT INTO tags (name) VALUES ('x')",
    "UPDATE statuses SET label = 'x'",
    "DROP TABLE verdicts",
    "CREATE TABLE evil (x)",
    "CREATE TEMP TABLE evil (x)",
    "CREATE TEMP VIEW evil AS SELECT 1",
    "CREATE TEMP TRIGGER evil AFTER INSERT ON tags BEGIN SELECT 1; END",
    "ALTER TABLE statuses RENAME TO evil",
    "ATTACH '{dir}/evil.db' AS evil",
    "ATTACH ':memory:' AS evil",
    "DETACH main",
    "VACUUM",
    "VACUUM INTO '{dir}/copy.db'",
    "PRAGMA query_only = 0",
    "PRAGMA writable_schema = 1",
    "PRAGMA journal_mode = DELETE",
    "PRAGMA user_version = 7",
    "PRAGMA foreign_keys = OFF",
    "SELECT load_extension('{dir}/evil')",
    "BEGIN",
    "SAVEPOINT a",
    "ANALYZE",
    "REINDEX",
]


@pytest.mark.parametrize("query", AUTHORIZER_ONLY)
def test_authorizer_alone_refuses_writes(sqlite_path, query):
    before = _fingerprint(sqlite_path)
    conn, _refusals, _deadline = open_sqlite_readonly(sqlite_path)
    try:
        with pytest.raises(sqlite3.Error):
            conn.execute(query.format(dir=sqlite_path.parent))
    finally:
        conn.close()
    assert _fingerprint(sqlite_path) == before


def test_attached_database_limit_is_zero(sqlite_path):
    conn, _r, _d = open_sqlite_readonly(sqlite_path)
    try:
        assert conn.getlimit(sqlite3.SQLITE_LIMIT_ATTACHED) == 0
    finally:
        conn.close()


@pytest.mark.parametrize(
    "sql, expected",
    [
        ("SELECT 1", "SELECT 1"),
        ("SELECT 1;", "SELECT 1"),
        ("  select ';' ; -- trailing comment\n", "select ';'"),
        ("SELECT 1 -- a; comment", "SELECT 1 -- a; comment"),
        ('SELECT "a;b" FROM t', 'SELECT "a;b" FROM t'),
        ("WITH x AS (SELECT 1) SELECT * FROM x", "WITH x AS (SELECT 1) SELECT * FROM x"),
        ("(SELECT 1)", "(SELECT 1)"),
    ],
)
def test_single_statement_accepts(sql, expected):
    assert single_statement(sql) == expected


@pytest.mark.parametrize(
    "sql",
    ["SELECT 1; SELECT 2", "SELECT 'a", "SELECT 1 /* open", "select 1;\n/**/;x", "PRAGMA x; y"],
)
def test_single_statement_refuses(sql):
    with pytest.raises(SqlRefused):
        single_statement(sql)


def test_postgres_dollar_quotes_and_nested_comments():
    assert single_statement("SELECT $$;$$", "postgresql") == "SELECT $$;$$"
    assert single_statement("SELECT $t$ ; $t$", "postgresql") == "SELECT $t$ ; $t$"
    assert single_statement("SELECT /* a /* ; */ b */ 1", "postgresql").endswith("1")
    assert single_statement("SELECT E'\\';'", "postgresql") == "SELECT E'\\';'"
    with pytest.raises(SqlRefused):
        single_statement("SELECT $$;$$; DELETE FROM t", "postgresql")
    with pytest.raises(SqlRefused):
        single_statement("SELECT E'\\''; DELETE FROM t", "postgresql")


def test_select_works_with_headers_and_nulls(run, db_url):
    result = run(
        "sql",
        "--format",
        "csv",
        "SELECT code, label, NULL AS missing FROM statuses WHERE code = 'denied'",
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == ["code,label,missing", "denied,Denied,"]
    result = run("sql", "--format", "json", "SELECT NULL AS missing, 1 AS one")
    assert '"missing": null' in result.stdout and '"one": 1' in result.stdout


def test_table_output_and_duplicate_column_names(run_sqlite):
    result = run_sqlite("sql", "SELECT 1 AS a, 2 AS a")
    assert result.exit_code == 0
    header = result.stdout.splitlines()[0].split()
    assert header == ["a", "a_2"]


def test_query_from_stdin_and_file(run_sqlite, tmp_path):
    result = run_sqlite("sql", "-", "--format", "csv", input="SELECT 41 + 1 AS answer;\n")
    assert result.stdout == "answer\n42\n"
    query = tmp_path / "q.sql"
    query.write_text("-- how many statuses?\nSELECT count(*) AS n FROM statuses\n")
    result = run_sqlite("sql", f"@{query}", "--format", "csv")
    assert result.exit_code == 0 and result.stdout.startswith("n\n")
    result = run_sqlite("sql", f"@{tmp_path}/missing.sql")
    assert result.exit_code == 1 and "cannot read" in result.stderr


def test_sql_error_is_the_database_message(run, db_url):
    result = run("sql", "SELECT * FROM no_such_table")
    assert result.exit_code == 1
    assert "no_such_table" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_runaway_query_stops_at_the_time_limit(run, db_url):
    query = LOOP if db_url.startswith("sqlite") else "SELECT pg_sleep(10)"
    result = run("sql", "--timeout", "0.3", query)
    assert result.exit_code == 1
    assert "time limit of 0.3 s" in result.stderr


def test_reads_pragmas_and_views(run_sqlite):
    assert run_sqlite("sql", "PRAGMA table_info(statuses)").exit_code == 0
    assert run_sqlite("sql", "PRAGMA user_version").exit_code == 0
    assert run_sqlite("sql", "SELECT * FROM pragma_table_info('statuses')").exit_code == 0
    assert run_sqlite("sql", "SELECT * FROM claim_overview").exit_code == 0
    assert run_sqlite("sql", "EXPLAIN QUERY PLAN SELECT * FROM statuses").exit_code == 0


def test_live_wal_database_is_read_without_new_files(sqlite_path, run_sqlite):
    """With a writer connected, -wal/-shm exist; the reader sees committed rows, adds no file."""
    engine = make_engine(f"sqlite:///{sqlite_path}")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO tags (name) VALUES ('fresh')"))
    with engine.connect() as conn:  # keep a connection open: the WAL stays
        conn.execute(text("SELECT 1"))
        files = sorted(p.name for p in sqlite_path.parent.iterdir())
        result = run_sqlite("sql", "--format", "csv", "SELECT name FROM tags")
        assert result.stdout == "name\nfresh\n"
        assert sorted(p.name for p in sqlite_path.parent.iterdir()) == files
    engine.dispose()


def test_not_a_database(tmp_path):
    from click.testing import CliRunner

    from factdb.cli import cli

    bogus = tmp_path / "notes.txt"
    bogus.write_text("hello, this is not SQLite\n")
    result = CliRunner().invoke(cli, ["--db", str(bogus), "sql", "SELECT 1"])
    assert result.exit_code == 1 and "not a SQLite database" in result.stderr
    result = CliRunner().invoke(cli, ["--db", str(tmp_path / "none.db"), "sql", "SELECT 1"])
    assert result.exit_code == 1 and "no database" in result.stderr
    assert not (tmp_path / "none.db").exists()


# --- PostgreSQL ------------------------------------------------------------------------------


def _pg_state(url: str) -> list:
    engine = make_engine(url)
    with engine.connect() as conn:
        state = [
            conn.execute(text("SELECT code, label FROM statuses ORDER BY code")).all(),
            conn.execute(text("SELECT count(*) FROM tags")).all(),
            conn.execute(
                text(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_schema = current_schema() ORDER BY 1"
                )
            ).all(),
            conn.execute(text("SELECT last_value FROM tags_id_seq")).all(),
        ]
    engine.dispose()
    return state


def test_hostile_queries_are_refused_and_nothing_changes_postgres(run, db_url):
    """The whole matrix on one database (a database per query would be slow)."""
    if not db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL matrix (the SQLite one is above)")
    before = _pg_state(db_url)
    for query in HOSTILE + PG_HOSTILE:
        result = run("sql", "--timeout", "0.5", "--", query)
        assert result.exit_code == 1, (query, result.stdout)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: "), (query, result.stderr)
        assert _pg_state(db_url) == before, query


# --- factdb schema ---------------------------------------------------------------------------


def test_schema_describes_every_table_and_view(run, db_url):
    result = run("schema", "--format", "json")
    assert result.exit_code == 0, result.stderr
    import json

    objects = {o["name"]: o for o in json.loads(result.stdout)}
    for view in ("claim_overview", "status_history", "claim_links", "speaker_scorecard"):
        assert objects[view]["kind"] == "view"
    assert "speaker" in objects["claim_overview"]["columns"].split(", ")
    undocumented = [name for name, o in objects.items() if not o["description"]]
    assert undocumented == [], f"add these to factdb.sqlguard.SCHEMA_DOCS: {undocumented}"
    assert all(name in SCHEMA_DOCS for name in objects)
    table = run("schema")
    assert "claim_overview (view):" in table.stdout


def test_schema_of_one_object(run, db_url):
    result = run("schema", "status_history", "--format", "csv")
    assert result.exit_code == 0
    assert "claim_id," in result.stdout and "effective_on," in result.stdout
    result = run("schema", "nothing_here")
    assert result.exit_code == 1 and "no table or view" in result.stderr


def test_sql_on_sqlite_does_not_import_sqlalchemy(sqlite_path):
    """The stdlib driver alone: ``factdb sql`` starts as fast as click allows."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from factdb.cli import main\n"
        f"sys.argv = ['factdb', '--db', {str(sqlite_path)!r}, 'sql', 'SELECT 1 AS one']\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'sqlalchemy', 'alembic'}))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_reader_keeps_its_snapshot_while_a_writer_commits_and_closes(sqlite_path):
    """A writer in another process that commits and closes during a read cannot change what
    the read sees, nor checkpoint into the file under it."""
    import subprocess
    import sys

    from factdb.sqlguard import open_sqlite_readonly

    wal = sqlite_path.with_name(sqlite_path.name + "-wal")
    assert not wal.exists()  # a fresh copy of a checkpointed template: a quiet WAL file
    before = hashlib.sha256(sqlite_path.read_bytes()).hexdigest()
    conn, _refusals, _deadline = open_sqlite_readonly(sqlite_path)
    try:
        writer = (
            "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
            "c.execute(\"INSERT INTO tags (name) VALUES ('during')\"); c.commit(); c.close()"
        )
        subprocess.run([sys.executable, "-c", writer, str(sqlite_path)], check=True)
        # the reader's snapshot holds the writer's pages in the WAL
        assert wal.exists() and wal.stat().st_size > 0
        assert hashlib.sha256(sqlite_path.read_bytes()).hexdigest() == before
        assert conn.execute("SELECT count(*) FROM tags WHERE name = 'during'").fetchone() == (0,)
    finally:
        conn.close()
    assert wal.exists()  # not empty: the reader leaves the writer's WAL alone
    reader = open_sqlite_readonly(sqlite_path)[0]
    try:
        assert reader.execute("SELECT count(*) FROM tags WHERE name = 'during'").fetchone() == (1,)
    finally:
        reader.close()
