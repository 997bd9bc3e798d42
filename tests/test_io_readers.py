"""Readers: each format, messy inputs, locations in errors, format detection (no database)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from factdb.errors import FactdbError
from factdb.io.readers import detect_format, read_records
from factdb.io.records import Record, RecordError
from factdb.vocab import UNKNOWN_SPEAKER

DATA = Path(__file__).parent / "data"


def read(name: str, fmt: str | None = None) -> list[Record | RecordError]:
    path = DATA / name
    raw = path.read_bytes()
    fmt = fmt or detect_format(name, raw[:65536])
    return list(read_records(io.BytesIO(raw), name, fmt))


def records(items: list[Record | RecordError]) -> list[Record]:
    assert not [i for i in items if isinstance(i, RecordError)]
    return [i for i in items if isinstance(i, Record)]


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("messy.csv", "csv"),
        ("messy.jsonl", "jsonl"),
        ("claimreview_single.json", "claimreview"),
        ("claimreview_graph.json", "claimreview"),
        ("claimreview_page.html", "claimreview"),
        ("factcheck_api.json", "factcheck-api"),
    ],
)
def test_detect_format_from_extension_and_content(name: str, fmt: str) -> None:
    head = (DATA / name).read_bytes()[:65536]
    assert detect_format(name, head) == fmt
    assert detect_format("", head) == fmt  # standard input: content alone


@pytest.mark.parametrize(
    "head",
    [
        b'{"@context": "https://schema.org", "@type": "NewsArticle", "headline": "x"}\n',
        b'{"@context": "https://schema.org", "@type": "NewsArticle"}\n{"@type": "Person"}\n',
        b'[{"@type": "WebPage", "name": "x"}]',
    ],
)
def test_detect_json_ld_of_other_types(head: bytes) -> None:
    """JSON-LD without a ClaimReview goes to the ClaimReview reader (which says it found
    none), not to the JSON Lines reader (which would call its keywords unknown columns)."""
    assert detect_format("", head) == "claimreview"
    assert detect_format("page.txt", head) == "claimreview"


def test_messy_csv() -> None:
    got = records(read("messy.csv"))
    assert len(got) == 9  # the row of empty cells is skipped, not an error
    first = got[0]
    assert (
        first.text
        == 'NATO expelled eight Russian officials it says were "undeclared intelligence officers".'
    )
    assert (first.speaker, first.said_on, first.tags) == (
        "Jens Stoltenberg",
        "2021-10-06",
        ("nato", "expulsions"),
    )
    assert first.location == "messy.csv, line 2"
    assert got[1].text == "The accusation is baseless and unfounded."
    assert got[1].tags == ("nato", "russia")
    assert got[2].speaker == "SERGEY LAVROV"
    assert got[3].text.startswith("Россия") and got[3].said_on == "2021-10-18"
    assert got[4].text == "روسيا تعلق عمل بعثتها لدى الناتو" and got[4].said_on == "2021-10"
    assert got[5].text == "Mission closed on Monday." and got[5].said_on == "2021"
    assert got[6].said_on == "2021-10-18"
    assert got[6].verdict.startswith("This claim is misleading because")
    assert got[6].reviewed_on == "2024-12-30"
    assert got[6].source == "Reuters" and got[6].source_url is None
    assert got[8].status is None and got[8].source is None


def test_csv_broken_row_names_line_and_field() -> None:
    items = read("broken.csv")
    errors = [i for i in items if isinstance(i, RecordError)]
    assert [str(e) for e in errors] == ["broken.csv, line 3: said_on: impossible date '2021-02-30'"]
    assert len(items) == 3


def test_csv_ragged_and_quoted_rows() -> None:
    data = b'text,speaker\n"multi\nline",A\nx,B,extra\n"unterminated,C\n'
    items = read_records(io.BytesIO(data), "r.csv", "csv")
    first, second = next(items), next(items)
    assert isinstance(first, Record) and first.text == "multi\nline"
    assert isinstance(second, RecordError)
    assert str(second).startswith("r.csv, line 4: speaker: 3 fields where the header has 2")
    # an unterminated quote swallows the rest of the file: the whole import stops there
    with pytest.raises(FactdbError, match=r"^r.csv, line 5: malformed CSV"):
        next(items)


def test_csv_unknown_columns_are_named() -> None:
    with pytest.raises(
        FactdbError, match=r"unknown_column.csv, line 1: unknown column\(s\) 'rating', 'Notes'"
    ):
        read("unknown_column.csv")


def test_not_utf8_is_one_error() -> None:
    with pytest.raises(FactdbError, match=r"latin.csv: not UTF-8 text .*iconv"):
        list(read_records(io.BytesIO(b"text,speaker\nCaf\xe9,A\n"), "latin.csv", "csv"))


def test_messy_jsonl() -> None:
    got = records(read("messy.jsonl"))
    assert len(got) == 4
    assert got[0].text == "NATO's decision was political." and got[0].said_on == "2021-07-16"
    assert got[2].said_on == "2024-12-30" and got[2].tags == ("russia", "Retaliation")
    assert got[2].external_id == "17"
    assert got[3].said_on is None and got[3].status is None and got[3].language == "ru"
    assert got[3].location == "messy.jsonl, line 4"


def test_jsonl_bad_lines() -> None:
    data = b'{"text": "a", "speaker": "b"}\nnot json\n[1]\n{"text": "a", "speaker": "b", "x": 1}\n'
    items = list(read_records(io.BytesIO(data), "j.jsonl", "jsonl"))
    assert isinstance(items[0], Record)
    assert [str(i).split(":")[0] for i in items[1:]] == [
        "j.jsonl, line 2",
        "j.jsonl, line 3",
        "j.jsonl, line 4",
    ]
    assert "unknown column(s) 'x'" in str(items[3])


def test_claimreview_single_object() -> None:
    (record,) = records(read("claimreview_single.json"))
    assert record.text == "NATO expelled Russian diplomats without any evidence."
    assert (record.speaker, record.speaker_kind) == ("Maria Zakharova", "person")
    assert record.speaker_role == "Spokeswoman, Russian Foreign Ministry"
    assert record.speaker_same_as == ("https://www.wikidata.org/wiki/Q4375936",)
    assert (record.said_on, record.reviewed_on) == ("2021-10-07", "2021-10-20")
    assert (record.verdict, record.verdict_by) == ("Mostly False", "Example Fact Check")
    assert (record.rating_value, record.best_rating, record.worst_rating) == (2, 5, 1)
    assert record.review_url == "https://factcheck.example/2021/10/nato-spies"
    assert [(s.name, s.url, s.role) for s in record.sources()] == [
        ("Russian MFA", "https://mid.ru/en/1", "first_reported"),
        ("TASS", "https://tass.com/politics/1", "reported_by"),
        ("t.me", "https://t.me/MFARussia/1", "reported_by"),
    ]


def test_claimreview_graph_other_types_ignored_and_no_rating() -> None:
    items = read("claimreview_graph.json")
    assert len(items) == 3  # the WebSite node is ignored
    attack, eight, nobody = items
    assert isinstance(attack, Record) and attack.speaker_kind == "organisation"
    assert attack.said_on == "2021-11-02" and attack.reviewed_on == "2021-11-05"
    assert isinstance(eight, Record) and eight.verdict is None  # no rating: no verdict
    # ClaimReview allows a claim without an author: the unknown speaker made it
    assert isinstance(nobody, Record)
    assert (nobody.speaker, nobody.speaker_kind) == (UNKNOWN_SPEAKER, None)


def test_claimreview_html_page() -> None:
    got = records(read("claimreview_page.html"))
    assert len(got) == 2  # NewsArticle and BreadcrumbList ignored
    assert got[0].speaker == "Maria Zakharova"
    assert got[1].text == "الناتو طرد ثمانية دبلوماسيين روس"
    assert (got[1].verdict, got[1].language) == ("صحيح", "ar")
    assert got[1].location.startswith("claimreview_page.html, script 3 (line ")


def test_factcheck_api_several_reviews_per_claim() -> None:
    items = read("factcheck_api.json")
    good = [i for i in items if isinstance(i, Record)]
    bad = [i for i in items if isinstance(i, RecordError)]
    assert [(r.text[:20], r.verdict) for r in good] == [
        ("NATO expelled eight ", "False"),
        ("NATO expelled eight ", "Engañoso: omite el contexto de las expulsiones"),
        ("Росія закрила предст", "Правда"),
        ("A claim without a cl", "False"),
        ("No review yet", None),
    ]
    assert good[0].said_on == "2021-10-07" and good[0].reviewed_on == "2021-10-09"
    assert good[1].verdict_by == "verifica.example" and good[1].language == "es"
    # no claimant: an anonymous claim, said by the unknown speaker
    assert good[3].speaker == UNKNOWN_SPEAKER
    assert bad == []


# --- big JSON documents are streamed -------------------------------------------------------


def _review(number: int) -> dict:
    return {
        "@context": "https://schema.org",
        "@type": "ClaimReview",
        "claimReviewed": f"Claim number {number} about NATO",
        "itemReviewed": {"@type": "Claim", "author": {"@type": "Person", "name": "Ann Example"}},
        "reviewRating": {"@type": "Rating", "alternateName": "False"},
        "url": f"https://factcheck.example/{number}",
    }


def _data_feed(count: int) -> bytes:
    """A schema.org DataFeed as Google's and Data Commons' ClaimReview feeds are published."""
    import json

    feed = {
        "@context": "https://schema.org",
        "@type": "DataFeed",
        "dataFeedElement": [
            {"@type": "DataFeedItem", "dateCreated": "2024-01-01", "item": [_review(n)]}
            for n in range(count)
        ],
    }
    return json.dumps(feed).encode()


def test_a_claimreview_data_feed_is_read_item_by_item() -> None:
    items = list(read_records(io.BytesIO(_data_feed(3)), "feed.json", "claimreview"))
    assert [r.text for r in records(items)] == [f"Claim number {n} about NATO" for n in range(3)]
    assert items[2].location == "feed.json, $.dataFeedElement[2].item[0]"


def test_a_big_json_document_is_streamed_in_bounded_memory() -> None:
    """Memory follows the biggest record, not the file: reading a 20,000-review feed (about
    7 MB) allocates a small fraction of what parsing it whole would."""
    import json
    import tracemalloc

    data = _data_feed(20_000)
    tracemalloc.start()
    try:
        count = sum(1 for _ in read_records(io.BytesIO(data), "feed.json", "claimreview"))
        streamed_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        whole = json.loads(data)
        whole_peak = tracemalloc.get_traced_memory()[1]
        del whole
    finally:
        tracemalloc.stop()
    assert count == 20_000
    assert len(data) > 5_000_000
    assert streamed_peak < 2_000_000 < whole_peak


def test_json_documents_one_after_another_are_numbered() -> None:
    import json

    data = "".join(json.dumps(_review(n)) + "\n" for n in range(3)).encode()
    items = list(read_records(io.BytesIO(data), "reviews.json", "claimreview"))
    assert [i.location for i in items] == [
        "reviews.json, $",
        "reviews.json, document 2 $",
        "reviews.json, document 3 $",
    ]


def test_invalid_json_in_a_streamed_document_is_one_error() -> None:
    data = b"\xef\xbb\xbf" + _data_feed(2)[:-40]
    with pytest.raises(FactdbError) as raised:
        list(read_records(io.BytesIO(data), "feed.json", "claimreview"))
    assert str(raised.value).startswith("feed.json: invalid JSON: ")
    assert "\n" not in str(raised.value)


def test_a_document_without_claim_reviews_is_an_error_not_zero_records() -> None:
    data = b'{"@context": "https://schema.org", "@type": "NewsArticle", "headline": "x"}'
    with pytest.raises(FactdbError) as raised:
        list(read_records(io.BytesIO(data), "article.json", "claimreview"))
    assert str(raised.value) == (
        "article.json: no ClaimReview found (other JSON-LD types are ignored; "
        "for Fact Check API results use --format factcheck-api)"
    )


def test_fact_check_api_pages_in_an_array_are_streamed() -> None:
    import json

    page = json.loads((DATA / "factcheck_api.json").read_text(encoding="utf-8"))
    data = json.dumps([page, page]).encode()
    items = list(read_records(io.BytesIO(data), "pages.json", "factcheck-api"))
    single = read("factcheck_api.json")
    assert len(items) == 2 * len(single)
    assert items[len(single)].location == "pages.json, $[1].claims[0].claimReview[0]"


@pytest.mark.parametrize("end", [b"\n", b"\r\n", b"\r"])
def test_jsonl_line_ends_and_byte_order_mark(end: bytes) -> None:
    """LF, CRLF and lone CR all end a line (numbered as text mode counts them); a BOM goes."""
    lines = [b'{"text": "a", "speaker": "A"}', b"", b'{"text": "b", "speaker": "B"}', b"{"]
    data = b"\xef\xbb\xbf" + end.join(lines) + end
    items = list(read_records(io.BytesIO(data), "e.jsonl", "jsonl"))
    assert [(i.location, getattr(i, "text", None)) for i in items] == [
        ("e.jsonl, line 1", "a"),
        ("e.jsonl, line 3", "b"),
        ("e.jsonl, line 4", None),
    ]
    assert isinstance(items[2], RecordError) and items[2].raw == "{"


def test_jsonl_that_is_not_utf8_is_one_error() -> None:
    data = b'{"text": "a", "speaker": "A"}\n{"text": "Caf\xe9", "speaker": "B"}\n'
    with pytest.raises(FactdbError, match=r"^l.jsonl: not UTF-8 text .*iconv"):
        list(read_records(io.BytesIO(data), "l.jsonl", "jsonl"))
