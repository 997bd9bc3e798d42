"""Correction services without the CLI (both backends): attribution chains, withdrawn status
events, repeated statuses, unlinking, removing verdicts, source aliases and merges, short-form
suggestions, --via parsing, and the thread around a claim."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from factdb.errors import Conflict, FactdbError, NotFound
from factdb.models import Attribution, Source, SourceAlias, StatusEvent
from factdb.services.attributions import (
    add_source,
    chain,
    move_source,
    paired_attributions,
    parse_via,
    remove_source,
)
from factdb.services.claims import AttributionInput, add_claim
from factdb.services.links import find_link, link_claims, unlink
from factdb.services.names import NearMatch, created_names, is_short_form
from factdb.services.sources import (
    add_source_alias,
    create_source,
    get_source,
    merge_sources,
    remove_source_alias,
    resolve_source,
)
from factdb.services.speakers import create_speaker, guess_kind
from factdb.services.statuses import add_status_event, status_as_of, withdraw_status_event
from factdb.services.thread import claim_thread
from factdb.services.verdicts import add_verdict, remove_verdict
from factdb.textkeys import name_key

ACCUSATION = "The eight Russian diplomats were secretly working as intelligence officers."


def _claim(session: Session, text: str = ACCUSATION, speaker: str = "NATO", **extra):  # type: ignore[no-untyped-def]
    return add_claim(session, text=text, speaker=speaker, speaker_kind="organisation", **extra)


def _names(session: Session, claim_id: int) -> list[tuple[int, str]]:
    return [(a.position, a.source.name) for a in chain(session, claim_id)]


# --- attribution chains ---------------------------------------------------------------------


def test_add_remove_move_keep_positions_contiguous(session: Session) -> None:
    claim = _claim(
        session,
        sources=[AttributionInput("Associated Press"), AttributionInput("Example Times")],
    )
    add_source(session, claim.id, AttributionInput("AFP", role="photo_credit"), position=1)
    assert _names(session, claim.id) == [(1, "AFP"), (2, "Associated Press"), (3, "Example Times")]
    move_source(session, claim.id, 1, 3)
    assert _names(session, claim.id) == [(1, "Associated Press"), (2, "Example Times"), (3, "AFP")]
    removed = remove_source(session, claim.id, 2)
    assert removed.source.name == "Example Times"
    assert _names(session, claim.id) == [(1, "Associated Press"), (2, "AFP")]
    # the source itself stays: only the claim's link to it went
    assert get_source(session, "Example Times").name == "Example Times"


def test_chain_corrections_refuse_bad_positions(session: Session) -> None:
    claim = _claim(session, sources=[AttributionInput("Associated Press")])
    with pytest.raises(NotFound, match="no source at position 2 .positions: 1 to 1"):
        remove_source(session, claim.id, 2)
    with pytest.raises(FactdbError, match="outside the chain"):
        move_source(session, claim.id, 1, 2)
    with pytest.raises(FactdbError, match="outside the chain"):
        add_source(session, claim.id, AttributionInput("AFP"), position=3)
    with pytest.raises(FactdbError, match="already at position 1"):
        move_source(session, claim.id, 1, 1)
    with pytest.raises(NotFound, match="no claim with id 999"):
        remove_source(session, 999, 1)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    moves=st.lists(
        st.tuples(st.sampled_from(["move", "remove", "add"]), st.integers(1, 6), st.integers(1, 6)),
        max_size=8,
    )
)
def test_chain_matches_a_list_model(session: Session, moves: list[tuple[str, int, int]]) -> None:
    """Any sequence of corrections leaves positions 1..n in the order a Python list predicts."""
    claim = _claim(
        session,
        text=f"A claim {len(session.info.get('seen', []))}.",
        sources=[AttributionInput(f"Outlet {c}", force_new=True) for c in "ABC"],
    )
    session.info.setdefault("seen", []).append(claim.id)
    model = [f"Outlet {c}" for c in "ABC"]
    added = 0
    for action, a, b in moves:
        if action == "add" and a <= len(model) + 1:
            added += 1
            name = f"Extra {added}"
            add_source(session, claim.id, AttributionInput(name, force_new=True), position=a)
            model.insert(a - 1, name)
        elif action == "remove" and a <= len(model):
            remove_source(session, claim.id, a)
            model.pop(a - 1)
        elif action == "move" and a <= len(model) and b <= len(model) and a != b:
            move_source(session, claim.id, a, b)
            model.insert(b - 1, model.pop(a - 1))
    assert _names(session, claim.id) == list(enumerate(model, start=1))


# --- statuses ------------------------------------------------------------------------------


def test_withdrawn_event_stays_but_no_longer_counts(session: Session) -> None:
    claim = _claim(session, said_on="2021-10", status="alleged", status_on="2021-10")
    wrong = add_status_event(session, claim.id, "confirmed", "2021-10-20")
    assert claim.current_status == "confirmed"
    withdrawn = withdraw_status_event(
        session, claim.id, wrong.id, note="confirmed the wrong claim", withdrawn_by="desk"
    )
    assert withdrawn.withdrawn_at is not None and withdrawn.withdrawn_by == "desk"
    assert claim.current_status == "alleged"
    assert status_as_of(session, claim.id, dt.date(2021, 10, 25)) == "alleged"
    # still in the history, marked
    events = session.scalars(select(StatusEvent).where(StatusEvent.statement_id == claim.id)).all()
    assert [(e.status_code, e.withdrawn_note) for e in events] == [
        ("alleged", None),
        ("confirmed", "confirmed the wrong claim"),
    ]
    with pytest.raises(Conflict, match="already withdrawn"):
        withdraw_status_event(session, claim.id, wrong.id, note="again")
    with pytest.raises(FactdbError, match="say why"):
        withdraw_status_event(session, claim.id, events[0].id, note="  ")
    other = _claim(session, text="Another claim.")
    with pytest.raises(NotFound, match=f"claim {other.id} has no status event {events[0].id}"):
        withdraw_status_event(session, other.id, events[0].id, note="wrong claim")
    # withdrawing the only remaining event leaves no status
    withdraw_status_event(session, claim.id, events[0].id, note="never alleged")
    assert claim.current_status is None


def test_withdrawn_event_is_ignored_by_listings(session: Session) -> None:
    from factdb.filters import ClaimFilter
    from factdb.services.query import list_claims

    claim = _claim(session, said_on="2021-10-06", status="alleged")
    wrong = add_status_event(session, claim.id, "denied", "2021-10-07")
    withdraw_status_event(session, claim.id, wrong.id, note="typo")
    as_of = ClaimFilter(as_of=dt.date(2021, 10, 8))
    assert [r["status"] for r in list_claims(session, as_of)] == ["alleged"]
    denied_then = ClaimFilter(as_of=dt.date(2021, 10, 8), status="denied")
    assert list(list_claims(session, denied_then)) == []


def test_same_status_again_needs_again(session: Session) -> None:
    claim = _claim(session, said_on="2021-10-06", status="alleged")
    with pytest.raises(Conflict, match="already 'alleged'; use --again"):
        add_status_event(session, claim.id, "alleged", "2021-10-08")
    event = add_status_event(session, claim.id, "alleged", "2021-10-08", again=True)
    assert event.status_code == "alleged"


# --- links and verdicts ----------------------------------------------------------------------


def test_unlink_and_remove_verdict(session: Session) -> None:
    claim = _claim(session)
    denial = _claim(session, text="The accusation is baseless.", speaker="Russian government")
    link = link_claims(session, denial.id, "denies", claim.id)
    assert find_link(session, denial.id, "denies", claim.id) is link
    unlink(session, link.id)
    with pytest.raises(NotFound, match="no link with id"):
        unlink(session, link.id)
    with pytest.raises(NotFound, match="no link: claim"):
        find_link(session, denial.id, "denies", claim.id)
    verdict = add_verdict(session, claim.id, "False")
    with pytest.raises(NotFound, match=f"no verdict with id {verdict.id} on claim {denial.id}"):
        remove_verdict(session, verdict.id, denial.id)
    remove_verdict(session, verdict.id, claim.id)
    with pytest.raises(NotFound):
        remove_verdict(session, verdict.id)


# --- sources: aliases, merges, short forms ----------------------------------------------------


def test_source_alias_resolves_everywhere(session: Session) -> None:
    ap = create_source(session, "Associated Press", kind="news_agency")
    add_source_alias(session, ap.id, "AP")
    assert get_source(session, "ap") is ap
    assert resolve_source(session, "AP") == (ap, False)
    # a new article of the outlet, named by its alias, takes the outlet's name
    article = create_source(session, "AP", url="https://apnews.com/1")
    assert article.name == "Associated Press"
    claim = _claim(session, sources=[AttributionInput("AP")])
    assert _names(session, claim.id) == [(1, "Associated Press")]
    with pytest.raises(Conflict, match="already an alias"):
        add_source_alias(session, ap.id, "ap")
    with pytest.raises(Conflict, match="already the name"):
        add_source_alias(session, ap.id, "associated press")
    assert remove_source_alias(session, "AP") == "Associated Press"
    with pytest.raises(NotFound):
        remove_source_alias(session, "AP")


def test_source_filter_reads_aliases(session: Session) -> None:
    from factdb.filters import ClaimFilter
    from factdb.services.query import list_claims

    ap = create_source(session, "Associated Press", kind="news_agency")
    add_source_alias(session, ap.id, "AP")
    claim = _claim(session, sources=[AttributionInput("Associated Press")])
    assert [r["id"] for r in list_claims(session, ClaimFilter(source="AP"))] == [claim.id]


def test_merge_sources_moves_everything_and_keeps_the_name(session: Session) -> None:
    ap = create_source(session, "Associated Press", kind="news_agency")
    typo = create_source(session, "Asociated Pres", url="https://ap.example/1", force=True)
    add_source_alias(session, typo.id, "A.P.")
    story = create_source(session, "Outlet", based_on=str(typo.id))
    claim = _claim(
        session, sources=[AttributionInput("Asociated Pres", url="https://ap.example/1")]
    )
    event = add_status_event(session, claim.id, "alleged", "2021-10-06", evidence_source=typo.id)
    summary = merge_sources(session, typo.id, ap.id)
    assert summary["attributions"] == 1
    assert set(summary["aliases"]) == {"Asociated Pres", "A.P."}
    assert _names(session, claim.id) == [(1, "Associated Press")]
    assert session.get(Source, story.id).based_on_id == ap.id
    assert session.get(StatusEvent, event.id).evidence_source_id == ap.id
    assert session.get(Source, ap.id).url == "https://ap.example/1"
    assert get_source(session, "asociated pres").id == ap.id
    assert session.get(Source, typo.id) is None
    with pytest.raises(FactdbError, match="into itself"):
        merge_sources(session, ap.id, "Associated Press")


def test_merge_keeps_no_alias_for_a_name_still_in_use(session: Session) -> None:
    one = create_source(session, "Associated Press", url="https://ap.example/1")
    two = create_source(session, "Associated Press", url="https://ap.example/2")
    merge_sources(session, two.id, one.id)
    aliases = session.scalars(select(SourceAlias.alias)).all()
    assert aliases == []


@pytest.mark.parametrize(
    ("short", "full", "expected"),
    [
        ("Lavrov", "Sergey Lavrov", True),
        ("S. Lavrov", "Sergey Lavrov", True),
        ("AP", "Associated Press", True),
        ("AFP", "Agence France-Presse", True),
        ("UN", "United Nations", True),
        ("Sergey", "Sergey Lavrov", False),
        ("A", "Associated Press", False),
        ("Moscow", "Russian government", False),
        ("Sergey Lavrov", "Sergey Lavrov", False),
        ("X. Lavrov", "Sergey Lavrov", False),
    ],
)
def test_short_forms(short: str, full: str, expected: bool) -> None:
    assert is_short_form(name_key(short), name_key(full)) is expected


def test_short_forms_get_did_you_mean(session: Session) -> None:
    create_speaker(session, "Sergey Lavrov")
    for short in ("Lavrov", "S. Lavrov"):
        with pytest.raises(NearMatch, match="did you mean 'Sergey Lavrov'"):
            add_claim(session, text=f"Words of {short}.", speaker=short)
    create_source(session, "Associated Press", kind="news_agency")
    with pytest.raises(NearMatch, match="did you mean 'Associated Press'"):
        create_source(session, "AP")
    with pytest.raises(NearMatch, match="did you mean 'Associated Press'"):
        _claim(session, sources=[AttributionInput("AP")])


def test_created_names_are_reported_with_a_guessed_kind(session: Session) -> None:
    add_claim(session, text="Ties are cut.", speaker="Kremlin", sources=[AttributionInput("AFP")])
    add_claim(session, text="We take note.", speaker="Oana Lungescu", speaker_kind="person")
    assert created_names(session) == [
        "new speaker 'Kremlin' (organisation? guessed from the name)",
        "new source 'AFP' (outlet)",
        "new speaker 'Oana Lungescu' (person)",
    ]
    assert [guess_kind(n) for n in ("NATO", "Russian Foreign Ministry", "Sergey Lavrov")] == [
        "organisation",
        "organisation",
        "person",
    ]


# --- --via and the older positional options ----------------------------------------------------


def test_parse_via() -> None:
    via = parse_via("Associated Press; role=according to; verb=said; url=https://ap.example/1")
    assert via == AttributionInput(
        "Associated Press", url="https://ap.example/1", role="according_to", verb="said"
    )
    assert parse_via("Outlet; kind=news agency; published=2021-10-18").kind == "news_agency"
    for bad, message in [
        ("role=said_by", "start with the source's name"),
        ("AP; role=author", "unknown attribution role"),
        ("AP; mood=grim", "is not key=value"),
        ("AP; verb=said; verb=told", "verb is given twice"),
        ("AP; kind=blog", "unknown source kind"),
    ]:
        with pytest.raises(FactdbError, match=message):
            parse_via(bad)


def test_paired_options_refuse_guessing() -> None:
    sources = ("Associated Press", "Outlet")
    with pytest.raises(FactdbError, match="ambiguous: 2 --source but 1 --verb"):
        paired_attributions(sources, {"--verb": ("denied",), "--role": ("published_by",)})
    pairs = paired_attributions(sources, {"--role": ("according_to", "published_by")})
    assert [(p.source, p.role) for p in pairs] == [
        ("Associated Press", "according_to"),
        ("Outlet", "published_by"),
    ]
    [one] = paired_attributions(("AP",), {"--verb": ("said",), "--role": ()})
    assert (one.verb, one.role) == ("said", "reported_by")


# --- the thread around a claim -------------------------------------------------------------------


def test_thread_follows_links_both_ways_in_date_order(session: Session) -> None:
    accusation = _claim(session, said_on="2021-10-06", status="alleged")
    denial = _claim(session, text="Baseless.", speaker="Russian government", said_on="2021-10-07")
    retaliation = _claim(
        session, text="We suspend our mission.", speaker="Sergey Lavrov", said_on="2021-10-18"
    )
    answer = _claim(session, text="We take note.", speaker="Oana Lungescu", said_on="2021-10-19")
    unrelated = _claim(session, text="Something else.", said_on="2021-10-01")
    link_claims(session, denial.id, "denies", accusation.id)
    link_claims(session, retaliation.id, "responds to", accusation.id)
    link_claims(session, answer.id, "responds to", retaliation.id)
    found = claim_thread(session, accusation.id)
    assert [c["id"] for c in found["claims"]] == [
        accusation.id,
        denial.id,
        retaliation.id,
        answer.id,
    ]
    assert unrelated.id not in [c["id"] for c in found["claims"]]
    first = found["claims"][0]
    assert first["status"] == "alleged"
    assert first["answered_by"] == [f"{denial.id} denies", f"{retaliation.id} responds to"]
    assert found["claims"][1]["links"] == [f"denies {accusation.id}"]
    near = claim_thread(session, accusation.id, depth=1)
    assert answer.id not in [c["id"] for c in near["claims"]]
    assert [c["id"] for c in claim_thread(session, unrelated.id)["claims"]] == [unrelated.id]


def test_attribution_rows_are_gone_after_remove(session: Session) -> None:
    claim = _claim(session, sources=[AttributionInput("Associated Press")])
    remove_source(session, claim.id, 1)
    assert session.scalars(select(Attribution)).all() == []


def test_import_resolves_source_aliases(session: Session) -> None:
    import io

    from factdb.io.loader import Loader
    from factdb.io.readers import read_records

    ap = create_source(session, "Associated Press", kind="news_agency")
    add_source_alias(session, ap.id, "AP")
    lines = (
        b'{"text": "One.", "speaker": "NATO", "source": "AP"}\n'
        b'{"text": "Two.", "speaker": "NATO", "source": "AP", "source_url": "https://ap.example/2"}\n'
    )
    Loader(session).load(read_records(io.BytesIO(lines), "x.jsonl", "jsonl"))
    names = session.scalars(select(Source.name).order_by(Source.id)).all()
    assert names == ["Associated Press", "Associated Press"]  # an article named by the alias
    assert session.scalars(select(Attribution.source_id).order_by(Attribution.id)).first() == ap.id


_VALUE = (
    st.text(
        alphabet=st.characters(blacklist_characters=";=", blacklist_categories=("Cs", "Cc")),
        min_size=1,
        max_size=30,
    )
    .map(str.strip)
    .filter(bool)
)


@settings(max_examples=100, deadline=None)
@given(
    name=_VALUE,
    role=st.sampled_from(["said_by", "reported_by", "according_to", "published_by"]),
    verb=st.none() | _VALUE,
    url=st.none() | _VALUE,
)
def test_via_round_trips(name: str, role: str, verb: str | None, url: str | None) -> None:
    """Whatever the values (without ';' or '='), --via gives back exactly what was written."""
    parts = [name, f"role={role}"]
    parts += [f"verb={verb}"] if verb else []
    parts += [f"url={url}"] if url else []
    via = parse_via("; ".join(parts))
    assert (via.source, via.role, via.verb, via.url) == (name, role, verb, url)
