"""Claim matching: query cleaning, the lexical layer on both backends, the CLI, and the
semantic layer (skipped when the optional 'match' extra is not installed)."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from factdb.match import embedding, semantic
from factdb.match.clean import clean_text, match_terms, stem, stemmed_words, word_forms
from factdb.match.lexical import lexical_hits, rescore
from factdb.match.service import E5, USE, Candidate, EmptyQuery, fused, match_claims
from factdb.models import Statement
from factdb.services.claims import add_claim
from factdb.services.seeding import default_seed_files, load_seed_files

SPY_QUERY_LEXICAL = "were the expelled Russian diplomats secretly intelligence officers?"
SPY_QUERY_REWORDED = "NATO says the Russian envoys it expelled were spies"
SPY_QUERY_RUSSIAN = "НАТО заявило, что высланные российские дипломаты были шпионами"
needs_model = pytest.mark.skipif(not embedding.available(), reason="the 'match' extra is absent")


def _seed(engine: Engine) -> None:
    with Session(engine) as session:
        load_seed_files(session, default_seed_files())
        session.commit()


def _spy_claim(session: Session) -> int:
    """The founding story's accusation: the diplomats were intelligence officers."""
    return session.scalar(
        select(Statement.id).where(Statement.text.like("The eight Russian diplomats were%"))
    )


def test_cleaning_drops_tweet_furniture_and_splits_hashtags_and_mentions() -> None:
    tweet = (
        "Wow #DefundTheCBC https://t.co/abc pic.twitter.com/xyz @JoeBiden said it "
        "— Brad Trost (@BradTrostCPC) December 26, 2019"
    )
    cleaned = clean_text(tweet)
    assert "t.co" not in cleaned and "pic.twitter" not in cleaned and "@" not in cleaned
    assert "Defund The CBC" in cleaned and "Brad Trost" in cleaned and "2019" not in cleaned
    # the signature's handle goes (its name is there), a mention in the text becomes a name
    assert "BradTrostCPC" not in cleaned and "Joe Biden said it" in cleaned
    assert match_terms(tweet) == [
        "wow",
        "defundthecbc",
        "defund",
        "cbc",
        "joe",
        "biden",
        "brad",
        "trost",
        "december",
        "2019",
    ]
    # the lexical layer keeps the signature's month and year; the day is gone either way
    assert clean_text(tweet, keep_date=True).endswith("Brad Trost December 2019")


def test_word_forms_cover_plurals_and_tenses() -> None:
    assert word_forms("migrants") == ["migrants", "migrant"]
    assert word_forms("spy") == ["spy"]  # too short to guess at
    assert "policies" in word_forms("policy") and "policy" in word_forms("policies")
    assert {"shoot", "shoots", "shooting"} <= set(word_forms("shooting"))
    assert {"expel", "expelled", "expels"} <= set(word_forms("expelled"))
    assert word_forms("шпионы") == ["шпионы"] and word_forms("g7") == ["g7"]


def test_terms_are_folded_and_any_script_counts() -> None:
    assert match_terms("Сергей Лавров: «НАТО»!") == ["сергеи", "лавров", "нато"]
    assert match_terms("the of and") == ["the", "of", "and"]  # only stopwords: kept
    assert match_terms("🙂 ... ---") == []


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(max_size=80))
# a word to Python, none to PostgreSQL's folding (a Mende Kikakui digit): once an invalid tsquery
@example("\U0001e8c7")
def test_any_text_is_a_query_never_search_syntax(engine: Engine, value: str) -> None:
    """Quotes, stars, parentheses and AND/OR/NOT are just text: no syntax error, ever."""
    with Session(engine) as session, contextlib.suppress(EmptyQuery):
        match_claims(session, value + ' "NOT (x* OR')


def test_stems_compare_inflections_the_index_does_not() -> None:
    assert stem("denies") == stem("denied") == stem("deny")
    assert stem("vaccines") == stem("vaccination")
    assert stem("шпионы") == "шпионы" and stem("g7") == "g7"
    assert stemmed_words("The Minister DENIED it") == ["the", "minist", "deni", "it"]


def _claims(engine: Engine, *claims: tuple[str, str | None]) -> list[int]:
    """Add (text, context) claims by one speaker; their ids."""
    with Session(engine) as session:
        ids = [
            add_claim(session, text=text, speaker="Desk", speaker_kind="person", context=context).id
            for text, context in claims
        ]
        session.commit()
    return ids


@pytest.mark.parametrize(
    ("claims", "query"),
    [
        # both claims share "minister" and "report"; only the second, longer one (which bm25
        # alone ranks lower) also has "denies", as "denied"
        (
            [
                ("The minister read the report.", None),
                ("The minister strongly denied the whole report on Monday evening.", None),
            ],
            "minister denies report",
        ),
        # nearly the same text twice: the context (a fact-check's headline) tells them apart
        (
            [
                ("A photograph shows a crowd at the stadium.", None),
                (
                    "A photograph shows a crowd at the stadium on Sunday.",
                    "Did a hologram show fill it?",
                ),
            ],
            "hologram show at the stadium",
        ),
    ],
    ids=["an inflection", "a claim's context"],
)
def test_stems_and_context_rank_the_second_claim_first(
    engine: Engine, claims: list[tuple[str, str | None]], query: str
) -> None:
    first, second = _claims(engine, *claims)
    with Session(engine) as session:
        found = [m.claim_id for m in match_claims(session, query)]
    assert found[:2] == [second, first]


def test_a_candidate_the_index_missed_is_ranked_by_its_context(engine: Engine) -> None:
    # the semantic layer's finds are scored lexically too: here only the context has the words
    other, headlined = _claims(
        engine,
        ("Hologram shows are popular in Tokyo.", None),
        ("A video shows a dragon over a ballpark.", "Did an AR dragon hologram fly over a game?"),
    )
    with Session(engine) as session:
        assert [h.claim_id for h in lexical_hits(session, "hologram at the game")] == [other]
        ranked = rescore(session, "hologram at the game", [other, headlined])
    assert [h.claim_id for h in ranked] == [headlined, other]
    assert ranked[0].relevance > ranked[1].relevance > 0


def test_lexical_layer_finds_the_accusation_first(engine: Engine) -> None:
    _seed(engine)
    with Session(engine) as session:
        found = match_claims(session, SPY_QUERY_LEXICAL)
        assert found[0].claim_id == _spy_claim(session)
        assert found[0].row["speaker"] == "NATO" and found[0].row["status"] == "denied"
        assert 0 < found[0].score <= 1


def test_a_claim_matches_itself_best_unless_excluded(engine: Engine) -> None:
    _seed(engine)
    with Session(engine) as session:
        claim = _spy_claim(session)
        text = session.get(Statement, claim).text
        best = match_claims(session, text)[0]
        assert best.claim_id == claim and best.score == pytest.approx(1.0)
        assert claim not in [m.claim_id for m in match_claims(session, text, exclude=claim)]


def test_min_score_and_limit(engine: Engine) -> None:
    _seed(engine)
    with Session(engine) as session:
        found = match_claims(session, SPY_QUERY_LEXICAL, limit=2)
        assert len(found) == 2
        assert all(m.score >= 0.5 for m in match_claims(session, SPY_QUERY_LEXICAL, min_score=0.5))


def test_context_reranks_claims_the_text_alone_ties(engine: Engine) -> None:
    """Two claims the index scores alike: the one whose context (a fact-checker's headline)
    also has the query's words comes first, on either backend; without context, no change."""
    from factdb.services.claims import add_claim

    with Session(engine) as session:
        plain = add_claim(session, text="A photo shows a flooded airport.", speaker="Desk")
        headed = add_claim(
            session,
            text="A photo shows a flooded airport terminal.",
            speaker="Desk",
            context="Did Hurricane Harvey Flood Houston's Airport?",
        )
        session.flush()
        query = "Hurricane Harvey: photo of the flooded Houston airport"
        assert [m.claim_id for m in match_claims(session, query)][:2] == [headed.id, plain.id]
        session.execute(
            Statement.__table__.update().where(Statement.id == headed.id).values(context=None)
        )
        assert match_claims(session, query)[0].claim_id == plain.id


def test_empty_query_is_refused(engine: Engine) -> None:
    with Session(engine) as session, pytest.raises(EmptyQuery):
        match_claims(session, "  !!! ")


# --- the CLI -----------------------------------------------------------------------------------


def test_cli_match_shows_status_and_verdicts(run) -> None:
    assert run("seed").exit_code == 0
    added = run("claim", "add", "Russia is building a base on the Moon.", "--speaker", "Someone")
    claim_id = added.output.split()[-1]
    from factdb.cli import cli  # noqa: F401  (the runner's CLI)

    result = run(
        "claim", "match", "Russia is building a Moon base", "--layer", "lexical", "--format", "json"
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert str(rows[0]["id"]) == claim_id
    assert set(rows[0]) >= {"score", "speaker", "said_on", "status", "verdicts", "text"}


def test_cli_match_lexical_table(run) -> None:
    run("seed")
    result = run("claim", "match", SPY_QUERY_LEXICAL, "--layer", "lexical")
    assert result.exit_code == 0
    first = result.stdout.splitlines()[2]
    assert "NATO" in first and "denied" in first and "eight Russian diplomats" in first


def test_cli_empty_query_and_bad_usage(run) -> None:
    result = run("claim", "match", "   ")
    assert result.exit_code == 1 and result.stderr.strip() == "Error: the query is empty"
    assert run("claim", "match").exit_code == 2
    assert run("claim", "match", "x", "--claim", "1").exit_code == 2


def test_cli_match_file_and_malformed_line(run, tmp_path: Path) -> None:
    run("seed")
    good = tmp_path / "q.txt"
    good.write_text(SPY_QUERY_LEXICAL + "\n\n" + json.dumps({"id": "q2", "text": "NATO"}) + "\n")
    result = run("claim", "match", "--file", str(good), "--layer", "lexical", "--format", "csv")
    assert result.exit_code == 0
    labels = {line.split(",")[0] for line in result.stdout.splitlines()[1:]}
    assert labels == {"1", "q2"}
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"text": "fine"}) + "\n{not json\n")
    result = run("claim", "match", "--file", str(bad))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {bad} line 2: not valid JSON")
    assert len(result.stderr.strip().splitlines()) == 1


def test_cli_match_by_claim_id(run) -> None:
    run("seed")
    result = run("claim", "match", "--claim", "1", "--layer", "lexical", "--format", "json")
    assert result.exit_code == 0
    assert 1 not in [row["id"] for row in json.loads(result.stdout)]
    assert run("claim", "match", "--claim", "99999").exit_code == 1


def test_cli_database_without_vectors(run) -> None:
    run("seed")
    result = run("claim", "match", SPY_QUERY_LEXICAL)
    assert result.exit_code == 0
    assert result.stderr.count("note: lexical matching only") == 1
    refused = run("claim", "match", SPY_QUERY_LEXICAL, "--layer", "semantic")
    assert refused.exit_code == 1 and refused.stderr.startswith("Error: ")
    assert len(refused.stderr.strip().splitlines()) == 1


# --- the semantic layer ------------------------------------------------------------------------


@needs_model
@pytest.mark.parametrize("query", [SPY_QUERY_REWORDED, SPY_QUERY_RUSSIAN])
def test_semantic_layer_finds_rewording_and_translation(run, query: str) -> None:
    run("seed")
    built = run("match", "index")
    assert built.exit_code == 0, built.output
    result = run("claim", "match", query, "--format", "json")
    assert result.exit_code == 0 and "note:" not in result.stderr
    first = json.loads(result.stdout)[0]
    assert first["text"].startswith("The eight Russian diplomats were")
    assert first["semantic"] is not None


@needs_model
def test_vectors_round_trip_as_int8() -> None:
    import numpy as np

    vectors = embedding.embed(["NATO expels eight Russians", "Bread is dear in Paris"])
    back = np.frombuffer(b"".join(semantic.to_bytes(vectors)), dtype=np.int8).reshape(2, -1)
    for _name, start, end in embedding.PARTS:  # each model's part is a unit vector
        part = back[:, start:end] / np.linalg.norm(back[:, start:end], axis=1, keepdims=True)
        assert np.allclose((part * vectors[:, start:end]).sum(axis=1), 1.0, atol=1e-3)


@needs_model
def test_index_resumes_and_skips_what_is_done(run) -> None:
    run("seed")
    assert "embedded" in run("match", "index", "--batch", "5").stderr
    again = run("match", "index")
    assert again.exit_code == 0 and "every claim has a vector" in again.stderr


def test_editing_a_claims_text_drops_its_stale_vector(engine: Engine) -> None:
    from factdb.models import ClaimVector
    from factdb.services.claims import edit_claim

    _seed(engine)
    with Session(engine) as session:
        claim = _spy_claim(session)
        for claim_id in (claim, claim + 1):
            session.add(ClaimVector(statement_id=claim_id, model=embedding.MODEL, vector=b"\0"))
        session.flush()
        edit_claim(session, claim, context="at a briefing")  # not embedded: the vector stays
        assert session.get(ClaimVector, claim) is not None
        edit_claim(session, claim, text="The eight were spies.")
        session.expire_all()
        assert session.get(ClaimVector, claim) is None
        assert session.get(ClaimVector, claim + 1) is not None


def test_renaming_or_merging_a_speaker_drops_the_vectors_of_its_claims(engine: Engine) -> None:
    from factdb.models import ClaimVector, Speaker
    from factdb.services.speakers import edit_speaker, merge_speakers

    _seed(engine)
    with Session(engine) as session:
        rows = session.execute(select(Statement.id, Speaker.name).join(Speaker)).all()
        for claim_id, _name in rows:
            session.add(ClaimVector(statement_id=claim_id, model=embedding.MODEL, vector=b"\0"))
        session.flush()
        every = {claim_id for claim_id, _name in rows}

        def kept() -> set[int]:
            return set(session.scalars(select(ClaimVector.statement_id)))

        def of(name: str) -> set[int]:
            return {claim_id for claim_id, speaker in rows if speaker == name}

        edit_speaker(session, "Oana Lungescu", role="NATO spokesperson")  # not embedded
        assert kept() == every
        edit_speaker(session, "Oana Lungescu", name="O. Lungescu")  # its vectors are stale
        assert of("Oana Lungescu") and kept() == every - of("Oana Lungescu")
        merge_speakers(session, "Russian Foreign Ministry", "Sergey Lavrov")
        assert of("Russian Foreign Ministry")
        assert kept() == every - of("Oana Lungescu") - of("Russian Foreign Ministry")


def test_common_terms_are_anded_on_a_big_database(engine: Engine, monkeypatch) -> None:
    """With every term 'common' (threshold lowered), claims having them all come first."""
    from factdb.match import lexical

    _seed(engine)
    with Session(engine) as session:
        if session.get_bind().dialect.name != "sqlite":
            pytest.skip("document frequencies are read from SQLite's FTS5 vocabulary")
        monkeypatch.setattr(lexical, "COMMON_TERM_DOCS", 0)
        found = match_claims(session, SPY_QUERY_LEXICAL)
        assert found[0].claim_id == _spy_claim(session)
        assert len(found) >= 2  # the two rarest terms ORed fill the rest of the list


@needs_model
def test_a_far_higher_cosine_is_not_outranked_by_one_shared_word(engine: Engine) -> None:
    # a Spanish query shares only "cancer" with both claims, and the shorter claim is the
    # lexical layer's first; the translation's cosine (about 0.8 against 0.4) must decide
    lemons, sunscreen = _claims(
        engine,
        ("Lemons can cure cancer better than chemotherapy.", None),
        ("Sunscreen causes skin cancer.", None),
    )
    with Session(engine) as session:
        for batch in semantic.missing_batches(session):
            semantic.store(session, batch)
        ranker = semantic.ranker(session)
        query = "Los limones curan el cáncer mejor que la quimioterapia."
        found = match_claims(session, query, semantic=ranker)
    assert [m.claim_id for m in found] == [lemons, sunscreen]
    assert found[0].semantic > found[1].semantic + 0.2


# --- the fusion, on candidates made by hand ---------------------------------------------------


def _candidate(claim_id: int, rank: int, cos_use: float, cos_e5: float, **kw) -> Candidate:
    return Candidate(
        claim_id,
        lexical_rank=rank,
        relevance=1.0 / (1 + rank),
        overlap=0.5,
        cosines={USE: cos_use, E5: cos_e5},
        semantic_ranks={USE: rank, E5: rank},
        **kw,
    )


def test_the_fusion_puts_first_what_every_layer_puts_first() -> None:
    found = fused(
        [_candidate(1, 2, 0.3, 0.80), _candidate(2, 0, 0.7, 0.90), _candidate(3, 1, 0.5, 0.85)]
    )
    assert [m.claim_id for m in found] == [2, 3, 1]
    assert found[0].semantic == 0.7  # USE's cosine is the one shown


def test_a_named_speaker_breaks_a_tie_and_a_far_higher_cosine_beats_a_rank() -> None:
    tied = [_candidate(1, 1, 0.5, 0.85), _candidate(2, 1, 0.5, 0.85, speaker_named=True)]
    assert [m.claim_id for m in fused(tied)][0] == 2
    # a translation: USE is sure (0.8 against 0.2) where e5 and the words say little
    translation = _candidate(1, 3, 0.8, 0.84)
    wordy = _candidate(2, 0, 0.2, 0.83)
    wordy.semantic_ranks = {USE: 3, E5: 0}
    translation.semantic_ranks = {USE: 0, E5: 3}
    assert [m.claim_id for m in fused([wordy, translation])] == [1, 2]


def test_without_cosines_the_lexical_relevance_orders() -> None:
    plain = [Candidate(1, 1, 0.4, 0.9), Candidate(2, 0, 1.0, 0.2)]
    found = fused(plain)
    assert [m.claim_id for m in found] == [2, 1]
    assert [m.score for m in found] == [0.2, 0.9] and found[0].semantic is None
