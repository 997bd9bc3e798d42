"""``factdb speaker …`` through the real CLI (CliRunner) on real database files."""

from __future__ import annotations

import csv
import gc
import io
import json
import sqlite3
from pathlib import Path

import pytest


def settle(db: Path) -> None:
    """Close earlier commands' pooled connections and fold the WAL into the file, so that its
    bytes change only if a command writes (a late close would checkpoint and change them)."""
    gc.collect()
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def one_error(result) -> str:  # type: ignore[no-untyped-def]
    """The single ``Error: …`` line of a failed command (exit 1)."""
    assert result.exit_code == 1, (result.exit_code, result.output)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    return lines[0]


@pytest.fixture
def lavrov(run):  # type: ignore[no-untyped-def]
    """The ministry ("Moscow") and Lavrov acting for it, entered through the CLI."""
    ok = run(
        "speaker", "add", "Russian Foreign Ministry", "--kind", "organisation", "--alias", "Moscow"
    )
    assert ok.exit_code == 0, ok.output
    ok = run(
        "speaker",
        "add",
        "Sergey Lavrov",
        "--role",
        "Foreign Minister",
        "--acts-for",
        "moscow",
        "--alias",
        "Сергей Лавров",
        "--wikidata",
        "Q83487",
        "--external-id",
        "viaf=123",
    )
    assert ok.exit_code == 0, ok.output
    assert "added speaker" in ok.stderr and ok.stdout == ""
    return run


def test_near_match_refused_then_forced(lavrov) -> None:  # type: ignore[no-untyped-def]
    result = lavrov("speaker", "add", "Sergei Lavrov")
    assert one_error(result) == (
        "Error: speaker 'Sergei Lavrov' is not known; did you mean 'Sergey Lavrov'? "
        "(use --force to create it anyway)"
    )
    assert lavrov("speaker", "add", "Sergei Lavrov", "--force").exit_code == 0
    names = lavrov("speaker", "list", "--format", "jsonl").stdout.splitlines()
    assert [json.loads(n)["name"] for n in names] == [
        "Russian Foreign Ministry",
        "Sergei Lavrov",
        "Sergey Lavrov",
    ]


def test_list_formats_and_filters(lavrov) -> None:  # type: ignore[no-untyped-def]
    rows = json.loads(lavrov("speaker", "list", "--format", "json").stdout)
    assert rows[1] == {
        "id": rows[1]["id"],
        "name": "Sergey Lavrov",
        "kind": "person",
        "role": "Foreign Minister",
        "acts_for": "Russian Foreign Ministry",
        "aliases": "Сергей Лавров",
        "claims": 0,
    }
    table = lavrov("speaker", "list", "--name", "ЛАВРОВ", "--fmt", "github").stdout
    assert "| Sergey Lavrov" in table and "Ministry  |" not in table
    tsv = lavrov("speaker", "list", "--kind", "organisation", "--format", "tsv").stdout
    assert list(csv.reader(io.StringIO(tsv), delimiter="\t"))[1][1] == "Russian Foreign Ministry"
    bad = lavrov("speaker", "list", "--fmt", "nonsense")
    assert bad.exit_code == 2 and "nonsense" in bad.stderr


def test_show(lavrov) -> None:  # type: ignore[no-untyped-def]
    shown = lavrov("speaker", "show", "сергей лавров")
    assert shown.exit_code == 0
    assert "acts_for       Russian Foreign Ministry" in shown.stdout
    assert "viaf=123; wikidata=Q83487" in shown.stdout
    detail = json.loads(lavrov("speaker", "show", "Moscow", "--format", "json").stdout)
    assert detail["acting_for_it"] == ["Sergey Lavrov"] and detail["aliases"] == ["Moscow"]
    assert "unknown speaker 'Nobody'" in one_error(lavrov("speaker", "show", "Nobody"))


def test_edit_and_alias(lavrov) -> None:  # type: ignore[no-untyped-def]
    assert (
        lavrov(
            "speaker",
            "edit",
            "Sergey Lavrov",
            "--role",
            "",
            "--no-acts-for",
            "--external-id",
            "viaf=",
            "--notes",
            "FM since 2004",
        ).exit_code
        == 0
    )
    detail = json.loads(lavrov("speaker", "show", "Sergey Lavrov", "--format", "json").stdout)
    assert detail["role"] is None and detail["acts_for"] is None
    assert detail["external_ids"] == {"wikidata": "Q83487"}
    assert detail["notes"] == "FM since 2004"
    assert "cycle" in one_error(lavrov("speaker", "edit", "Moscow", "--acts-for", "Moscow"))
    nothing = lavrov("speaker", "edit", "Moscow")
    assert nothing.exit_code == 2
    assert lavrov("speaker", "alias", "add", "Sergey Lavrov", "S. Lavrov", "Lavrov").exit_code == 0
    assert json.loads(lavrov("speaker", "show", "lavrov", "--format", "json").stdout)["name"] == (
        "Sergey Lavrov"
    )
    assert "already used" in one_error(lavrov("speaker", "alias", "add", "Moscow", "lavrov"))
    assert lavrov("speaker", "alias", "remove", "Sergey Lavrov", "lavrov").exit_code == 0
    assert "no alias" in one_error(lavrov("speaker", "alias", "remove", "Sergey Lavrov", "lavrov"))


def test_merge_and_delete(lavrov) -> None:  # type: ignore[no-untyped-def]
    assert lavrov("speaker", "add", "Sergei Lavrov", "--force").exit_code == 0
    assert lavrov("claim", "add", "--speaker", "Sergei Lavrov", "Contacts continue.").exit_code == 0
    merged = lavrov("speaker", "merge", "Sergei Lavrov", "Sergey Lavrov")
    assert merged.exit_code == 0, merged.output
    assert "1 claim(s) moved" in merged.stderr
    detail = json.loads(lavrov("speaker", "show", "Sergei Lavrov", "--format", "json").stdout)
    assert detail["name"] == "Sergey Lavrov" and detail["claims"] == 1
    assert "Sergei Lavrov" in detail["aliases"]
    refused = one_error(lavrov("speaker", "delete", "Sergey Lavrov"))
    assert "cannot delete speaker 'Sergey Lavrov': referred to by 1 claim(s)" in refused
    assert lavrov("speaker", "add", "Nobody Special").exit_code == 0
    assert lavrov("speaker", "delete", "nobody special").exit_code == 0


def test_refusals_change_nothing(run_sqlite, sqlite_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert run_sqlite("speaker", "add", "Sergey Lavrov").exit_code == 0
    assert (
        run_sqlite("claim", "add", "--speaker", "Sergey Lavrov", "We will respond.").exit_code == 0
    )
    settle(sqlite_path)
    before = sqlite_path.read_bytes()
    for args in (
        ["speaker", "add", "Sergei Lavrov"],
        ["speaker", "add", "sergey  LAVROV", "--force"],
        ["speaker", "delete", "Sergey Lavrov"],
        ["speaker", "merge", "Sergey Lavrov", "sergey lavrov"],
        ["speaker", "edit", "Sergey Lavrov", "--acts-for", "Sergey Lavrov"],
        ["speaker", "add", "X", "--external-id", "novalue"],
    ):
        one_error(run_sqlite(*args))
        gc.collect()  # a refused command's connection closes now, not during a later check
        assert sqlite_path.read_bytes() == before, args
