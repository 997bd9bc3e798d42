"""Source services without the CLI: create, list, detail, edit, delete (both backends)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from factdb.errors import Conflict, FactdbError, NotFound
from factdb.models import Attribution, Source, Statement, StatusEvent
from factdb.services.claims import AttributionInput, add_claim
from factdb.services.names import NearMatch
from factdb.services.sources import (
    add_source_alias,
    create_source,
    delete_source,
    edit_source,
    get_source,
    list_sources,
    resolve_source,
    source_detail,
)
from factdb.services.statuses import add_status_event

AP_URL = "https://apnews.com/article/russia-nato-mission"


@pytest.fixture
def ap(session: Session) -> Source:
    """The AP story the seed article is based on."""
    return create_source(
        session,
        "Associated Press",
        kind="news_agency",
        url=AP_URL,
        title="Russia cuts ties with NATO",
        published_on="2021-10-18",
        credit="Vladimir Isachenkov",
    )


def test_create_and_find(session: Session, ap: Source) -> None:
    assert get_source(session, "associated  PRESS") is ap
    assert get_source(session, AP_URL) is ap
    assert get_source(session, str(ap.id)) is ap
    with pytest.raises(NotFound, match="no source with id 999"):
        get_source(session, 999)
    with pytest.raises(NotFound, match="did you mean 'Associated Press'"):
        get_source(session, "Asociated Press")


def test_near_match_and_url_uniqueness(session: Session, ap: Source) -> None:
    with pytest.raises(NearMatch, match="did you mean 'Associated Press'"):
        create_source(session, "Associated Pres")
    create_source(session, "Associated Pres", force=True)
    with pytest.raises(FactdbError, match="already exists"):
        create_source(session, "Someone", url=AP_URL)
    # another article from the same outlet shares its name
    other = create_source(session, "Associated Press", url="https://apnews.com/other")
    assert other.id != ap.id
    found, created = resolve_source(session, "Associated Press", url=AP_URL)
    assert (found, created) == (ap, False)


def test_bad_kind_and_date(session: Session) -> None:
    with pytest.raises(FactdbError, match="unknown source kind"):
        create_source(session, "X", kind="blog")
    with pytest.raises(FactdbError, match="impossible date"):
        create_source(session, "X", published_on="2021-02-30")
    assert create_source(session, "Y", kind="News Agency").kind == "news_agency"


def test_list_and_detail(session: Session, ap: Source) -> None:
    story = create_source(
        session,
        "The Guardian",
        url="https://guardian.example/x",
        based_on=AP_URL,
        published_on="2021-10",
    )
    photo = create_source(
        session, "AFP via Getty Images", kind="photo_agency", credit="Dimitar Dilkoff"
    )
    add_claim(
        session,
        text="We will respond.",
        speaker="Sergey Lavrov",
        sources=[AttributionInput("Associated Press", url=AP_URL, verb="said")],
    )
    rows = list(list_sources(session))
    assert [r["name"] for r in rows] == ["AFP via Getty Images", "Associated Press", "The Guardian"]
    ap_row = rows[1]
    assert ap_row["published"] == "2021-10-18" and ap_row["claims"] == 1
    assert rows[2]["based_on"] == "Associated Press" and rows[2]["published"] == "2021-10"
    assert [r["id"] for r in list_sources(session, kind="photo_agency")] == [photo.id]
    assert [r["id"] for r in list_sources(session, name="GUARD")] == [story.id]
    assert len(list(list_sources(session, limit=2))) == 2

    detail = source_detail(session, str(story.id))
    assert detail["based_on"] == [f"Associated Press: Russia cuts ties with NATO (id {ap.id})"]
    assert detail["claims"] == 0
    ap_detail = source_detail(session, AP_URL)
    assert ap_detail["claims"] == 1 and ap_detail["credit"] == "Vladimir Isachenkov"
    assert ap_detail["based_on_it"] == [f"The Guardian (id {story.id})"]


def test_edit(session: Session, ap: Source) -> None:
    edit_source(session, ap.id, title="", published_on="2021-10", credit=None, kind="outlet")
    assert (ap.title, ap.published_precision, ap.credit, ap.kind) == (None, "month", None, "outlet")
    other = create_source(session, "Reuters", url="https://reuters.example/1")
    with pytest.raises(FactdbError, match="already belongs"):
        edit_source(session, other.id, url=AP_URL)
    with pytest.raises(NearMatch, match="did you mean 'Associated Press'"):
        edit_source(session, other.id, name="Asociated Press")
    edit_source(session, other.id, name="Asociated Press", force=True)
    edit_source(session, other.id, name="associated press")  # an exact existing name is fine
    # "AP" abbreviates the other source's name "associated press": a near match, said so
    with pytest.raises(NearMatch, match="did you mean 'associated press'"):
        edit_source(session, ap.id, name="AP")
    edit_source(session, ap.id, name="AP", force=True)
    assert ap.name == "AP" and get_source(session, "ap") is ap
    edit_source(session, other.id, url=None)
    assert other.url is None
    with pytest.raises(FactdbError, match="cannot edit"):
        edit_source(session, other.id, id=5)
    with pytest.raises(FactdbError, match="malformed date"):
        edit_source(session, other.id, published_on="Oct 2021")


def test_based_on_cycle_refused(session: Session, ap: Source) -> None:
    story = create_source(session, "Outlet", url="https://o.example/1", based_on=AP_URL)
    reprint = create_source(session, "Outlet", url="https://o.example/2", based_on=str(story.id))
    with pytest.raises(FactdbError, match="cycle"):
        edit_source(session, ap.id, based_on=str(reprint.id))
    with pytest.raises(FactdbError, match="cycle"):
        edit_source(session, ap.id, based_on=AP_URL)
    edit_source(session, reprint.id, based_on=None)
    edit_source(session, ap.id, based_on=str(reprint.id))
    assert source_detail(session, AP_URL)["based_on"] == [f"Outlet (id {reprint.id})"]


def test_delete_refused_then_cascade(session: Session, ap: Source) -> None:
    claim = add_claim(
        session,
        text="Eight officials were undeclared intelligence officers.",
        speaker="NATO",
        speaker_kind="organisation",
        said_on="2021-10-06",
        sources=[AttributionInput("Associated Press", url=AP_URL, verb="accused")],
    )
    add_status_event(session, claim.id, "alleged", "2021-10-06", evidence_source=AP_URL)
    story = create_source(session, "Outlet", url="https://o.example/1", based_on=AP_URL)
    with pytest.raises(Conflict) as caught:
        delete_source(session, AP_URL)
    message = str(caught.value)
    assert f"the attributions of 1 claim(s) (ids {claim.id})" in message
    assert "status events of 1 claim(s) as evidence" in message
    assert f"1 source(s) based on it (ids {story.id})" in message
    assert "--cascade" in message

    done = delete_source(session, AP_URL, cascade=True)
    assert done["attributions_removed"] == 1
    assert session.get(Statement, claim.id) is not None
    assert session.scalar(select(func.count()).select_from(Attribution)) == 0
    assert session.scalars(select(StatusEvent.evidence_source_id)).all() == [None]
    assert session.get(Source, story.id).based_on_id is None
    with pytest.raises(NotFound):
        get_source(session, AP_URL)


def test_delete_unreferenced(session: Session, ap: Source) -> None:
    assert delete_source(session, AP_URL)["attributions_removed"] == 0
    assert session.scalar(select(func.count()).select_from(Source)) == 0


def test_lengths_and_nul_are_refused_alike_on_both_backends(session: Session) -> None:
    with pytest.raises(FactdbError, match="a source name is too long"):
        create_source(session, "x" * 301)
    with pytest.raises(FactdbError, match="a URL is too long"):
        create_source(session, "X", url="https://example.org/" + "u" * 2000)
    with pytest.raises(FactdbError, match="a credit is too long"):
        create_source(session, "X", credit="c" * 301)
    assert create_source(session, "X", title="a\x00b").title == "ab"  # controls are cleaned
    source = create_source(session, "y" * 300, url="https://example.org/" + "u" * 1980)
    with pytest.raises(FactdbError, match="too long"):
        edit_source(session, source.id, name="w" * 301)
    with pytest.raises(FactdbError, match="a URL is too long"):
        edit_source(session, source.id, url="https://example.org/" + "u" * 1990)


def test_did_you_mean_names_each_source_once(session: Session) -> None:
    """A source matched by its name and by its alias is suggested once, by its name."""
    ap = create_source(session, "Associated Press", kind="news_agency")
    add_source_alias(session, ap.id, "Associated Pres")
    add_source_alias(session, ap.id, "AP")
    with pytest.raises(NotFound) as found:
        get_source(session, "Asociated Press")
    assert str(found.value).endswith("did you mean 'Associated Press'?")
    with pytest.raises(NearMatch) as near:
        create_source(session, "Associated Presss")
    assert near.value.candidates == ["Associated Press"]
