"""The CSV export's fast path writes exactly what the csv module writes."""

from __future__ import annotations

import csv
import io
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from factdb.io.records import COLUMNS
from factdb.io.writers import plain_csv, write_csv

WIDTH = len(COLUMNS)
# values that need quoting, that nearly do, and plain ones
_VALUES = st.one_of(
    st.none(),
    st.just(""),
    st.sampled_from(['a "quote"', "a, b", "two\nlines", "cr\rhere", "crlf\r\n", " spaced ", ";"]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12),
    st.text(alphabet="abc xyz-:/.0123456789éΣ", max_size=12),
)
_ROWS = st.lists(st.tuples(*[_VALUES] * WIDTH), max_size=6)


def _csv_module(rows: list[tuple[Any, ...]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


@given(_ROWS)
def test_plain_csv_is_the_csv_modules_output_or_declines(rows: list[tuple[Any, ...]]) -> None:
    plain = plain_csv(rows, WIDTH)
    if plain is not None:
        assert plain == _csv_module(rows)


@given(
    st.lists(
        st.tuples(*[st.text(alphabet="abc xyz-:/.0123456789éΣ<>&;", max_size=12)] * WIDTH),
        min_size=1,
        max_size=6,
    )
)
def test_plain_csv_takes_rows_without_special_characters(rows: list[tuple[str, ...]]) -> None:
    """Strings without commas, quotes or line breaks: the fast path writes them."""
    assert plain_csv(rows, WIDTH) == _csv_module(rows)


def test_plain_csv_declines_what_needs_quoting_or_the_csv_module() -> None:
    plain_row = ("a",) * WIDTH
    for odd in ("a,b", 'say "no"', "a\nb", "a\rb"):
        assert plain_csv([plain_row, (odd,) + plain_row[1:]], WIDTH) is None
    assert plain_csv([(None,) + plain_row[1:]], WIDTH) is None  # None: the csv module's job
    assert plain_csv([(7,) + plain_row[1:]], WIDTH) is None
    assert plain_csv([plain_row[1:]], WIDTH) is None  # a row one value short
    assert plain_csv([], WIDTH) is None
    assert plain_csv([("",)], 1) is None  # a lone empty value is written '""'


@given(st.lists(_ROWS, max_size=4))
def test_write_csv_is_the_csv_modules_output(chunks: list[list[tuple[Any, ...]]]) -> None:
    out = io.StringIO()
    count = write_csv(chunks, out)
    assert count == sum(len(c) for c in chunks)
    assert out.getvalue() == _csv_module([COLUMNS, *(r for c in chunks for r in c)])
