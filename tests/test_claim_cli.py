"""Thin CLI tests for ``factdb claim …`` and ``factdb status …`` with CliRunner on real databases.

Bad input: each case gives exactly one ``Error:`` line on stderr, nothing on stdout, the right
exit status, and leaves the SQLite file byte-for-byte as it was.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import shutil
import sqlite3
import types
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from factdb.text import clean_text

ACCUSATION = "Eight members of Russia's mission were undeclared intelligence officers."


def add_story(run) -> None:  # type: ignore[no-untyped-def]
    """Claim 1 (NATO, alleged 2021-10-06, denied 2021-10-07) and claim 2 (Moscow's denial)."""
    result = run(
        "claim", "add", ACCUSATION, "--speaker", "NATO", "--speaker-kind", "organisation",
        "--said-on", "2021-10-06", "--status", "alleged", "--tag", "nato",
        "--via", "Associated Press; kind=news_agency; verb=accused; role=reported_by",
        "--via", "Example Times; url=https://example.com/a; verb=said; role=published_by",
    )  # fmt: skip
    assert (result.exit_code, result.stdout, result.stderr) == (
        0,
        "added claim 1\n",
        "new speaker 'NATO' (organisation)\n"
        "new source 'Associated Press' (news agency)\n"
        "new source 'Example Times' (outlet)\n",
    )
    result = run(
        "claim", "add", "--text", "The accusation is baseless.", "--speaker",
        "Russian Foreign Ministry", "--speaker-kind", "organisation", "--said-on", "2021-10-07",
    )  # fmt: skip
    assert result.stdout == "added claim 2\n"
    result = run("claim", "status", "1", "denied", "--on", "2021-10-07", "--evidence-claim", "2")
    assert result.stdout == "claim 1: denied from 2021-10-07; current status: denied\n"
    result = run("claim", "link", "2", "denies", "1", "--on", "2021-10-07")
    assert result.stdout == "linked: claim 2 denies claim 1 (link 1)\n"


def test_add_list_show(run) -> None:  # type: ignore[no-untyped-def]
    add_story(run)
    result = run("claim", "list", "--format", "csv")
    assert result.exit_code == 0
    assert result.stdout == (
        "id,said_on,speaker,status,verdict,text\n"
        f"1,2021-10-06,NATO,denied,,{ACCUSATION}\n"
        "2,2021-10-07,Russian Foreign Ministry,,,The accusation is baseless.\n"
    )
    show = run("claim", "show", "1")
    assert show.exit_code == 0
    out = show.stdout
    for expected in (
        "speaker     NATO",
        "status      denied (Denied)",
        "Attribution chain:",
        "reported by",
        "accused",
        "Associated Press",
        "published by",
        "https://example.com/a",
        "Status history:",
        "2021-10-06   alleged",
        "2021-10-07   denied",
        "claim 2",
        "Links:",
        "claim 2 denies this",
        "Russian Foreign Ministry: The accusation is baseless.",
    ):
        assert expected in out, expected
    detail = json.loads(run("claim", "show", "1", "--format", "json").stdout)
    assert detail["text"] == ACCUSATION
    assert [e["status"] for e in detail["status_history"]] == ["alleged", "denied"]
    assert detail["links"]["incoming"][0]["claim_id"] == 2
    denial = json.loads(run("claim", "show", "2", "--format", "json").stdout)
    assert denial["links"]["outgoing"][0]["relation"] == "denies"


def test_as_of_listing(run) -> None:  # type: ignore[no-untyped-def]
    """Alleged on 2021-10-06, denied on 2021-10-07: --as-of shows each day's status."""
    add_story(run)

    def status_on(day: str) -> str:
        result = run("claim", "list", "--as-of", day, "--format", "json")
        return next(r["status"] for r in json.loads(result.stdout) if r["id"] == 1)

    assert status_on("2021-10-06") == "alleged"
    assert status_on("2021-10-07") == "denied"
    assert status_on("2022") == "denied"
    result = run("claim", "list", "--status", "alleged", "--as-of", "2021-10-06", "--format", "csv")
    assert [row["id"] for row in csv.DictReader(io.StringIO(result.stdout))] == ["1"]
    result = run("claim", "list", "--status", "denied", "--format", "jsonl")
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == [1]


def test_list_filters_and_truncation(run_sqlite) -> None:  # type: ignore[no-untyped-def]
    add_story(run_sqlite)
    long_text = "word " * 40
    assert run_sqlite("claim", "add", long_text, "--speaker", "NATO").exit_code == 0
    table = run_sqlite("claim", "list", "--speaker", "nato", "--fmt", "github").stdout
    assert "| id " in table and "…" in table and long_text.strip() not in table
    data = json.loads(run_sqlite("claim", "list", "--speaker", "NATO", "--format", "json").stdout)
    assert [r["text"] for r in data] == [long_text.strip(), ACCUSATION]
    assert run_sqlite("claim", "list", "--tag", "nato", "--format", "csv").stdout.count("\n") == 2
    result = run_sqlite("claim", "list", "--speaker", "Nobody Known")
    assert result.exit_code == 1 and result.stderr == "Error: unknown speaker 'Nobody Known'\n"
    result = run_sqlite("claim", "list", "--fmt", "no-such-style")
    assert result.exit_code == 2


def test_history_verdict_edit_delete(run_sqlite) -> None:  # type: ignore[no-untyped-def]
    add_story(run_sqlite)
    history = run_sqlite("claim", "history", "1", "--format", "csv").stdout.splitlines()
    assert history[0] == (
        "effective_on,status,note,evidence_source,evidence_claim,recorded_at,recorded_by,"
        "event,withdrawn,withdrawn_at,withdrawn_by,withdrawn_note"
    )
    assert [line.split(",")[:2] for line in history[1:]] == [
        ["2021-10-06", "alleged"],
        ["2021-10-07", "denied"],
    ]
    result = run_sqlite(
        "claim", "verdict", "1", "pants-fire", "--by", "PolitiFact", "--on", "2021-11"
    )
    assert result.stdout == "added verdict 1 to claim 1: pants-fire (false)\n"
    result = run_sqlite("claim", "verdict", "1", "Four Pinocchios", "--by", "WaPo")
    assert result.stdout == "added verdict 2 to claim 1: Four Pinocchios (other)\n"
    result = run_sqlite("claim", "list", "--verdict", "false", "--format", "csv")
    assert result.stdout.splitlines()[1].startswith("1,2021-10-06,NATO,denied,pants-fire,")
    result = run_sqlite("claim", "edit", "2", "--text", "Baseless!", "--tag", "russia")
    assert result.stdout == "updated claim 2\n"
    assert json.loads(run_sqlite("claim", "show", "2", "--format", "json").stdout)["tags"] == [
        "russia"
    ]
    assert run_sqlite("claim", "edit", "2").exit_code == 2
    result = run_sqlite("claim", "delete", "1")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: claim 1 is referred to by: link 1 (claim 2 denies it); "
        "use --cascade to remove these references too\n"
    )
    assert run_sqlite("claim", "delete", "1", "--cascade").stdout == "deleted claim 1\n"
    assert run_sqlite("claim", "delete", "2").stdout == "deleted claim 2\n"
    assert run_sqlite("claim", "list", "--format", "csv").stdout == (
        "id,said_on,speaker,status,verdict,text\n"
    )


def test_duplicate_and_near_match(run_sqlite) -> None:  # type: ignore[no-untyped-def]
    add_story(run_sqlite)
    result = run_sqlite(
        "claim", "add", ACCUSATION.upper(), "--speaker", "nato", "--said-on", "2021-10-06"
    )
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: an identical claim by the same speaker already exists: claim 1\n"
    )
    assert run_sqlite("claim", "add", "Hello", "--speaker", "Sergey Lavrov").exit_code == 0
    result = run_sqlite("claim", "add", "Hello again", "--speaker", "Sergei Lavrov")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: speaker 'Sergei Lavrov' is not known; did you mean 'Sergey Lavrov'? "
        "(use --new-speaker to create it anyway)\n"
    )
    result = run_sqlite(
        "claim", "add", "Hello again", "--speaker", "Sergei Lavrov", "--new-speaker"
    )
    assert result.stdout == "added claim 4\n"


def test_missing_text_or_speaker_in_a_script_is_a_usage_error(run_sqlite) -> None:  # type: ignore[no-untyped-def]
    result = run_sqlite("claim", "add", "--speaker", "NATO", input="")
    assert result.exit_code == 2 and "missing TEXT" in result.stderr
    result = run_sqlite("claim", "add", "Some text", input="NATO\n")
    assert result.exit_code == 2 and "missing --speaker" in result.stderr
    result = run_sqlite("claim", "add", "a", "--text", "b", "--speaker", "NATO")
    assert result.exit_code == 2
    result = run_sqlite("claim", "add", "a", "--speaker", "NATO", "--verb", "said")
    assert result.exit_code == 2 and "ambiguous: 0 --source but 1 --verb" in result.stderr


def test_missing_text_and_speaker_are_prompted_at_a_terminal(run_sqlite, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import factdb.cli.claim as claim_module

    terminal = types.SimpleNamespace(stdin=types.SimpleNamespace(isatty=lambda: True))
    monkeypatch.setattr(claim_module, "sys", terminal)
    result = run_sqlite("claim", "add", input="Prompted text\nNATO\n")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.endswith("added claim 1\n")
    data = json.loads(run_sqlite("claim", "show", "1", "--format", "json").stdout)
    assert (data["text"], data["speaker"]["name"]) == ("Prompted text", "NATO")


def test_status_vocabulary_commands(run) -> None:  # type: ignore[no-untyped-def]
    result = run("status", "add", "partly-confirmed", "Partly confirmed", "--description", "Some")
    assert result.stdout == "added status partly_confirmed\n"
    listing = run("status", "list", "--format", "csv").stdout.splitlines()
    assert "partly_confirmed,Partly confirmed,no,Some" in listing
    assert "confirmed,Confirmed,yes,Established by evidence or admission." in listing
    result = run("status", "add", "partly_confirmed", "Again")
    assert (result.exit_code, result.stderr) == (
        1,
        "Error: status 'partly_confirmed' already exists\n",
    )
    assert run("claim", "add", "x", "--speaker", "NATO", "--said-on", "2021").exit_code == 0
    assert run("claim", "status", "1", "partly_confirmed", "--on", "2021-05").exit_code == 0


# --- bad input: one line, right exit code, database untouched -------------------------------


def db_state(path: Path) -> tuple[str, int]:
    """The main file's hash after a checkpoint, and the -wal size left (0 or absent)."""
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    wal = path.with_name(path.name + "-wal")
    return hashlib.sha256(path.read_bytes()).hexdigest(), wal.stat().st_size if wal.exists() else 0


BAD_INPUT = [
    (["claim", "status", "1", "debunked", "--on", "2021-10-08"], "unknown status 'debunked'"),
    (["claim", "add", "x", "--speaker", "NATO", "--status", "bogus"], "unknown status 'bogus'"),
    (["claim", "add", "x", "--speaker", "NATO", "--said-on", "2021-02-30"], "impossible date"),
    (["claim", "add", "x", "--speaker", "NATO", "--said-on", "06/10/2021"], "malformed date"),
    (["claim", "add", "x", "--speaker", "NATO", "--said-on", "2021-13"], "impossible date"),
    (["claim", "status", "1", "denied", "--on", "2021-02-30"], "impossible date"),
    (["claim", "link", "1", "denies", "2", "--on", "yesterday"], "malformed date"),
    (["claim", "verdict", "1", "False", "--on", "2021-02-30"], "impossible date"),
    (["claim", "add", "", "--speaker", "NATO"], "a claim text cannot be empty"),
    (["claim", "add", " \n\t ", "--speaker", "NATO"], "a claim text cannot be empty"),
    (["claim", "edit", "1", "--text", ""], "a claim text cannot be empty"),
    (["claim", "show", "99"], "no claim with id 99"),
    (["claim", "history", "99"], "no claim with id 99"),
    (["claim", "status", "99", "denied", "--on", "2021-10-08"], "no claim with id 99"),
    (["claim", "link", "1", "denies", "99"], "no claim with id 99"),
    (["claim", "edit", "99", "--text", "x"], "no claim with id 99"),
    (["claim", "delete", "99"], "no claim with id 99"),
    (["claim", "verdict", "99", "False"], "no claim with id 99"),
    (["claim", "link", "1", "denies", "1"], "a claim cannot be linked to itself"),
    (["claim", "link", "2", "denies", "1"], "claim 2 already denies claim 1"),
    (["claim", "link", "2", "refutes", "1"], "unknown link relation 'refutes'"),
    (["claim", "status", "1", "denied", "--on", "2021-10-05"], "before claim 1 was made"),
    (["claim", "status", "1", "denied", "--on", "2021-09"], "before claim 1 was made"),
    (["claim", "add", "x", "--speaker", "Nobody", "--no-create"], "unknown speaker 'Nobody'"),
    (["claim", "add", ACCUSATION, "--speaker", "NATO", "--said-on", "2021-10-06"], "claim 1"),
    (["claim", "delete", "1"], "is referred to by: link 1"),
    (["claim", "add", "x", "--speaker", "NATO", "--quote-kind", "rumour"], "unknown quote kind"),
    (["status", "add", "alleged", "Alleged again"], "already exists"),
]


@pytest.fixture(scope="module")
def story_file(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Path:
    """The story database, built once for the bad-input cases (each works on a copy)."""
    from conftest import FactdbRunner

    path = tmp_path_factory.mktemp("story") / "story.db"
    shutil.copyfile(sqlite_template, path)
    add_story(FactdbRunner(str(path)))
    db_state(path)
    return path


@pytest.mark.parametrize(("args", "message"), BAD_INPUT, ids=[" ".join(a) for a, _ in BAD_INPUT])
def test_bad_input_is_one_line_and_changes_nothing(
    story_file: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    from conftest import FactdbRunner

    path = tmp_path / "factdb.db"
    shutil.copyfile(story_file, path)
    before = db_state(path)
    result = FactdbRunner(str(path))(*args)
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0], lines
    assert db_state(path) == before


def test_status_before_the_claim_is_documented_as_refused() -> None:
    from factdb.cli.claim import status
    from factdb.services import statuses

    assert "before the claim was made" in (statuses.__doc__ or "")
    assert "refused" in (status.help or "")


# --- any Unicode text survives add → list/show → JSON ---------------------------------------

TEXTS = st.one_of(
    st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=200),
    st.text(st.sampled_from("Сергей Лавров «НАТО» عربي مرحبا 😀👍🏽 \"'’ \n\t—…"), min_size=1),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=2000, max_size=6000),
)


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=TEXTS)
def test_any_unicode_text_survives_add_list_show_json(run_sqlite, text: str) -> None:  # type: ignore[no-untyped-def]
    """What is stored and shown is exactly the cleaned text (NFC, spaces collapsed per line,
    ends trimmed): nothing else is lost or altered on the way through JSON."""
    expected = clean_text(text)
    if not expected:
        result = run_sqlite("claim", "add", f"--text={text}", "--speaker", "NATO")
        assert result.exit_code == 1 and "cannot be empty" in result.stderr
        return
    # a unique date per example keeps repeated texts from being duplicates of each other
    test_any_unicode_text_survives_add_list_show_json.counter += 1  # type: ignore[attr-defined]
    day = dt.date(1900, 1, 1) + dt.timedelta(
        days=test_any_unicode_text_survives_add_list_show_json.counter
    )  # type: ignore[attr-defined]
    result = run_sqlite(
        "claim", "add", f"--text={text}", "--speaker", "NATO", "--said-on", str(day)
    )
    assert result.exit_code == 0, result.stderr
    claim_id = int(result.stdout.split()[-1])
    shown = json.loads(run_sqlite("claim", "show", str(claim_id), "--format", "json").stdout)
    assert shown["text"] == expected
    listed = run_sqlite(
        "claim", "list", "--since", str(day), "--until", str(day), "--format", "json"
    )
    assert [r["text"] for r in json.loads(listed.stdout)] == [expected]
    if expected == text:
        assert shown["text"] == text


test_any_unicode_text_survives_add_list_show_json.counter = 0  # type: ignore[attr-defined]


def test_db_state_sees_a_committed_change(story_file: Path, tmp_path: Path) -> None:
    """Control for the bad-input test: a successful command does change the file."""
    from conftest import FactdbRunner

    path = tmp_path / "factdb.db"
    shutil.copyfile(story_file, path)
    before = db_state(path)
    assert (
        FactdbRunner(str(path))("claim", "status", "1", "disputed", "--on", "2021-10-08").exit_code
        == 0
    )
    assert db_state(path) != before
