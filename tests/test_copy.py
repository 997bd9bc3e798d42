"""``factdb db copy``: a seeded SQLite database copied to PostgreSQL and back stays identical.

Targets are a new SQLite file and an empty PostgreSQL database (skipped without
FACTDB_TEST_POSTGRES_URL). Identity is checked on every table row by row (typed values), on
the documented views, and on what the CLI prints.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import FactdbRunner, create_pg_database, drop_pg_database
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from factdb import dbcopy, models
from factdb.db import make_engine
from factdb.services.seeding import default_seed_files, load_seed_files

TARGETS = ["sqlite", "postgresql"]


def _dump(url: str) -> dict[str, list[tuple]]:
    """Every factdb table's rows, typed, in primary-key order."""
    engine = make_engine(url, write=False)
    try:
        with engine.connect() as conn:
            return {
                table.name: [
                    tuple(row)
                    for row in conn.execute(
                        select(table).order_by(*table.primary_key.columns)
                    ).all()
                ]
                for table in models.Base.metadata.sorted_tables
            }
    finally:
        engine.dispose()


def _views(url: str) -> dict[str, list[tuple]]:
    engine = make_engine(url, write=False)
    try:
        with engine.connect() as conn:
            return {
                name: sorted(
                    (tuple(r) for r in conn.execute(text(f"SELECT * FROM {name}")).all()),
                    key=repr,
                )
                for name in ("claim_overview", "claim_links", "attribution_chain", "claim_tags")
            }
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def seeded_template(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file with the seed story plus rows that exercise the awkward cases (built once)."""
    path = tmp_path_factory.mktemp("seeded") / "seeded.db"
    shutil.copyfile(sqlite_template, path)
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    with Session(engine) as s:
        load_seed_files(s, default_seed_files())
        # a speaker acting for one created after it, a source based on a later one: the
        # self-references point forward, so a naive row-order copy would break them
        spokes = models.Speaker(name="Spokesperson", name_key="spokesperson", kind="person")
        s.add(spokes)
        s.flush()
        ministry = models.Speaker(
            name="Ministry X",
            name_key="ministry x",
            kind="organisation",
            external_ids={"wikidata": "Q1"},
            notes="Ünïcödé — Министерство",
        )
        s.add(ministry)
        story = models.Source(name="Daily", name_key="daily", kind="outlet")
        s.add(story)
        s.flush()
        wire = models.Source(name="Wire", name_key="wire", kind="news_agency")
        s.add(wire)
        s.flush()
        spokes.acts_for_id = ministry.id
        story.based_on_id = wire.id
        s.add(models.Status(code="satire", label="Satire", is_terminal=True))
        claim = models.Statement(
            text="A claim with a verdict.",
            speaker=spokes,
            said_on=dt.date(2021, 10, 1),
            said_precision="month",
            content_key="f" * 40,
            current_status="satire",
        )
        s.add(claim)
        s.flush()
        s.add(models.StatusEvent(statement=claim, status_code="satire", effective_on=claim.said_on))
        s.add(
            models.Verdict(
                statement=claim, label="Half True", scale_rating_id=6, normalised_class="mixture"
            )
        )
        s.commit()
    engine.dispose()
    checkpoint = sqlite3.connect(path, isolation_level=None)  # one file holds everything
    checkpoint.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    checkpoint.close()
    return path


@pytest.fixture
def seeded(seeded_template: Path, tmp_path: Path) -> str:
    """A fresh copy of the seeded SQLite file for one test."""
    path = tmp_path / "factdb.db"
    shutil.copyfile(seeded_template, path)
    return f"sqlite:///{path}"


@pytest.fixture(params=TARGETS)
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty target: a file that does not exist yet, or a PostgreSQL database just made
    with ``factdb init`` (the round trip below covers one without any schema)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'target.db'}"
        return
    yield request.getfixturevalue("pg_url")  # skips with the reason when PostgreSQL is not set


@pytest.fixture
def pg_empty(pg_template: str) -> Iterator[str]:
    """An empty PostgreSQL database (for the round trip)."""
    url = create_pg_database()
    yield url
    drop_pg_database(url)


def _by_id(listing: str) -> list[dict]:
    return sorted(json.loads(listing), key=lambda row: row["id"])


def _copy(db: str, *args: str) -> tuple[int, str, str]:
    result = FactdbRunner(db)("db", "copy", *args)
    return result.exit_code, result.stdout, result.stderr


def test_round_trip_sqlite_postgres_sqlite_is_identical(
    seeded: str, tmp_path: Path, pg_empty: str
) -> None:
    back = f"sqlite:///{tmp_path / 'back.db'}"
    code, out, err = _copy(seeded, "--to", pg_empty, "--format", "json")
    assert code == 0, err
    code, _, err = _copy(back, "--from", pg_empty)
    assert code == 0, err
    original = _dump(seeded)
    assert sum(len(rows) for rows in original.values()) > 100
    assert _dump(pg_empty) == original
    assert _dump(back) == original
    assert _views(pg_empty) == _views(seeded) == _views(back)
    # what users see: the exports, the claim listing, and full-text search on the copies
    for args in (
        ("export", "--format", "jsonl"),
        ("export", "--format", "csv"),
        ("export", "--format", "claimreview"),
        ("claim", "list", "--format", "json"),
        ("claim", "list", "--format", "json", "--search", "nato OR expel*"),
        ("claim", "list", "--format", "json", "--search", "lavrov", "--as-of", "2021-10-07"),
    ):
        outputs = [FactdbRunner(db)(*args) for db in (seeded, pg_empty, back)]
        assert all(r.exit_code == 0 for r in outputs), [r.stderr for r in outputs]
        assert outputs[0].stdout == outputs[2].stdout, args
        assert len(outputs[0].stdout) > 50, args
        if "--search" in args:  # ranked by bm25 on SQLite, ts_rank on PostgreSQL: same claims
            assert _by_id(outputs[1].stdout) == _by_id(outputs[0].stdout), args
        else:
            assert outputs[1].stdout == outputs[0].stdout, args
    for db in (seeded, pg_empty, back):  # the index was rebuilt: one entry per claim
        engine = make_engine(db, write=False)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT COUNT(*) FROM statements_fts")).scalar_one() == len(
                original["statements"]
            )
        engine.dispose()


def test_copy_reports_verified_counts(seeded: str, target: str) -> None:
    code, out, err = _copy(seeded, "--to", target, "--format", "json")
    assert code == 0, err
    reported = {r["table"]: (r["source_rows"], r["target_rows"]) for r in json.loads(out)}
    expected = {name: len(rows) for name, rows in _dump(seeded).items()}
    assert reported == {name: (n, n) for name, n in expected.items()}
    assert "row counts verified" in err
    assert _dump(target) == _dump(seeded)


def test_copy_from_fills_the_local_database(seeded: str, target: str) -> None:
    code, _, err = _copy(seeded, "--to", target)
    assert code == 0, err
    local = seeded.replace(".db", "-from.db")  # a new local file
    code, _, err = _copy(local, "--from", target)
    assert code == 0, err
    assert _dump(local) == _dump(seeded)


def test_non_empty_target_is_refused_unless_replace(seeded: str, target: str) -> None:
    assert _copy(seeded, "--to", target)[0] == 0
    engine = make_engine(target)
    with engine.begin() as conn:  # the target gets a row of its own
        conn.execute(text("UPDATE speakers SET notes = 'target edit' WHERE id = 1"))
    engine.dispose()
    before = _dump(target)

    code, out, err = _copy(seeded, "--to", target)
    assert code == 1
    assert "not empty" in err and "--replace" in err and "statements (" in err
    assert out == ""
    assert _dump(target) == before  # untouched

    code, _, err = _copy(seeded, "--to", target, "--replace")
    assert code == 0, err
    assert _dump(target) == _dump(seeded)


def test_vocabulary_the_source_lacks_makes_the_target_non_empty(seeded: str, target: str) -> None:
    assert _copy(seeded, "--to", target)[0] == 0
    engine = make_engine(target)
    with engine.begin() as conn:
        for table in reversed(models.Base.metadata.sorted_tables):
            if table.name not in dbcopy.VOCABULARY_TABLES:
                conn.execute(table.delete())
        conn.execute(
            text("INSERT INTO statuses (code, label, is_terminal) VALUES ('x', 'X', :f)"),
            {"f": False},
        )
    engine.dispose()
    code, _, err = _copy(seeded, "--to", target)
    assert code == 1 and "statuses (1 entries the source lacks)" in err


def test_freshly_migrated_target_counts_as_empty(db_url: str, sqlite_path: Path) -> None:
    """VOCABULARY_TABLES lists every table the migrations seed (else this fails)."""
    source = make_engine(f"sqlite:///{sqlite_path}", write=False)
    target = make_engine(db_url)
    with source.connect() as src, target.connect() as tgt:
        assert dbcopy.target_contents(src, tgt) == []
    source.dispose()
    target.dispose()


def test_postgres_sequences_continue_after_the_copy(seeded: str, target: str) -> None:
    assert _copy(seeded, "--to", target)[0] == 0
    engine = make_engine(target)
    with Session(engine) as s:
        # new rows get fresh ids past the copied ones instead of colliding with them
        speaker = models.Speaker(name="Newcomer", name_key="newcomer", kind="person")
        s.add(speaker)
        s.add(models.Status(code="new", label="New"))
        s.flush()
        s.add(models.Statement(text="new", speaker=speaker, content_key="e" * 40))
        s.commit()
        assert speaker.id == s.execute(text("SELECT MAX(id) FROM speakers")).scalar_one()
    engine.dispose()


def test_a_failed_copy_leaves_nothing(
    seeded: str, target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = dbcopy.copy_table

    def failing(source, target_conn, table, batch_size=dbcopy.BATCH_SIZE):  # type: ignore[no-untyped-def]
        if table.name == "statements":
            raise RuntimeError("disk on fire")
        return real(source, target_conn, table, batch_size)

    monkeypatch.setattr(dbcopy, "copy_table", failing)
    before = None if target.startswith("sqlite") else _dump(target)
    with pytest.raises(RuntimeError):
        dbcopy.copy_database(seeded, target)
    if before is None:
        assert not Path(target.split("///", 1)[1]).exists()  # the new file is gone
    else:
        assert _dump(target) == before


def test_a_failed_copy_into_a_new_server_database_leaves_no_schema(
    seeded: str, pg_empty: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(dbcopy, "copy_table", failing)
    with pytest.raises(RuntimeError):
        dbcopy.copy_database(seeded, pg_empty)
    engine = make_engine(pg_empty)
    assert inspect(engine).get_table_names() == []  # the migration was rolled back too
    engine.dispose()


def test_small_batches_stream_the_same_rows(seeded: str, target: str) -> None:
    dbcopy.copy_database(seeded, target, batch_size=3)
    assert _dump(target) == _dump(seeded)


def test_refusals(seeded: str, tmp_path: Path) -> None:
    code, _, err = _copy(seeded, "--to", seeded.split("///", 1)[1])
    assert code == 1 and "same database" in err
    code, _, err = _copy(seeded)
    assert code == 2 and "exactly one of --to" in err
    code, _, err = _copy(seeded, "--to", "x.db", "--from", "y.db")
    assert code == 2
    code, _, err = _copy(seeded, "--from", str(tmp_path / "missing.db"))
    assert code == 1 and "no database at" in err
    behind = tmp_path / "other.db"
    other = sqlite3.connect(behind)  # a SQLite file, but not a factdb one
    other.execute("CREATE TABLE t (x)")
    other.close()
    code, _, err = _copy(seeded, "--from", str(behind))
    assert code == 1 and "no factdb schema" in err


def test_passwords_are_never_printed(seeded: str, pg_url: str) -> None:
    # the test server trusts local connections, so any password is accepted and ignored
    with_password = make_url(pg_url).set(password="hunter2").render_as_string(hide_password=False)
    messages = []
    for args in (("init",), ("db", "upgrade"), ("db", "copy", "--from", seeded, "--replace")):
        result = FactdbRunner(with_password)(*args)
        assert result.exit_code == 0, result.stderr
        messages.append(result.stdout + result.stderr)
    assert all("hunter2" not in m for m in messages), messages
    assert ":***@" in messages[-1]
