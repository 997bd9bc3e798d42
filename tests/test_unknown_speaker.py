"""A claim whose speaker is unknown is still a claim: the reserved speaker ``(unknown)``.

Imported from Fact Check API claims without a claimant and ClaimReviews without an author;
listed, filtered, left out of report scorecards, exported without an author, and protected
from renames, merges and aliases that would silently give anonymous claims a speaker.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from factdb.errors import FactdbError
from factdb.filters import ClaimFilter
from factdb.reports.model import build_report
from factdb.services.claims import add_claim
from factdb.services.speakers import add_alias, edit_speaker, get_speaker, merge_speakers
from factdb.textkeys import is_unknown_speaker
from factdb.vocab import UNKNOWN_SPEAKER

API_RESPONSE = {
    "claims": [
        {
            "text": "Vaccines contain microchips",
            "claimReview": [
                {
                    "publisher": {"name": "Desk", "site": "desk.example"},
                    "url": "https://desk.example/1",
                    "textualRating": "False",
                }
            ],
        },
        {
            "text": "NATO expelled eight diplomats",
            "claimant": "Sergey Lavrov",
            "claimReview": [{"url": "https://desk.example/2", "textualRating": "True"}],
        },
    ]
}


def _import_api(run: Any, tmp_path: Path) -> None:
    path = tmp_path / "api.json"
    path.write_text(json.dumps(API_RESPONSE), encoding="utf-8")
    result = run("import", str(path))
    assert result.exit_code == 0, result.stderr
    # the anonymous claim is imported; the unknown speaker is not "a new speaker"
    assert "2 added, 0 changed, 0 unchanged, 0 rejected; 1 new speakers" in result.stderr


def test_reserved_name_is_recognised_in_any_spelling() -> None:
    assert is_unknown_speaker(UNKNOWN_SPEAKER)
    assert is_unknown_speaker(" (UNKNOWN) ")
    assert not is_unknown_speaker("Unknown")  # a speaker really called so is someone
    assert not is_unknown_speaker("Sergey Lavrov")


def test_listing_filter_and_export(run: Any, tmp_path: Path) -> None:
    _import_api(run, tmp_path)
    listed = run("claim", "list", "--speaker", UNKNOWN_SPEAKER, "--format", "json")
    assert listed.exit_code == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert [(r["speaker"], r["text"]) for r in rows] == [
        (UNKNOWN_SPEAKER, "Vaccines contain microchips")
    ]
    reviews = json.loads(run("export", "--format", "claimreview").stdout)["@graph"]
    by_text = {r["claimReviewed"]: r["itemReviewed"] for r in reviews}
    assert "author" not in by_text["Vaccines contain microchips"]
    assert by_text["NATO expelled eight diplomats"]["author"]["name"] == "Sergey Lavrov"
    # the interchange export names the reserved speaker, and re-importing it changes nothing
    out = tmp_path / "all.jsonl"
    assert run("export", "--format", "jsonl", "-o", str(out)).exit_code == 0
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert sorted(r["speaker"] for r in lines) == [UNKNOWN_SPEAKER, "Sergey Lavrov"]
    again = run("import", str(out))
    assert "0 added, 0 changed, 2 unchanged, 0 rejected; 0 new speakers" in again.stderr


def test_filter_before_any_anonymous_claim_is_empty_not_an_error(run: Any) -> None:
    result = run("claim", "list", "--speaker", UNKNOWN_SPEAKER, "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == []


def test_interchange_empty_speaker_is_still_refused(run: Any, tmp_path: Path) -> None:
    # an empty cell is more often a forgotten one than an anonymous claim: say it explicitly
    path = tmp_path / "a.csv"
    path.write_text("text,speaker\nSomething was said.,\n", encoding="utf-8")
    result = run("import", str(path))
    assert result.exit_code == 1
    assert "speaker: missing (a claim needs one; (unknown) if nobody is known)" in result.stderr
    path.write_text(f"text,speaker\nSomething was said.,{UNKNOWN_SPEAKER}\n", encoding="utf-8")
    assert run("import", str(path)).exit_code == 0


def test_claim_add_needs_an_explicit_unknown_speaker(run: Any) -> None:
    result = run("claim", "add", "Said by someone.")
    assert result.exit_code == 2  # not at a terminal: a usage error, not a silent unknown
    assert "--speaker" in result.stderr
    result = run("claim", "add", "Said by someone.", "--speaker", UNKNOWN_SPEAKER)
    assert result.exit_code == 0, result.stderr


def test_report_does_not_score_the_unknown_speaker(session: Session) -> None:
    add_claim(session, text="Anonymous one.", speaker=UNKNOWN_SPEAKER)
    add_claim(session, text="Anonymous two.", speaker=UNKNOWN_SPEAKER)
    add_claim(session, text="Signed.", speaker="Jens Stoltenberg")
    report = build_report(session, ClaimFilter())
    totals = dict(report.totals)
    assert totals["Claims"] == 3
    assert totals["Speakers"] == 1
    assert totals["Claims by an unknown speaker"] == 2
    assert [row.name for row in report.speakers] == ["Jens Stoltenberg"]


def test_report_without_anonymous_claims_has_no_unknown_total(session: Session) -> None:
    add_claim(session, text="Signed.", speaker="Jens Stoltenberg")
    assert "Claims by an unknown speaker" not in dict(build_report(session).totals)


def test_reserved_speaker_cannot_be_renamed_merged_or_aliased(session: Session) -> None:
    add_claim(session, text="Anonymous.", speaker=UNKNOWN_SPEAKER)
    add_claim(session, text="Signed.", speaker="Jens Stoltenberg")
    with pytest.raises(FactdbError, match="reserved"):
        edit_speaker(session, UNKNOWN_SPEAKER, name="Jens")
    with pytest.raises(FactdbError, match="reserved"):
        edit_speaker(session, "Jens Stoltenberg", name="(Unknown)")
    with pytest.raises(FactdbError, match="reserved"):
        merge_speakers(session, UNKNOWN_SPEAKER, "Jens Stoltenberg")
    with pytest.raises(FactdbError, match="reserved"):
        merge_speakers(session, "Jens Stoltenberg", UNKNOWN_SPEAKER)
    unknown = get_speaker(session, UNKNOWN_SPEAKER)
    jens = get_speaker(session, "Jens Stoltenberg")
    assert not unknown.aliases and not jens.aliases
    with pytest.raises(FactdbError, match="reserved"):
        add_alias(session, get_speaker(session, "Jens Stoltenberg"), "(unknown)")


def test_rendered_reports_show_the_unknown_total(run: Any, tmp_path: Path) -> None:
    _import_api(run, tmp_path)
    markdown = run("report", "--format", "markdown").stdout
    assert "| Claims | Claims by an unknown speaker | Speakers |" in markdown
    assert "| 2 | 1 | 1 |" in markdown
    scorecard = markdown.split("## Speaker scorecard", 1)[1].split("\n## ", 1)[0]
    assert "Sergey Lavrov" in scorecard and UNKNOWN_SPEAKER not in scorecard
    html = run("report", "--format", "html").stdout
    assert "Claims by an unknown speaker" in html


def test_sql_scorecard_view_leaves_the_unknown_speaker_out(run: Any, tmp_path: Path) -> None:
    _import_api(run, tmp_path)
    result = run("sql", "SELECT speaker, claims FROM speaker_scorecard", "--format", "csv")
    assert result.stdout.splitlines() == ["speaker,claims", "Sergey Lavrov,1"]
    listed = run("sql", "SELECT speaker FROM claim_overview ORDER BY speaker", "--format", "csv")
    assert listed.stdout.splitlines() == ["speaker", UNKNOWN_SPEAKER, "Sergey Lavrov"]


def test_one_record_gives_the_unknown_speaker_no_role(run: Any, tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text(
        f"text,speaker,speaker_role,speaker_kind\nA post.,{UNKNOWN_SPEAKER},Blogger,organisation\n",
        encoding="utf-8",
    )
    result = run("import", str(path))
    assert result.exit_code == 0, result.stderr
    assert "0 new speakers" in result.stderr
    shown = run("sql", "SELECT name, kind, role FROM speakers", "--format", "csv").stdout
    assert shown.splitlines() == ["name,kind,role", f"{UNKNOWN_SPEAKER},person,"]
