"""Speaker services without the CLI: name matching, aliases, edit, merge, delete (both backends)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from factdb.errors import Conflict, FactdbError, NotFound
from factdb.models import Speaker, SpeakerAlias, Statement
from factdb.services.claims import add_claim
from factdb.services.names import NearMatch
from factdb.services.speakers import (
    add_alias,
    create_speaker,
    delete_speaker,
    edit_speaker,
    find_speaker,
    get_speaker,
    list_speakers,
    merge_speakers,
    remove_alias,
    resolve_speaker,
    speaker_detail,
)
from factdb.textkeys import content_key, name_key


@pytest.fixture
def lavrov(session: Session) -> Speaker:
    """Sergey Lavrov acting for the Russian Foreign Ministry ("Moscow"), with a Cyrillic alias."""
    create_speaker(session, "Russian Foreign Ministry", kind="organisation", aliases=["Moscow"])
    return create_speaker(
        session,
        "Sergey Lavrov",
        role="Foreign Minister",
        acts_for="Russian Foreign Ministry",
        aliases=["Сергей Лавров"],
        external_ids={"wikidata": "Q83487"},
    )


# --- name matching ---------------------------------------------------------------------------


SPELLINGS = [
    "Sergey Lavrov",
    "sergey lavrov",
    "SERGEY LAVROV",
    "  Sergey \t  Lavrov ",
    "Sérgéy Lávrov",
]


def test_names_match_case_accent_and_whitespace_insensitively(
    session: Session, lavrov: Speaker
) -> None:
    for spelling in SPELLINGS:
        assert find_speaker(session, spelling) is lavrov
        assert get_speaker(session, spelling) is lavrov


def test_cyrillic_alias_finds_the_speaker(session: Session, lavrov: Speaker) -> None:
    for alias in ("Сергей Лавров", "сергей лавров", "СЕРГЕЙ  ЛАВРОВ"):
        assert find_speaker(session, alias) is lavrov


def test_alias_of_an_organisation(session: Session, lavrov: Speaker) -> None:
    assert find_speaker(session, "moscow").name == "Russian Foreign Ministry"


def test_near_match_is_refused_and_forced(session: Session, lavrov: Speaker) -> None:
    with pytest.raises(NearMatch) as caught:
        create_speaker(session, "Sergei Lavrov")
    assert caught.value.candidates == ["Sergey Lavrov"]
    assert str(caught.value) == (
        "speaker 'Sergei Lavrov' is not known; did you mean 'Sergey Lavrov'?"
    )
    forced = create_speaker(session, "Sergei Lavrov", force=True)
    assert forced.id != lavrov.id


def test_near_match_through_a_cyrillic_alias(session: Session, lavrov: Speaker) -> None:
    with pytest.raises(NearMatch) as caught:
        create_speaker(session, "Сергей Лавроф")
    # matched through the alias, suggested by the speaker's name (one speaker, one suggestion)
    assert caught.value.candidates == ["Sergey Lavrov"]
    # й is и with a breve: accent-insensitive keys treat a missing breve (or ё → е) as the same
    assert find_speaker(session, "Сергеи Лавров") is lavrov


def test_unrelated_name_is_not_a_near_match(session: Session, lavrov: Speaker) -> None:
    create_speaker(session, "Oana Lungescu")
    create_speaker(session, "Jens Stoltenberg")


def test_existing_name_or_alias_is_refused(session: Session, lavrov: Speaker) -> None:
    for taken in ("sergey LAVROV", "Сергей Лавров", "MOSCOW"):
        with pytest.raises(FactdbError, match="already used"):
            create_speaker(session, taken, force=True)
    with pytest.raises(FactdbError, match="already used"):
        add_alias(session, lavrov, "Moscow")


def test_empty_name_is_refused(session: Session) -> None:
    with pytest.raises(FactdbError, match="empty"):
        create_speaker(session, "   ")


def test_unknown_speaker_suggests(session: Session, lavrov: Speaker) -> None:
    with pytest.raises(NotFound, match="did you mean 'Sergey Lavrov'"):
        get_speaker(session, "Sergej Lavrov")
    with pytest.raises(NotFound, match="did you mean 'Sergey Lavrov'"):
        get_speaker(session, "lavrov")
    with pytest.raises(NotFound, match="no speaker with id 999"):
        get_speaker(session, "999")


def test_resolve_speaker(session: Session, lavrov: Speaker) -> None:
    assert resolve_speaker(session, "сергей лавров") == (lavrov, False)
    with pytest.raises(NotFound):
        resolve_speaker(session, "Oana Lungescu", create=False)
    created, was_new = resolve_speaker(session, "Oana Lungescu", kind="person")
    assert was_new and created.name == "Oana Lungescu"
    with pytest.raises(NearMatch):
        resolve_speaker(session, "Sergei Lavrov")


def test_unknown_kind(session: Session) -> None:
    with pytest.raises(FactdbError, match="unknown speaker kind"):
        create_speaker(session, "NATO", kind="alliance")
    assert create_speaker(session, "NATO", kind="org").kind == "organisation"


# --- list and detail -------------------------------------------------------------------------


def test_list_filters(session: Session, lavrov: Speaker) -> None:
    create_speaker(session, "Oana Lungescu", role="NATO spokesperson")
    names = [r["name"] for r in list_speakers(session)]
    assert names == ["Oana Lungescu", "Russian Foreign Ministry", "Sergey Lavrov"]
    people = [r["name"] for r in list_speakers(session, kind="person")]
    assert people == ["Oana Lungescu", "Sergey Lavrov"]
    assert [r["name"] for r in list_speakers(session, name="LÁVROV")] == ["Sergey Lavrov"]
    # an alias substring finds its speaker too, in any script
    assert [r["name"] for r in list_speakers(session, name="лавров")] == ["Sergey Lavrov"]
    assert [r["name"] for r in list_speakers(session, name="mosc")] == ["Russian Foreign Ministry"]
    # LIKE wildcards in the filter are literal
    assert list(list_speakers(session, name="%")) == []
    assert len(list(list_speakers(session, limit=1))) == 1


def test_list_row_and_detail(session: Session, lavrov: Speaker) -> None:
    add_claim(session, text="We will respond.", speaker="Sergey Lavrov", said_on="2021-10-18")
    row = next(r for r in list_speakers(session) if r["id"] == lavrov.id)
    assert row == {
        "id": lavrov.id,
        "name": "Sergey Lavrov",
        "kind": "person",
        "role": "Foreign Minister",
        "acts_for": "Russian Foreign Ministry",
        "aliases": "Сергей Лавров",
        "claims": 1,
    }
    detail = speaker_detail(session, "Сергей Лавров")
    assert detail["external_ids"] == {"wikidata": "Q83487"}
    assert detail["aliases"] == ["Сергей Лавров"]
    assert detail["claims"] == 1
    ministry = speaker_detail(session, "Moscow")
    assert ministry["acting_for_it"] == ["Sergey Lavrov"]
    assert ministry["claims"] == 0


# --- edit ------------------------------------------------------------------------------------


def test_rename_keeps_names_unique(session: Session, lavrov: Speaker) -> None:
    with pytest.raises(FactdbError, match="already used"):
        edit_speaker(session, lavrov.id, name="moscow")
    edit_speaker(session, lavrov.id, name="Sergey V. Lavrov")
    assert find_speaker(session, "sergey v. lavrov") is lavrov
    assert find_speaker(session, "Sergey Lavrov") is None


def test_rename_to_own_alias_swaps(session: Session, lavrov: Speaker) -> None:
    edit_speaker(session, lavrov.id, name="Сергей Лавров")
    assert lavrov.name == "Сергей Лавров"
    assert lavrov.aliases == []


def test_rename_near_match_refused_unless_forced(session: Session, lavrov: Speaker) -> None:
    oana = create_speaker(session, "Oana Lungescu")
    with pytest.raises(NearMatch):
        edit_speaker(session, oana.id, name="Sergei Lavrov")
    edit_speaker(session, oana.id, name="Sergei Lavrov", force=True)
    assert oana.name == "Sergei Lavrov"
    # a speaker's own spelling change is not a near match of itself
    edit_speaker(session, lavrov.id, name="Sergey Lavrow")


def test_edit_fields_and_external_ids(session: Session, lavrov: Speaker) -> None:
    edit_speaker(
        session,
        "Sergey Lavrov",
        role="",
        kind="person",
        notes="since 2004",
        external_ids={"viaf": "123", "wikidata": ""},
    )
    assert lavrov.role is None and lavrov.notes == "since 2004"
    assert lavrov.external_ids == {"viaf": "123"}
    edit_speaker(session, lavrov.id, acts_for=None)
    assert lavrov.acts_for is None
    with pytest.raises(FactdbError, match="cannot edit"):
        edit_speaker(session, lavrov.id, speaker_id=3)


def test_acts_for_cycle_refused(session: Session, lavrov: Speaker) -> None:
    with pytest.raises(FactdbError, match="cycle"):
        edit_speaker(session, "Moscow", acts_for="Sergey Lavrov")
    with pytest.raises(FactdbError, match="cycle"):
        edit_speaker(session, lavrov.id, acts_for="Sergey Lavrov")
    deputy = create_speaker(session, "Maria Zakharova", acts_for="Sergey Lavrov")
    with pytest.raises(FactdbError, match="cycle"):
        edit_speaker(session, "Russian Foreign Ministry", acts_for=deputy.name)


def test_alias_add_remove(session: Session, lavrov: Speaker) -> None:
    add_alias(session, lavrov, "S. Lavrov")
    assert find_speaker(session, "s. lavrov") is lavrov
    remove_alias(session, lavrov, "S. LAVROV")
    assert find_speaker(session, "S. Lavrov") is None
    with pytest.raises(NotFound, match="no alias"):
        remove_alias(session, lavrov, "S. Lavrov")
    with pytest.raises(FactdbError, match="not an alias"):
        remove_alias(session, lavrov, "Sergey Lavrov")


# --- merge -----------------------------------------------------------------------------------


def test_merge_moves_everything(session: Session, lavrov: Speaker) -> None:
    dup = create_speaker(
        session,
        "Sergei Lavrov",
        force=True,
        aliases=["S. V. Lavrov"],
        external_ids={"wikidata": "Q1", "viaf": "9"},
    )
    aide = create_speaker(session, "An Aide", acts_for="Sergei Lavrov")
    moved = add_claim(
        session, text="Contacts continue.", speaker="Sergei Lavrov", said_on="2021-10"
    )
    kept = add_claim(
        session, text="We will respond.", speaker="Sergey Lavrov", said_on="2021-10-18"
    )
    dup_id = dup.id

    summary = merge_speakers(session, "Sergei Lavrov", "Sergey Lavrov")

    assert summary["claims"] == 1 and summary["aliases"] == ["Sergei Lavrov", "S. V. Lavrov"]
    assert session.get(Speaker, dup_id) is None
    assert session.get(Statement, moved.id).speaker_id == lavrov.id
    assert session.get(Statement, moved.id).content_key == content_key(
        lavrov.id, "Contacts continue.", "2021-10"
    )
    assert session.get(Statement, kept.id).speaker_id == lavrov.id
    for name in ("Sergei Lavrov", "s. v. lavrov", "Сергей Лавров"):
        assert find_speaker(session, name).id == lavrov.id
    assert session.get(Speaker, aide.id).acts_for_id == lavrov.id
    # the target's own external ids win
    assert session.get(Speaker, lavrov.id).external_ids == {"wikidata": "Q83487", "viaf": "9"}
    # a re-added claim by the old name is now a duplicate of the moved one
    from factdb.services.claims import DuplicateClaim

    with pytest.raises(DuplicateClaim):
        add_claim(session, text="Contacts continue.", speaker="Sergei Lavrov", said_on="2021-10")


def test_merge_refuses_a_clash_and_changes_nothing(session: Session, lavrov: Speaker) -> None:
    create_speaker(session, "Sergei Lavrov", force=True)
    theirs = add_claim(session, text="We will respond.", speaker="Sergei Lavrov", said_on="2021-10")
    ours = add_claim(session, text="we will  RESPOND.", speaker="Sergey Lavrov", said_on="2021-10")
    other = add_claim(session, text="Other words.", speaker="Sergei Lavrov")
    session.commit()
    with pytest.raises(Conflict) as caught:
        merge_speakers(session, "Sergei Lavrov", "Sergey Lavrov")
    message = str(caught.value)
    assert f"claim {theirs.id} = claim {ours.id}" in message
    assert str(other.id) not in message.split("(")[1]
    session.rollback()
    assert find_speaker(session, "Sergei Lavrov") is not None
    assert session.get(Statement, theirs.id).speaker.name == "Sergei Lavrov"


def test_merge_same_date_different_precision_is_no_clash(session: Session, lavrov: Speaker) -> None:
    create_speaker(session, "Sergei Lavrov", force=True)
    add_claim(session, text="Words.", speaker="Sergei Lavrov", said_on="2021-10")
    add_claim(session, text="Words.", speaker="Sergey Lavrov", said_on="2021-10-01")
    assert merge_speakers(session, "Sergei Lavrov", "Sergey Lavrov")["claims"] == 1
    count = session.scalar(select(func.count()).where(Statement.speaker_id == lavrov.id))
    assert count == 2


def test_merge_into_itself_and_cycles(session: Session, lavrov: Speaker) -> None:
    with pytest.raises(FactdbError, match="itself"):
        merge_speakers(session, "Сергей Лавров", "Sergey Lavrov")
    # the ministry acts for nobody; merging Lavrov (who acts for it) into it must not make it
    # act for itself
    merge_speakers(session, "Sergey Lavrov", "Moscow")
    ministry = find_speaker(session, "Russian Foreign Ministry")
    assert ministry.acts_for is None
    assert ministry.role == "Foreign Minister"  # filled from the merged speaker
    aliases = session.scalars(
        select(SpeakerAlias.alias).where(SpeakerAlias.speaker_id == ministry.id)
    ).all()
    assert sorted(aliases) == sorted(["Moscow", "Сергей Лавров", "Sergey Lavrov"])


# --- delete ----------------------------------------------------------------------------------


def test_delete_refused_while_referred_to(session: Session, lavrov: Speaker) -> None:
    claim = add_claim(session, text="We will respond.", speaker="Sergey Lavrov")
    with pytest.raises(Conflict) as caught:
        delete_speaker(session, "Sergey Lavrov")
    assert f"1 claim(s) (ids {claim.id})" in str(caught.value)
    with pytest.raises(Conflict, match=r"acting for it \('Sergey Lavrov'\)"):
        delete_speaker(session, "Moscow")


def test_delete_takes_aliases_along(session: Session) -> None:
    create_speaker(session, "Nobody", aliases=["Noone"])
    assert delete_speaker(session, "noone") == "Nobody"
    assert find_speaker(session, "Nobody") is None
    assert session.scalar(select(func.count()).select_from(SpeakerAlias)) == 0
    create_speaker(session, "Noone")  # the alias key is free again


# --- name_key properties ---------------------------------------------------------------------

ACCENTS = ["\u0301", "\u0300", "\u0308", "\u0302", "\u0327"]


@given(st.text(max_size=60))
def test_name_key_is_idempotent(name: str) -> None:
    assert name_key(name_key(name)) == name_key(name)


@given(st.text(alphabet=st.characters(categories=["Lu", "Ll", "Lt", "Nd", "Zs"]), max_size=40))
def test_name_key_ignores_case(name: str) -> None:
    # case-insensitive in Unicode's sense: names whose case folds are equal share a key
    # (upper/lower case maps that are not reversible, like Turkish "ı" → "I", are left out)
    assert name_key(name.casefold()) == name_key(name)
    for other in (name.upper(), name.lower(), name.title()):
        if other.casefold() == name.casefold():
            assert name_key(other) == name_key(name)


def test_name_key_examples() -> None:
    assert name_key("  SERGÉY   lavrov") == name_key("Sergey Lavrov") == "sergey lavrov"
    assert name_key("ΣΕΡΓΚΈΙ") == name_key("σεργκέι")
    assert name_key("ᾀ") == name_key("ἈΙ")  # casefolding can turn an accent into a letter
    assert name_key("Straße") == name_key("STRASSE")
    assert name_key("Сергей Лавров") != name_key("Sergey Lavrov")  # aliases bridge scripts


@given(
    st.lists(st.text(alphabet="abcdefghijklmnopqrstuvwxyzабвгдеж", min_size=1), max_size=6),
    st.lists(st.sampled_from([" ", "  ", "\t", "\n", "\u00a0"]), min_size=7, max_size=7),
)
def test_name_key_ignores_whitespace_runs(words: list[str], gaps: list[str]) -> None:
    spaced = gaps[0] + "".join(w + gaps[i + 1] for i, w in enumerate(words))
    assert name_key(spaced) == name_key(" ".join(words))


@given(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyzабвгдеж ", max_size=30),
    st.lists(st.sampled_from(ACCENTS), max_size=30),
)
def test_name_key_ignores_accents(name: str, accents: list[str]) -> None:
    accented = "".join(
        c + (accents[i] if i < len(accents) and c != " " else "") for i, c in enumerate(name)
    )
    assert name_key(accented) == name_key(name)


def test_search_follows_renames_merges_and_aliases(session: Session, lavrov: Speaker) -> None:
    """The full-text index covers speaker names and aliases; our edits keep it current."""
    from factdb.filters import ClaimFilter
    from factdb.services.query import list_claims

    def found(expression: str) -> list[str]:
        return sorted(r["text"] for r in list_claims(session, ClaimFilter(search=expression)))

    create_speaker(session, "Sergei Lavrov", force=True)
    add_claim(session, text="Contacts continue.", speaker="Sergei Lavrov")
    add_claim(session, text="We will respond.", speaker="Sergey Lavrov")
    merge_speakers(session, "Sergei Lavrov", "Sergey Lavrov")
    assert found("Sergei") == ["Contacts continue.", "We will respond."]
    edit_speaker(session, lavrov.id, name="Sergey Viktorovich Lavrov")
    assert found("Viktorovich") == ["Contacts continue.", "We will respond."]
    add_alias(session, lavrov, "Minister Lavrov")
    assert found("Minister") == ["Contacts continue.", "We will respond."]
    remove_alias(session, lavrov, "Minister Lavrov")
    assert found("Minister") == []


def test_lengths_and_nul_are_refused_alike_on_both_backends(session: Session) -> None:
    with pytest.raises(FactdbError, match=r"a speaker name is too long \(301 characters; at most"):
        create_speaker(session, "x" * 301)
    # NFKD spells ligatures out: a name that fits can have a key that does not
    with pytest.raises(FactdbError, match="too long"):
        create_speaker(session, "\ufb03" * 150)
    # a NUL is a control character: cleaned away like any other (factdb.text)
    assert create_speaker(session, "nul\x00name").name == "nulname"
    with pytest.raises(FactdbError, match="a role is too long"):
        create_speaker(session, "A", role="r" * 301)
    speaker = create_speaker(session, "y" * 300, role="r" * 300)
    with pytest.raises(FactdbError, match="too long"):
        add_alias(session, speaker, "z" * 301)
    with pytest.raises(FactdbError, match="too long"):
        edit_speaker(session, speaker.id, name="w" * 301)
    assert edit_speaker(session, speaker.id, notes="a\x00b").notes == "ab"


def test_digits_are_an_id_first_then_a_name(session: Session, lavrov: Speaker) -> None:
    band = create_speaker(session, "1984", kind="organisation")
    assert get_speaker(session, str(lavrov.id)) is lavrov
    assert get_speaker(session, "1984") is band
    with pytest.raises(NotFound, match="no speaker with id 1985"):
        get_speaker(session, "1985")


@given(
    st.one_of(
        st.integers(min_value=0, max_value=2**70),
        st.text(alphabet="0123456789", min_size=1, max_size=30),
    )
)
def test_as_id_takes_exactly_the_numbers_a_row_id_can_be(ref: int | str) -> None:
    from factdb.services.names import MAX_ID, as_id

    number = int(ref)
    assert as_id(ref) == (number if number <= MAX_ID else None)
    assert as_id(str(ref)) == as_id(ref)
    assert as_id("1" * 5000) is None and as_id("١٢") is None  # no huge or non-ASCII digits


def test_did_you_mean_names_each_speaker_once(session: Session) -> None:
    """A speaker matched by its name and by an alias is suggested once, by its name."""
    lavrov = create_speaker(session, "Sergey Lavrov")
    add_alias(session, lavrov, "Sergei Lavrov")
    with pytest.raises(NotFound) as found:
        get_speaker(session, "Sergej Lavrov")
    assert str(found.value).endswith("did you mean 'Sergey Lavrov'?")
