"""Claim content keys: migration 0003 shortens them to 64 bits (and back), and a collision of
two different claims on one key is refused with a clear error, never merged (both backends)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

import factdb.io.loader as loader
import factdb.services.claims as claims
from factdb.dates import format_partial
from factdb.textkeys import CONTENT_KEY_DIGITS, content_identity, content_key


def _identity_0002(speaker_id: int, text: str, said: str | None) -> tuple[int, str, str]:
    """content_identity as revisions 0001-0006 computed it (0007 added look-alikes)."""
    normalised = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text).casefold()).strip()
    return speaker_id, normalised, said or ""


def _keys(
    engine: Engine, identity_of: Callable[..., tuple[int, str, str]] = content_identity
) -> dict[int, tuple[str, str]]:
    """id -> (stored key, full 40-digit SHA-1 computed from the claim)."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT id, speaker_id, text, said_on, said_precision, content_key FROM statements"
            )
        ).all()
    keys = {}
    for row_id, speaker_id, body, said_on, precision, key in rows:
        if isinstance(said_on, str):  # SQLite hands dates back as text on a plain connection
            said_on = dt.date.fromisoformat(said_on)
        identity = identity_of(speaker_id, body, format_partial(said_on, precision))
        full = hashlib.sha1("\x1f".join(map(str, identity)).encode()).hexdigest()
        keys[row_id] = (key, full)
    return keys


def test_migration_0003_shortens_keys_and_downgrade_restores_them(run: Any, engine: Engine) -> None:
    assert run("seed").exit_code == 0
    seeded = _keys(engine)
    assert len(seeded) >= 16
    # at head the stored keys are the short ones data entry computes
    assert all(key == full[:CONTENT_KEY_DIGITS] for key, full in seeded.values())
    assert run("db", "downgrade", "0002_fts").exit_code == 0
    # the 40-digit keys again, by the rule of revisions 0001/0002
    assert all(key == full for key, full in _keys(engine, _identity_0002).values())
    assert run("db", "upgrade").exit_code == 0
    assert _keys(engine) == seeded
    # and the seed still recognises every claim as already there
    result = run("seed")
    assert result.exit_code == 0


def test_data_entry_refuses_a_different_claim_with_a_colliding_key(
    run: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(claims, "content_key", lambda *args: "0" * CONTENT_KEY_DIGITS)
    first = run("claim", "add", "The sky is green", "--speaker", "Ann Example", "--new-speaker")
    assert first.exit_code == 0, first.output
    again = run("claim", "add", "The sky is green", "--speaker", "Ann Example")
    assert again.exit_code == 1 and "identical claim" in again.stderr
    other = run("claim", "add", "Water is dry", "--speaker", "Ann Example")
    assert other.exit_code == 1
    assert other.stderr.strip().splitlines() == [
        "Error: cannot store this claim: its content key equals that of claim 1, which is a "
        "different claim (a 64-bit key collision); please report this"
    ]


def test_import_refuses_a_different_claim_with_a_colliding_key(
    run: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.setattr(loader, "clean_content_key", lambda *args: "f" * CONTENT_KEY_DIGITS)
    path = tmp_path / "c.jsonl"
    rows = [
        {"text": "The sky is green", "speaker": "Ann Example"},
        {"text": "The sky is green", "speaker": "Ann Example", "verdict": "False"},
        {"text": "Water is dry", "speaker": "Ann Example"},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    result = run("import", str(path))
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "Error: c.jsonl, line 3: cannot store this claim: its content key equals that of claim "
        "1, which is a different claim (a 64-bit key collision); please report this"
    ]
    assert run("claim", "list").stdout.count("sky") == 0  # all or nothing


@pytest.mark.parametrize("said", [None, "2021", "2021-10", "2021-10-18"])
def test_keys_are_short_hex(said: str | None) -> None:
    key = content_key(7, "Some words", said)
    assert len(key) == CONTENT_KEY_DIGITS and int(key, 16) >= 0


def _row_counts(engine: Engine) -> dict[str, int]:
    tables = ("statements", "attributions", "status_events", "verdicts", "statement_links")
    with engine.connect() as conn:
        return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in tables}


def test_migration_0005_makes_the_key_an_index_and_keeps_every_row(
    run: Any, engine: Engine
) -> None:
    """SQLite rebuilds the statements table: nothing that references a claim may be lost (with
    foreign keys enforced, dropping the old table would cascade), views and triggers stay."""
    from sqlalchemy import inspect

    assert run("seed").exit_code == 0
    assert run("claim", "verdict", "1", "False", "--by", "Desk").exit_code == 0
    counts = _row_counts(engine)
    assert all(counts.values())
    found = run("search", "baseless").output

    def unique_key() -> tuple[bool, bool]:
        """(a unique index on content_key, a unique constraint on it)"""
        inspector = inspect(engine)
        index = any(
            i["unique"] and i["column_names"] == ["content_key"]
            for i in inspector.get_indexes("statements")
            if not i.get("duplicates_constraint")  # PostgreSQL lists a constraint's index too
        )
        constraint = any(
            c["column_names"] == ["content_key"]
            for c in inspector.get_unique_constraints("statements")
        )
        return index, constraint

    assert unique_key() == (True, False)
    assert run("db", "downgrade", "0004_fts_external_content").exit_code == 0
    assert unique_key() == (False, True)
    assert _row_counts(engine) == counts
    assert run("db", "upgrade").exit_code == 0
    assert unique_key() == (True, False)
    assert _row_counts(engine) == counts
    assert run("search", "baseless").output == found  # the search index and its triggers work
    assert run("db", "check").exit_code == 0
    # the index still refuses a repeated claim
    again = run("seed")
    assert again.exit_code == 0 and "16 unchanged" in again.output
