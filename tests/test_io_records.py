"""The interchange record: cleaning, dates, tags, validation (no database)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from factdb.io.bulkwrite import clean_content_key
from factdb.io.records import (
    COLUMNS,
    Record,
    RecordError,
    clean,
    clean_statement,
    join_tags,
    normalise,
    parse_date,
    split_tags,
)
from factdb.text import clean_text
from factdb.textkeys import content_key


def test_columns_are_the_design_order() -> None:
    assert COLUMNS == (
        "text", "speaker", "speaker_role", "speaker_kind", "said_on", "status", "quote_kind",
        "language", "context", "tags", "source", "source_url", "source_kind", "verdict",
        "verdict_by", "review_url", "reviewed_on", "origin", "external_id",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2021-7-16", "2021-07-16"),
        ("2021-07-16", "2021-07-16"),
        ("2021-7", "2021-07"),
        ("2021", "2021"),
        ("December 30 2024", "2024-12-30"),
        ("Dec 30, 2024", "2024-12-30"),
        ("30 December 2024", "2024-12-30"),
        ("30th Dec. 2024", "2024-12-30"),
        ("September 2021", "2021-09"),
        ("2021-10-18T14:30:00Z", "2021-10-18"),
        ("2021-10-18T23:30:00-05:00", "2021-10-18"),  # the date as written, no conversion
        ("2021-10-18 08:00:00", "2021-10-18"),
        ("2021/10/18", "2021-10-18"),
    ],
)
def test_dates_people_write(written: str, expected: str) -> None:
    assert parse_date(written) == expected


@pytest.mark.parametrize(
    "bad", ["2021-02-30", "07/08/2021", "Smarch 3 2021", "yesterday", "2021-13"]
)
def test_bad_dates_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_date(bad)


def test_cleaning_strips_controls_and_bidi_but_keeps_rtl_text() -> None:
    arabic = "\u202bروسيا تعلق عمل بعثتها\u202c"
    assert clean(arabic) == "روسيا تعلق عمل بعثتها"
    assert clean("Mission\x07 closed\u200f \u00a0 today\ufeff ") == "Mission closed today"
    # ZWNJ is part of Persian spelling: kept
    assert clean("می\u200cخواهم") == "می\u200cخواهم"


def test_html_is_stripped_only_where_the_field_holds_markup() -> None:
    # a web page's JSON-LD: tags and entities are HTML
    assert clean_statement("It is <b>baseless</b> &amp; &quot;absurd&quot;") == (
        'It is baseless & "absurd"'
    )
    assert clean_statement("NATO&#39;s line<br>second line") == "NATO's line\nsecond line"
    assert clean_statement("x < y and y > z") == "x < y and y > z"
    assert clean_statement("AT&T said") == "AT&T said"
    # a plain field (CSV, JSON Lines, ClaimReview JSON, Fact Check API) is text as written
    for text in ("If x<y and y>z then x<z.", "&amp;", "It is <b>baseless</b>", "a &lt; b"):
        assert normalise({"text": text, "speaker": "X"}, "f, line 1").text == text


def test_multiline_cleaning_matches_data_entry() -> None:
    text = "  First   line \r\n\r\n\tsecond\u00a0line  "
    assert clean(text, multiline=True) == clean_text(text.replace("\r\n", "\n"))


def test_tags() -> None:
    assert split_tags("nato; expulsions ;") == ("nato", "expulsions")
    assert split_tags("nato, russia") == ("nato", "russia")
    assert split_tags(["a", "a", " b "]) == ("a", "b")
    assert split_tags(join_tags(["one, two"])) == ("one, two",)
    assert join_tags(()) is None


@given(
    st.dictionaries(
        st.sampled_from([c for c in COLUMNS if c not in ("text", "speaker")]),
        st.sampled_from(["", "x", "2021-07-16", "disputed", "paraphrase", "person", "a; b"]),
    )
)
def test_normalised_record_is_what_the_constructor_makes(extra: dict[str, str]) -> None:
    """normalise builds a Record from the dict of the fields it found, without __init__:
    the fields not given must read as the constructor's defaults, and compare equal."""
    raw = {"text": "A claim.", "speaker": "X", **extra}
    try:
        record = normalise(raw, "f, line 1")
    except RecordError:
        return  # a value this field refuses: nothing was built
    given = {name: getattr(record, name) for name in record.__dict__ if name != "location"}
    expected = Record(**given, location="f, line 1")
    assert record == expected
    for name in Record.__dataclass_fields__:
        assert getattr(record, name) == getattr(expected, name), name
    assert repr(record) == repr(expected)


def test_normalise_empty_fields_and_required() -> None:
    record = normalise(
        {"text": " A claim. ", "speaker": "X", "status": "", "tags": ""}, "f, line 2"
    )
    assert (record.text, record.speaker, record.status, record.tags) == ("A claim.", "X", None, ())
    with pytest.raises(RecordError, match=r"^f, line 2: speaker: missing"):
        normalise({"text": "A claim.", "speaker": "  "}, "f, line 2")
    with pytest.raises(RecordError, match=r"^f, line 3: text: missing"):
        normalise({"text": "\u200b\x1b ", "speaker": "X"}, "f, line 3")


def test_normalise_names_unknown_columns_and_bad_fields() -> None:
    with pytest.raises(RecordError, match=r"unknown column\(s\) 'rating', 'notes'"):
        normalise({"text": "t", "speaker": "s", "rating": 1, "notes": "x"}, "f, line 1")
    with pytest.raises(RecordError, match=r"f, line 4: said_on: impossible date"):
        normalise({"text": "t", "speaker": "s", "said_on": "2021-02-30"}, "f, line 4")
    with pytest.raises(RecordError, match=r"quote_kind: unknown value"):
        normalise({"text": "t", "speaker": "s", "quote_kind": "rumour"}, "f, line 5")
    with pytest.raises(RecordError, match=r"speaker: longer than 300"):
        normalise({"text": "t", "speaker": "s" * 301}, "f, line 6")
    with pytest.raises(RecordError, match=r"text: expected text, got dict"):
        normalise({"text": {"a": 1}, "speaker": "s"}, "f, line 7")


@given(
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs",)),
        min_size=1,
        max_size=60,
    ),
    st.integers(min_value=1, max_value=10**6),
    st.sampled_from([None, "2021", "2021-10", "2021-10-18"]),
)
def test_fast_content_key_is_the_data_entry_key(
    text: str, speaker_id: int, said: str | None
) -> None:
    cleaned = clean_statement(text)
    if cleaned:
        fast = clean_content_key(speaker_id, cleaned, said)
        assert fast == content_key(speaker_id, cleaned, said)


@pytest.mark.parametrize("field", ["said_on", "reviewed_on"])
def test_a_date_of_only_invisible_characters_is_refused_but_blank_is_no_date(field: str) -> None:
    """The rule the CLI fuzz test found undecided (``said_on: "\\x1b"``): a date field that
    is blank after trimming whitespace means "no date"; one that held something else (a
    control character, a zero-width space, a bidi override) that cleans to nothing is not a
    date, and the record is refused naming the field."""
    base = {"text": "t", "speaker": "s"}
    for blank in ("", "   ", "\t\n", "\u3000"):
        assert getattr(normalise({**base, field: blank}, "f:1"), field) is None
    # an escape sequence is removed whole (factdb.text), so "\x1b[0m" is junk too
    for junk in ("\x1b", " \x1b ", "\u200b", "\u202e", "\x1b[0m"):
        with pytest.raises(RecordError, match=f"{field}: not a date") as caught:
            normalise({**base, field: junk}, "f:1")
        assert caught.value.field == field
    with pytest.raises(RecordError, match=f"{field}: unrecognised date"):
        normalise({**base, field: "\x1b0m"}, "f:1")  # a lone ESC leaves text behind
    assert getattr(normalise({**base, field: " 2021-10 \u200b"}, "f:1"), field) == "2021-10"


@given(st.text(max_size=12))
def test_a_date_field_is_refused_exactly_when_it_is_not_blank_and_not_a_date(value: str) -> None:
    try:
        parse_date(clean(value))
        is_date = True
    except ValueError:
        is_date = False
    try:
        result = normalise({"text": "t", "speaker": "s", "said_on": value}, "f:1").said_on
    except RecordError:
        assert value.strip() and not is_date
    else:
        assert result is None if not value.strip() else is_date
