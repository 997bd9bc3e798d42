"""``factdb story new|load|export`` through the CLI on real SQLite databases."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import tomllib
from pathlib import Path

from conftest import FactdbRunner

from factdb.stories.template import TEMPLATE

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seeds" / "000_nato_russia_2021.toml"


def dump(path: Path) -> list[str]:
    """Every row of a SQLite database, for 'nothing was written' checks."""
    conn = sqlite3.connect(path)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def test_story_new_writes_the_template_and_refuses_to_overwrite(
    run_sqlite: FactdbRunner, tmp_path: Path
) -> None:
    target = tmp_path / "story.toml"
    assert run_sqlite("story", "new", str(target)).exit_code == 0
    assert target.read_text(encoding="utf-8") == TEMPLATE
    target.write_text("mine", encoding="utf-8")
    refused = run_sqlite("story", "new", str(target))
    assert refused.exit_code == 1
    assert refused.stderr.strip() == f"Error: {target} already exists (use --force to overwrite it)"
    assert target.read_text(encoding="utf-8") == "mine"
    assert run_sqlite("story", "new", str(target), "--force").exit_code == 0
    assert target.read_text(encoding="utf-8") == TEMPLATE
    assert run_sqlite("story", "new").stdout == TEMPLATE
    assert run_sqlite("story", "new", "-").stdout == TEMPLATE


def test_template_explains_every_key_of_the_format() -> None:
    from factdb.stories import spec

    for shape in (spec.STORY, spec.SPEAKER, spec.SOURCE, spec.CLAIM, *spec.CLAIM_ITEMS.values()):
        for key in shape:
            assert re.search(rf"\b{key}\b", TEMPLATE), key
    tomllib.loads(TEMPLATE)


def test_template_loads_then_reloads_unchanged_then_edits_apply(
    run_sqlite: FactdbRunner, tmp_path: Path, sqlite_path: Path
) -> None:
    story = tmp_path / "story.toml"
    story.write_text(TEMPLATE, encoding="utf-8")
    dry = run_sqlite("story", "load", str(story), "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert dry.stderr.startswith("dry run (nothing written): loaded: 2 claims added")
    assert json.loads(run_sqlite("claim", "list", "--format", "json").stdout) == []
    first = run_sqlite("story", "load", str(story))
    assert "loaded: 2 claims added, 0 unchanged" in first.stderr
    before = dump(sqlite_path)
    again = run_sqlite("story", "load", str(story))
    assert "0 claims added, 2 unchanged" in again.stderr
    assert dump(sqlite_path) == before
    edited = TEMPLATE.replace("are baseless.", "are baseless and absurd.").replace(
        '{ source = "Associated Press", role = "reported_by", verb = "claimed" },',
        '{ source = "Associated Press", role = "reported_by", verb = "claimed" },\n'
        '  { source = "AFP via Getty Images", role = "photo_credit" },\n]\n'
        'status = [\n  { status = "disputed", on = "2021-10-19" },',
    )
    story.write_text(edited, encoding="utf-8")
    result = run_sqlite("story", "load", str(story))
    assert result.exit_code == 0, result.stderr
    lines = result.stderr.splitlines()
    assert "  claim 'moscow-denies-accusation' (2): text changed" in lines
    assert (
        "  claim 'moscow-denies-accusation' (2): attribution added "
        "(AFP via Getty Images, photo_credit)" in lines
    )
    assert "  claim 'moscow-denies-accusation' (2): status 'disputed' on 2021-10-19 added" in lines
    shown = json.loads(run_sqlite("claim", "show", "2", "--format", "json").stdout)
    assert shown["text"].endswith("are baseless and absurd.")
    assert shown["status"] == "disputed"
    assert [a["source"]["name"] for a in shown["attributions"]] == [
        "Associated Press",
        "AFP via Getty Images",
    ]


def test_every_problem_is_reported_with_its_line_and_nothing_is_written(
    run_sqlite: FactdbRunner, tmp_path: Path, sqlite_path: Path
) -> None:
    run_sqlite("story", "load", str(SEED))
    bad = (
        TEMPLATE.replace('verb = "accused"', 'verb = "accused" }, { source = "Reuters"')
        .replace('role = "reported_by", verb = "claimed"', 'role = "reporter", verb = "claimed"')
        .replace('said_on = "2021-10"\ncontext', 'said_on = "2021-02-30"\ncontext')
        .replace('status = "alleged"', 'status = "allegd"')
        .replace('speaker = "NATO"', 'speaker = "NATOO"')
        .replace('name = "Sergey Lavrov"', 'name = "Sergey Lavroff"')
        .replace('aliases = ["Сергей Лавров", "Sergei Lavrov"]', "")
    )
    path = tmp_path / "bad.toml"
    path.write_text(bad, encoding="utf-8")
    lines = bad.splitlines()

    def line_of(text: str) -> int:
        return next(i for i, line in enumerate(lines, start=1) if text in line and line[:1] != "#")

    before = dump(sqlite_path)
    result = run_sqlite("story", "load", str(path))
    assert result.exit_code == 1
    out = result.stderr.splitlines()
    assert out[0] == f"Error: story file {path}: 6 problems"
    expected = [
        (line_of('name = "Sergey Lavroff"'), "did you mean 'Sergey Lavrov'?"),
        (line_of('speaker = "NATOO"'), "unknown speaker 'NATOO'; did you mean 'NATO'?"),
        (line_of('"2021-02-30"'), "impossible date '2021-02-30'"),
        (line_of('"allegd"'), "unknown status 'allegd'; did you mean 'alleged'?"),
        (line_of('"Reuters"'), "unknown source 'Reuters'"),
        (line_of('"reporter"'), "unknown attribution role 'reporter'"),
    ]
    for number, message in expected:
        assert any(o.startswith(f"{path}:{number}: ") and message in o for o in out), (
            number,
            message,
            out,
        )
    assert "Traceback" not in result.output
    assert dump(sqlite_path) == before


def test_export_reads_back_and_keeps_the_comments_of_an_existing_file(
    run_sqlite: FactdbRunner, tmp_path: Path, sqlite_path: Path
) -> None:
    story = tmp_path / "story.toml"
    story.write_text(TEMPLATE, encoding="utf-8")
    run_sqlite("story", "load", str(story))
    run_sqlite("claim", "status", "2", "disputed", "--on", "2021-10-20")
    result = run_sqlite("story", "export", "--story", "nato-russia-2021", "-o", str(story))
    assert result.exit_code == 0, result.stderr
    text = story.read_text(encoding="utf-8")
    # the template's comments are all still there, and the new event is in the file
    for line in TEMPLATE.splitlines():
        if line.startswith("#"):
            assert line in text
    assert 'status = "disputed", on = "2021-10-20"' in text
    # a fresh database loading the merged file has what the first one has
    fresh = tmp_path / "fresh.db"
    shutil.copyfile(sqlite_path, fresh)
    other = FactdbRunner(str(tmp_path / "other.db"))
    assert other("init").exit_code == 0
    loaded = other("story", "load", str(story))
    assert loaded.exit_code == 0, loaded.stderr
    for claim_id in ("1", "2"):
        mine = json.loads(run_sqlite("claim", "show", claim_id, "--format", "json").stdout)
        theirs = json.loads(other("claim", "show", claim_id, "--format", "json").stdout)
        for record in (mine, theirs):
            for key in ("created_at", "updated_at"):
                record.pop(key)
        assert theirs == mine


def test_export_selection_by_speaker_to_stdout(run_sqlite: FactdbRunner) -> None:
    run_sqlite("init", "--seed")
    result = run_sqlite("story", "export", "--speaker", "Sergey Lavrov")
    assert result.exit_code == 0
    data = tomllib.loads(result.stdout)
    assert {c["speaker"] for c in data["claims"]} == {"Sergey Lavrov"}
    assert len(data["claims"]) == 5
    # whom Lavrov acts for comes along, so the file loads on its own
    assert [s["name"] for s in data["speakers"]] == [
        "Russian government",
        "Russian Foreign Ministry",
        "Sergey Lavrov",
    ]
    assert "Warning: 2 links to claims outside the selection left out" in result.stderr


def test_story_outputs_never_overwrite_the_database(
    run_sqlite: FactdbRunner, sqlite_path: Path
) -> None:
    """``story new --force`` and ``story export -o`` are output options like any other: the
    database and its side files are refused, however spelt (issue 12)."""
    original = sqlite_path.read_bytes()
    for args in (
        ("story", "new", str(sqlite_path), "--force"),
        ("story", "export", "-o", str(sqlite_path)),
        ("story", "new", str(sqlite_path) + "-wal", "--force"),
    ):
        result = run_sqlite(*args)
        assert result.exit_code == 1, args
        assert result.stderr.startswith("Error: refusing to write"), result.stderr
    assert sqlite_path.read_bytes() == original


def test_a_story_load_is_in_the_audit_log(run_sqlite: FactdbRunner, tmp_path: Path) -> None:
    """New claims of a story arrive by bulk inserts: one audit entry names them, as for an
    import; an edit on a later load is logged like any other change."""
    story = tmp_path / "story.toml"
    assert run_sqlite("story", "new", str(story)).exit_code == 0
    assert run_sqlite("story", "load", str(story)).exit_code == 0
    entries = json.loads(run_sqlite("log", "--format", "json").stdout)
    imports = [e for e in entries if e["action"] == "import"]
    assert len(imports) == 1
    after = imports[0]["after"]
    assert (after["first_claim_id"], after["last_claim_id"], after["claims added"]) == (1, 2, 2)
