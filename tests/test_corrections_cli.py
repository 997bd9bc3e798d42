"""Thin CLI tests of corrections, the audit log and safer data entry (CliRunner, both
backends); the logic is tested without the CLI in test_corrections.py and test_audit.py."""

from __future__ import annotations

import datetime as dt
import json

ACCUSATION = "The eight Russian diplomats were secretly working as intelligence officers."


def _story(run) -> None:  # type: ignore[no-untyped-def]
    """Claim 1 (NATO, alleged, two sources) and claim 2 (Moscow's denial, linked)."""
    result = run(
        "--by", "alice", "claim", "add", ACCUSATION, "--speaker", "NATO", "--speaker-kind",
        "organisation", "--said-on", "2021-10-06", "--status", "alleged",
        "--via", "Associated Press; kind=news_agency; role=according_to; verb=said",
        "--via", "Example Times; role=published_by; url=https://example.com/a",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    result = run(
        "claim", "add", "The accusation is baseless.", "--speaker", "Russian government",
        "--speaker-kind", "organisation", "--said-on", "2021-10-07",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert run("claim", "link", "2", "denies", "1").exit_code == 0


def test_via_sets_each_source_and_ambiguity_is_refused(run) -> None:  # type: ignore[no-untyped-def]
    _story(run)
    record = json.loads(run("claim", "show", "1", "--format", "json").stdout)
    assert [(a["source"]["name"], a["role"], a["verb"]) for a in record["attributions"]] == [
        ("Associated Press", "according_to", "said"),
        ("Example Times", "published_by", None),
    ]
    result = run(
        "claim", "add", "x", "--speaker", "NATO", "--source", "Associated Press", "--verb",
        "denied", "--source", "Outlet", "--role", "published_by",
    )  # fmt: skip
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: ambiguous: 2 --source but 1 --verb")
    result = run("claim", "add", "x", "--speaker", "NATO", "--via", "AP", "--source", "AP")
    assert result.exit_code == 2 and "either with --via or with --source" in result.stderr
    result = run("claim", "add", "x", "--speaker", "NATO", "--via", "AP; role=author")
    assert result.exit_code == 2 and "unknown attribution role 'author'" in result.stderr
    assert run("claim", "list", "--format", "csv").stdout.count("\n") == 3  # nothing added


def test_new_names_and_short_forms(run) -> None:  # type: ignore[no-untyped-def]
    _story(run)
    result = run("claim", "add", "Ties are cut.", "--speaker", "Kremlin", "--via", "AFP")
    assert result.exit_code == 0
    assert result.stderr == (
        "new speaker 'Kremlin' (organisation? guessed from the name)\nnew source 'AFP' (outlet)\n"
    )
    result = run("claim", "add", "y", "--speaker", "NATO", "--via", "AP")
    assert result.exit_code == 1
    assert "did you mean 'Associated Press'? (use --new-source" in result.stderr
    assert run("source", "alias", "add", "Associated Press", "AP").exit_code == 0
    assert run("claim", "add", "y", "--speaker", "NATO", "--via", "AP").exit_code == 0
    shown = json.loads(run("source", "show", "AP", "--format", "json").stdout)
    assert shown["name"] == "Associated Press" and shown["aliases"] == ["AP"]


def test_source_corrections_and_log(run) -> None:  # type: ignore[no-untyped-def]
    _story(run)
    result = run("claim", "source", "add", "1", "AFP; role=photo_credit", "--at", "1")
    assert result.stdout == "claim 1: AFP added at position 1 (photo credit)\n"
    result = run("claim", "source", "move", "1", "1", "--to", "3")
    assert result.stdout == "claim 1: 1. Associated Press, 2. Example Times, 3. AFP\n"
    result = run("claim", "source", "remove", "1", "2")
    assert result.stdout == "claim 1: removed Example Times from position 2\n"
    result = run("claim", "source", "remove", "1", "5")
    assert result.exit_code == 1 and "no source at position 5" in result.stderr
    log = run("log", "1", "--table", "attributions", "--format", "json")
    entries = json.loads(log.stdout)
    assert [e["action"] for e in entries].count("delete") == 1
    assert {e["changed_by"] for e in entries if e["action"] == "insert"} >= {"alice"}


def test_withdraw_again_and_dates(run) -> None:  # type: ignore[no-untyped-def]
    _story(run)
    result = run("claim", "status", "1", "alleged", "--on", "2021-10-08")
    assert result.exit_code == 1 and "already 'alleged'; use --again" in result.stderr
    result = run("claim", "status", "1", "confirmed")
    today = dt.date.today().isoformat()
    assert result.stderr == f"no --on given: recorded it as of today, {today}\n"
    history = json.loads(run("claim", "history", "1", "--format", "json").stdout)
    event = history[-1]["event"]
    result = run("claim", "status", "1", "--withdraw", str(event))
    assert result.exit_code == 2 and "needs --note" in result.stderr
    result = run("--by", "bob", "claim", "status", "1", "--withdraw", str(event), "--note", "oops")
    assert result.stdout == (
        f"claim 1: status event {event} (confirmed) withdrawn; current status: alleged\n"
    )
    history = json.loads(run("claim", "history", "1", "--format", "json").stdout)
    assert (history[-1]["withdrawn_by"], history[-1]["withdrawn_note"]) == ("bob", "oops")
    sql = run("sql", "SELECT withdrawn_by FROM status_history WHERE withdrawn_at IS NOT NULL")
    assert "bob" in sql.stdout


def test_unlink_remove_verdict_thread(run) -> None:  # type: ignore[no-untyped-def]
    _story(run)
    thread = run("claim", "thread", "2", "--format", "json")
    rows = json.loads(thread.stdout)
    assert [(r["id"], r["status"], r["links"]) for r in rows] == [
        (1, "alleged", []),
        (2, None, ["denies 1"]),
    ]
    assert run("claim", "unlink", "2", "denies", "1").stdout == (
        "removed link 1: claim 2 denies claim 1\n"
    )
    assert run("claim", "unlink", "1").exit_code == 1
    assert run("claim", "verdict", "1", "False").exit_code == 0
    assert run("claim", "remove-verdict", "1", "--claim", "1").exit_code == 0
    record = json.loads(run("claim", "show", "1", "--format", "json").stdout)
    assert record["verdicts"] == [] and record["links"]["incoming"] == []


def test_delete_keeps_history_and_view(run) -> None:  # type: ignore[no-untyped-def]
    _story(run)
    assert run("claim", "delete", "1", "--cascade").exit_code == 0
    log = run("log", "--claim", "1", "--format", "csv").stdout
    assert ",delete,statements,1,1," in log
    result = run(
        "sql", "SELECT action, table_name FROM audit_log_view WHERE claim_id = 1 "
        "AND table_name = 'statements' ORDER BY entry_id", "--format", "csv",
    )  # fmt: skip
    assert result.stdout == "action,table_name\ninsert,statements\ndelete,statements\n"


def test_listing_options(run) -> None:  # type: ignore[no-untyped-def]
    _story(run)
    result = run("claim", "list", "--sort", "speaker", "--format", "csv")
    assert [line.split(",")[0] for line in result.stdout.splitlines()[1:]] == ["1", "2"]
    result = run("claim", "list", "--since", "2021-10-08", "--until", "2021-10-01")
    assert result.exit_code == 2 and "--since 2021-10-08 is after --until" in result.stderr


def test_missing_database_hint_names_the_db(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from click.testing import CliRunner

    from factdb.cli import cli

    missing = tmp_path / "nothere.db"
    result = CliRunner().invoke(cli, ["--db", str(missing), "claim", "list"])
    assert result.exit_code == 1
    assert f"create it with 'factdb --db {missing} init'" in result.stderr


def test_readme_glossary_is_the_vocabulary() -> None:
    """The README's role and quote-kind tables are factdb.vocab's, word for word."""
    from pathlib import Path

    from factdb.vocab import QUOTE_KIND_GLOSSARY, ROLE_GLOSSARY, glossary_markdown

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    assert glossary_markdown(ROLE_GLOSSARY) in readme
    assert glossary_markdown(QUOTE_KIND_GLOSSARY) in readme
