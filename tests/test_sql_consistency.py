"""``factdb sql`` reads one snapshot: a query never sees a state that never existed.

An all-or-nothing import runs while a query is half-way through its rows; every row of the
query must count the claims as they were before the import (or, for a query that starts after
it, as they are after it), never something in between. On SQLite the reader also leaves no file
behind and never writes the database file.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from factdb.sqlguard import (
    Limits,
    _immutable,
    _side_files,
    _unchanged,
    open_sqlite_readonly,
    run_query,
)

# one row per i; each row counts the claims again (the correlated WHERE makes the database
# evaluate the subquery for every row instead of once); 1,200 rows are more than two batches,
# and 4 kB of padding a row fill the pipe from SQLite's reading process, so that most rows are
# only read after the import
COUNTS = (
    "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < {n}) "
    "SELECT i, (SELECT count(*) FROM statements WHERE id > -i) AS claims, "
    "'" + "x" * 4000 + "' AS padding FROM r"
)


def write_records(path: Path, n: int, tag: str) -> None:
    """``n`` new interchange records (JSONL), each with a status and a source."""
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            record = {
                "text": f"{tag} claim {i}: officials expelled, the accusation called baseless",
                "speaker": f"{tag} speaker {i % 97}",
                "source": f"{tag} outlet {i % 31}",
                "source_url": f"https://news.example/{tag}/{i % 499}",
                "said_on": f"20{10 + i % 12}-{1 + i % 12:02d}-{1 + i % 28:02d}",
                "status": ("alleged", "denied", "confirmed")[i % 3],
            }
            f.write(json.dumps(record) + "\n")


def factdb_import(db: str, records: Path) -> subprocess.CompletedProcess[str]:
    """The real import, in its own process, as a user runs it next to a query."""
    command = [sys.executable, "-m", "factdb", "--db", db, "import", "-q", str(records)]
    return subprocess.run(command, capture_output=True, text=True, timeout=600)


def claims(db_url: str) -> int:
    return next(run_query(db_url, "SELECT count(*) FROM statements").rows)[0]


@pytest.fixture
def loaded(db_url: str, tmp_path: Path) -> str:
    """The test database holding some claims already, checkpointed and quiet."""
    base = tmp_path / "base.jsonl"
    write_records(base, 2_000 if db_url.startswith("sqlite") else 500, "base")
    done = factdb_import(db_url, base)
    assert done.returncode == 0, done.stderr
    if db_url.startswith("sqlite"):
        # quiet: the last writer has checkpointed and removed -wal and -shm, the case in which
        # factdb sql used to read the file "immutable" while an import checkpointed into it
        assert not Path(db_url.removeprefix("sqlite:///") + "-wal").exists()
    return db_url


def test_an_import_half_way_through_a_query_is_invisible_to_it(loaded: str, tmp_path) -> None:
    """Deterministic: the first rows are read, the whole import runs and commits, the rest of
    the rows are read; all of them count what there was before."""
    before = claims(loaded)
    records = tmp_path / "big.jsonl"
    # big enough that SQLite's automatic checkpoint copies the import into the database file
    size = 20_000 if loaded.startswith("sqlite") else 2_000
    write_records(records, size, "big")
    result = run_query(loaded, COUNTS.format(n=1_200), Limits(timeout=600))
    first = next(result.rows)
    done = factdb_import(loaded, records)
    assert done.returncode == 0, done.stderr
    rest = list(result.rows)
    assert len(rest) == 1_199
    assert {row[1] for row in [first, *rest]} == {before}
    after = claims(loaded)
    assert after == before + size
    # a query that starts now sees all of the import
    assert {row[1] for row in run_query(loaded, COUNTS.format(n=3)).rows} == {after}


def test_the_snapshot_holds_even_when_every_row_rereads_the_file(sqlite_path: Path, tmp_path):
    """The reader with a 5-page cache: each row reads the file again, so a checkpoint that
    wrote into the file under the query would show. (The former immutable read did: one
    query's rows counted 2,000 and 2,001 claims here; its page cache usually hid that.)"""
    db = f"sqlite:///{sqlite_path}"
    base, records = tmp_path / "base.jsonl", tmp_path / "big.jsonl"
    write_records(base, 2_000, "base")
    write_records(records, 20_000, "big")
    assert factdb_import(db, base).returncode == 0
    assert not _side_files(sqlite_path)[0].exists()  # quiet: the case that was read immutable
    conn, _refusals, deadline = open_sqlite_readonly(sqlite_path)
    deadline[0] = float("inf")  # the import takes a while; this test has no time limit
    conn.set_authorizer(None)  # only to shrink the cache; the query is the same
    conn.execute("PRAGMA cache_size = 5")
    try:
        cursor = conn.execute(COUNTS.format(n=1_200))
        first = cursor.fetchmany(10)
        assert factdb_import(db, records).returncode == 0
        counts = {row[1] for row in first + cursor.fetchall()}
    finally:
        conn.close()
    assert counts == {2_000}


def test_queries_while_an_import_runs_see_before_or_after(loaded: str, tmp_path, run) -> None:
    """The real command line: ``factdb sql`` again and again while ``factdb import`` runs."""
    before = claims(loaded)
    records = tmp_path / "more.jsonl"
    size = 8_000 if loaded.startswith("sqlite") else 3_000
    write_records(records, size, "more")
    command = [sys.executable, "-m", "factdb", "--db", loaded, "import", "-q", str(records)]
    importer = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seen: list[set[int]] = []
    try:
        while True:
            finished = importer.poll() is not None
            out = run("sql", "--format", "csv", "--timeout", "60", COUNTS.format(n=50))
            assert out.exit_code == 0, out.stderr
            seen.append({int(line.split(",")[1]) for line in out.stdout.splitlines()[1:]})
            if finished:
                break
    finally:
        importer.wait(timeout=600)
    assert importer.returncode == 0
    after = before + size
    assert all(len(counts) == 1 for counts in seen), seen  # one snapshot per query
    assert {n for counts in seen for n in counts} <= {before, after}
    assert seen[-1] == {after}


def test_sqlite_reader_writes_nothing_and_leaves_no_file(sqlite_path: Path) -> None:
    """A quiet WAL database: the reader's -wal/-shm are gone again, the file's bytes the same."""
    digest = hashlib.sha256(sqlite_path.read_bytes()).hexdigest()
    files = sorted(p.name for p in sqlite_path.parent.iterdir())
    rows = list(run_query(f"sqlite:///{sqlite_path}", COUNTS.format(n=3)).rows)
    assert len(rows) == 3
    assert sorted(p.name for p in sqlite_path.parent.iterdir()) == files
    assert hashlib.sha256(sqlite_path.read_bytes()).hexdigest() == digest


def test_read_only_folder_is_read_and_checked(sqlite_path: Path, run_sqlite) -> None:
    """No -wal/-shm can be made beside the file: the read is immutable, and kept only if no
    writer appeared meanwhile (a writer must make a -wal; here none can)."""
    from test_faults import immutable

    digest = hashlib.sha256(sqlite_path.read_bytes()).hexdigest()
    with immutable(sqlite_path.parent):
        result = run_sqlite("sql", "--format", "csv", "SELECT count(*) AS n FROM statuses")
        assert result.exit_code == 0, result.stderr
        assert int(result.stdout.splitlines()[1]) > 0
    assert not any(p.exists() for p in _side_files(sqlite_path))
    assert hashlib.sha256(sqlite_path.read_bytes()).hexdigest() == digest


def test_immutable_read_that_a_writer_overlapped_is_refused(sqlite_path: Path) -> None:
    """The fallback's check itself: a writer that commits during an immutable read leaves a
    -wal behind (the read's shared lock stops it from deleting it), so the read is refused."""
    conn = _immutable(sqlite_path, Limits())
    try:
        assert conn.execute("SELECT count(*) FROM tags").fetchone() == (0,)
        assert _unchanged(conn)
        writer = (
            "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
            "c.execute(\"INSERT INTO tags (name) VALUES ('during')\"); c.commit(); c.close()"
        )
        subprocess.run([sys.executable, "-c", writer, str(sqlite_path)], check=True)
        assert not _unchanged(conn)
    finally:
        conn.close()
