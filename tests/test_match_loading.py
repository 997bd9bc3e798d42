"""How the semantic layer's models load: the language identifier (fastText lid.176, its file
checked), the loading thread (order, cancellation, errors) and the CLI starting it early only
for a SQLite database that holds vectors."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import click
import pytest
from sqlalchemy.orm import Session

from factdb.cli.match import stored_vectors_in
from factdb.match import embedding, language
from factdb.match.pinned import WeightsMismatch, read_pinned

needs_identifier = pytest.mark.skipif(
    not embedding.available(), reason="the 'match' extra is absent"
)


@needs_identifier
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("NATO says the Russian envoys it expelled were spies", "en"),
        ("IS DR. FORD DEEPLY TIED TO THE CIA?", "en"),  # capitals read as other languages
        ("НАТО заявило, что высланные российские дипломаты были шпионами", "ru"),
        ("يقول الناتو إن الدبلوماسيين الروس الذين طردهم كانوا جواسيس", "ar"),
        ("La OTAN dice que los diplomáticos rusos que expulsó eran espías", "es"),
        ("L'OTAN affirme que les diplomates russes expulsés étaient des espions", "fr"),
        ("a first line\nand a second line of the same English tweet", "en"),
        ("12 345 🙂 #1", "en"),  # no letters: every model counts
    ],
)
def test_query_language(text: str, expected: str) -> None:
    assert language.query_language(text) == expected


@needs_identifier
def test_a_language_model_that_is_not_the_official_file_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    official = language.model_path()
    copy = tmp_path / "lid.176.ftz"
    copy.write_bytes(official.read_bytes() + b"\0")
    monkeypatch.setattr(language, "model_path", lambda: copy)
    monkeypatch.setattr(language, "_model", [])
    with pytest.raises(WeightsMismatch, match="lid.176.ftz is not the official fastText"):
        language.query_language("any text at all")


def test_read_pinned_returns_the_bytes_it_checked(tmp_path: Path) -> None:
    path = tmp_path / "weights.bin"
    path.write_bytes(b"weights")
    digest = "d5ae7f6e2a6d8a4b4a3c1b3c0b3f1b4b"  # not the file's
    with pytest.raises(WeightsMismatch, match="weights.bin is not the official M file"):
        read_pinned(path, digest, "M")
    import hashlib

    assert read_pinned(path, hashlib.sha256(b"weights").hexdigest(), "M") == b"weights"


class _Recording:
    """An encoder that records when its model is asked for a vector."""

    def __init__(self, name: str, calls: list[str], gate: threading.Event | None = None) -> None:
        self.name, self._calls, self._gate = name, calls, gate

    def query(self, text: str) -> list[float]:
        self._calls.append(self.name)
        if self._gate is not None:
            self._gate.wait(5)
        return [0.0]


def _recording(monkeypatch: pytest.MonkeyPatch, gate: threading.Event | None = None) -> list[str]:
    calls: list[str] = []
    models = [_Recording(e.name, calls, gate) for e in embedding.ENCODERS]
    monkeypatch.setattr(embedding, "encoders", lambda: models)
    monkeypatch.setattr(embedding, "query_language", lambda text: "en")
    monkeypatch.setattr(embedding, "_loading", [])
    return calls


def test_the_models_load_lightest_first_and_none_after_a_cancel(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = _recording(monkeypatch)
    embedding.warm_up()
    assert calls == [embedding.E5Small.name, embedding.MiniLMEncoder.name,
                     embedding.UniversalSentenceEncoder.name]  # fmt: skip
    gate = threading.Event()
    calls = _recording(monkeypatch, gate)
    loading = embedding.start_loading()
    assert embedding.start_loading() is loading  # one load a process
    loading.cancel()  # while the first model loads
    gate.set()
    loading.wait()
    assert calls == [embedding.E5Small.name]
    assert embedding.start_loading() is not loading  # a cancelled load is started afresh


def test_a_load_error_is_raised_where_the_load_is_waited_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(cancelled: Any = None) -> None:
        raise embedding.SemanticUnavailable(embedding.NEEDS_EXTRA)

    monkeypatch.setattr(embedding, "warm_up", broken)
    monkeypatch.setattr(embedding, "_loading", [])
    with pytest.raises(embedding.SemanticUnavailable, match="needs the 'match' extra"):
        embedding.start_loading().wait()


def test_stored_vectors_are_told_without_sqlalchemy(tmp_path: Path, sqlite_path: Path) -> None:
    assert not stored_vectors_in(tmp_path / "missing.db", embedding.MODEL)
    assert not stored_vectors_in(sqlite_path, embedding.MODEL)  # no vectors yet
    before = sqlite_path.read_bytes()
    connection = sqlite3.connect(sqlite_path)
    with connection:
        connection.execute(
            "INSERT INTO claim_vectors (statement_id, model, vector) VALUES (1, 'other', x'00')"
        )
    connection.close()
    assert not stored_vectors_in(sqlite_path, embedding.MODEL)  # another model's only
    assert stored_vectors_in(sqlite_path, "other")
    not_a_database = tmp_path / "notes.db"
    not_a_database.write_text("plain text, not SQLite")
    assert not stored_vectors_in(not_a_database, embedding.MODEL)
    assert sqlite_path.read_bytes() != before  # (the insert above changed it)
    after = sqlite_path.read_bytes()
    stored_vectors_in(sqlite_path, embedding.MODEL)
    assert sqlite_path.read_bytes() == after  # read-only


@needs_identifier
def test_the_cli_starts_no_load_for_a_database_without_vectors(
    run_sqlite: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(embedding, "_loading", [])
    run_sqlite("seed")
    result = run_sqlite("claim", "match", "NATO expelled Russian spies")
    assert result.exit_code == 0
    assert "note: lexical matching only" in result.stderr
    assert embedding._loading == []


def test_the_cli_starts_the_load_early_for_a_sqlite_database_with_vectors(
    sqlite_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from factdb.cli.common import AppContext
    from factdb.cli.match import start_models_early

    monkeypatch.setattr(embedding, "warm_up", lambda cancelled=None: None)
    monkeypatch.setattr(embedding, "available", lambda: True)
    monkeypatch.setattr(embedding, "_loading", [])
    app = AppContext(str(sqlite_path))
    start_models_early(app, "auto")
    assert embedding._loading == []  # no vectors
    connection = sqlite3.connect(sqlite_path)
    with connection:
        connection.execute(
            "INSERT INTO claim_vectors (statement_id, model, vector) VALUES (1, ?, x'00')",
            (embedding.MODEL,),
        )
    connection.close()
    start_models_early(app, "lexical")
    assert embedding._loading == []  # the lexical layer alone
    with click.Context(click.Command("match")):
        start_models_early(app, "auto")
        assert len(embedding._loading) == 1
        assert not embedding._loading[0].cancelled.is_set()
    assert embedding._loading[0].cancelled.is_set()  # cancelled when the command ends


def test_the_sqlite_join_reads_what_the_row_reader_reads(engine: Any) -> None:
    from test_match_vectors import _claims, _random_vectors, _store

    from factdb.match import semantic

    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's own reader")
    ids = _claims(engine)
    _store(engine, {i: raw for i, (_, raw) in _random_vectors(ids[::2]).items()})
    _store(engine, {i: b"\1" for i in ids[1::2]}, model="other-v1")  # interleaved, skipped
    with Session(engine) as session:
        driver = session.connection().connection.dbapi_connection
        assert semantic._utf8(driver)
        joined = list(semantic._sqlite_blocks(driver, 2))
        rows = list(semantic._cursor_blocks(session, driver, 2))
    assert [b.tolist() for b, _ in joined] == [b.tolist() for b, _ in rows]
    assert [raw for _, raw in joined] == [raw for _, raw in rows]
    assert [i for b, _ in joined for i in b.tolist()] == sorted(ids[::2])


def test_a_utf16_database_is_read_row_by_row(tmp_path: Path) -> None:
    from sqlalchemy import create_engine

    from factdb.match import semantic

    path = tmp_path / "utf16.db"
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA encoding = 'UTF-16le'")
    connection.execute(
        "CREATE TABLE claim_vectors (statement_id INTEGER PRIMARY KEY, "
        "model VARCHAR(100) NOT NULL, vector BLOB NOT NULL)"
    )
    vector = bytes(range(128)) * (embedding.DIM // 128)
    with connection:
        connection.execute("INSERT INTO claim_vectors VALUES (7, ?, ?)", (embedding.MODEL, vector))
    connection.close()
    engine = create_engine(f"sqlite:///{path}")
    with Session(engine) as session:
        assert not semantic._utf8(session.connection().connection.dbapi_connection)
        index = semantic.load_vectors(session)
    engine.dispose()
    assert index.ids.tolist() == [7] and index.blocks[0].tobytes() == vector
