"""``factdb export``: the interchange record round-trips byte for byte, ClaimReview output is
structurally valid JSON-LD and re-imports to the same claims and verdicts, -o is atomic."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from factdb.cli import cli
from factdb.db import make_engine
from factdb.io.records import COLUMNS

DATA = Path(__file__).parent / "data"
MESSY = ["messy.csv", "messy.jsonl", "claimreview_single.json", "claimreview_page.html"]


class Runner:
    """The real CLI in-process on one database (like conftest's ``run``)."""

    def __init__(self, db: str) -> None:
        self.db = db

    def __call__(self, *args: str) -> Result:
        return CliRunner().invoke(cli, ["--db", self.db, *args], catch_exceptions=False)


def fresh_sqlite(template: Path, directory: Path, name: str) -> Runner:
    """A runner on a new migrated SQLite file (copied from the session's template)."""
    path = directory / name
    shutil.copyfile(template, path)
    return Runner(str(path))


def query(run: Any, sql: str) -> list[tuple[Any, ...]]:
    """Rows of a query on the runner's database."""
    url = run.db if "://" in run.db else f"sqlite:///{run.db}"
    engine = make_engine(url, write=False)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql))]
    finally:
        engine.dispose()


def load_varied(run: Any, tmp_path: Path) -> None:
    """Messy files in every format plus a claim with everything set, through the real CLI."""
    for name in MESSY:
        assert run("import", str(DATA / name)).exit_code == 0
    result = run(
        "import", str(DATA / "factcheck_api.json"), "--skip-invalid", str(tmp_path / "r.jsonl")
    )
    assert result.exit_code == 0, result.stderr
    full = {
        "text": 'Line one, "quoted"\nline two; with a semicolon',
        "speaker": "NATO",
        "speaker_role": "Alliance",
        "speaker_kind": "organisation",
        "said_on": "2021-10",
        "status": "confirmed",
        "quote_kind": "paraphrase",
        "language": "en",
        "context": "Brussels press conference\nsecond line",
        "tags": "russia; nato;expulsions",
        "source": "Associated Press",
        "source_url": "https://apnews.com/x",
        "source_kind": "news_agency",
        "verdict": "Mostly True",
        "verdict_by": "PolitiFact",
        "review_url": "https://politifact.example/1",
        "reviewed_on": "2021-11-01",
        "origin": "desk",
        "external_id": "n-1",
    }
    path = tmp_path / "full.jsonl"
    path.write_text(json.dumps(full) + "\n", encoding="utf-8")
    assert run("import", str(path)).exit_code == 0


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_round_trip_is_identical(run: Any, fmt: str, tmp_path: Path, sqlite_template: Path) -> None:
    load_varied(run, tmp_path)
    first = tmp_path / f"first.{fmt}"
    result = run("export", "--format", fmt, "-o", str(first))
    assert result.exit_code == 0, result.stderr
    assert result.stderr.startswith("Exported 18 claims to")
    # into an empty database (SQLite, whichever backend the first one was) and out again
    other = fresh_sqlite(sqlite_template, tmp_path, "other.db")
    imported = other("import", str(first))
    assert imported.exit_code == 0, imported.stderr
    assert "18 added, 0 changed, 0 unchanged, 0 rejected" in imported.stderr
    second = other("export", "--format", fmt)
    assert second.exit_code == 0
    assert second.stdout == first.read_text(encoding="utf-8")
    # and the export is the interchange record
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(second.stdout)))
        assert tuple(rows[0]) == COLUMNS
    else:
        rows = [json.loads(line) for line in second.stdout.splitlines()]
        assert all(tuple(r) == COLUMNS for r in rows)
    full = [r for r in rows if r["external_id"] == "n-1"][0]
    assert full["tags"] == "expulsions; nato; russia"
    assert full["said_on"] == "2021-10" and full["source_kind"] == "news_agency"


def test_export_filters_and_stdout(run: Any, tmp_path: Path) -> None:
    load_varied(run, tmp_path)
    result = run("export", "--format", "jsonl", "--speaker", "sergey lavrov")
    assert result.exit_code == 0
    speakers = {json.loads(line)["speaker"] for line in result.stdout.splitlines()}
    assert speakers == {"Sergey Lavrov"}
    result = run("export", "--tag", "nato", "--limit", "1")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 1 and "nato" in rows[0]["tags"].split("; ")


def test_failed_export_leaves_nothing(run: Any, tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    target = tmp_path / "out" / "out.csv"
    target.write_text("previous contents\n", encoding="utf-8")
    result = run("export", "--speaker", "Nobody At All", "-o", str(target))
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: unknown speaker 'Nobody At All'")
    assert target.read_text(encoding="utf-8") == "previous contents\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["out.csv"]  # no temporary left


def _check_claim_review(node: dict[str, Any]) -> None:
    """Structural validity per schema.org ClaimReview (and Google's required properties)."""
    assert node["@type"] == "ClaimReview"
    assert isinstance(node["claimReviewed"], str) and node["claimReviewed"]
    rating = node["reviewRating"]
    assert rating["@type"] == "Rating" and isinstance(rating["alternateName"], str)
    if "ratingValue" in rating:
        for key in ("ratingValue", "bestRating", "worstRating"):
            assert isinstance(rating[key], int)
        assert rating["worstRating"] <= rating["ratingValue"] <= rating["bestRating"]
    item = node["itemReviewed"]
    assert item["@type"] == "Claim"
    if "author" in item:  # a claim nobody is known to have made has none
        assert item["author"]["@type"] in ("Person", "Organization")
        assert isinstance(item["author"]["name"], str)
    for work in item.get("appearance", []) + [item.get("firstAppearance") or {}]:
        if work:
            assert work["@type"] == "CreativeWork"
    if "author" in node:
        assert node["author"]["@type"] == "Organization" and node["author"]["name"]
    for key in ("datePublished",):
        if key in node:
            assert len(node[key]) in (4, 7, 10)


def _verdict_set(run: Any) -> set[tuple[Any, ...]]:
    rows = query(
        run,
        "SELECT s.text, sp.name, s.said_on, v.label, v.reviewer, v.reviewed_on, v.url, "
        "v.rating_value, v.best_rating, v.worst_rating, v.normalised_class "
        "FROM verdicts v JOIN statements s ON s.id = v.statement_id "
        "JOIN speakers sp ON sp.id = s.speaker_id",
    )
    return {tuple(str(x) if x is not None else None for x in r) for r in rows}


def test_claimreview_export_is_valid_and_reimports(
    run: Any, tmp_path: Path, sqlite_template: Path
) -> None:
    load_varied(run, tmp_path)
    out = tmp_path / "reviews.jsonld"
    result = run("export", "--format", "claimreview", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["@context"] == "https://schema.org"
    reviews = document["@graph"]
    assert len(reviews) == 10  # one per verdict
    for node in reviews:
        _check_claim_review(node)
    full = [r for r in reviews if r["reviewRating"]["alternateName"] == "Mostly True"][0]
    assert full["reviewRating"] == {
        "@type": "Rating",
        "alternateName": "Mostly True",
        "ratingValue": 4,
        "bestRating": 5,
        "worstRating": 0,
    }
    assert full["itemReviewed"]["author"] == {
        "@type": "Organization",
        "name": "NATO",
        "jobTitle": "Alliance",
    }
    assert full["itemReviewed"]["datePublished"] == "2021-10"
    # the anonymous claim's item has no author (schema.org allows that), not "(unknown)"
    (anonymous,) = [r for r in reviews if "author" not in r["itemReviewed"]]
    assert anonymous["claimReviewed"] == "A claim without a claimant"
    authored = [r for r in reviews if "author" in r["itemReviewed"]]
    zakharova = [r for r in authored if r["itemReviewed"]["author"]["name"] == "Maria Zakharova"][0]
    assert zakharova["itemReviewed"]["firstAppearance"]["url"] == "https://mid.ru/en/1"

    other = fresh_sqlite(sqlite_template, tmp_path, "other.db")
    imported = other("import", str(out), "--format", "claimreview")
    assert imported.exit_code == 0, imported.stderr
    assert _verdict_set(other) == _verdict_set(run)


def test_claimreview_speaker_same_as_round_trips(run: Any) -> None:
    assert run("import", str(DATA / "claimreview_single.json")).exit_code == 0
    (review,) = json.loads(run("export", "--format", "claimreview").stdout)["@graph"]
    original = json.loads((DATA / "claimreview_single.json").read_text(encoding="utf-8"))
    assert review["itemReviewed"]["author"]["sameAs"] == "https://www.wikidata.org/wiki/Q4375936"
    assert review["claimReviewed"] == original["claimReviewed"]
    assert review["url"] == original["url"] and review["datePublished"] == "2021-10-20"
    assert review["reviewRating"]["ratingValue"] == 2  # as published, not the scale's ordinal


# --- property: varied data round-trips -------------------------------------------------------

_word = (
    st.text(alphabet=st.sampled_from(list("abcdefXYZ éüßжяقلم,;\"'-")), min_size=1, max_size=12)
    .map(str.strip)
    .filter(lambda w: bool(w) and w[0] not in ";,")
)
_record = st.fixed_dictionaries(
    {
        "text": st.lists(_word, min_size=1, max_size=6).map(" ".join),
        "speaker": st.sampled_from(["Sergey Lavrov", "NATO", "Oana Lungescu", "Мария Захарова"]),
    },
    optional={
        "said_on": st.sampled_from(["2021", "2021-10", "2021-10-18", "2020-02-29"]),
        "status": st.sampled_from(["alleged", "denied", "confirmed"]),
        "quote_kind": st.sampled_from(["paraphrase", "summary", "translation"]),
        "language": st.sampled_from(["en", "ru", "ar", "pt-BR"]),
        "context": _word,
        "tags": st.lists(st.sampled_from(["nato", "russia", "spies"]), max_size=3),
        "source": st.sampled_from(["Associated Press", "TASS", "Reuters"]),
        "source_url": st.sampled_from(["https://a.example/1", "https://b.example/2"]),
        "verdict": st.sampled_from(["False", "Half True", "pants-fire", "Неправда", "Odd label"]),
        "verdict_by": st.sampled_from(["PolitiFact", "StopFake"]),
        "reviewed_on": st.sampled_from(["2022", "2022-01-02"]),
        "external_id": st.integers(min_value=1, max_value=5).map(str),
    },
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(records=st.lists(_record, min_size=1, max_size=8))
def test_round_trip_property(
    records: list[dict[str, Any]], tmp_path_factory: Any, sqlite_template: Path
) -> None:
    directory = tmp_path_factory.mktemp("prop")
    for record in records:
        if "external_id" in record:
            record["origin"] = "prop"
        # a URL names one source: give each URL one outlet name, as real data does
        if "source_url" in record:
            record["source"] = "Outlet " + record["source_url"][8]
    path = directory / "in.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    first_db = fresh_sqlite(sqlite_template, directory, "a.db")
    assert first_db("import", str(path)).exit_code == 0
    first = first_db("export", "--format", "jsonl").stdout
    again = directory / "first.jsonl"
    again.write_text(first, encoding="utf-8")
    second_db = fresh_sqlite(sqlite_template, directory, "b.db")
    result = second_db("import", str(again))
    assert result.exit_code == 0, result.stderr
    assert second_db("export", "--format", "jsonl").stdout == first
    assert second_db("import", str(again)).stderr.split(": ", 1)[1].startswith("0 added")


def test_unwritable_output_is_one_error(run: Any, tmp_path: Path) -> None:
    assert run("import", str(DATA / "messy.jsonl")).exit_code == 0
    result = run("export", "-o", str(tmp_path / "missing" / "out.csv"))
    assert result.exit_code == 1
    assert result.stderr == f"Error: directory {tmp_path / 'missing'} does not exist\n"
    if Path("/dev/full").exists():
        import subprocess
        import sys

        db = run.db
        full = subprocess.run(
            [sys.executable, "-m", "factdb", "--db", db, "export"],
            stdout=open("/dev/full", "w"),  # noqa: SIM115
            stderr=subprocess.PIPE,
            text=True,
        )
        assert full.returncode == 1
        assert full.stderr == "Error: cannot write to standard output: No space left on device\n"


def test_claimreview_limit_counts_reviewed_claims(run: Any) -> None:
    """Claims without a verdict have no review to write: --limit N gives the first N claims
    that have one (the filters' order), not the reviewed ones among the first N claims."""
    for number in range(1, 5):
        added = run("claim", "add", f"Claim number {number}", "--speaker", "Ann Example",
                    "--said-on", f"2021-0{number}-01", "--new-speaker")  # fmt: skip
        assert added.exit_code == 0, added.output
    for claim in ("3", "4"):
        assert run("claim", "verdict", claim, "False", "--by", "Desk").exit_code == 0

    def reviewed(*options: str) -> list[str]:
        result = run("export", "--format", "claimreview", *options)
        assert result.exit_code == 0, result.output
        return [r["claimReviewed"] for r in json.loads(result.stdout)["@graph"]]

    assert reviewed() == ["Claim number 3", "Claim number 4"]
    assert reviewed("--limit", "1") == ["Claim number 3"]
    assert reviewed("--limit", "1", "--search", "number") == ["Claim number 3"]
    assert reviewed("--limit", "5", "--speaker", "Ann Example") == [
        "Claim number 3",
        "Claim number 4",
    ]
