"""Real data goes in, or is refused whole with a reason: bare Fact Check API arrays, inputs in
which nothing is found, content that is not what its name says, UTF-16/32 text."""

from __future__ import annotations

import codecs
import io
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from factdb.db import make_engine
from factdb.errors import FactdbError
from factdb.io.readers import detect_format, read_records, sniff_kind, utf8_input
from factdb.io.records import Record

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).parent.parent
STORY_LINE = b"Russia Cuts Ties With NATO, Closes Moscow Office After 8 Russians Expelled\n"


def _read(data: bytes, name: str, fmt: str | None = None) -> list[Any]:
    """What ``factdb import`` does with an input: decode, detect, read."""
    stream = io.BufferedReader(utf8_input(data[:65536], io.BytesIO(data[65536:]), name))
    fmt = fmt or detect_format(name, stream.peek(65536))
    return list(read_records(stream, name, fmt))


def _claims() -> list[dict[str, Any]]:
    return json.loads((DATA / "factcheck_api.json").read_text(encoding="utf-8"))["claims"]


# --- a saved "claims" array, and inputs in which nothing is found ------------------------------


def test_bare_array_of_fact_check_claims_is_read() -> None:
    data = json.dumps(_claims()).encode()
    assert detect_format("saved.json", data) == "factcheck-api"
    items = _read(data, "saved.json")
    assert all(isinstance(i, Record) for i in items)
    assert len(items) == 5
    assert items[0].location == "saved.json, $[0].claimReview[0]"


@pytest.mark.parametrize(
    ("data", "name", "fmt", "message"),
    [
        (b'{"nextPageToken": "x"}', "api.json", "factcheck-api", "Fact Check Tools API JSON"),
        (b"[]", "api.json", "factcheck-api", "Fact Check Tools API JSON"),
        (b"text,speaker\r\n", "h.csv", "csv", "CSV"),
        (b"\n\n  \n", "blank.jsonl", "jsonl", "JSON Lines"),
    ],
)
def test_nothing_found_is_an_error_naming_the_format(
    data: bytes, name: str, fmt: str, message: str
) -> None:
    with pytest.raises(FactdbError, match=rf"^{name}: no claim found in it \(read as {message};"):
        _read(data, name, fmt)


# --- content is sniffed before the extension is trusted ---------------------------------------


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        ((REPO / "seeds" / "000_nato_russia_2021.toml").read_bytes(), "TOML"),
        (b'[story]\ntitle = "x"\n', "TOML"),
        (b'title = "x"\n', "TOML"),
        ((DATA / "factcheck_api.json").read_bytes(), "JSON"),
        (b'[{"text": "a"}]', "JSON"),
        ((DATA / "claimreview_page.html").read_bytes(), "HTML"),
        (b'<?xml version="1.0"?><a/>', "XML"),
        (b"text,speaker\nA = B,C\n", None),
        (STORY_LINE, None),
    ],
)
def test_sniff_kind(data: bytes, kind: str | None) -> None:
    assert sniff_kind(data) == kind


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            (REPO / "seeds" / "000_nato_russia_2021.toml").read_bytes(),
            "story.csv: this looks like TOML, not an import format; "
            "a story file is loaded with 'factdb story load FILE'",
        ),
        (
            STORY_LINE + b"\nMoscow, October 18 (AP) ...\n",
            "story.csv: this looks like plain text, not CSV; "
            "a CSV file starts with a header naming its columns, such as text,speaker",
        ),
        (
            (DATA / "factcheck_api.json").read_bytes(),
            "story.csv: this looks like JSON, not CSV; "
            "use --format jsonl, claimreview or factcheck-api",
        ),
        (
            (DATA / "claimreview_page.html").read_bytes(),
            "story.csv: this looks like HTML, not CSV; "
            "use --format claimreview to read a page's ld+json ClaimReviews",
        ),
        # a stray quote in the first line: not a CSV header either
        (b'He said "no" and left\nthen, "again\n', "story.csv: this looks like plain text"),
    ],
)
def test_a_csv_name_does_not_make_csv(data: bytes, message: str) -> None:
    with pytest.raises(FactdbError) as caught:
        _read(data, "story.csv")
    assert str(caught.value).startswith(message)
    # an explicit --format csv gets the same diagnosis, not "unknown column(s)"
    with pytest.raises(FactdbError) as caught:
        _read(data, "story.csv", "csv")
    assert "unknown column" not in str(caught.value)


def test_csv_in_a_jsonl_file_is_named_as_csv() -> None:
    data = b"text,speaker,said_on\nNATO expelled eight diplomats,NATO,2021-10-06\n"
    with pytest.raises(FactdbError) as caught:
        _read(data, "claims.jsonl")
    assert str(caught.value) == (
        "claims.jsonl: this looks like CSV, not JSON Lines; use --format csv"
    )


def test_a_bad_first_jsonl_line_that_is_not_a_header_is_one_record_error() -> None:
    data = b'not json, and no column\n{"text": "NATO expelled diplomats", "speaker": "NATO"}\n'
    items = _read(data, "claims.jsonl")
    assert [type(item).__name__ for item in items] == ["RecordError", "Record"]


def test_a_real_csv_with_a_wrong_column_still_names_it() -> None:
    with pytest.raises(FactdbError, match=r"unknown column\(s\) 'speeker'"):
        _read(b"text,speeker\nA,B\n", "a.csv")


# --- encodings ---------------------------------------------------------------------------------

TEXT = "text,speaker\nКафе «Café» said,Анна\n"


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-8-sig"])
def test_unicode_with_a_byte_order_mark_is_decoded(codec: str) -> None:
    bom = {
        "utf-16-le": codecs.BOM_UTF16_LE,
        "utf-16-be": codecs.BOM_UTF16_BE,
    }.get(codec, b"")
    data = bom + TEXT.encode(codec)
    (record,) = _read(data, "u.csv")
    assert (record.text, record.speaker) == ("Кафе «Café» said", "Анна")


def test_utf16_spanning_chunks_is_decoded_whole() -> None:
    rows = "".join(f"Claim number {i} é,Анна\n" for i in range(20_000))
    data = ("text,speaker\n" + rows).encode("utf-16")
    assert len(data) > 4 * 65536
    items = _read(data, "big.csv")
    assert len(items) == 20_000 and items[-1].text == "Claim number 19999 é"


@pytest.mark.parametrize(("codec", "order"), [("utf-16-le", "LE"), ("utf-16-be", "BE")])
def test_utf16_without_a_byte_order_mark_is_refused_with_advice(codec: str, order: str) -> None:
    with pytest.raises(FactdbError) as caught:
        _read(TEXT.encode(codec), "u.csv")
    assert str(caught.value) == (
        "u.csv: this looks like UTF-16 text without a byte-order mark; convert it first, "
        f"e.g. iconv -f UTF-16{order} -t UTF-8 u.csv > converted"
    )


def test_broken_utf16_is_one_error() -> None:
    data = codecs.BOM_UTF16_LE + "text,speaker\nA,B\n".encode("utf-16-le") + b"\x00\xdc"
    with pytest.raises(FactdbError, match=r"^u\.csv: invalid UTF-16 text"):
        _read(data, "u.csv")


# --- through the CLI, on both backends ----------------------------------------------------------


def _count(run: Any) -> str:
    return run("sql", "SELECT COUNT(*) AS n FROM statements", "--format", "csv").stdout


def test_cli_bare_array_imports(run: Any, tmp_path: Path) -> None:
    path = tmp_path / "claims.json"
    path.write_text(json.dumps(_claims()), encoding="utf-8")
    result = run("import", str(path))
    assert result.exit_code == 0, result.stderr
    assert "4 added, 1 changed, 0 unchanged, 0 rejected" in result.stderr


@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        ("", "Error: <stdin>: empty input, nothing to import"),
        (" \n\n", "Error: <stdin>: empty input, nothing to import"),
        ('{"claims": []}', "Error: <stdin>: no claim found in it (read as Fact Check Tools API"),
        ('title = "x"\n', "Error: <stdin>: this looks like TOML, not an import format"),
    ],
)
def test_cli_nothing_to_import_is_an_error(run: Any, stdin: str, message: str) -> None:
    assert run("claim", "add", "Kept.", "--speaker", "A").exit_code == 0
    before = _count(run)
    result = run("import", "-", input=stdin)
    assert result.exit_code == 1
    assert result.stderr.startswith(message) and len(result.stderr.splitlines()) == 1
    assert _count(run) == before


def test_cli_utf16_file_imports(run: Any, tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes(TEXT.encode("utf-16"))
    result = run("import", str(path))
    assert result.exit_code == 0, result.stderr
    assert "1 added" in result.stderr


# --- deep nesting is one error with its path, never a RecursionError ---------------------------

DEEP = 100_000
REVIEW = '{"@type": "ClaimReview", "claimReviewed": "x", "itemReviewed": {"author": "A"}}'
CHAIN = '{"@type": "Article", "review": ' * DEEP + REVIEW + "}" * DEEP


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (CHAIN, "chain.json", "chain.json, $.review: JSON nested deeper than 200 levels"),
        (
            '{"@graph": [' + "[" * DEEP + "]" * DEEP + "]}",
            "graph.json",
            "graph.json, $['@graph'][0]: JSON nested deeper than 200 levels",
        ),
        (
            "[" * DEEP + "]" * DEEP,
            "array.json",
            "array.json, $[0]: JSON nested deeper than 200 levels",
        ),
        (
            f'<html><script type="application/ld+json">{CHAIN}</script></html>',
            "page.html",
            "page.html, script 1 (line 1): JSON nested deeper than 200 levels",
        ),
        (
            '<script type="application/ld+json">'
            + '{"review": ' * 300
            + REVIEW
            + "}" * 300
            + "</script>",
            "page.html",
            "page.html, script 1 (line 1) $" + ".review" * 201 + ": JSON nested deeper",
        ),
    ],
)
def test_deep_json_ld_is_one_error_with_its_path(data: str, name: str, message: str) -> None:
    with pytest.raises(FactdbError) as caught:
        _read(data.encode(), name, "claimreview")
    assert str(caught.value).startswith(message)


def test_deep_fact_check_response_is_one_error() -> None:
    data = '{"claims": [{"text": "a", "claimReview": [' + "[" * DEEP + "]" * DEEP + "]}]}"
    with pytest.raises(FactdbError, match=r"^api\.json, \$\.claims\[0\]: JSON nested deeper"):
        _read(data.encode(), "api.json", "factcheck-api")


def test_nesting_within_the_limit_is_read() -> None:
    data = '{"review": ' * 150 + REVIEW + "}" * 150
    (record,) = _read(data.encode(), "ok.json", "claimreview")
    assert (record.text, record.speaker) == ("x", "A")


def test_cli_deep_json_is_one_error_line(run: Any, tmp_path: Path) -> None:
    path = tmp_path / "chain.json"
    path.write_text(CHAIN, encoding="utf-8")
    for args in ([], ["--skip-invalid", str(tmp_path / "rejects.jsonl")]):
        result = run("import", str(path), *args)
        assert result.exit_code == 1
        assert result.stderr == (
            "Error: chain.json, $.review: JSON nested deeper than 200 levels\n"
        )
    lines = tmp_path / "deep.jsonl"
    lines.write_text('{"text": ' + "[" * DEEP + "]" * DEEP + ', "speaker": "A"}\n', "utf-8")
    result = run("import", str(lines), "--skip-invalid", str(tmp_path / "rejects.jsonl"))
    assert result.exit_code == 0 and "1 rejected" in result.stderr
    (entry,) = [json.loads(x) for x in (tmp_path / "rejects.jsonl").read_text().splitlines()]
    assert entry["location"] == "deep.jsonl, line 1" and "depth" in entry["reason"]


# --- values one backend cannot hold are refused on both, with file, line and field -------------

LIGATURE = "\ufdfa"  # ARABIC LIGATURE SALLALLAHOU ALAYHE WASALLAM: NFKD spells it in 18 letters


def _review_json(value: Any = 4, author: str = "A", url: str = "https://x.example/1") -> bytes:
    review = {
        "@type": "ClaimReview",
        "claimReviewed": "A claim.",
        "itemReviewed": {"@type": "Claim", "author": author, "appearance": [url]},
        "reviewRating": {"alternateName": "False", "ratingValue": value, "bestRating": 5},
    }
    return json.dumps([review]).encode()


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (
            _review_json(3_000_000_000),
            "r.json",
            "r.json, $[0]: reviewRating.ratingValue: 3000000000 is out of range "
            "(from -2147483648 to 2147483647)",
        ),
        (
            _review_json("-3e9"),
            "r.json",
            "r.json, $[0]: reviewRating.ratingValue: -3000000000 is out of range",
        ),
        (
            _review_json(author=LIGATURE * 20),
            "r.json",
            "r.json, $[0]: itemReviewed.author.name: its comparison key is longer than 300",
        ),
        (
            _review_json(url="https://x.example/" + "a" * 2000),
            "r.json",
            "r.json, $[0]: itemReviewed.reported_by.url: longer than 2000 characters",
        ),
        (
            f"text,speaker\nA claim.,{LIGATURE * 20}\n".encode(),
            "a.csv",
            "a.csv, line 2: speaker: its comparison key is longer than 300 characters",
        ),
        (
            f"text,speaker,source\nA claim.,A,{LIGATURE * 17}\n".encode(),
            "a.csv",
            "a.csv, line 2: source: its comparison key is longer than 300 characters",
        ),
        (
            ("text,speaker,tags\nA claim.,A," + "İ" * 60 + "\n").encode(),
            "a.csv",
            "a.csv, line 2: tags: tag longer than 100 characters",
        ),
    ],
)
def test_values_a_column_cannot_hold_are_record_errors(
    data: bytes, name: str, message: str
) -> None:
    (item,) = _read(data, name)
    assert str(item).startswith(message)


def test_values_at_the_limits_are_read() -> None:
    (record,) = _read(_review_json(2**31 - 1, author=LIGATURE * 16), "r.json")
    assert record.rating_value == 2**31 - 1 and len(record.speaker) == 16


def _query(run: Any, sql: str) -> list[list[str]]:
    return [line.split(",") for line in run("sql", sql, "--format", "csv").stdout.split()[1:]]


def test_cli_out_of_range_is_refused_or_skipped_on_both_backends(run: Any, tmp_path: Path) -> None:
    reviews = [json.loads(_review_json(3_000_000_000))[0], json.loads(_review_json(3))[0]]
    reviews[1]["claimReviewed"] = "Another claim."
    reviews.append(json.loads(_review_json(author=LIGATURE * 20))[0])
    reviews[2]["claimReviewed"] = "A third claim."
    path = tmp_path / "reviews.json"
    path.write_text(json.dumps(reviews), encoding="utf-8")
    result = run("import", str(path))
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "Error: reviews.json, $[0]: reviewRating.ratingValue: 3000000000 is out of range"
    )
    assert _query(run, "SELECT COUNT(*) AS n FROM statements") == [["0"]]
    rejects = tmp_path / "rejects.jsonl"
    result = run("import", str(path), "--skip-invalid", str(rejects))
    assert result.exit_code == 0, result.stderr
    assert "1 added, 0 changed, 0 unchanged, 2 rejected" in result.stderr
    entries = [json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines()]
    assert [(e["location"], e["field"]) for e in entries] == [
        ("reviews.json, $[0]", "reviewRating.ratingValue"),
        ("reviews.json, $[2]", "itemReviewed.author.name"),
    ]
    assert _query(run, "SELECT rating_value FROM verdicts") == [["3"]]


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        (
            "INSERT INTO speakers (id, name, name_key, kind) "
            f"VALUES (7, 'Long', '{'k' * 301}', 'person')",
            "Error: cannot copy speakers row (id 7): name_key is 301 characters long "
            "(the column holds 300); correct it in the source database first",
        ),
        (
            "INSERT INTO verdicts (id, statement_id, label, rating_value, normalised_class) "
            "VALUES (9, 1, 'False', 3000000000, 'false')",
            "Error: cannot copy verdicts row (id 9): rating_value is 3000000000, "
            "out of the column's range -2147483648..2147483647",
        ),
    ],
)
def test_db_copy_names_an_old_row_postgresql_cannot_hold(
    run_sqlite: Any, pg_url: str, sql: str, message: str
) -> None:
    assert run_sqlite("claim", "add", "A claim.", "--speaker", "A").exit_code == 0
    engine = make_engine(f"sqlite:///{run_sqlite.db}")
    with engine.begin() as conn:  # written before importers checked: SQLite holds it
        conn.execute(text(sql))
    engine.dispose()
    result = run_sqlite("db", "copy", "--to", pg_url)
    assert result.exit_code == 1
    assert result.stderr.startswith(message) and len(result.stderr.splitlines()) == 1
    check = make_engine(pg_url, write=False)
    with check.connect() as conn:  # all or nothing: the target is as it was
        assert conn.execute(text("SELECT COUNT(*) FROM statements")).scalar_one() == 0
    check.dispose()


# --- an HTML page is streamed --------------------------------------------------------------------


class _CountingStream(io.RawIOBase):
    """A page of ``blocks`` ld+json ClaimReviews between 1 MiB paragraphs, made as it is
    read, counting the bytes handed out."""

    def __init__(self, blocks: int) -> None:
        self.parts = [b"<!doctype html><html><body>\n"]
        for number in range(blocks):
            self.parts.append(b"<p>" + b"prose " * 175_000 + b"</p>\n")
            review = json.dumps(
                {"@type": "ClaimReview", "claimReviewed": f"Claim {number}", "author": "D"}
            )
            self.parts.append(f'<script type="application/ld+json">{review}</script>'.encode())
        self.parts.append(b"</body></html>\n")
        self.parts.reverse()
        self.handed_out = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if not self.parts:
            return 0
        part = self.parts.pop()
        n = min(len(buffer), len(part))
        if n < len(part):
            self.parts.append(part[n:])
        buffer[:n] = part[:n]
        self.handed_out += n
        return n


def test_html_page_is_read_a_block_at_a_time() -> None:
    stream = _CountingStream(blocks=6)  # a page of about 6 MiB
    items = read_records(io.BufferedReader(stream), "page.html", "claimreview")
    read_at = []
    for item in items:
        assert isinstance(item, Record)
        read_at.append(stream.handed_out)
    assert len(read_at) == 6
    # each review comes out after about its own MiB of the page, not after the whole page
    mib = 1024 * 1024
    for number, handed_out in enumerate(read_at, start=1):
        assert handed_out <= (number + 2) * mib, (number, handed_out)


def test_cli_overlong_origin_is_refused_on_both_backends(run: Any, tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("text,speaker\nA claim.,A\n", encoding="utf-8")
    result = run("import", str(path), "--origin", "o" * 101)
    assert result.exit_code == 1
    assert result.stderr == "Error: --origin is longer than 100 characters\n"
    assert run("import", str(path), "--origin", "o" * 100).exit_code == 0
