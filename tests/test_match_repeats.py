"""Probable repeats: claim add and import report them without refusing, and --repeats-of
records the link in one step."""

from __future__ import annotations

import csv
import json
from pathlib import Path

# a few rows of LIAR (Wang 2017): id, label, statement, subject, speaker
LIAR_ROWS = [
    (
        "2635.json",
        "false",
        "Says the Annies List political group supports third-trimester abortions on demand.",
        "abortion",
        "dwayne-bohac",
    ),
    (
        "10540.json",
        "half-true",
        "When did the decline of coal start? It started when natural "
        "gas took off that started to begin in (President George W.) Bushs administration.",
        "energy,history,job-accomplishments",
        "scott-surovell",
    ),
    (
        "324.json",
        "mostly-true",
        "Hillary Clinton agrees with John McCain by voting to give "
        "George Bush the benefit of the doubt on Iran.",
        "foreign-policy",
        "barack-obama",
    ),
]


def _liar_csv(path: Path, origin: str, reviewer: str) -> Path:
    """The LIAR rows as interchange CSV, as a desk converting LIAR would write them."""
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(
            ["text", "speaker", "tags", "verdict", "verdict_by", "origin", "external_id"]
        )
        for ext, label, statement, subject, speaker in LIAR_ROWS:
            writer.writerow([statement, speaker, subject, label, reviewer, origin, ext])
    return path


def test_importing_liar_twice_reports_the_repeats(run, tmp_path: Path) -> None:
    first = run("import", str(_liar_csv(tmp_path / "a.csv", "liar-train", "PolitiFact")))
    assert first.exit_code == 0 and "repeat" not in first.stderr
    # the same statements under another origin and speaker spelling: new claims, reported
    rows = (tmp_path / "a.csv").read_text().replace("liar-train", "liar-mirror")
    rows = rows.replace("dwayne-bohac", "Dwayne Bohac").replace("barack-obama", "Barack Obama")
    (tmp_path / "b.csv").write_text(rows)
    second = run("import", str(tmp_path / "b.csv"), "--origin", "liar-mirror")
    assert second.exit_code == 0, second.output
    # the row whose speaker is spelled alike is the same claim ("unchanged"); the other two
    # are added and reported
    notes = [line for line in second.stderr.splitlines() if line.startswith("note: claim")]
    assert len(notes) == 2
    assert "(score 1.00), rated false" in second.stderr
    assert "2 probably repeat recorded claims" in second.stderr.splitlines()[-1]


def test_claim_add_notes_a_repeat_and_links_it(run) -> None:
    run("seed")
    result = run(
        "claim",
        "add",
        "The eight Russian diplomats were secretly working as intelligence officers, NATO said.",
        "--speaker",
        "Oana Lungescu",
        "--repeats-of",
        "auto",
    )
    assert result.exit_code == 0, result.output
    assert "resembles claim" in result.stderr and "status denied" in result.stderr
    new_id = result.stdout.split()[-1]
    shown = run("claim", "show", new_id, "--format", "json")
    assert "repeats" in shown.stdout


def test_claim_add_without_resemblance_is_quiet_and_auto_link_refuses(run) -> None:
    run("seed")
    quiet = run("claim", "add", "Penguins can fly backwards.", "--speaker", "Someone")
    assert quiet.exit_code == 0 and "resembles" not in quiet.stderr
    refused = run("claim", "add", "Owls can swim.", "--speaker", "Someone", "--repeats-of", "auto")
    assert refused.exit_code == 1
    assert refused.stderr.startswith("Error: --repeats-of auto")
    listed = run("claim", "list", "--format", "json")
    assert "Owls" not in listed.stdout  # nothing half-written
    assert json.loads(listed.stdout)
