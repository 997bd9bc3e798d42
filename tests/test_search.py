"""Full-text search: any script, accents folded, the expression language, an index kept exact.

The property test replays random edits (add, edit text, delete, rename a speaker, add and remove
aliases, merge speakers) and checks that search agrees with a brute-force scan of the data.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from factdb.errors import FactdbError
from factdb.models import Speaker, Statement
from factdb.services import search as search_service
from factdb.services.claims import add_claim, delete_claim, edit_claim
from factdb.services.search import (
    And,
    Not,
    Or,
    SearchSyntaxError,
    Term,
    highlight,
    index_statements,
    matching_ids,
    parse_search,
    resume_search_index,
    suspend_search_index,
)
from factdb.services.speakers import (
    add_alias,
    create_speaker,
    edit_speaker,
    merge_speakers,
    remove_alias,
)


def _claim(session: Session, text_: str, speaker: str, **kw) -> int:
    return add_claim(session, text=text_, speaker=speaker, force_new_speaker=True, **kw).id


@pytest.fixture
def story(session: Session) -> dict[str, int]:
    """A few claims in Latin, Cyrillic and Arabic script, with accents and aliases."""
    create_speaker(session, "Sergey Lavrov", aliases=["Сергей Лавров"], force=True)
    create_speaker(session, "Russian government", kind="organisation", aliases=["Moscow"])
    ids = {
        "lavrov": _claim(
            session,
            "Russia suspends the work of its permanent mission to NATO.",
            "Sergey Lavrov",
            original_text="Россия приостанавливает работу своего постпредства при НАТО.",
            original_language="ru",
        ),
        "intel": _claim(
            session,
            "The eight diplomats were secretly working as intelligence officers.",
            "NATO official",
        ),
        "baseless": _claim(
            session, "The allegations are baseless and unfounded.", "Russian government"
        ),
        "arabic": _claim(session, "قال المتحدث باسم الحلف إن القرار نهائي", "Al Jazeera desk"),
        "accents": _claim(session, "Le Kremlin a qualifié la décision d'«hostile».", "Élysée"),
        "cyrillic": _claim(session, "Захарова назвала решение НАТО враждебным", "Мария Захарова"),
    }
    session.flush()
    return ids


def test_latin_name_case_insensitive(session, story):
    assert matching_ids(session, "lavrov") == {story["lavrov"]}
    assert matching_ids(session, "LAVROV") == {story["lavrov"]}


def test_alias_in_another_script_finds_the_speakers_claims(session, story):
    assert matching_ids(session, "Лавров") == {story["lavrov"]}
    assert matching_ids(session, "moscow") == {story["baseless"]}


def test_cyrillic_finds_cyrillic(session, story):
    assert matching_ids(session, "захарова") == {story["cyrillic"]}
    assert matching_ids(session, "ВРАЖДЕБНЫМ") == {story["cyrillic"]}
    # the original-language text is searched too
    assert matching_ids(session, "постпредства") == {story["lavrov"]}


def test_arabic_finds_arabic(session, story):
    assert matching_ids(session, "المتحدث") == {story["arabic"]}
    assert matching_ids(session, "القرار") == {story["arabic"]}


def test_diacritics_are_folded_both_ways(session, story):
    assert matching_ids(session, "decision") == {story["accents"]}
    assert matching_ids(session, "qualifie") == {story["accents"]}
    assert matching_ids(session, "elysee") == {story["accents"]}
    assert matching_ids(session, "Sérgéy") == {story["lavrov"]}


def test_phrase_prefix_and_boolean_operators(session, story):
    assert matching_ids(session, '"intelligence officers"') == {story["intel"]}
    assert matching_ids(session, '"officers intelligence"') == set()
    assert matching_ids(session, "intell*") == {story["intel"]}
    assert matching_ids(session, "nato AND russia") == {story["lavrov"]}
    assert matching_ids(session, "nato russia") == {story["lavrov"]}
    assert matching_ids(session, "baseless OR intelligence") == {story["baseless"], story["intel"]}
    assert matching_ids(session, "nato NOT russia") == {story["intel"]}
    assert matching_ids(session, "(baseless OR intelligence) NOT eight") == {story["baseless"]}
    assert matching_ids(session, "nothingmatchesthis") == set()


def test_syntax_error_through_the_service(session, story):
    with pytest.raises(SearchSyntaxError):
        matching_ids(session, "nato AND")


def test_ranking_puts_the_better_match_first(session, story):
    _claim(session, "NATO NATO NATO expels, NATO says, NATO insists.", "NATO official")
    session.flush()
    ids = search_service.search_ids(session, "nato")
    best = session.scalar(select(Statement.text).where(Statement.id == ids[0]))
    assert best.startswith("NATO NATO NATO")


def test_index_follows_edits_renames_aliases_deletes(session, story):
    edit_claim(session, story["intel"], text="They were spies, NATO said.")
    assert matching_ids(session, "intelligence") == set()
    assert matching_ids(session, "spies") == {story["intel"]}
    edit_speaker(session, "Sergey Lavrov", name="Sergei Lavrov", force=True)
    assert matching_ids(session, "sergei") == {story["lavrov"]}
    assert matching_ids(session, "sergey") == set()
    speaker = session.scalars(select(Speaker).where(Speaker.name == "Sergei Lavrov")).one()
    add_alias(session, speaker, "Foreign Minister Lavrov")
    assert matching_ids(session, "minister") == {story["lavrov"]}
    remove_alias(session, speaker, "Foreign Minister Lavrov")
    assert matching_ids(session, "minister") == set()
    delete_claim(session, story["baseless"])
    assert matching_ids(session, "baseless") == set()


def test_merge_moves_claims_and_names(session, story):
    merge_speakers(session, "Мария Захарова", "Russian government")
    # the merged speaker's old name is now an alias of the target: both claims answer to it
    assert matching_ids(session, "мария") == {story["cyrillic"], story["baseless"]}


@pytest.mark.parametrize(
    "expression",
    [
        "",
        "   ",
        '"unterminated phrase',
        "(nato",
        "nato)",
        "NOT nato",
        "nato AND",
        "OR nato",
        "nato AND OR russia",
        "*",
        '"!!!"',
        "()",
    ],
)
def test_syntax_errors_are_one_clear_line(expression):
    with pytest.raises(SearchSyntaxError) as info:
        parse_search(expression)
    message = str(info.value)
    assert "\n" not in message and message


def test_cli_search_syntax_error_and_highlight(run):
    for claim_text, speaker in [
        ("Russia expels the NATO mission.", "Sergey Lavrov"),
        ("Intelligence officers expelled.", "NATO official"),
    ]:
        assert run("claim", "add", claim_text, "--speaker", speaker).exit_code == 0
    result = run("claim", "search", "(nato")
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == ["Error: search expression '(nato': missing ')'"]
    result = run("claim", "search", "expel*")
    assert result.exit_code == 0, result.stderr
    assert "[expels]" in result.stdout and "[expelled]" in result.stdout
    result = run("claim", "search", "expel*", "--format", "csv")
    assert "[" not in result.stdout and "Russia expels the NATO mission." in result.stdout
    result = run("claim", "search", "lavrov", "--format", "jsonl")
    assert result.stdout.count("\n") == 1 and '"speaker": "Sergey Lavrov"' in result.stdout
    result = run("claim", "list", "--search", "intelligence", "--format", "csv")
    assert result.stdout.count("\n") == 2


def test_highlight():
    assert highlight("Intelligence officers, intel.", "intel*") == (
        "[Intelligence] officers, [intel]."
    )
    assert highlight("Sergéy Lavrov spoke", "sergey") == "[Sergéy] Lavrov spoke"
    assert highlight("nato and russia", "nato NOT russia") == "[nato] and russia"
    short = highlight("word " * 40 + "target " + "word " * 40, "target", width=30)
    assert "[target]" in short and short.startswith("…") and short.endswith("…")


def test_parse_tree():
    assert parse_search('a "b c" d*') == And((Term("a"), Term("b c"), Term("d", prefix=True)))
    assert parse_search("a OR b c") == Or((Term("a"), And((Term("b"), Term("c")))))
    assert parse_search("a NOT b OR c") == Or((Not(Term("a"), Term("b")), Term("c")))
    assert parse_search("and or not") == And((Term("and"), Term("or"), Term("not")))


def test_suspend_and_resume_for_bulk_loads(session, story):
    before = {w: matching_ids(session, w) for w in ("lavrov", "moscow", "nato", "захарова")}
    suspended = suspend_search_index(session)
    new_id = _claim(session, "A bulk-loaded claim about NATO.", "Sergey Lavrov")
    assert new_id not in matching_ids(session, "bulk")
    resume_search_index(session, suspended, since_id=new_id - 1)
    assert matching_ids(session, "bulk") == {new_id}
    assert matching_ids(session, "lavrov") == before["lavrov"] | {new_id}
    # the triggers are back
    edit_claim(session, new_id, text="A renamed claim.")
    assert matching_ids(session, "bulk") == set() and matching_ids(session, "renamed") == {new_id}
    index_statements(session)  # a full rebuild changes nothing
    for word, ids in before.items():
        expected = ids | ({new_id} if word == "lavrov" else set())
        assert matching_ids(session, word) == expected


def test_rebuilt_index_equals_the_triggers_index(session, story):
    """A rebuild (speaker documents from a temporary table) indexes exactly what the triggers
    indexed, speakers' aliases included."""
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("SQLite's external-content index")
    add_alias(session, session.scalars(select(Speaker).filter_by(name="Élysée")).one(), "Paris")
    session.execute(
        text("CREATE VIRTUAL TABLE temp.words USING fts5vocab(main, statements_fts, instance)")
    )
    query = text("SELECT * FROM temp.words ORDER BY 1, 2, 3, 4")
    by_triggers = session.execute(query).all()
    assert ("лавров", story["lavrov"], "speaker", 3) in by_triggers
    index_statements(session)
    assert session.execute(query).all() == by_triggers
    temp = text("SELECT name FROM sqlite_temp_master WHERE type = 'table'")
    assert session.execute(temp).scalars().all() == ["words"]  # the documents' table is gone


def _index_differences(session: Session) -> set[tuple[Any, ...]]:
    """SQLite: what the live index holds that a fresh index of the same rows would not, and
    the other way round (term, claim, column, offset). FTS5's own integrity-check does not
    compare an external-content index with its content, so a wrong 'delete' would go unseen."""
    session.execute(text("DROP TABLE IF EXISTS temp.fresh_fts"))
    session.execute(text("DROP TABLE IF EXISTS temp.live_words"))
    session.execute(text("DROP TABLE IF EXISTS temp.fresh_words"))
    session.execute(
        text(
            "CREATE VIRTUAL TABLE temp.fresh_fts USING fts5(text, original_text, speaker, "
            "tokenize='unicode61 remove_diacritics 2')"
        )
    )
    session.execute(
        text(
            "INSERT INTO temp.fresh_fts (rowid, text, original_text, speaker) "
            "SELECT id, text, original_text, speaker FROM statements_fts_source"
        )
    )
    session.execute(
        text("CREATE VIRTUAL TABLE temp.live_words USING fts5vocab(main, statements_fts, instance)")
    )
    session.execute(
        text("CREATE VIRTUAL TABLE temp.fresh_words USING fts5vocab(temp, fresh_fts, instance)")
    )
    live = set(session.execute(text("SELECT * FROM temp.live_words")).all())
    fresh = set(session.execute(text("SELECT * FROM temp.fresh_words")).all())
    assert fresh  # the comparison compares something
    return live ^ fresh


def test_sqlite_triggers_keep_the_index_exact(session, story):
    """Every change the triggers follow leaves exactly the index a rebuild would make: the
    external-content index is told each row's old values, speakers' aliases in order."""
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("SQLite's external-content index")
    lavrov = session.scalars(select(Speaker).filter_by(name="Sergey Lavrov")).one()
    government = session.scalars(select(Speaker).filter_by(name="Russian government")).one()
    steps = [
        lambda: add_alias(session, lavrov, "S. Lavrov"),
        lambda: add_alias(session, lavrov, "Lavrov the minister"),
        lambda: remove_alias(session, lavrov, "S. Lavrov"),  # one in the middle of three
        lambda: edit_speaker(session, lavrov.id, name="Sergei Lavrov", force=True),
        lambda: session.execute(
            text("UPDATE speaker_aliases SET alias = 'Minister Lavrov' WHERE alias = :a"),
            {"a": "Lavrov the minister"},
        ),
        lambda: session.execute(  # an alias moved to another speaker
            text("UPDATE speaker_aliases SET speaker_id = :to WHERE alias = 'Moscow'"),
            {"to": lavrov.id},
        ),
        lambda: edit_claim(session, story["lavrov"], text="Russia ends its NATO mission."),
        lambda: edit_claim(session, story["baseless"], speaker="Sergei Lavrov"),
        lambda: merge_speakers(session, "Мария Захарова", government.id),
        lambda: delete_claim(session, story["intel"]),
        lambda: _claim(session, "A new claim by the minister.", "Minister Lavrov"),
    ]
    assert not _index_differences(session)
    for number, step in enumerate(steps, start=1):
        step()
        session.flush()
        assert not _index_differences(session), f"step {number}"
    assert matching_ids(session, "minister") >= {story["lavrov"], story["baseless"]}
    assert matching_ids(session, "moscow") >= {story["lavrov"]}


def test_bulk_index_documents_are_the_views(session, story):
    """The bulk indexer builds speakers' documents with the view's own expression."""
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("SQLite's external-content index")
    view = session.execute(
        text("SELECT sql FROM sqlite_master WHERE name = 'statements_fts_source'")
    ).scalar_one()
    assert search_service.SPEAKER_DOCUMENT in view


def test_sqlite_triggers_match_the_migration(sqlite_path):
    """suspend/resume recreates exactly the triggers migration 0002_fts made."""
    from factdb.db import make_engine

    engine = make_engine(f"sqlite:///{sqlite_path}")
    query = text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name")
    with Session(engine) as session:
        before = session.execute(query).all()
        assert {n for n, _ in before} >= set(search_service.SQLITE_TRIGGERS)
        resume_search_index(session, suspend_search_index(session), since_id=0)
        assert session.execute(query).all() == before
        session.rollback()
    engine.dispose()


# --- property test: the index agrees with a brute-force scan ---------------------------------

TEXT_WORDS = [
    "nato",
    "russia",
    "intelligence",
    "officers",
    "mission",
    "Sergéy",
    "naïve",
    "Müller",
    "Лавров",
    "заявил",
    "посольство",
    "الناتو",
    "روسيا",
    "expelled",
]
NAME_WORDS = ["Lungescu", "Stoltenberg", "Захарова", "Песков", "Núñez", "Çelik", "بروكسل"]
_TOKEN = re.compile(r"[^\W_]+")


def _fold(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _tokens(value: str | None) -> list[str]:
    return [_fold(t) for t in _TOKEN.findall(value or "")]


def _term_matches(term: Term, fields: list[list[str]]) -> bool:
    words = _tokens(term.text)
    for tokens in fields:
        for i in range(len(tokens) - len(words) + 1):
            window = tokens[i : i + len(words)]
            if window[:-1] != words[:-1]:
                continue
            last, want = window[-1], words[-1]
            if last == want or (term.prefix and last.startswith(want)):
                return True
    return False


def _evaluate(node, fields: list[list[str]]) -> bool:
    if isinstance(node, Term):
        return _term_matches(node, fields)
    if isinstance(node, And):
        return all(_evaluate(p, fields) for p in node.parts)
    if isinstance(node, Or):
        return any(_evaluate(p, fields) for p in node.parts)
    return _evaluate(node.keep, fields) and not _evaluate(node.drop, fields)


def brute_force(session: Session, expression: str) -> set[int]:
    """The ids a full scan finds: text, original text, speaker name and aliases, folded."""
    node = parse_search(expression)
    found = set()
    for statement in session.scalars(select(Statement)):
        speaker = statement.speaker
        names = [speaker.name, *(a.alias for a in speaker.aliases)]
        fields = [_tokens(statement.text), _tokens(statement.original_text)]
        fields += [_tokens(n) for n in names]
        if _evaluate(node, fields):
            found.add(statement.id)
    return found


sentence = st.lists(st.sampled_from(TEXT_WORDS), min_size=1, max_size=6).map(" ".join)
name = st.lists(st.sampled_from(NAME_WORDS), min_size=1, max_size=2, unique=True).map(" ".join)
operation = st.one_of(
    st.tuples(st.just("add"), sentence, name, st.none() | sentence),
    st.tuples(st.just("edit"), st.integers(0, 50), sentence),
    st.tuples(st.just("original"), st.integers(0, 50), st.none() | sentence),
    st.tuples(st.just("delete"), st.integers(0, 50)),
    st.tuples(st.just("rename"), st.integers(0, 50), name),
    st.tuples(st.just("alias"), st.integers(0, 50), name),
    st.tuples(st.just("unalias"), st.integers(0, 50)),
    st.tuples(st.just("merge"), st.integers(0, 50), st.integers(0, 50)),
)
word = st.sampled_from(TEXT_WORDS + NAME_WORDS)
atom = st.one_of(
    word,
    word.map(str.upper),
    word.map(lambda w: _fold(w)),
    word.filter(lambda w: len(w) > 3).map(lambda w: w[:3] + "*"),
    st.lists(st.sampled_from(TEXT_WORDS), min_size=2, max_size=2).map(lambda p: f'"{" ".join(p)}"'),
)
expression = st.one_of(
    atom,
    st.tuples(atom, st.sampled_from([" AND ", " OR ", " NOT ", " "]), atom).map("".join),
    st.tuples(atom, atom, atom).map(lambda a: f"({a[0]} OR {a[1]}) NOT {a[2]}"),
)


def _apply(session: Session, op: tuple) -> None:
    kind = op[0]
    claims = list(session.scalars(select(Statement.id).order_by(Statement.id)))
    speakers = list(session.scalars(select(Speaker).order_by(Speaker.id)))
    try:
        with session.begin_nested():
            if kind == "add":
                _claim(session, op[1], op[2], original_text=op[3])
            elif kind in ("edit", "original", "delete") and claims:
                claim_id = claims[op[1] % len(claims)]
                if kind == "edit":
                    edit_claim(session, claim_id, text=op[2])
                elif kind == "original":
                    edit_claim(session, claim_id, original_text=op[2])
                else:
                    delete_claim(session, claim_id, cascade=True)
            elif kind in ("rename", "alias", "unalias") and speakers:
                speaker = speakers[op[1] % len(speakers)]
                if kind == "rename":
                    edit_speaker(session, speaker.id, name=op[2], force=True)
                elif kind == "alias":
                    add_alias(session, speaker, op[2])
                elif speaker.aliases:
                    remove_alias(session, speaker, speaker.aliases[0].alias)
            elif kind == "merge" and len(speakers) > 1:
                a, b = speakers[op[1] % len(speakers)], speakers[op[2] % len(speakers)]
                if a.id != b.id:
                    merge_speakers(session, a.id, b.id)
    except FactdbError:
        pass  # a refused edit (name taken, duplicate claim, …) changes nothing
    session.expire_all()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    operations=st.lists(operation, min_size=1, max_size=12),
    queries=st.lists(expression, min_size=1, max_size=4),
)
def test_search_agrees_with_a_brute_force_scan(session, operations, queries):
    try:
        for op in operations:
            _apply(session, op)
        session.flush()
        for query in queries:
            assert matching_ids(session, query) == brute_force(session, query), query
    finally:
        session.rollback()


def _full_ranking(session: Session, expression: str) -> list[int]:
    """Every hit scored and ranked, written out in SQL apart from the service (no window)."""
    node = parse_search(expression)
    if session.get_bind().dialect.name == "sqlite":
        sql = (
            "SELECT rowid FROM statements_fts WHERE statements_fts MATCH :q "
            "ORDER BY bm25(statements_fts), rowid"
        )
        return list(session.scalars(text(sql), {"q": search_service.fts5_query(node)}))
    sql = (
        "SELECT statement_id FROM statements_fts, to_tsquery('simple', :q) AS q "
        "WHERE document @@ q ORDER BY ts_rank(document, q) DESC, statement_id"
    )
    return list(session.scalars(text(sql), {"q": search_service.pg_tsquery(session, node)}))


def _ranked_claims(session: Session, word: str, count: int) -> list[int]:
    """``count`` claims matching ``word``; the oldest repeat it most (rank best)."""
    ids = [
        _claim(session, " ".join([word] * (count - i) + ["filler"] * 8), f"Ranker {i}", tags=["rk"])
        for i in range(count)
    ]
    session.flush()
    return ids


def test_moderate_hit_sets_are_ranked_exactly(session, story):
    _ranked_claims(session, "nato", 5)
    for expression in ["nato", "lavrov OR baseless", "intell*", "Лавров", "nato NOT russia"]:
        full = _full_ranking(session, expression)
        assert search_service.search_ids(session, expression) == full, expression
        assert search_service.search_ids(session, expression, limit=2) == full[:2], expression


def test_the_window_applies_only_beyond_its_size(session, story, monkeypatch):
    ids = _ranked_claims(session, "windowword", 6)
    full = _full_ranking(session, "windowword")
    assert full == ids  # the oldest repeat the word most: they rank best
    monkeypatch.setattr(search_service, "RANK_WINDOW", 6)  # hits == window: exact
    assert search_service.search_ids(session, "windowword") == full
    assert search_service.search_ids(session, "windowword", limit=2) == full[:2]

    monkeypatch.setattr(search_service, "RANK_WINDOW", 3)  # more hits than the window
    newest = sorted(ids)[-3:]
    window_ranked = [i for i in full if i in newest]
    # the best of the window come first, however well older claims score
    assert search_service.search_ids(session, "windowword", limit=2) == window_ranked[:2]
    # without a limit every hit is listed: the window ranked, then the rest newest first
    older = sorted(set(ids) - set(newest), reverse=True)
    assert search_service.search_ids(session, "windowword") == window_ranked + older
    # a filtered search is ranked exactly, whatever the window
    from factdb.filters import ClaimFilter
    from factdb.services.query import select_claims

    oldest_speaker = ClaimFilter(search="windowword", speaker="Ranker 0")
    assert list(session.scalars(select_claims(session, oldest_speaker))) == [ids[0]]
    filtered = ClaimFilter(search="windowword", tag="rk")
    assert list(session.scalars(select_claims(session, filtered))) == full


@pytest.mark.parametrize(
    "args",
    [
        ["claim", "search", "nato"],
        ["claim", "search", "nato", "--limit", "1"],
        ["claim", "search", "nato", "--speaker", "NATO official", "--status", "alleged"],
        ["claim", "list", "--limit", "20"],
        ["claim", "list", "--speaker", "NATO official", "--limit", "20"],
        ["claim", "list", "--status", "alleged", "--limit", "20"],
        ["claim", "list", "--status", "alleged", "--as-of", "2021-10-08"],
        ["claim", "list", "--tag", "nato", "--source", "Example Times"],
        ["claim", "list", "--verdict", "false"],
        ["claim", "list", "--since", "2021", "--until", "2022", "--search", "nato"],
    ],
    ids=" ".join,
)
def test_listing_commands_need_neither_the_orm_models_nor_alembic(sqlite_path, args):
    import subprocess
    import sys

    from click.testing import CliRunner

    from factdb.cli import cli

    added = CliRunner().invoke(
        cli,
        [
            "--db",
            str(sqlite_path),
            "claim",
            "add",
            "NATO expels eight diplomats.",
            "--speaker",
            "NATO official",
            "--said-on",
            "2021-10-06",
            "--status",
            "alleged",
            "--tag",
            "nato",
            "--source",
            "Example Times",
        ],
    )
    assert added.exit_code == 0, added.output
    code = (
        "import sys\n"
        "from factdb.cli import main\n"
        f"sys.argv = ['factdb', '--db', {str(sqlite_path)!r}, *{args!r}]\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
        "from sqlalchemy.orm import mapperlib\n"
        "print(sorted(m for m in ('factdb.models', 'alembic') if m in sys.modules),"
        " len(mapperlib._mapper_registries))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    # no models imported, no mapper registry exists to configure
    assert lines[-1] == "[] 0", result.stdout
    if "--verdict" not in args:  # the one claim has no verdict
        assert any("NATO" in line for line in lines[:-1]), result.stdout


def test_migration_0004_moves_the_index_to_external_content_and_back(run_sqlite, sqlite_path):
    """Upgrade and downgrade keep every search result; at head the index is exact and holds
    no copy of the text."""
    from factdb.db import make_engine

    assert run_sqlite("seed").exit_code == 0
    engine = make_engine(f"sqlite:///{sqlite_path}")
    words = ("nato", "lavrov", "expel*", "russia", "diplomats", "захарова", "moscow")
    table_sql = text("SELECT sql FROM sqlite_master WHERE name = 'statements_fts'")

    def results() -> dict[str, set[int]]:
        with Session(engine) as s:
            return {word: matching_ids(s, word) for word in words}

    seeded = results()
    assert all(seeded[w] for w in ("nato", "lavrov", "russia"))
    with Session(engine) as s:
        assert "content='statements_fts_source'" in s.execute(table_sql).scalar_one()
        assert not _index_differences(s)
    engine.dispose()
    assert run_sqlite("db", "downgrade", "0003_short_content_key").exit_code == 0
    assert results() == seeded
    with Session(engine) as s:
        assert "content=" not in s.execute(table_sql).scalar_one()
        assert s.execute(text("SELECT count(*) FROM statements_fts_content")).scalar_one() > 0
    engine.dispose()
    assert run_sqlite("db", "upgrade").exit_code == 0
    assert results() == seeded
    with Session(engine) as s:
        assert not _index_differences(s)
    engine.dispose()
