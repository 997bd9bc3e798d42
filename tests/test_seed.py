"""The seed story: what it holds, that it loads on both backends, that loading it twice changes
nothing, that a malformed seed file is one clear error, and what the CLI shows of it."""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from factdb.errors import FactdbError
from factdb.filters import ClaimFilter
from factdb.models import Base, Speaker, Statement, StatementLink
from factdb.services.seeding import default_seed_files, load_seed_files, read_seed_file

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seeds" / "000_nato_russia_2021.toml"
ARTICLE = ROOT.parent / "shared" / "seeds" / "000_d44905238723bdf6.txt"
ORIGIN = "seed"
ACCUSATION = "nato-russia-2021/nato-accuses-intelligence-officers"
DENIAL = "nato-russia-2021/moscow-denies-accusation"
ANNOUNCEMENT = "nato-russia-2021/lavrov-announces-retaliation"
LUNGESCU = "nato-russia-2021/lungescu-took-note"


def claim_id(session: Session, external_id: str) -> int:
    """The database id of a seeded claim."""
    found = session.scalar(
        select(Statement.id).where(Statement.origin == ORIGIN, Statement.external_id == external_id)
    )
    assert found is not None, external_id
    return found


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows in every table of the schema (and Alembic's)."""
    with engine.connect() as conn:
        tables = [t.name for t in Base.metadata.sorted_tables] + ["alembic_version"]
        return {t: conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one() for t in tables}


def sqlite_dump(url: str) -> list[str]:
    """A full SQL dump of a SQLite database file (every row, every value)."""
    conn = sqlite3.connect(url.removeprefix("sqlite:///"))
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def seed(engine: Engine, paths: list[Path] | None = None) -> str:
    """Load seed files in one committed transaction; return the summary line."""
    with Session(engine) as session, session.begin():
        return load_seed_files(session, paths or default_seed_files())


# --- the file itself -------------------------------------------------------------------------


def test_default_seed_files_are_the_repository_seeds() -> None:
    assert SEED in default_seed_files()
    assert all(p.suffix in (".toml", ".json") for p in default_seed_files())


def test_seed_file_holds_the_story() -> None:
    story = read_seed_file(SEED)
    assert story.origin == "seed" and story.id == "nato-russia-2021"
    claims = {c["id"]: c for c in story.claims}
    by_speaker = lambda name: [c for c in story.claims if c["speaker"] == name]  # noqa: E731
    lavrov_quotes = [c for c in by_speaker("Sergey Lavrov") if c["quote_kind"] == "direct_quote"]
    assert len(lavrov_quotes) >= 3
    assert len(by_speaker("Russian Foreign Ministry")) == 3
    accusation = claims["nato-accuses-intelligence-officers"]
    assert [(e["status"], e["on"]) for e in accusation["status"]] == [
        ("alleged", "2021-10"),
        ("denied", "2021-10-18"),
    ]
    assert {"relation": "denies", "to": "nato-accuses-intelligence-officers", "on": "2021-10"} in (
        claims["moscow-denies-accusation"]["links"]
    )
    assert claims["lungescu-took-note"]["links"][0]["to"] == "lavrov-announces-retaliation"
    assert claims["nato-suspends-cooperation-2014"]["said_on"] == "2014"
    # "earlier this month": month precision, never an invented day
    assert claims["nato-suspends-accreditation"]["said_on"] == "2021-10"
    kinds = {s["name"]: s["kind"] for s in story.sources}
    assert kinds == {
        "Associated Press": "news_agency",
        "Russian Foreign Ministry Press Service": "press_service",
        "AFP via Getty Images": "photo_agency",
    }
    credits = {s["name"]: s.get("credit") for s in story.sources}
    assert credits["AFP via Getty Images"] == "Dimitar Dilkoff/AFP via Getty Images"
    assert credits["Russian Foreign Ministry Press Service"] == (
        "Russian Foreign Ministry Press Service via AP"
    )
    # no invented outlet URL anywhere
    assert "http" not in SEED.read_text(encoding="utf-8")


def test_seeds_ship_as_package_data() -> None:
    """A non-editable install carries seeds/ as factdb/_seeds (checked by building a wheel by
    hand: ``pip wheel . --no-deps -w /tmp/whl`` lists factdb/_seeds/000_nato_russia_2021.toml)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]
    setuptools = config["setuptools"]
    assert "factdb._seeds" in setuptools["packages"]
    assert setuptools["package-dir"]["factdb._seeds"] == "seeds"
    patterns = setuptools["package-data"]["factdb._seeds"]
    for path in default_seed_files():
        assert any(fnmatch.fnmatch(path.name, p) for p in patterns), path.name


def test_installed_layout_finds_the_packaged_seeds(tmp_path: Path) -> None:
    """With factdb/_seeds present (an installed wheel), that folder is the one used."""
    package = tmp_path / "factdb"
    shutil.copytree(ROOT / "factdb", package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "seeds", package / "_seeds")
    code = (
        "import factdb; from factdb.services.seeding import default_seed_files; "
        "print(factdb.__file__); print(*default_seed_files(), sep='\\n')"
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out[0] == str(package / "__init__.py")
    assert out[1:] == [str(package / "_seeds" / "000_nato_russia_2021.toml")]


def _normalise(value: str) -> str:
    return " ".join(value.replace("\u2019", "'").split())


@pytest.mark.skipif(not ARTICLE.exists(), reason="the founding article (../shared) is not here")
def test_direct_quotes_and_verbs_are_verbatim_from_the_article() -> None:
    article = _normalise(ARTICLE.read_text(encoding="utf-8"))
    story = read_seed_file(SEED)
    quotes = [c for c in story.claims if c["quote_kind"] == "direct_quote"]
    assert len(quotes) == 6  # three of Lavrov's, the ministry's three
    for claim in quotes:
        # the words inside double quotes are verbatim; a claim without them is quoted whole
        inner = re.findall(r'"([^"]+)"', claim["text"]) or [claim["text"]]
        for words in inner:
            assert _normalise(words).rstrip(".") in article, claim["id"]
    for claim in story.claims:
        for attribution in claim.get("attributions", []):
            verb = attribution.get("verb")
            if verb:
                assert _normalise(verb) in article, (claim["id"], verb)


def test_json_seed_with_the_same_structure_loads(engine: Engine, tmp_path: Path) -> None:
    data = tomllib.loads(SEED.read_text(encoding="utf-8"))
    as_json = tmp_path / "story.json"
    as_json.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert read_seed_file(as_json).claims == read_seed_file(SEED).claims
    summary = seed(engine, [as_json])
    assert summary.startswith("seeded: 16 claims added, 0 unchanged")
    assert "unchanged" in seed(engine, [SEED]) and row_counts(engine)["statements"] == 16


# --- loading (both backends) -----------------------------------------------------------------


def test_seed_loads_the_story(engine: Engine) -> None:
    summary = seed(engine)
    assert summary == (
        "seeded: 16 claims added, 0 unchanged; 5 speakers added, 0 matched; "
        "3 sources added, 0 matched; 2 status events added, 0 present; "
        "7 links added, 0 present (1 file)"
    )
    from factdb.services.query import claim_detail
    from factdb.services.speakers import find_speaker
    from factdb.services.statuses import status_as_of

    with Session(engine) as session:
        moscow = find_speaker(session, "Moscow")
        assert moscow is not None and moscow.name == "Russian government"
        assert find_speaker(session, "Сергей Лавров").name == "Sergey Lavrov"
        lavrov = find_speaker(session, "Sergey Lavrov")
        assert lavrov.acts_for.name == "Russian Foreign Ministry"
        assert lavrov.acts_for.acts_for.name == "Russian government"
        assert find_speaker(session, "Oana Lungescu").acts_for.name == "NATO"

        accusation = claim_id(session, ACCUSATION)
        denial = claim_id(session, DENIAL)
        detail = claim_detail(session, accusation)
        assert detail["speaker"]["name"] == "NATO"
        assert detail["said_on"] == "2021-10"
        assert detail["status"] == "denied"
        assert [(e["status"], e["effective_on"]) for e in detail["status_history"]] == [
            ("alleged", "2021-10"),
            ("denied", "2021-10-18"),
        ]
        assert detail["status_history"][1]["evidence_claim_id"] == denial
        assert detail["status_history"][1]["evidence_source"] == "Associated Press"
        [incoming] = detail["links"]["incoming"]
        assert (incoming["relation"], incoming["claim_id"]) == ("denies", denial)
        assert incoming["speaker"] == "Russian government"
        assert [(a["role"], a["verb"], a["source"]["name"]) for a in detail["attributions"]] == [
            ("reported_by", "accused", "Associated Press")
        ]

        assert status_as_of(session, accusation, dt.date(2021, 9, 30)) is None
        assert status_as_of(session, accusation, dt.date(2021, 10, 1)) == "alleged"
        assert status_as_of(session, accusation, dt.date(2021, 10, 17)) == "alleged"
        assert status_as_of(session, accusation, dt.date(2021, 10, 18)) == "denied"
        assert status_as_of(session, accusation, dt.date(2022, 1, 1)) == "denied"

        lungescu = claim_detail(session, claim_id(session, LUNGESCU))
        [answer] = lungescu["links"]["outgoing"]
        assert answer["relation"] == "responds to"
        assert answer["claim_id"] == claim_id(session, ANNOUNCEMENT)

        photo = claim_detail(session, claim_id(session, "nato-russia-2021/russia-cuts-ties"))
        chain = [
            (a["role"], a["source"]["name"], a["source"]["credit"]) for a in photo["attributions"]
        ]
        assert chain == [
            ("reported_by", "Associated Press", None),
            ("photo_credit", "AFP via Getty Images", "Dimitar Dilkoff/AFP via Getty Images"),
        ]
        assert photo["attributions"][1]["source"]["published_on"] == "2021-10-18"
        background = claim_detail(
            session, claim_id(session, "nato-russia-2021/nato-suspends-cooperation-2014")
        )
        assert background["said_on"] == "2014" and "background" in background["tags"]
        assert {"nato", "russia", "expulsions"} <= set(detail["tags"])


def test_list_as_of_shows_the_accusation_alleged_then_denied(engine: Engine) -> None:
    from factdb.services.query import list_claims

    seed(engine)
    with Session(engine) as session:
        accusation = claim_id(session, ACCUSATION)

        def status_on(day: dt.date | None) -> str | None:
            rows = list_claims(session, ClaimFilter(as_of=day))
            return next(r["status"] for r in rows if r["id"] == accusation)

        assert status_on(dt.date(2021, 10, 17)) == "alleged"
        assert status_on(dt.date(2021, 10, 18)) == "denied"
        assert status_on(None) == "denied"
        alleged = list_claims(session, ClaimFilter(status="alleged", as_of=dt.date(2021, 10, 17)))
        assert [r["id"] for r in alleged] == [accusation]


def test_seeding_twice_changes_nothing(engine: Engine, db_url: str) -> None:
    seed(engine)
    counts = row_counts(engine)
    dump = sqlite_dump(db_url) if db_url.startswith("sqlite") else None
    summary = seed(engine)
    assert summary == (
        "seeded: 0 claims added, 16 unchanged; 0 speakers added, 5 matched; "
        "0 sources added, 3 matched; 0 status events added, 2 present; "
        "0 links added, 7 present (1 file)"
    )
    assert row_counts(engine) == counts
    assert counts["statements"] == 16 and counts["speakers"] == 5 and counts["sources"] == 3
    if dump is not None:
        engine.dispose()
        assert sqlite_dump(db_url) == dump


def test_seed_adopts_what_the_user_already_typed(engine: Engine) -> None:
    """A speaker known under a seed alias and an identical claim are reused, not duplicated."""
    from factdb.services.claims import add_claim
    from factdb.services.speakers import create_speaker

    with Session(engine) as session, session.begin():
        create_speaker(session, "Sergei Lavrov", role="Foreign Minister")
        add_claim(
            session,
            text="The alliance's line towards our country is becoming more and more aggressive.",
            speaker="Russian Foreign Ministry",
            speaker_kind="organisation",
            said_on="2021-10-18",
        )
    summary = seed(engine)
    assert "15 claims added, 0 unchanged, 1 matched existing" in summary
    # the ministry (created by add_claim) and Lavrov (known as "Sergei Lavrov") are matched
    assert "3 speakers added, 2 matched" in summary
    assert "3 aliases added to existing speakers" in summary
    assert "1 attributions added to existing claims" in summary
    counts = row_counts(engine)
    assert counts["statements"] == 16 and counts["speakers"] == 5
    with Session(engine) as session:
        names = set(session.scalars(select(Speaker.name)))
        assert "Sergei Lavrov" in names and "Sergey Lavrov" not in names
        lavrov_claims = session.scalar(
            select(func.count())
            .select_from(Statement)
            .join(Speaker)
            .where(Speaker.name == "Sergei Lavrov")
        )
        assert lavrov_claims == 5
    again = seed(engine)
    assert "0 claims added, 15 unchanged, 1 matched existing" in again
    assert row_counts(engine) == counts


def test_second_story_links_across_files_and_adds_verdicts(engine: Engine, tmp_path: Path) -> None:
    follow_up = tmp_path / "001_follow_up.toml"
    follow_up.write_text(
        """
[story]
id = "follow-up"
origin = "seed"
tags = ["nato"]

[[claims]]
id = "rebuttal"
speaker = "Oana Lungescu"
quote_kind = "paraphrase"
text = "The accusation stands."
said_on = "2021-10-19"
status = [{ status = "disputed", on = "2021-10-19" }]
links = [{ relation = "disputes", to = "nato-russia-2021/moscow-denies-accusation" }]

[[claims.verdicts]]
label = "Half True"
reviewer = "Example Desk"
reviewed_on = "2021-10-20"
scale = "Truth-O-Meter"

[[claims.verdicts]]
label = "Needs context"
reviewer = "Example Desk"
reviewed_on = "2021-10"
""",
        encoding="utf-8",
    )
    summary = seed(engine, [*default_seed_files(), follow_up])
    assert "17 claims added" in summary and "8 links added" in summary
    assert "2 verdicts added, 0 present" in summary and "(2 files)" in summary
    counts = row_counts(engine)
    assert counts["verdicts"] == 2
    with Session(engine) as session:
        rebuttal = claim_id(session, "follow-up/rebuttal")
        link = session.scalars(
            select(StatementLink).where(StatementLink.from_statement_id == rebuttal)
        ).one()
        assert link.to_statement_id == claim_id(session, DENIAL)
        from factdb.services.query import claim_detail

        verdicts = claim_detail(session, rebuttal)["verdicts"]
        assert [(v["label"], v["class"]) for v in verdicts] == [
            ("Needs context", "other"),
            ("Half True", "mixture"),
        ]
    again = seed(engine, [*default_seed_files(), follow_up])
    assert "0 verdicts added, 2 present" in again and "0 links added, 8 present" in again
    assert row_counts(engine) == counts


# --- malformed seed files --------------------------------------------------------------------

GOOD_CLAIM = """
[story]
id = "bad"

[[speakers]]
name = "Someone New"

[[claims]]
id = "one"
speaker = "Someone New"
text = "Something was said."
"""

MALFORMED = {
    "not-toml": ("[story\nid = 1", "not valid TOML"),
    "no-claims": ('[story]\nid = "x"\n', "missing 'claims'"),
    "unknown-key": (GOOD_CLAIM + 'sayd_on = "2021-10"\n', "unknown key 'sayd_on'"),
    "no-text": (GOOD_CLAIM.replace('text = "Something was said."', ""), "missing 'text'"),
    "empty-text": (GOOD_CLAIM.replace("Something was said.", "  "), "'text' is empty"),
    "wrong-type": (GOOD_CLAIM + 'tags = "nato"\n', "'tags' must be a list of strings"),
    "impossible-date": (GOOD_CLAIM + 'said_on = "2021-02-30"\n', "impossible date '2021-02-30'"),
    "malformed-date": (GOOD_CLAIM + 'said_on = "18 Oct 2021"\n', "malformed date"),
    "bad-relation": (
        GOOD_CLAIM + 'links = [{ relation = "refutes", to = "one" }]\n',
        "unknown link relation 'refutes'",
    ),
    "self-link": (
        GOOD_CLAIM + 'links = [{ relation = "denies", to = "one" }]\n',
        "names the claim itself",
    ),
    "unknown-target": (
        GOOD_CLAIM + 'links = [{ relation = "denies", to = "two" }]\n',
        "names unknown claim 'two'",
    ),
    "bad-role": (
        GOOD_CLAIM + 'attributions = [{ source = "AP", role = "wrote" }]\n',
        "unknown attribution role 'wrote'",
    ),
    "duplicate-id": (
        GOOD_CLAIM + '\n[[claims]]\nid = "one"\nspeaker = "X"\ntext = "Y"\n',
        "claim id 'one' is used twice",
    ),
    # checked against the database while loading: still one error naming the file
    "unknown-status": (
        GOOD_CLAIM + 'status = [{ status = "rumoured", on = "2021-10" }]\n',
        "unknown status 'rumoured'",
    ),
    "unknown-speaker": (
        GOOD_CLAIM.replace('speaker = "Someone New"', 'speaker = "Nobody Known"'),
        "unknown speaker 'Nobody Known'",
    ),
    "unknown-source": (
        GOOD_CLAIM + 'attributions = [{ source = "Nowhere Gazette" }]\n',
        "unknown source 'Nowhere Gazette'",
    ),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_seed_file_is_one_clear_error(
    case: str, tmp_path: Path, run_sqlite, sqlite_path: Path
) -> None:
    content, problem = MALFORMED[case]
    bad = tmp_path / f"{case}.toml"
    bad.write_text(content, encoding="utf-8")
    before = sqlite_dump(f"sqlite:///{sqlite_path}")
    result = run_sqlite("seed", str(SEED), str(bad))
    assert result.exit_code == 1
    # one Error line; a file with several problems lists each on its own line after it
    lines = result.stderr.strip().splitlines()
    assert [line.startswith("Error:") for line in lines].count(True) == 1, result.stderr
    assert lines[0].startswith(f"Error: story file {bad}")
    assert problem in result.stderr
    assert "Traceback" not in result.output
    # nothing half-written: not even the good file's claims
    assert sqlite_dump(f"sqlite:///{sqlite_path}") == before


def test_unsupported_suffix_and_wrong_top_level(tmp_path: Path) -> None:
    yaml = tmp_path / "story.yaml"
    yaml.write_text("story: {}", encoding="utf-8")
    with pytest.raises(FactdbError, match=r"story\.yaml: unsupported file type '\.yaml'"):
        read_seed_file(yaml)
    listing = tmp_path / "story.json"
    listing.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(FactdbError, match=r"story\.json: the file must be a table"):
        read_seed_file(listing)


def test_alias_owned_by_another_speaker_is_refused(engine: Engine) -> None:
    from factdb.services.speakers import create_speaker

    with Session(engine) as session, session.begin():
        create_speaker(session, "Moscow", kind="organisation", role="City government")
        create_speaker(session, "Russian government", kind="organisation", force=True)
    with pytest.raises(FactdbError, match="the name 'Moscow' is already used by speaker 'Moscow'"):
        seed(engine)


# --- the command line ------------------------------------------------------------------------


@pytest.fixture
def seeded(run) -> Iterator:  # type: ignore[no-untyped-def]
    """A database initialised with ``factdb init --seed``."""
    result = run("init", "--seed")
    assert result.exit_code == 0, result.output
    assert "seeded: 16 claims added" in result.stderr
    yield run


def _json(result) -> object:  # type: ignore[no-untyped-def]
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _accusation_row(rows: list[dict]) -> dict:
    return next(r for r in rows if r["text"].startswith("The eight Russian diplomats"))


def test_init_seed_then_claim_list(seeded) -> None:  # type: ignore[no-untyped-def]
    result = seeded("claim", "list")
    assert result.exit_code == 0, result.output
    assert "The eight Russian diplomats were secretly" in result.stdout
    assert "Sergey Lavrov" in result.stdout and "Oana Lungescu" in result.stdout
    rows = _json(seeded("claim", "list", "--format", "json"))
    assert len(rows) == 16
    accusation = _accusation_row(rows)
    assert accusation["said_on"] == "2021-10"  # month precision, no invented day
    assert accusation["status"] == "denied"
    assert {r["said_on"] for r in rows} >= {"2021-10", "2021-10-18", "2014", None}
    again = seeded("seed")
    assert again.exit_code == 0 and "0 claims added, 16 unchanged" in again.stderr
    assert len(_json(seeded("claim", "list", "--format", "json"))) == 16


def test_claim_list_as_of(seeded) -> None:  # type: ignore[no-untyped-def]
    def status(day: str) -> str | None:
        return _accusation_row(_json(seeded("claim", "list", "--as-of", day, "--format", "json")))[
            "status"
        ]

    assert status("2021-10-17") == "alleged"
    assert status("2021-10-18") == "denied"
    assert status("2021-11") == "denied"


def test_claim_show_accusation(seeded) -> None:  # type: ignore[no-untyped-def]
    rows = _json(seeded("claim", "list", "--format", "json"))
    accusation = _accusation_row(rows)["id"]
    denial = next(r["id"] for r in rows if r["text"].startswith("The allegations that"))
    result = seeded("claim", "show", str(accusation))
    assert result.exit_code == 0, result.output
    out = result.stdout
    # the chain: reported by the Associated Press, verb as written
    assert re.search(r"reported by\s+accused\s+Associated Press", out), out
    # the current status, then the whole history in order
    assert re.search(r"^status\s+denied", out, flags=re.M), out
    alleged = re.search(r"^2021-10\s+alleged", out, flags=re.M)
    denied = re.search(r"^2021-10-18\s+denied", out, flags=re.M)
    assert alleged and denied and alleged.start() < denied.start(), out
    # Moscow's denial, an incoming link
    assert re.search(rf"claim {denial} denies this\s+Russian government", out), out

    record = _json(seeded("claim", "show", str(accusation), "--format", "json"))
    assert record["said_on"] == "2021-10" and record["status"] == "denied"
    assert [(e["status"], e["effective_on"]) for e in record["status_history"]] == [
        ("alleged", "2021-10"),
        ("denied", "2021-10-18"),
    ]
    assert [(a["role"], a["verb"], a["source"]["name"]) for a in record["attributions"]] == [
        ("reported_by", "accused", "Associated Press")
    ]
    [incoming] = record["links"]["incoming"]
    assert (incoming["relation"], incoming["claim_id"]) == ("denies", denial)
    assert record["links"]["outgoing"] == []


def test_near_miss_speaker_name_is_refused_not_duplicated(engine: Engine) -> None:
    from factdb.services.speakers import create_speaker

    with Session(engine) as session, session.begin():
        create_speaker(session, "Oana Lungesku", role="NATO spokesperson")
    with pytest.raises(FactdbError) as caught:
        seed(engine)
    message = str(caught.value)
    assert message.startswith(f"story file {SEED}:")
    assert "did you mean 'Oana Lungesku'?" in message and "aliases in the story file" in message
    assert row_counts(engine)["statements"] == 0
