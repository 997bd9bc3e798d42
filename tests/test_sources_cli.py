"""``factdb source …`` through the real CLI (CliRunner) on real database files."""

from __future__ import annotations

import gc
import json
import sqlite3
from pathlib import Path

import pytest

from factdb.cli.source import KINDS
from factdb.models import SOURCE_KINDS

AP_URL = "https://apnews.com/article/russia-nato"


def settle(db: Path) -> None:
    """Close earlier commands' pooled connections and fold the WAL into the file, so that its
    bytes change only if a command writes (a late close would checkpoint and change them)."""
    gc.collect()
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def one_error(result, code: int = 1) -> str:  # type: ignore[no-untyped-def]
    """The single ``Error: …`` line of a failed command."""
    assert result.exit_code == code, (result.exit_code, result.output)
    lines = result.stderr.strip().splitlines()
    assert lines and lines[-1].startswith("Error: "), result.stderr
    if code == 1:
        assert len(lines) == 1, result.stderr
    return lines[-1]


@pytest.fixture
def ap(run):  # type: ignore[no-untyped-def]
    ok = run(
        "source",
        "add",
        "Associated Press",
        "--kind",
        "news_agency",
        "--url",
        AP_URL,
        "--title",
        "Russia cuts ties with NATO",
        "--published-on",
        "2021-10-18",
        "--credit",
        "Vladimir Isachenkov",
    )
    assert ok.exit_code == 0, ok.output
    assert "added source 1: Associated Press" in ok.stderr
    return run


def test_cli_kinds_are_the_models_kinds() -> None:
    assert KINDS == SOURCE_KINDS


def test_add_list_show(ap) -> None:  # type: ignore[no-untyped-def]
    ok = ap(
        "source",
        "add",
        "The Guardian",
        "--url",
        "https://g.example/1",
        "--based-on",
        AP_URL,
        "--published-on",
        "2021-10",
    )
    assert ok.exit_code == 0, ok.output
    rows = json.loads(ap("source", "list", "--format", "json").stdout)
    assert [(r["name"], r["published"], r["based_on"]) for r in rows] == [
        ("Associated Press", "2021-10-18", None),
        ("The Guardian", "2021-10", "Associated Press"),
    ]
    csv_out = ap("source", "list", "--kind", "news_agency", "--format", "csv").stdout
    assert csv_out.splitlines()[0] == "id,name,kind,title,url,published,credit,based_on,claims"
    assert len(csv_out.splitlines()) == 2
    assert "The Guardian" in ap("source", "list", "--name", "guard", "--fmt", "grid").stdout
    shown = ap("source", "show", "https://g.example/1")
    assert "based_on     Associated Press: Russia cuts ties with NATO (id 1)" in shown.stdout
    detail = json.loads(ap("source", "show", "1", "--format", "json").stdout)
    assert detail["credit"] == "Vladimir Isachenkov" and detail["based_on_it"] == [
        "The Guardian (id 2)"
    ]


def test_add_refusals(ap) -> None:  # type: ignore[no-untyped-def]
    line = one_error(ap("source", "add", "Asociated Press"))
    assert line == (
        "Error: source 'Asociated Press' is not known; did you mean 'Associated Press'? "
        "(use --force to create it anyway)"
    )
    assert "already exists" in one_error(ap("source", "add", "Other", "--url", AP_URL))
    assert "2021-02-30" in one_error(
        ap("source", "add", "Other", "--published-on", "2021-02-30"), code=2
    )
    assert one_error(ap("source", "add", "Other", "--kind", "blog"), code=2)
    assert ap("source", "add", "Asociated Press", "--force").exit_code == 0


def test_edit(ap) -> None:  # type: ignore[no-untyped-def]
    ok = ap("source", "edit", AP_URL, "--title", "", "--published-on", "2021", "--kind", "outlet")
    assert ok.exit_code == 0, ok.output
    detail = json.loads(ap("source", "show", "1", "--format", "json").stdout)
    assert (detail["title"], detail["published"], detail["kind"]) == (None, "2021", "outlet")
    assert (
        ap("source", "add", "Reprint", "--url", "https://r.example", "--based-on", "1").exit_code
        == 0
    )
    assert "cycle" in one_error(ap("source", "edit", "1", "--based-on", "https://r.example"))
    assert "impossible date" in one_error(ap("source", "edit", "1", "--published-on", "2021-13"), 2)
    assert ap("source", "edit", "1").exit_code == 2
    assert ap("source", "edit", "https://r.example", "--no-based-on").exit_code == 0
    assert ap("source", "edit", "1", "--based-on", "https://r.example").exit_code == 0


def test_delete_refused_then_cascade(ap) -> None:  # type: ignore[no-untyped-def]
    added = ap(
        "claim",
        "add",
        "--speaker",
        "Sergey Lavrov",
        "--source",
        "Associated Press",
        "--source-url",
        AP_URL,
        "We will respond.",
    )
    assert added.exit_code == 0, added.output
    line = one_error(ap("source", "delete", AP_URL))
    assert (
        "cannot delete source Associated Press" in line and "the attributions of 1 claim(s)" in line
    )
    done = ap("source", "delete", AP_URL, "--cascade")
    assert done.exit_code == 0 and "removed 1 attribution(s)" in done.stderr
    assert ap("claim", "show", "1").exit_code == 0
    assert json.loads(ap("source", "list", "--format", "json").stdout) == []


def test_refusals_change_nothing(run_sqlite, sqlite_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert run_sqlite("source", "add", "Associated Press", "--url", AP_URL).exit_code == 0
    assert run_sqlite("source", "add", "Outlet", "--based-on", AP_URL).exit_code == 0
    settle(sqlite_path)
    before = sqlite_path.read_bytes()
    for args in (
        ["source", "add", "Asociated Press"],
        ["source", "add", "Other", "--url", AP_URL],
        ["source", "delete", AP_URL],
        ["source", "edit", AP_URL, "--based-on", "Outlet"],
        ["source", "show", "Nowhere"],
    ):
        one_error(run_sqlite(*args))
        gc.collect()  # a refused command's connection closes now, not during a later check
        assert sqlite_path.read_bytes() == before, args


def test_an_id_past_any_possible_id_is_a_name_not_a_crash(run) -> None:  # type: ignore[no-untyped-def]
    """Digits too long for an integer (Python refuses more than 4300) or past 64 bits name
    no row: one error line, like any unknown source or speaker."""
    for digits in ("0" * 5000, "9" * 30):
        for command in (("source", "show", digits), ("speaker", "show", digits)):
            result = run(*command)
            assert result.exit_code == 1, command
            assert len(result.stderr.strip().splitlines()) == 1
            assert result.stderr.startswith(("Error: unknown ", "Error: no "))
