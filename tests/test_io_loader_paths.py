"""SQLite: the loader's pipelined, multi-row batches store exactly what one row per statement
written in the caller's thread stores, whatever the chunk boundaries."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from factdb.cli import cli
from factdb.io import bulkwrite

DATA = Path(__file__).parent / "data"
FILES = ["messy.csv", "messy.jsonl", "claimreview_single.json", "claimreview_page.html"]


def _import_and_export(db: Path) -> str:
    runner = CliRunner()
    for name in FILES:
        result = runner.invoke(cli, ["--db", str(db), "import", "-q", str(DATA / name)])
        assert result.exit_code == 0, result.output
    # importing again adds nothing (repeats go through the merge path)
    result = runner.invoke(cli, ["--db", str(db), "import", str(DATA / "messy.jsonl")])
    assert " 0 added" in result.stderr
    result = runner.invoke(cli, ["--db", str(db), "export", "--format", "jsonl"])
    assert result.exit_code == 0
    return result.stdout


def test_pipelined_chunks_store_what_single_rows_store(
    tmp_path: Path, sqlite_template: Path, monkeypatch: Any
) -> None:
    import factdb.io.loader as loader
    import factdb.io.pipeline as pipeline

    fast, slow = tmp_path / "fast.db", tmp_path / "slow.db"
    shutil.copyfile(sqlite_template, fast)
    shutil.copyfile(sqlite_template, slow)
    monkeypatch.setattr(loader, "BATCH", 7)  # several batches in flight, chunks cut mid-batch
    monkeypatch.setattr(bulkwrite, "VALUES_ROWS", 3)
    pipelined = _import_and_export(fast)
    monkeypatch.setattr(bulkwrite, "VALUES_ROWS", 1)
    original = pipeline.Pipeline.__init__
    monkeypatch.setattr(
        pipeline.Pipeline,
        "__init__",
        lambda self, threaded=True, depth=1: original(self, threaded=False),
    )
    single = _import_and_export(slow)
    assert pipelined == single
    assert pipelined.count("\n") >= 5


def test_a_failing_batch_stops_the_import_and_leaves_nothing(
    tmp_path: Path, sqlite_template: Path, monkeypatch: Any
) -> None:
    """An error on the writer's thread reaches the command: one line, exit 1, no change."""
    import factdb.io.loader as loader

    db = tmp_path / "t.db"
    shutil.copyfile(sqlite_template, db)
    before = db.read_bytes()
    monkeypatch.setattr(loader, "BATCH", 2)
    calls = {"n": 0}
    original = loader.Loader._first_events_sqlite

    def failing(self: Any, *ids: int) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise loader.FactdbError("disk on fire")
        original(self, *ids)

    monkeypatch.setattr(loader.Loader, "_first_events_sqlite", failing)
    result = CliRunner().invoke(cli, ["--db", str(db), "import", str(DATA / "messy.jsonl")])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == ["Error: disk on fire"]
    assert db.read_bytes() == before


@pytest.mark.parametrize("value", ["plain", "ünïcödé \u05e9\u05dc\u05d5\u05dd", 'q"u\\o\nte'])
def test_json_batches_keep_text_exactly(value: str, tmp_path: Path, sqlite_template: Path) -> None:
    import json

    db = tmp_path / "t.db"
    shutil.copyfile(sqlite_template, db)
    path = tmp_path / "one.jsonl"
    record = {"text": f"{value} said", "speaker": "Ann Example", "said_on": "2021-07"}
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(cli, ["--db", str(db), "import", str(path)]).exit_code == 0
    out = runner.invoke(cli, ["--db", str(db), "export", "--format", "jsonl"]).stdout
    row = json.loads(out)
    assert row["text"] == f"{value} said" and row["said_on"] == "2021-07"


def test_first_status_events_follow_the_rule(run: Any, engine: Any, tmp_path: Path) -> None:
    """Each new claim with a status has exactly one event, dated when it was said (at that
    precision) or today; a claim without a status has none (both backends, both paths)."""
    import datetime as dt
    import json

    from sqlalchemy import text

    path = tmp_path / "s.jsonl"
    rows = [
        {"text": f"Claim {i}", "speaker": f"S{i % 4}", "status": s, "said_on": d}
        for i, (s, d) in enumerate(
            [("alleged", "2021-07-16"), ("denied", "2020-03"), ("confirmed", None), (None, "2019")]
            * 3
        )
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    assert run("import", str(path)).exit_code == 0
    with engine.connect() as conn:
        found = conn.execute(
            text(
                "SELECT s.text, s.current_status, e.status_code, e.effective_on, "
                "e.effective_precision, s.said_on, s.said_precision FROM statements s "
                "LEFT JOIN status_events e ON e.statement_id = s.id ORDER BY s.id, e.id"
            )
        ).all()
    assert len(found) == len(rows)  # one row per claim: never two events
    today = dt.date.today().isoformat()
    for text_, current, code, effective, precision, said_on, said_precision in found:
        assert code == current
        if current is None:
            assert effective is None
        elif said_on is None:
            assert (str(effective), precision) == (today, "day")
        else:
            assert (str(effective), precision) == (str(said_on), said_precision), text_


def test_bulk_imports_skip_foreign_key_and_check_constraints_yet_break_none(
    tmp_path: Path, sqlite_template: Path, monkeypatch: Any
) -> None:
    """A big import's transaction runs without SQLite's foreign-key checks and CHECK
    constraints (the loader's references and values hold by construction): afterwards
    ``foreign_key_check`` finds nothing and ``integrity_check``, which evaluates every CHECK
    constraint, finds nothing either."""
    import sqlite3

    import factdb.io.loader as loader

    db = tmp_path / "bulk.db"
    shutil.copyfile(sqlite_template, db)
    monkeypatch.setattr(bulkwrite, "DEFER_INDEXES_FROM", 0)  # every import is a bulk one
    seen: list[int] = []
    original = loader.Loader.finish

    def finish(self: Any) -> Any:
        seen.append(self.raw.execute("PRAGMA foreign_keys").fetchone()[0])
        seen.append(1 - self.raw.execute("PRAGMA ignore_check_constraints").fetchone()[0])
        return original(self)

    monkeypatch.setattr(loader.Loader, "finish", finish)
    _import_and_export(db)
    assert seen and set(seen) == {0}
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_pooled_connections_get_foreign_key_and_check_constraints_back(
    tmp_path: Path, sqlite_template: Path
) -> None:
    from sqlalchemy import text

    from factdb.db import for_bulk_load, make_engine, session_scope

    db = tmp_path / "t.db"
    shutil.copyfile(sqlite_template, db)
    engine = make_engine(f"sqlite:///{db}")
    try:
        with session_scope(for_bulk_load(engine)) as session:
            assert session.scalar(text("PRAGMA foreign_keys")) == 0
            assert session.scalar(text("PRAGMA ignore_check_constraints")) == 1
        with session_scope(engine) as session:
            assert session.scalar(text("PRAGMA foreign_keys")) == 1
            assert session.scalar(text("PRAGMA ignore_check_constraints")) == 0
    finally:
        engine.dispose()


def test_bulk_load_indexes_for_search_in_groups_exactly(
    tmp_path: Path, sqlite_template: Path, monkeypatch: Any
) -> None:
    """A bulk load indexes its statements group by group on the writer's thread: the index
    ends up exactly what a full rebuild makes, and FTS5's own integrity check passes."""
    import sqlite3

    import factdb.io.loader as loader

    db = tmp_path / "fts.db"
    shutil.copyfile(sqlite_template, db)
    monkeypatch.setattr(bulkwrite, "DEFER_INDEXES_FROM", 0)
    monkeypatch.setattr(loader, "BATCH", 3)
    monkeypatch.setattr(loader, "FTS_GROUP", 2)
    _import_and_export(db)
    # what the index holds (term, claim, column, offset): the text itself is in statements
    query = "SELECT * FROM temp.words ORDER BY 1, 2, 3, 4"
    with sqlite3.connect(db) as conn:
        conn.execute(
            "CREATE VIRTUAL TABLE temp.words USING fts5vocab(main, statements_fts, instance)"
        )
        grouped = conn.execute(query).fetchall()
        indexed = {claim for _term, claim, _column, _offset in grouped}
        assert len(indexed) == conn.execute("SELECT count(*) FROM statements").fetchone()[0]
        conn.execute("INSERT INTO statements_fts (statements_fts) VALUES ('integrity-check')")
        conn.execute("INSERT INTO statements_fts (statements_fts) VALUES ('rebuild')")
        assert conn.execute(query).fetchall() == grouped
        for key, default in bulkwrite.FTS_DEFAULTS.items():  # the settings are put back
            setting = conn.execute("SELECT v FROM statements_fts_config WHERE k = ?", (key,))
            assert setting.fetchall() in ([], [(default,)])


REPEATS = [
    {
        "text": "The sky is green",
        "speaker": "Ann Example",
        "source": "Daily One",
        "status": "alleged",
    },
    {"text": "Water is dry", "speaker": "Bob Example", "said_on": "2021-07-16"},
    {
        "text": "The sky is green",
        "speaker": "Ann Example",
        "source": "Wire Two",
        "verdict": "False",
        "verdict_by": "Desk",
        "status": "denied",
    },
    {"text": "Grass is blue", "speaker": "Cy Example", "origin": "feed", "external_id": "e1"},
    {
        "text": "The sky is green",
        "speaker": "Ann Example",
        "source": "Wire Two",
        "verdict": "False",
        "verdict_by": "Desk",
        "status": "denied",
    },
    {"text": "Fire is cold", "speaker": "Dee Example", "tags": "science"},
    {"text": "Fire is cold", "speaker": "Dee Example", "tags": "physics"},
    {"text": "  the SKY is green ", "speaker": "ann  example", "source": "Daily Three"},
    {
        "text": "Grass is very blue",
        "speaker": "Cy Example",
        "origin": "feed",
        "external_id": "e1",
        "source": "Wire Two",
    },
    {"text": "The sky is green", "speaker": "Ann Example", "said_on": "2020"},
    {
        "text": "Water is dry",
        "speaker": "Bob Example",
        "said_on": "2021-07-16",
        "status": "retracted",
    },
    {"text": "Snow is hot", "speaker": "Eve Example"},
]


def _load_repeats(db: Path, path: Path) -> tuple[str, ...]:
    import sqlite3

    runner = CliRunner()
    result = runner.invoke(cli, ["--db", str(db), "import", str(path)])
    assert result.exit_code == 0, result.output
    summary = result.stderr.strip().splitlines()[-1]
    export = runner.invoke(cli, ["--db", str(db), "export", "--format", "jsonl"]).stdout
    with sqlite3.connect(db) as conn:
        conn.execute(
            "CREATE VIRTUAL TABLE temp.words USING fts5vocab(main, statements_fts, instance)"
        )
        words = conn.execute("SELECT * FROM temp.words ORDER BY 1, 2, 3, 4").fetchall()
        events = conn.execute(
            "SELECT statement_id, status_code, effective_on FROM status_events ORDER BY id"
        ).fetchall()
        claims = conn.execute("SELECT id, current_status FROM statements ORDER BY id").fetchall()
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        index = conn.execute(
            "SELECT sql FROM sqlite_master WHERE name = 'uq_statements_content_key'"
        ).fetchone()
        assert index is not None and "UNIQUE" in index[0]
    return summary, export, repr(words), repr(events), repr(claims)


def test_a_bulk_load_into_an_empty_table_merges_repeats_as_record_by_record(
    tmp_path: Path, sqlite_template: Path, monkeypatch: Any
) -> None:
    """Into an empty table the content keys' unique index is built at the end, and the
    claims the file repeats are merged then: the same claims, events, sources, verdicts,
    tags, search index and summary as merging them one batch at a time."""
    import json

    import factdb.io.loader as loader

    path = tmp_path / "repeats.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in REPEATS), encoding="utf-8")
    monkeypatch.setattr(loader, "BATCH", 3)
    monkeypatch.setattr(loader, "FTS_GROUP", 2)
    deferred_calls = []
    original = loader.Loader._unique_content_keys
    monkeypatch.setattr(
        loader.Loader,
        "_unique_content_keys",
        lambda self, sql: deferred_calls.append(sql) or original(self, sql),
    )
    at_once = tmp_path / "bulk.db"
    shutil.copyfile(sqlite_template, at_once)
    monkeypatch.setattr(bulkwrite, "DEFER_INDEXES_FROM", 0)
    bulk = _load_repeats(at_once, path)
    assert len(deferred_calls) == 1
    one_by_one = tmp_path / "records.db"
    shutil.copyfile(sqlite_template, one_by_one)
    monkeypatch.setattr(bulkwrite, "DEFER_INDEXES_FROM", 10**9)
    assert _load_repeats(one_by_one, path) == bulk
    assert len(deferred_calls) == 1
    assert bulk[0] == (
        "Imported repeats.jsonl: 6 added, 5 changed, 1 unchanged, 0 rejected; "
        "5 new speakers, 3 new sources; 2 probably repeat recorded claims"
    )


def test_a_key_collision_found_at_the_end_of_a_bulk_load_is_refused(
    tmp_path: Path, sqlite_template: Path, monkeypatch: Any
) -> None:
    import json

    import factdb.io.loader as loader

    monkeypatch.setattr(bulkwrite, "DEFER_INDEXES_FROM", 0)
    monkeypatch.setattr(loader, "clean_content_key", lambda *args: "e" * 16)
    db = tmp_path / "t.db"
    shutil.copyfile(sqlite_template, db)
    before = db.read_bytes()
    path = tmp_path / "c.jsonl"
    rows = [
        {"text": "The sky is green", "speaker": "Ann"},
        {"text": "Water is dry", "speaker": "Bo"},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    result = CliRunner().invoke(cli, ["--db", str(db), "import", str(path)])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "Error: cannot store this claim: its content key equals that of claim 1, which is a "
        "different claim (a 64-bit key collision); please report this"
    ]
    assert db.read_bytes() == before


def test_a_bulk_dry_run_into_an_empty_table_leaves_the_file_as_it_was(
    tmp_path: Path, sqlite_template: Path, monkeypatch: Any
) -> None:
    """The dropped indexes (the content keys' one too), the suspended search triggers and the
    merged repeats all roll back with the dry run: the database file is byte for byte the same."""
    import json

    monkeypatch.setattr(bulkwrite, "DEFER_INDEXES_FROM", 0)
    db = tmp_path / "t.db"
    shutil.copyfile(sqlite_template, db)
    before = db.read_bytes()
    path = tmp_path / "repeats.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in REPEATS), encoding="utf-8")
    result = CliRunner().invoke(cli, ["--db", str(db), "import", "--dry-run", str(path)])
    assert result.exit_code == 0, result.output
    assert "6 added, 5 changed, 1 unchanged" in result.stderr
    assert db.read_bytes() == before


def test_plain_and_single_source_batches_store_what_the_general_rows_store(
    tmp_path: Path, sqlite_template: Path, monkeypatch: Any
) -> None:
    """Batches without language, context, origin or external id write fewer statement columns,
    and batches whose claims each have one reported_by source write only the source ids: the
    rows are exactly those the general path writes."""
    import sqlite3

    import factdb.io.loader as loader

    monkeypatch.setattr(loader, "BATCH", 3)  # plain and mixed batches alike
    path = tmp_path / "plain.jsonl"
    lines = [
        '{"text": "One", "speaker": "Ann", "source": "Daily", "source_url": "https://d.example/1"}',
        '{"text": "Two", "speaker": "Bob", "source": "Wire", "said_on": "2021-07"}',
        '{"text": "Three", "speaker": "Ann", "source": "Daily", "source_url": "https://d.example/1"}',
        '{"text": "Four", "speaker": "Cy", "language": "fr", "context": "A speech."}',
        '{"text": "Five", "speaker": "Cy", "source": "Wire", "origin": "feed", "external_id": "5"}',
        '{"text": "Six", "speaker": "Bob"}',
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def load(db: Path) -> tuple[list[Any], list[Any]]:
        shutil.copyfile(sqlite_template, db)
        result = CliRunner().invoke(cli, ["--db", str(db), "import", str(path)])
        assert result.exit_code == 0, result.output
        with sqlite3.connect(db) as conn:
            statements = conn.execute(
                "SELECT id, text, quote_kind, language, said_on, said_precision, context, "
                "speaker_id, current_status, content_key, origin, external_id FROM statements"
            ).fetchall()
            attributions = conn.execute(
                "SELECT statement_id, source_id, role, verb, position FROM attributions"
            ).fetchall()
        return statements, attributions

    fast = load(tmp_path / "fast.db")
    original_flush = loader.Loader._flush

    def general_flush(self: Any) -> None:
        self._batch_plain = self._batch_one_source = False
        original_flush(self)

    monkeypatch.setattr(loader.Loader, "_flush", general_flush)
    assert load(tmp_path / "general.db") == fast
    assert len(fast[0]) == 6 and len(fast[1]) == 4
