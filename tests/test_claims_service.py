"""The claims services without the CLI, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import BACKENDS, create_pg_database, drop_pg_database
from sqlalchemy import func, select
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

from factdb.db import make_engine
from factdb.errors import Conflict, FactdbError, NotFound
from factdb.models import Attribution, Source, Speaker, Statement, StatementLink, StatusEvent, Tag
from factdb.services.claims import (
    AttributionInput,
    DuplicateClaim,
    add_attribution,
    add_claim,
    delete_claim,
    edit_claim,
    get_claim,
)
from factdb.services.links import link_claims, normalise_relation
from factdb.services.names import NearMatch
from factdb.services.statuses import (
    add_status_code,
    add_status_event,
    refresh_current_status,
    status_as_of,
)
from factdb.services.verdicts import add_verdict, label_key, normalise_label


@pytest.fixture(scope="module", params=BACKENDS)
def module_engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> Iterator[Engine]:
    """One fresh database per backend for this module (creating one per test is slow on
    PostgreSQL); each test's session is rolled back, so tests never see each other's rows."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("claims") / "factdb.db"
        shutil.copyfile(sqlite_template, path)
        url = f"sqlite:///{path}"
    else:
        template = request.getfixturevalue("pg_template")
        url = create_pg_database(template=make_url(template).database)
    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()
        if request.param != "sqlite":
            drop_pg_database(url)


@pytest.fixture
def session(module_engine: Engine) -> Iterator[Session]:
    """A session whose changes are rolled back after the test."""
    with Session(module_engine) as s:
        yield s
        s.rollback()


def accusation(session: Session, **extra) -> Statement:  # type: ignore[no-untyped-def]
    """NATO's accusation, alleged on the day it was made."""
    fields = dict(
        text="Eight members of Russia's mission were undeclared intelligence officers.",
        speaker="NATO",
        speaker_kind="organisation",
        said_on="2021-10-06",
        status="alleged",
    )
    fields.update(extra)
    return add_claim(session, **fields)


def denial(session: Session) -> Statement:
    return add_claim(
        session,
        text="The accusation is baseless.",
        speaker="Russian Foreign Ministry",
        speaker_kind="organisation",
        said_on="2021-10-07",
    )


# --- add_claim ---------------------------------------------------------------------------


def test_add_claim_stores_every_field(session: Session) -> None:
    claim = add_claim(
        session,
        text="  We will   suspend the work\tof our mission  ",
        speaker="Sergey Lavrov",
        speaker_role="Foreign Minister",
        quote_kind="translation",
        language="EN",
        original_text="Мы приостановим работу нашего постпредства",
        original_language="ru",
        said_on="2021-10",
        context="Press conference in Moscow",
        tags=["NATO", " nato ", "Expulsions"],
        origin="seed",
        external_id="lavrov-1",
        sources=[
            AttributionInput("Associated Press", kind="news_agency", verb="according to"),
            AttributionInput(
                "Example Times",
                url="https://example.com/a",
                role="published_by",
                verb="said",
                title="Russia cuts ties",
                credit="Staff",
                published_on="2021-10-18",
            ),
        ],
    )
    session.flush()
    assert claim.text == "We will suspend the work of our mission"
    assert claim.quote_kind == "translation"
    assert claim.language == "en"
    assert claim.said_on == dt.date(2021, 10, 1) and claim.said_precision == "month"
    assert claim.speaker.name == "Sergey Lavrov" and claim.speaker.role == "Foreign Minister"
    assert sorted(t.name for t in claim.tags) == ["expulsions", "nato"]
    assert session.scalar(select(func.count()).select_from(Tag)) == 2
    chain = session.scalars(
        select(Attribution)
        .where(Attribution.statement_id == claim.id)
        .order_by(Attribution.position)
    ).all()
    assert [(a.position, a.source.name, a.role, a.verb) for a in chain] == [
        (1, "Associated Press", "reported_by", "according to"),
        (2, "Example Times", "published_by", "said"),
    ]
    assert chain[0].source.kind == "news_agency"
    assert chain[1].source.title == "Russia cuts ties"
    assert chain[1].source.published_on == dt.date(2021, 10, 18)
    assert claim.current_status is None


BAD_FIELDS = [
    ("text", "", "cannot be empty"),
    ("text", "   ", "cannot be empty"),
    ("text", "\n\t \n", "cannot be empty"),
    ("said_on", "2021-02-30", "impossible date"),
    ("said_on", "30/02/2021", "malformed date"),
    ("said_on", "2021-13", "impossible date"),
    ("status_on", "2021-02-30", "impossible date"),
    ("quote_kind", "rumour", "unknown quote kind"),
    ("language", "english please", "invalid language"),
    ("status", "bogus", "unknown status 'bogus' \\(valid: alleged, confirmed, denied"),
]


def test_bad_fields_are_refused_before_anything_is_written(session: Session) -> None:
    # one database for all cases (database creation dominates on PostgreSQL)
    for field, value, message in BAD_FIELDS:
        fields = {"text": "Something", "speaker": "NATO", field: value}
        with pytest.raises(FactdbError, match=message):
            add_claim(session, **fields)
        assert session.scalar(select(func.count()).select_from(Speaker)) == 0, field
        assert session.scalar(select(func.count()).select_from(Statement)) == 0, field


def test_quote_kind_spellings(session: Session) -> None:
    claim = add_claim(session, text="a", speaker="NATO", quote_kind="Direct quote")
    assert claim.quote_kind == "direct_quote"
    claim = add_claim(session, text="b", speaker="NATO", quote_kind="paraphrase")
    assert claim.quote_kind == "paraphrase"


def test_unknown_speaker_with_create_false_is_not_found(session: Session) -> None:
    add_claim(session, text="a", speaker="Sergey Lavrov")
    with pytest.raises(
        NotFound, match="unknown speaker 'Sergei Lavrov'; did you mean 'Sergey Lavrov'"
    ):
        add_claim(session, text="b", speaker="Sergei Lavrov", create_speaker=False)


def test_near_match_speaker_is_refused_unless_forced(session: Session) -> None:
    add_claim(session, text="a", speaker="Sergey Lavrov")
    with pytest.raises(NearMatch) as info:
        add_claim(session, text="b", speaker="Sergei Lavrov")
    assert info.value.candidates == ["Sergey Lavrov"]
    claim = add_claim(session, text="b", speaker="Sergei Lavrov", force_new_speaker=True)
    assert claim.speaker.name == "Sergei Lavrov"


def test_speaker_resolves_case_accent_and_alias_insensitively(session: Session) -> None:
    from factdb.services.speakers import add_alias

    first = add_claim(session, text="a", speaker="Sergey Lavrov")
    add_alias(session, first.speaker, "Сергей Лавров")
    assert add_claim(session, text="b", speaker="  SERGÉY   lavrov").speaker_id == first.speaker_id
    assert add_claim(session, text="c", speaker="сергей лавров").speaker_id == first.speaker_id


def test_identical_claim_by_same_speaker_is_a_duplicate(session: Session) -> None:
    first = accusation(session)
    with pytest.raises(DuplicateClaim) as info:
        add_claim(
            session,
            text="eight members of Russia's  mission were undeclared intelligence officers.",
            speaker="nato",
            said_on="2021-10-06",
        )
    assert info.value.existing_id == first.id
    assert f"claim {first.id}" in str(info.value)
    # same words on another date, or by someone else, are different claims
    assert accusation(session, said_on="2021-10-08").id != first.id
    assert accusation(session, speaker="Jens Stoltenberg", speaker_kind="person").id != first.id


def test_same_origin_and_external_id_is_a_duplicate(session: Session) -> None:
    first = add_claim(session, text="a", speaker="NATO", origin="feed", external_id="42")
    with pytest.raises(DuplicateClaim) as info:
        add_claim(session, text="other words", speaker="NATO", origin="feed", external_id="42")
    assert info.value.existing_id == first.id
    assert add_claim(session, text="b", speaker="NATO", origin="feed", external_id="43")


def test_initial_status_defaults_to_said_on_then_today(session: Session) -> None:
    dated = accusation(session)
    assert dated.current_status == "alleged"
    assert [(e.effective_on, e.effective_precision) for e in dated.status_events] == [
        (dt.date(2021, 10, 6), "day")
    ]
    undated = add_claim(session, text="undated", speaker="NATO", status="unverified")
    assert undated.status_events[0].effective_on == dt.date.today()
    later = add_claim(
        session, text="later", speaker="NATO", said_on="2021", status="alleged", status_on="2021-11"
    )
    assert (later.status_events[0].effective_on, later.status_events[0].effective_precision) == (
        dt.date(2021, 11, 1),
        "month",
    )


def test_get_claim_not_found(session: Session) -> None:
    with pytest.raises(NotFound, match="no claim with id 999"):
        get_claim(session, 999)


def test_add_attribution_appends_to_the_chain(session: Session) -> None:
    claim = accusation(session, sources=[AttributionInput("Associated Press")])
    row = add_attribution(
        session,
        claim,
        AttributionInput("AFP via Getty Images", kind="photo_agency", role="photo credit"),
    )
    assert row.position == 2 and row.role == "photo_credit"
    with pytest.raises(FactdbError, match="unknown attribution role"):
        add_attribution(session, claim, AttributionInput("AP", role="rumoured_by"))
    # a second claim reuses the existing source
    other = add_claim(
        session, text="x", speaker="NATO", sources=[AttributionInput("associated press")]
    )
    assert other.attributions[0].source_id == claim.attributions[0].source_id
    assert session.scalar(select(func.count()).select_from(Source)) == 2


# --- statuses ----------------------------------------------------------------------------


def test_status_history_and_current_status(session: Session) -> None:
    claim = accusation(session)
    add_status_event(session, claim.id, "denied", "2021-10-07", note="Moscow denies")
    assert claim.current_status == "denied"
    # an event recorded later but effective earlier does not become current
    add_status_event(session, claim.id, "disputed", "2021-10-06")
    assert claim.current_status == "denied"
    add_status_event(session, claim.id, "confirmed", "2022")
    assert claim.current_status == "confirmed"
    # same effective date: the one recorded later wins
    add_status_event(session, claim.id, "retracted", "2022-01-01")
    assert claim.current_status == "retracted"
    assert [e.status_code for e in claim.status_events] == [
        "alleged",
        "disputed",
        "denied",
        "confirmed",
        "retracted",
    ]


def test_unknown_status_lists_valid_codes(session: Session) -> None:
    claim = accusation(session)
    with pytest.raises(FactdbError) as info:
        add_status_event(session, claim.id, "debunked", "2021-10-08")
    message = str(info.value)
    for code in ("alleged", "denied", "disputed", "confirmed", "false", "retracted", "unverified"):
        assert code in message


def test_status_before_the_claim_is_refused(session: Session) -> None:
    claim = accusation(session)  # said 2021-10-06
    with pytest.raises(FactdbError, match="before claim .* was made"):
        add_status_event(session, claim.id, "denied", "2021-10-05")
    with pytest.raises(FactdbError, match="before claim"):
        add_status_event(session, claim.id, "denied", "2021-09")
    # a period that includes the claim's date is accepted
    add_status_event(session, claim.id, "disputed", "2021-10")
    add_status_event(session, claim.id, "disputed", "2021")
    month = add_claim(session, text="month claim", speaker="NATO", said_on="2021-10")
    add_status_event(session, month.id, "alleged", "2021-10-01")
    with pytest.raises(FactdbError, match="before claim"):
        add_status_event(session, month.id, "alleged", "2021-09-30")


def test_status_on_unknown_claim_and_bad_dates(session: Session) -> None:
    with pytest.raises(NotFound, match="no claim with id 5"):
        add_status_event(session, 5, "denied", "2021-10-07")
    claim = accusation(session)
    with pytest.raises(FactdbError, match="impossible date"):
        add_status_event(session, claim.id, "denied", "2021-02-30")


def test_status_evidence(session: Session) -> None:
    claim = accusation(session, sources=[AttributionInput("Associated Press")])
    moscow = denial(session)
    event = add_status_event(
        session,
        claim.id,
        "denied",
        "2021-10-07",
        evidence_source="associated press",
        evidence_claim_id=moscow.id,
        recorded_by="desk",
    )
    assert event.evidence_source.name == "Associated Press"
    assert event.evidence_statement_id == moscow.id and event.recorded_by == "desk"
    with pytest.raises(NotFound):
        add_status_event(session, claim.id, "denied", "2021-10-07", evidence_claim_id=999)
    with pytest.raises(NotFound):
        add_status_event(session, claim.id, "denied", "2021-10-07", evidence_source="Nobody")
    with pytest.raises(FactdbError, match="its own status"):
        add_status_event(session, claim.id, "denied", "2021-10-07", evidence_claim_id=claim.id)


def test_status_as_of_compares_partial_dates_by_first_day(session: Session) -> None:
    claim = accusation(session, said_on="2021", status="alleged", status_on="2021")
    add_status_event(session, claim.id, "denied", "2021-10")
    add_status_event(session, claim.id, "confirmed", "2021-12-15")
    assert status_as_of(session, claim.id, dt.date(2020, 12, 31)) is None
    assert status_as_of(session, claim.id, dt.date(2021, 1, 1)) == "alleged"
    assert status_as_of(session, claim.id, dt.date(2021, 9, 30)) == "alleged"
    assert status_as_of(session, claim.id, dt.date(2021, 10, 1)) == "denied"
    assert status_as_of(session, claim.id, dt.date(2021, 12, 14)) == "denied"
    assert status_as_of(session, claim.id, dt.date(2021, 12, 15)) == "confirmed"


def test_refresh_current_status_recomputes_from_events(session: Session) -> None:
    claim = accusation(session)
    claim.current_status = "false"  # a stale cache
    refresh_current_status(session, claim)
    assert claim.current_status == "alleged"


def test_user_defined_status(session: Session) -> None:
    status = add_status_code(session, "Partly Confirmed", "Partly confirmed", "Some of it holds")
    assert status.code == "partly_confirmed"
    claim = accusation(session)
    add_status_event(session, claim.id, "partly-confirmed", "2021-11")
    assert claim.current_status == "partly_confirmed"
    with pytest.raises(Conflict, match="already exists"):
        add_status_code(session, "partly_confirmed", "Again")
    with pytest.raises(FactdbError, match="invalid status code"):
        add_status_code(session, "1st", "First")
    with pytest.raises(FactdbError, match="label cannot be empty"):
        add_status_code(session, "new_one", " ")


# --- links -------------------------------------------------------------------------------


def test_links(session: Session) -> None:
    claim = accusation(session)
    moscow = denial(session)
    link = link_claims(session, moscow.id, "denies", claim.id, linked_on="2021-10", note="baseless")
    assert (link.relation, link.linked_on, link.linked_precision) == (
        "denies",
        dt.date(2021, 10, 1),
        "month",
    )
    for spelling in ("responds-to", "responds to", "Responds_To"):
        assert normalise_relation(spelling) == "responds_to"
    assert link_claims(session, moscow.id, "responds to", claim.id).relation == "responds_to"
    with pytest.raises(Conflict, match=f"claim {moscow.id} already responds to claim {claim.id}"):
        link_claims(session, moscow.id, "responds-to", claim.id)
    with pytest.raises(FactdbError, match="cannot be linked to itself"):
        link_claims(session, claim.id, "denies", claim.id)
    with pytest.raises(FactdbError, match="unknown link relation 'refutes'"):
        link_claims(session, moscow.id, "refutes", claim.id)
    with pytest.raises(NotFound, match="no claim with id 999"):
        link_claims(session, moscow.id, "denies", 999)
    with pytest.raises(FactdbError, match="impossible date"):
        link_claims(session, claim.id, "supports", moscow.id, linked_on="2021-02-30")


# --- delete / edit -----------------------------------------------------------------------


def test_delete_refuses_references_and_names_them(session: Session) -> None:
    claim = accusation(session)
    moscow = denial(session)
    link = link_claims(session, moscow.id, "denies", claim.id)
    event = add_status_event(session, claim.id, "denied", "2021-10-07", evidence_claim_id=moscow.id)
    with pytest.raises(Conflict) as info:
        delete_claim(session, claim.id)
    assert str(info.value) == (
        f"claim {claim.id} is referred to by: link {link.id} (claim {moscow.id} denies it); "
        "use --cascade to remove these references too"
    )
    with pytest.raises(Conflict) as info:
        delete_claim(session, moscow.id)
    assert f"status event {event.id} (evidence for claim {claim.id} being denied)" in str(
        info.value
    )
    # cascade removes the link and the evidence reference, not the other claim's history
    delete_claim(session, moscow.id, cascade=True)
    assert session.get(Statement, moscow.id) is None
    assert session.scalar(select(func.count()).select_from(StatementLink)) == 0
    events = session.scalars(select(StatusEvent).where(StatusEvent.statement_id == claim.id)).all()
    assert [e.status_code for e in events] == ["alleged", "denied"]
    assert all(e.evidence_statement_id is None for e in events)
    session.expire_all()
    assert get_claim(session, claim.id).current_status == "denied"


def test_delete_removes_the_claims_own_rows(session: Session) -> None:
    claim = accusation(session, tags=["nato"], sources=[AttributionInput("Associated Press")])
    add_verdict(session, claim.id, "False")
    moscow = denial(session)
    link_claims(session, claim.id, "repeats", moscow.id)  # its own outgoing link
    delete_claim(session, claim.id)
    for model in (Attribution, StatusEvent, StatementLink):
        assert session.scalar(select(func.count()).select_from(model)) == 0
    assert session.get(Statement, moscow.id) is not None
    with pytest.raises(NotFound):
        delete_claim(session, claim.id)


def test_edit_claim(session: Session) -> None:
    claim = accusation(session, tags=["nato"])
    other = add_claim(session, text="Other words", speaker="NATO", said_on="2021-10-06")
    edit_claim(session, claim.id, text="  New   words ", tags=["Spies"], context="Brussels")
    assert (claim.text, [t.name for t in claim.tags], claim.context) == (
        "New words",
        ["spies"],
        "Brussels",
    )
    with pytest.raises(DuplicateClaim) as info:
        edit_claim(session, claim.id, text="other words")
    assert info.value.existing_id == other.id
    session.rollback()


def test_edit_claim_validates(session: Session) -> None:
    claim = accusation(session)
    with pytest.raises(FactdbError, match="cannot be empty"):
        edit_claim(session, claim.id, text="")
    with pytest.raises(FactdbError, match="cannot edit colour"):
        edit_claim(session, claim.id, colour="red")
    with pytest.raises(FactdbError, match="before claim"):
        edit_claim(session, claim.id, said_on="2021-10-07")  # the 'alleged' event is 2021-10-06
    with pytest.raises(NotFound):
        edit_claim(session, 999, text="x")
    with pytest.raises(NotFound):
        edit_claim(session, claim.id, speaker="Nobody At All")


def test_edit_said_on_and_speaker(session: Session) -> None:
    claim = accusation(session, status=None)
    add_claim(session, text="z", speaker="Jens Stoltenberg")
    edit_claim(session, claim.id, said_on="2021", speaker="jens stoltenberg")
    assert (claim.said_on, claim.said_precision, claim.speaker.name) == (
        dt.date(2021, 1, 1),
        "year",
        "Jens Stoltenberg",
    )
    edit_claim(session, claim.id, said_on="")
    assert claim.said_on is None and claim.said_precision is None


# --- verdicts ----------------------------------------------------------------------------


def test_label_key_matches_the_migration_rule() -> None:
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "migrations" / "versions" / "0001_core.py"
    spec = importlib.util.spec_from_file_location("core_migration", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    for label in ("Pants on Fire", "pants-fire", "Half_True", "  MOSTLY   false ", "Fälsch"):
        assert label_key(label) == module._label_key(label)


def test_normalise_label(session: Session) -> None:
    rating, cls = normalise_label(session, "PANTS ON FIRE")
    assert rating is not None and rating.ordinal == 0 and cls == "false"
    rating, cls = normalise_label(session, "barely_true")
    assert rating is not None and rating.ordinal == 2 and cls == "false"
    rating, cls = normalise_label(session, "half-true")
    assert cls == "mixture"
    rating, cls = normalise_label(session, "Mixture", scale="snopes")
    assert rating is not None and rating.scale.name == "Snopes" and cls == "mixture"
    assert normalise_label(session, "Mixture", scale="Truth-O-Meter") == (None, "other")
    assert normalise_label(session, "Four Pinocchios") == (None, "other")


def test_add_verdict(session: Session) -> None:
    claim = accusation(session)
    known = add_verdict(
        session,
        claim.id,
        "Mostly False",
        reviewer="PolitiFact",
        reviewed_on="2021-11",
        url="https://x",
    )
    assert (known.normalised_class, known.rating_value, known.best_rating, known.worst_rating) == (
        "false",
        2,
        5,
        0,
    )
    assert known.reviewed_on == dt.date(2021, 11, 1)
    unknown = add_verdict(session, claim.id, "  Três Pinóquios ", reviewer="Lupa", rating_value=3)
    assert (unknown.label, unknown.normalised_class, unknown.scale_rating_id) == (
        "Três Pinóquios",
        "other",
        None,
    )
    assert unknown.rating_value == 3
    with pytest.raises(FactdbError, match="cannot be empty"):
        add_verdict(session, claim.id, " ")
    with pytest.raises(NotFound):
        add_verdict(session, 999, "True")
    with pytest.raises(FactdbError, match="impossible date"):
        add_verdict(session, claim.id, "True", reviewed_on="2021-02-30")
