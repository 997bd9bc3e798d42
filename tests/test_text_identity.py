"""Issue 12, sections 2 and 3: one text-cleaning rule set on every path, listings that never
print a control sequence, imports that never read plain text as HTML, a lossless export →
import, and one identity per person and per claim whatever invisible or look-alike characters
a name or a text carries (both backends where a database is involved)."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import shutil
import string
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from factdb.cli import cli
from factdb.errors import FactdbError
from factdb.io import readers
from factdb.io.bulkwrite import clean_content_key
from factdb.services.claims import DuplicateClaim, add_claim
from factdb.services.names import LookAlike
from factdb.services.speakers import create_speaker, find_speaker, get_speaker
from factdb.text import clean, clean_text, inert_json, visible
from factdb.textkeys import (
    _fold_claim,
    _fold_name,
    content_identity,
    content_key,
    fold_ascii_claim,
    name_key,
)

ESC_SAMPLES = [
    "\x1b[31mred\x1b[0m",
    "\x1b]8;;https://evil.example\x07click\x1b]8;;\x07",
    "\u202eevil\u202c",
    "a\u200bb",
    "bell\x07",
    "\x9b2J",
]


class Runner:
    """factdb on one database, as a user runs it (the conftest runner, for a second file)."""

    def __init__(self, db: str) -> None:
        self.db = db

    def __call__(self, *args: str) -> Result:
        return CliRunner().invoke(cli, ["--db", self.db, *args], catch_exceptions=False)


def fresh_sqlite(template: Path, directory: Path, name: str) -> Runner:
    path = directory / name
    shutil.copyfile(template, path)
    return Runner(str(path))


# --- the one rule set ---------------------------------------------------------------------


def test_clean_removes_controls_escapes_bidi_and_format_characters() -> None:
    assert clean("x\x1b[31mRED\x1b[0m") == "xRED"
    # an OSC 8 hyperlink goes whole, its URL too; a bare 8-bit CSI as well
    assert clean("\x1b]8;;https://evil.example\x07click\x1b]8;;\x07 here") == "click here"
    assert clean("\x9b2Jclear") == "clear"
    assert clean("a\u202eb\u2066c\u2069\u200fd") == "abcd"
    assert clean("zero\u200bwidth\u2060joiner\u00adsoft\ufeff") == "zerowidthjoinersoft"
    assert clean("tag\U000e0041\U000e007f") == "tag"
    # joiners are spelling (Persian, Indic, emoji sequences): kept
    assert clean("می\u200cخواهم") == "می\u200cخواهم"
    assert clean("👩\u200d💻") == "👩\u200d💻"
    assert clean("e\u0301") == "é"  # NFC
    assert clean("one\nline\ttwo") == "one line two"
    assert (
        clean_text("first \r\n\r\n second\u2028third\rfourth") == "first\n\nsecond\nthird\nfourth"
    )


@given(st.text())
@example("\x1b[31m\u202e\u200b\x00\x85")
def test_cleaning_is_idempotent_and_leaves_nothing_invisible(value: str) -> None:
    for multiline in (False, True):
        once = clean(value, multiline=multiline)
        assert clean(once, multiline=multiline) == once
        assert "\x1b" not in once and "\u202e" not in once and "\x00" not in once
        assert visible(once, keep_newline=multiline) == once


def test_visible_and_inert_json_neutralise_without_losing() -> None:
    assert visible("a\x1b[31mb\u202ec\nd") == "a\\x1b[31mb\\u202ec\nd"
    assert visible("a\nb", keep_newline=False) == "a\\x0ab"
    for sample in ESC_SAMPLES:
        serialised = json.dumps({"t": sample}, ensure_ascii=False)
        inert = inert_json(serialised)
        assert json.loads(inert) == {"t": sample}
        assert not any(c in inert for c in "\x1b\x07\x9b\u202e\u202c\u200b")


def test_every_service_path_cleans(session: Session) -> None:
    """The CLI's options reach the services; each stores cleaned text (a field a service
    passes through as given is cleaned when the row is written)."""
    from factdb.services.sources import create_source

    claim = add_claim(
        session,
        text="\x1b[1mNATO\x1b[0m closed\u200b the \u202emission",
        speaker="Jens\u200b Stoltenberg",
        context="said\x07 in\r\nBrussels",
        speaker_role="Secretary\x1b[5m General",
    )
    assert claim.text == "NATO closed the mission"
    assert claim.context == "said in\nBrussels"
    assert claim.speaker.name == "Jens Stoltenberg"
    assert claim.speaker.role == "Secretary General"
    source = create_source(session, "Agency\u202e", title="T\x1b[2Jitle", notes="n\x00otes")
    assert (source.name, source.title, source.notes) == ("Agency", "Title", "notes")


# --- listings never print a control sequence ----------------------------------------------


def test_listings_escape_control_sequences_stored_before_the_fix(run: Any, engine: Engine) -> None:
    """Rows written raw (as before factdb cleaned every input, or by ``factdb sql``): no
    listing format sends their control or format characters to the terminal."""
    assert run("claim", "add", "placeholder", "--speaker", "Ann Example").exit_code == 0
    raw = "pwned\x1b]8;;https://evil.example\x07link\x1b]8;;\x07 \x1b[2J\u202eevil\x9b"
    with engine.begin() as conn:
        conn.execute(text("UPDATE statements SET text = :t"), {"t": raw})
        conn.execute(text("UPDATE speakers SET name = :n"), {"n": "Ann\x1b[31m Example"})
    for fmt in ("table", "csv", "tsv", "json", "jsonl"):
        for command in (["claim", "list"], ["claim", "show", "1"], ["speaker", "list"]):
            if command[1] == "show" and fmt not in ("table", "json"):
                continue
            result = run(*command, "--format", fmt)
            assert result.exit_code == 0, (command, fmt, result.output)
            assert not any(c in result.stdout for c in "\x1b\x07\x9b\u202e"), (command, fmt)
    shown = run("claim", "list").stdout
    assert "\\x1b]8;;https://evil.example\\x07link" in shown and "\\u202eevil" in shown
    listed = json.loads(run("claim", "list", "--format", "json").stdout)
    assert listed[0]["text"] == raw  # JSON escapes keep the value


# --- import reads HTML only where the format carries it -------------------------------------


def test_plain_fields_are_never_read_as_html(run: Any, tmp_path: Path) -> None:
    texts = ["If x<y and y>z then x<z.", "Fish &amp; chips", "It is <b>baseless</b>", "a &lt; b"]
    path = tmp_path / "plain.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["text", "speaker"])
        writer.writerows([t, "AT&amp;T <Press>"] for t in texts)
    assert run("import", str(path)).exit_code == 0
    exported = list(csv.DictReader(io.StringIO(run("export").stdout)))
    assert sorted(r["text"] for r in exported) == sorted(texts)
    assert {r["speaker"] for r in exported} == {"AT&amp;T <Press>"}
    # importing the export again adds nothing: no mangled duplicates
    again = tmp_path / "again.csv"
    again.write_text(run("export").stdout, encoding="utf-8")
    result = run("import", str(again))
    assert "0 added, 0 changed, 4 unchanged" in result.stderr


def test_a_web_pages_json_ld_is_read_as_html() -> None:
    page = (
        b'<html><script type="application/ld+json">{"@type": "ClaimReview",'
        b' "claimReviewed": "NATO&#8217;s &quot;<i>plan</i>&quot;",'
        b' "itemReviewed": {"author": {"name": "AT&amp;T"}}}</script></html>'
    )
    (record,) = readers.read_records(io.BytesIO(page), "p.html", "claimreview")
    assert not isinstance(record, Exception)
    assert (record.text, record.speaker) == ('NATO\u2019s "plan"', "AT&T")
    # the same object in a JSON file is plain text
    document = b'{"@type": "ClaimReview", "claimReviewed": "x &amp; y <z>",'
    document += b' "itemReviewed": {"author": {"name": "A"}}}'
    (record,) = readers.read_records(io.BytesIO(document), "r.json", "claimreview")
    assert not isinstance(record, Exception)
    assert record.text == "x &amp; y <z>"


# --- export → import → export is lossless for anything claim add accepts ---------------------

_awkward = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(list("<>&;\"',\n\t\r\x1b\x07\u200b\u200d\u202e\u3164Ѕо")),
    ),
    min_size=1,
    max_size=40,
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(claim_text=_awkward, speaker=_awkward, context=st.none() | _awkward)
@example(claim_text="If x<y and y>z then x<z.", speaker="A &amp; B", context="&lt;p&gt;")
@example(claim_text="\x1b[31mred\u202e", speaker="Ѕergey\u3164Lavrоv", context="a\r\nb")
@example(claim_text="=1+2", speaker='"quoted", name;', context="\n\n")
def test_export_import_export_is_identical(
    claim_text: str,
    speaker: str,
    context: str | None,
    tmp_path_factory: Any,
    sqlite_template: Path,
) -> None:
    directory = tmp_path_factory.mktemp("lossless")
    first = fresh_sqlite(sqlite_template, directory, "first.db")
    options = ["--context", context] if context is not None else []
    added = first("claim", "add", "--text", claim_text, "--speaker", speaker, *options)
    if added.exit_code != 0:
        assert added.exit_code in (1, 2) and added.stderr.startswith("Error: ")
        return  # not a claim claim add accepts (empty once cleaned, too long ...)
    for fmt in ("csv", "jsonl"):
        exported = first("export", "--format", fmt).stdout
        path = directory / f"export.{fmt}"
        path.write_text(exported, encoding="utf-8", newline="")
        second = fresh_sqlite(sqlite_template, directory, f"second-{fmt}.db")
        imported = second("import", str(path))
        assert imported.exit_code == 0, imported.stderr
        assert second("export", "--format", fmt).stdout == exported
        # the database's own export again: nothing added, nothing changed
        assert "0 added, 0 changed, 1 unchanged" in first("import", str(path)).stderr


# --- one person is one speaker ---------------------------------------------------------------

LOOK_ALIKES = [
    "Ѕergey Lavrоv",  # Cyrillic Ѕ and о
    "Sergey\u3164Lavrov",  # Hangul filler for the space
    "Ser\u200dgey Lavrov",  # zero-width joiner
    "Serg\u200bey Lavrov",  # zero-width space (cleaned away at once)
    "SЕRGЕY LАVRОV",  # Cyrillic capitals
    "Sergey\u202e Lavrov",  # a bidi override
]


@pytest.mark.parametrize("name", LOOK_ALIKES)
def test_look_alike_names_share_the_key(name: str) -> None:
    assert name_key(name) == name_key("Sergey Lavrov")


def test_cyrillic_names_keep_their_own_identity_and_text() -> None:
    assert name_key("Сергей Лавров") == name_key("СЕРГЕЙ  лавров")
    assert name_key("Сергей Лавров") != name_key("Sergey Lavrov")
    assert clean("Сергей Лавров") == "Сергей Лавров"  # stored as written
    assert name_key("Ⅻ Olympiad") == name_key("XII Olympiad")


@given(st.text(alphabet=st.sampled_from(string.printable[:95]), max_size=40))
def test_ascii_fast_paths_equal_the_general_fold(value: str) -> None:
    from factdb.textkeys import _ascii_folds, _ascii_tables

    names, claims = _ascii_tables()
    assert value.translate(names) == _fold_name(value) == _ascii_folds()[0](value)
    assert value.translate(claims) == _fold_claim(value) == _ascii_folds()[1](value)
    cleaned = clean(value)
    if cleaned and cleaned.isascii():
        assert fold_ascii_claim(cleaned) == _fold_claim(cleaned)
        assert clean_content_key(3, cleaned, "2021") == content_key(3, cleaned, "2021")


@given(st.text(max_size=40))
def test_name_and_content_keys_ignore_invisible_characters(value: str) -> None:
    assert name_key(value + "\u200b\u2060") == name_key(value)
    assert content_identity(1, "\u200d" + value, None) == content_identity(1, value, None)


@pytest.mark.parametrize("name", LOOK_ALIKES)
def test_services_find_the_speaker_and_refuse_a_second_identity(
    session: Session, name: str
) -> None:
    lavrov = create_speaker(session, "Sergey Lavrov", aliases=["Сергей Лавров"])
    assert find_speaker(session, name) is lavrov
    assert get_speaker(session, "сергей лавров") is lavrov  # a real alias: no question asked
    if clean(name) != "Sergey Lavrov":
        with pytest.raises(LookAlike, match=r"did you mean 'Sergey Lavrov'\?"):
            get_speaker(session, name)
    with pytest.raises(FactdbError):
        create_speaker(session, name, force=True)


def test_a_zero_width_space_does_not_make_a_duplicate_claim(session: Session) -> None:
    add_claim(session, text="NATO expelled eight officials.", speaker="Jens Stoltenberg")
    for twin in ("NATO expelled\u200b eight officials.", "NАTO expelled eight officials."):
        with pytest.raises(DuplicateClaim):
            add_claim(session, text=twin, speaker="Jens Stoltenberg")


def test_cli_did_you_mean_for_look_alike_speakers(run: Any) -> None:
    assert run("speaker", "add", "Sergey Lavrov").exit_code == 0
    added = run("speaker", "add", "Ѕergey Lavrоv")
    assert added.exit_code == 1
    assert added.stderr == (
        "Error: speaker 'Ѕergey Lavrоv' is written with look-alike or invisible characters "
        "(U+0405 CYRILLIC CAPITAL LETTER DZE, U+043E CYRILLIC SMALL LETTER O); "
        "did you mean 'Sergey Lavrov'?\n"
    )
    claim = run("claim", "add", "We will respond.", "--speaker", "Sergey\u3164Lavrov")
    assert claim.exit_code == 1 and "U+3164 HANGUL FILLER" in claim.stderr
    assert "did you mean 'Sergey Lavrov'?" in claim.stderr
    assert run("claim", "list", "--format", "csv").stdout.count("\n") == 1  # nothing added
    listed = run("speaker", "list", "--format", "csv").stdout
    assert listed.count("\n") == 2  # the header and one speaker


def test_import_uses_the_existing_speaker_and_says_so(run: Any, tmp_path: Path) -> None:
    assert run("speaker", "add", "Sergey Lavrov").exit_code == 0
    path = tmp_path / "in.jsonl"
    rows = [{"text": f"Claim {n}.", "speaker": name} for n, name in enumerate(LOOK_ALIKES)]
    rows.append({"text": "Claim 0.", "speaker": "Sergey Lavrov"})  # the first claim again
    rows.append({"text": "Claim\u200b 1.", "speaker": "Sergey Lavrov"})  # the second again
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    result = run("import", str(path))
    assert result.exit_code == 0, result.stderr
    assert f"{len(LOOK_ALIKES)} added" in result.stderr and "0 new speakers" in result.stderr
    assert "in.jsonl, line 1: speaker 'Ѕergey Lavrоv' taken as 'Sergey Lavrov'" in result.stderr
    speakers = list(csv.DictReader(io.StringIO(run("speaker", "list", "--format", "csv").stdout)))
    assert [s["name"] for s in speakers] == ["Sergey Lavrov"]


def test_look_alike_source_names_are_one_outlet(run: Any, tmp_path: Path) -> None:
    assert run("source", "add", "Reuters").exit_code == 0
    for command in (
        ["source", "add", "Rеuters"],
        ["source", "add", "Rеuters", "--force"],
        ["source", "show", "Rеuters"],
        ["claim", "add", "Something.", "--speaker", "Ann Example", "--source", "Rеuters"],
    ):
        result = run(*command)
        assert result.exit_code == 1, command
        assert result.stderr == (
            "Error: source 'Rеuters' is written with look-alike or invisible characters "
            "(U+0435 CYRILLIC SMALL LETTER IE); did you mean 'Reuters'?\n"
        )
    path = tmp_path / "s.jsonl"
    rows = [
        {"text": "One.", "speaker": "A", "source": "Rеuters"},
        {"text": "Two.", "speaker": "A", "source": "Reu\u200dters", "source_url": "https://r.ex/2"},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    result = run("import", str(path))
    assert result.exit_code == 0, result.stderr
    assert result.stderr.count("taken as 'Reuters'") == 2
    listed = list(csv.DictReader(io.StringIO(run("source", "list", "--format", "csv").stdout)))
    # the outlet itself, and its next article (a new URL) spelt as the outlet is known
    assert sorted((s["name"], s["url"]) for s in listed) == [
        ("Reuters", ""),
        ("Reuters", "https://r.ex/2"),
    ]


# --- migration 0007 recomputes the stored keys -------------------------------------------------


def _migration_0007() -> Any:
    """The migration module (its file name is not an importable module name)."""
    path = Path(__file__).parent.parent / "migrations" / "versions" / "0007_text_identity.py"
    spec = importlib.util.spec_from_file_location("migration_0007", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _rows(engine: Engine, sql: str) -> dict[int, str]:
    with engine.connect() as conn:
        return {row[0]: row[1] for row in conn.execute(text(sql))}


def test_migration_0007_recomputes_keys_and_keeps_old_twins_apart(run: Any, engine: Engine) -> None:
    old = _migration_0007()
    for claim, speaker in (("A claim.", "Sergey Lavrov"), ("Another claim.", "Ann Example")):
        assert run("claim", "add", claim, "--speaker", speaker, "--said-on", "2021").exit_code == 0
    assert run("db", "downgrade", "0006_partial_evidence_indexes").exit_code == 0
    # what a database of revision 0006 could hold: two identities that differ only by
    # look-alike or invisible characters, with the keys of that revision
    twin_name, twin_text = "Ѕergey Lavrоv", "A\u200b claim."
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE speakers SET name = :n, name_key = :k WHERE id = 2"),
            {"n": twin_name, "k": old._name_key_0006(twin_name)},
        )
        conn.execute(
            text("UPDATE statements SET text = :t, content_key = :k, speaker_id = 1 WHERE id = 2"),
            {"t": twin_text, "k": old._content_key_0006(1, twin_text, "2021")},
        )
    before = (
        _rows(engine, "SELECT id, name_key FROM speakers"),
        _rows(engine, "SELECT id, content_key FROM statements"),
    )
    assert run("db", "upgrade").exit_code == 0
    assert _rows(engine, "SELECT id, name_key FROM speakers") == {
        1: name_key("Sergey Lavrov"),
        2: name_key(twin_name) + "~2",
    }
    key = content_key(1, "A claim.", "2021")
    assert _rows(engine, "SELECT id, content_key FROM statements") == {1: key, 2: key + "~2"}
    # new input finds the first of the twins; nothing was merged or lost
    assert run("claim", "add", "A\u200b claim.", "--speaker", "Sergey Lavrov",
               "--said-on", "2021").exit_code == 1  # fmt: skip
    assert run("db", "downgrade", "0006_partial_evidence_indexes").exit_code == 0
    after = (
        _rows(engine, "SELECT id, name_key FROM speakers"),
        _rows(engine, "SELECT id, content_key FROM statements"),
    )
    assert after == before
    assert run("db", "upgrade").exit_code == 0
