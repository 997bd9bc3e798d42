"""``factdb import`` on real databases (SQLite and PostgreSQL): messy files in every format,
all-or-nothing, --skip-invalid, --dry-run, idempotent re-import, near-match warnings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from factdb.db import make_engine

DATA = Path(__file__).parent / "data"


def query(run: Any, sql: str) -> list[tuple[Any, ...]]:
    """Rows of a query on the runner's database."""
    url = run.db if "://" in run.db else f"sqlite:///{run.db}"
    engine = make_engine(url, write=False)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql))]
    finally:
        engine.dispose()


def counts(run: Any) -> tuple[int, ...]:
    tables = ("statements", "speakers", "sources", "attributions", "status_events", "verdicts")
    return tuple(query(run, f"SELECT COUNT(*) FROM {t}")[0][0] for t in tables)


def test_messy_csv_imports_every_record_once(run: Any) -> None:
    result = run("import", str(DATA / "messy.csv"))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert result.stderr.splitlines()[-1] == (
        "Imported messy.csv: 8 added, 0 changed, 1 unchanged, 0 rejected; "
        "5 new speakers, 4 new sources"
    )
    # "Sergey Lavrov", "  SERGEY   LAVROV " and "Sergéy Lavrov" are one speaker
    speakers = [r[0] for r in query(run, "SELECT name FROM speakers ORDER BY id")]
    assert speakers == [
        "Jens Stoltenberg",
        "Sergey Lavrov",
        "Сергей Лавров",
        "وزارة الخارجية الروسية",
        "Oana Lungescu",
    ]
    texts = [r[0] for r in query(run, "SELECT text FROM statements ORDER BY id")]
    assert "The accusation is baseless and unfounded." in texts
    assert "Mission closed on Monday." in texts
    assert "روسيا تعلق عمل بعثتها لدى الناتو" in texts
    verdicts = query(
        run,
        "SELECT label, normalised_class, rating_value, best_rating, worst_rating, reviewed_on "
        "FROM verdicts ORDER BY id",
    )
    sentence = "This claim is misleading because it leaves out the expulsions that came first."
    assert [v[:5] for v in verdicts] == [
        (sentence, "other", None, None, None),  # a whole sentence: kept verbatim, class other
        ("Half True", "mixture", 3, 5, 0),
    ]
    assert str(verdicts[0][5]) == "2024-12-30"
    said = query(run, "SELECT said_on, said_precision FROM statements WHERE text LIKE 'Mission%'")
    assert [(str(d), p) for d, p in said] == [("2021-01-01", "year")]
    # the status became a dated event and the cached current status
    events = query(
        run,
        "SELECT e.status_code, e.effective_on, s.current_status FROM status_events e "
        "JOIN statements s ON s.id = e.statement_id WHERE s.text LIKE 'NATO expelled%'",
    )
    assert [(c, str(d), cur) for c, d, cur in events] == [("alleged", "2021-10-06", "alleged")]
    tags = query(run, "SELECT tag FROM claim_tags ORDER BY tag")
    assert [t[0] for t in tags] == ["expulsions", "nato", "nato", "russia"]

    before = counts(run)
    again = run("import", str(DATA / "messy.csv"))
    assert again.exit_code == 0
    assert "0 added, 0 changed, 9 unchanged, 0 rejected; 0 new speakers, 0 new sources" in (
        again.stderr
    )
    assert counts(run) == before


def test_broken_row_stops_everything(run: Any) -> None:
    result = run("import", str(DATA / "broken.csv"))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "Error: broken.csv, line 3: said_on: impossible date '2021-02-30' "
        "(nothing imported; --skip-invalid REJECTS imports the valid ones)"
    ]
    assert counts(run) == (0, 0, 0, 0, 0, 0)


def test_skip_invalid_writes_rejects(run: Any, tmp_path: Path) -> None:
    rejects = tmp_path / "rejects.jsonl"
    result = run("import", str(DATA / "broken.csv"), "--skip-invalid", str(rejects))
    assert result.exit_code == 0, result.stderr
    assert "2 added, 0 changed, 0 unchanged, 1 rejected" in result.stderr
    (line,) = rejects.read_text(encoding="utf-8").splitlines()
    entry = json.loads(line)
    assert entry["location"] == "broken.csv, line 3"
    assert entry["field"] == "said_on"
    assert entry["reason"] == "impossible date '2021-02-30'"
    assert entry["record"]["text"] == "Second claim."
    assert counts(run)[0] == 2


def test_unknown_status_is_rejected_naming_the_field(run: Any, tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_text(
        '{"text": "a", "speaker": "A", "status": "Denied"}\n'
        '{"text": "b", "speaker": "B", "status": "rumoured"}\n',
        encoding="utf-8",
    )
    result = run("import", str(path))
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: s.jsonl, line 2: status: unknown status 'rumoured'")
    assert counts(run)[0] == 0


def test_dry_run_writes_nothing(run: Any) -> None:
    result = run("import", "--dry-run", str(DATA / "messy.csv"))
    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines()[-1] == (
        "Dry run (nothing written): 8 added, 0 changed, 1 unchanged, 0 rejected; "
        "5 new speakers, 4 new sources"
    )
    assert counts(run) == (0, 0, 0, 0, 0, 0)


def test_unknown_columns_are_named(run: Any) -> None:
    result = run("import", str(DATA / "unknown_column.csv"))
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "Error: unknown_column.csv, line 1: unknown column(s) 'rating', 'Notes'"
    )


def test_jsonl_from_stdin_detected_by_content(run: Any) -> None:
    data = (DATA / "messy.jsonl").read_text(encoding="utf-8")
    result = run("import", "-", input=data)
    assert result.exit_code == 0, result.stderr
    assert "Imported <stdin>: 3 added, 0 changed, 1 unchanged" in result.stderr
    rows = query(
        run,
        "SELECT s.origin, s.external_id, s.quote_kind, s.language FROM statements s ORDER BY id",
    )
    assert rows == [
        ("desk", "z-1", "direct_quote", None),
        ("desk", "17", "direct_quote", None),
        (None, None, "translation", "ru"),
    ]
    verdict = query(run, "SELECT label, normalised_class, rating_value FROM verdicts")
    assert verdict == [("pants-fire", "false", 0)]


def test_origin_option_makes_external_ids_idempotent(run: Any, tmp_path: Path) -> None:
    path = tmp_path / "ids.csv"
    path.write_text("text,speaker,external_id\nFirst.,A,1\nSecond.,A,2\n", encoding="utf-8")
    assert run("import", "--origin", "wire", str(path)).exit_code == 0
    # the same ids with edited text: the same claims (matched by origin + id), nothing added
    path.write_text("text,speaker,external_id\nFirst!,A,1\nSecond!,A,2\n", encoding="utf-8")
    result = run("import", "--origin", "wire", str(path))
    assert "0 added, 0 changed, 2 unchanged" in result.stderr
    assert query(run, "SELECT origin, external_id FROM statements ORDER BY id") == [
        ("wire", "1"),
        ("wire", "2"),
    ]


def test_claimreview_formats_and_changed_claims(run: Any) -> None:
    result = run("import", str(DATA / "claimreview_single.json"))
    assert result.exit_code == 0, result.stderr
    assert "1 added, 0 changed, 0 unchanged, 0 rejected; 1 new speakers, 3 new sources" in (
        result.stderr
    )
    chain = query(
        run,
        "SELECT position, role, source, url FROM attribution_chain ORDER BY position",
    )
    assert chain == [
        (1, "first_reported", "Russian MFA", "https://mid.ru/en/1"),
        (2, "reported_by", "TASS", "https://tass.com/politics/1"),
        (3, "reported_by", "t.me", "https://t.me/MFARussia/1"),
    ]
    speaker = query(run, "SELECT name, role, external_ids FROM speakers")
    assert speaker[0][:2] == ("Maria Zakharova", "Spokeswoman, Russian Foreign Ministry")
    ids = speaker[0][2] if isinstance(speaker[0][2], dict) else json.loads(speaker[0][2])
    assert ids == {"wikidata": "Q4375936"}
    # the page embeds the same review (unchanged) and an Arabic one (added)
    page = run("import", str(DATA / "claimreview_page.html"))
    assert page.exit_code == 0, page.stderr
    assert "1 added, 0 changed, 1 unchanged" in page.stderr
    arabic = query(run, "SELECT label, normalised_class FROM verdicts WHERE label = 'صحيح'")
    assert arabic == [("صحيح", "other")]


def test_claimreview_without_rating_and_with_missing_author(run: Any) -> None:
    result = run("import", str(DATA / "claimreview_graph.json"))
    assert result.exit_code == 0, result.stderr
    # the review without an author is an anonymous claim, not a reject; nor a new speaker
    assert "3 added, 0 changed, 0 unchanged, 0 rejected; 2 new speakers" in result.stderr
    assert query(run, "SELECT COUNT(*) FROM verdicts") == [(2,)]  # the unrated one has none
    rows = query(
        run,
        "SELECT sp.name FROM statements st JOIN speakers sp ON sp.id = st.speaker_id "
        "ORDER BY st.id",
    )
    assert rows[-1] == ("(unknown)",)


def test_factcheck_api_several_reviews(run: Any, tmp_path: Path) -> None:
    rejects = tmp_path / "r.jsonl"
    result = run("import", str(DATA / "factcheck_api.json"), "--skip-invalid", str(rejects))
    assert result.exit_code == 0, result.stderr
    # claim 1 twice (its second review makes it "changed"), claim 2, the unreviewed claim
    assert "4 added, 1 changed, 0 unchanged, 0 rejected" in result.stderr
    rows = query(
        run,
        "SELECT s.text, v.label, v.normalised_class, v.reviewer FROM verdicts v "
        "JOIN statements s ON s.id = v.statement_id ORDER BY v.id",
    )
    assert sorted(r[1:] for r in rows) == [
        ("Engañoso: omite el contexto de las expulsiones", "other", "verifica.example"),
        ("False", "false", "Example Fact Check"),
        ("False", "false", "X"),
        ("Правда", "other", "StopFake"),
    ]
    again = run("import", str(DATA / "factcheck_api.json"), "--skip-invalid", str(rejects))
    assert "0 added, 0 changed, 5 unchanged, 0 rejected" in again.stderr


def test_near_match_is_created_and_warned(run: Any, tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("text,speaker\nOne.,Sergey Lavrov\n", encoding="utf-8")
    assert run("import", str(path)).exit_code == 0
    path.write_text("text,speaker\nTwo.,Sergei Lavrov\n", encoding="utf-8")
    result = run("import", str(path))
    assert result.exit_code == 0
    assert "Warning: new speaker 'Sergei Lavrov' resembles 'Sergey Lavrov'" in result.stderr
    assert "1 new speakers" in result.stderr
    quiet = tmp_path / "b.csv"
    quiet.write_text("text,speaker\nThree.,Sergej Lavrov\n", encoding="utf-8")
    result = run("import", "--quiet", str(quiet))
    assert "Warning" not in result.stderr and "1 added" in result.stderr


def test_missing_file_and_bad_json(run: Any, tmp_path: Path) -> None:
    result = run("import", str(tmp_path / "nope.csv"))
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: cannot read")
    bad = tmp_path / "bad.json"
    bad.write_text('{"@type": "ClaimReview", ', encoding="utf-8")
    result = run("import", "--format", "claimreview", str(bad))
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: bad.json: invalid JSON")


@pytest.mark.parametrize("bulk", [False, True])
def test_loader_bulk_path_keeps_indexes_and_search(session: Any, bulk: bool) -> None:
    """A load announced as big rebuilds secondary indexes and the search index at the end."""
    from factdb.io.loader import Loader
    from factdb.io.records import normalise
    from factdb.services.search import search_ids

    def index_names() -> set[str]:
        if session.get_bind().dialect.name == "sqlite":
            sql = "SELECT name FROM sqlite_master WHERE type = 'index'"
        else:
            sql = "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
        return {r[0] for r in session.execute(text(sql))}

    before = index_names()
    loader = Loader(session, expected=10**6 if bulk else None)
    raw = [
        {"text": f"Claim number {i} about kalide", "speaker": f"S{i % 3}", "status": "alleged"}
        for i in range(50)
    ]
    summary = loader.load(normalise(r, f"x, line {i}") for i, r in enumerate(raw, start=1))
    session.commit()
    assert (summary.added, summary.new_speakers) == (50, 3)
    assert index_names() == before
    assert len(search_ids(session, "kalide")) == 50
    assert search_ids(session, '"number 7"') != []
    if session.get_bind().dialect.name == "sqlite":
        # the bigger FTS5 term buffer of the bulk load is not left behind
        hashsize = session.execute(
            text("SELECT v FROM statements_fts_config WHERE k = 'hashsize'")
        ).scalar()
        assert hashsize in (None, 1 << 20)
