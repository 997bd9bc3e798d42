"""The same Alembic revisions mean the same thing on SQLite and PostgreSQL.

Every test here runs on both backends (the PostgreSQL half is skipped without
FACTDB_TEST_POSTGRES_URL): upgrade → downgrade → upgrade from an empty database, no drift
between the models and the migrated schema, every documented view answers with the same rows,
and the constraints, defaults and types behave alike.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import BACKENDS, create_pg_database, drop_pg_database
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from factdb import migrate, models
from factdb.db import make_engine
from factdb.schema_version import HEAD_REVISION

VIEW_NAMES = [
    "claim_overview",
    "status_history",
    "claim_links",
    "attribution_chain",
    "claim_tags",
    "speaker_scorecard",
]


@pytest.fixture(params=BACKENDS)
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine on a database with no schema at all, on each backend in turn."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
        yield engine
        engine.dispose()
        return
    request.getfixturevalue("pg_template")  # skips with the reason when PostgreSQL is not set
    url = create_pg_database()
    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()
        drop_pg_database(url)


def _user_tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def test_upgrade_downgrade_upgrade(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine)
    assert migrate.database_revision(empty_engine) == HEAD_REVISION
    assert set(models.Base.metadata.tables) <= _user_tables(empty_engine)
    assert set(VIEW_NAMES) <= set(inspect(empty_engine).get_view_names())

    migrate.downgrade(empty_engine, "base")
    assert migrate.database_revision(empty_engine) is None
    assert _user_tables(empty_engine) == set()
    assert inspect(empty_engine).get_view_names() == []

    migrate.upgrade(empty_engine)
    assert migrate.database_revision(empty_engine) == HEAD_REVISION
    # the vocabularies are seeded again, not twice
    with empty_engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM statuses")).scalar_one() == 8
        assert conn.execute(text("SELECT COUNT(*) FROM rating_scales")).scalar_one() == 2


def test_models_and_migrations_do_not_drift(engine: Engine) -> None:
    assert migrate.pending_model_changes(engine) == []


def test_constraints_and_indexes_match_the_models(engine: Engine) -> None:
    inspector = inspect(engine)
    for table in models.Base.metadata.sorted_tables:
        expected_checks = {
            c.name for c in table.constraints if c.__class__.__name__ == "CheckConstraint"
        }
        got_checks = {c["name"] for c in inspector.get_check_constraints(table.name)}
        assert got_checks == expected_checks, table.name
        expected_fks = {c.name for c in table.foreign_key_constraints}
        got_fks = {c["name"] for c in inspector.get_foreign_keys(table.name)}
        assert got_fks == expected_fks, table.name
        expected_ix = {i.name for i in table.indexes}
        got_ix = {i["name"] for i in inspector.get_indexes(table.name)}
        assert expected_ix <= got_ix, table.name


def test_vocabulary_types_round_trip(session: Session) -> None:
    terminal = dict(session.execute(select(models.Status.code, models.Status.is_terminal)).all())
    assert terminal["confirmed"] is True and terminal["alleged"] is False
    # a user-added status takes the model's default (False), not an integer
    session.add(models.Status(code="satire", label="Satire"))
    session.flush()
    added = session.execute(
        select(models.Status.is_terminal).where(models.Status.code == "satire")
    ).scalar_one()
    assert added is False


@pytest.mark.parametrize(
    ("table", "values"),
    [
        ("speakers", {"name": "X", "name_key": "x", "kind": "robot"}),
        ("sources", {"name": "X", "name_key": "x", "kind": "blog"}),
        (
            "scale_ratings",
            {
                "scale_id": 1,
                "label": "Z",
                "label_key": "z",
                "ordinal": 9,
                "normalised_class": "meh",
            },
        ),
    ],
)
def test_check_constraints_are_enforced(engine: Engine, table: str, values: dict) -> None:
    columns = ", ".join(values)
    params = ", ".join(f":{k}" for k in values)
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text(f"INSERT INTO {table} ({columns}) VALUES ({params})"), values)


def test_server_defaults_fill_timestamps_in_utc(db_url: str) -> None:
    if db_url.startswith("postgresql"):
        # a server (or database) set to a time zone far from UTC must not shift the stamps
        with make_engine(db_url).connect() as conn:
            name = conn.execute(text("SELECT current_database()")).scalar_one()
            conn.execute(text(f"ALTER DATABASE \"{name}\" SET timezone TO 'Asia/Kathmandu'"))
            conn.commit()
    engine = make_engine(db_url)
    before = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(seconds=5)
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO speakers (name, name_key, kind) VALUES ('A', 'a', 'person')")
        )
        created = conn.execute(text("SELECT created_at FROM speakers")).scalar_one()
    if isinstance(created, str):  # SQLite hands back the stored text
        created = dt.datetime.fromisoformat(created)
    after = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(seconds=5)
    engine.dispose()
    # both backends store naive UTC, whatever the server's own time zone is
    assert before <= created <= after


def test_foreign_key_actions(engine: Engine) -> None:
    with Session(engine) as s:
        org = models.Speaker(name="NATO", name_key="nato", kind="organisation")
        person = models.Speaker(name="Oana Lungescu", name_key="oana lungescu", acts_for=org)
        s.add_all([org, person])
        s.flush()
        s.add(models.Statement(text="t", speaker=person, content_key="k" * 40))
        s.commit()
        with pytest.raises(IntegrityError):  # RESTRICT: a speaker with claims stays
            s.execute(text("DELETE FROM speakers WHERE id = :id"), {"id": person.id})
            s.flush()
        s.rollback()
        s.execute(text("DELETE FROM speakers WHERE id = :id"), {"id": org.id})  # SET NULL
        s.commit()
        acts_for = s.execute(
            text("SELECT acts_for_id FROM speakers WHERE id = :id"), {"id": person.id}
        ).scalar_one()
        assert acts_for is None


def _story(session: Session) -> None:
    """A small story touching every table the views read."""
    org = models.Speaker(name="Russian Foreign Ministry", name_key="rfm", kind="organisation")
    lavrov = models.Speaker(
        name="Sergey Lavrov", name_key="sergey lavrov", role="Foreign Minister", acts_for=org
    )
    nato = models.Speaker(name="NATO", name_key="nato", kind="organisation")
    ap = models.Source(name="Associated Press", name_key="associated press", kind="news_agency")
    outlet = models.Source(
        name="Daily",
        name_key="daily",
        url="https://example.org/a",
        based_on=ap,
        published_on=dt.date(2021, 10, 1),
        published_precision="month",
    )
    accusation = models.Statement(
        text="Eight officials are intelligence officers.",
        speaker=nato,
        said_on=dt.date(2021, 10, 6),
        said_precision="day",
        content_key="a" * 40,
        current_status="denied",
    )
    denial = models.Statement(
        text="The accusation is baseless.",
        speaker=lavrov,
        said_on=dt.date(2021, 10, 1),
        said_precision="month",
        content_key="b" * 40,
    )
    session.add_all([org, lavrov, nato, ap, outlet, accusation, denial])
    session.flush()
    session.add_all(
        [
            models.Attribution(statement=denial, source=outlet, role="according_to", verb="said"),
            models.StatusEvent(
                statement=accusation, status_code="alleged", effective_on=dt.date(2021, 10, 6)
            ),
            models.StatusEvent(
                statement=accusation,
                status_code="denied",
                effective_on=dt.date(2021, 10, 1),
                effective_precision="month",
                evidence_source=outlet,
                evidence_statement_id=denial.id,
            ),
            models.StatementLink(
                from_statement_id=denial.id,
                to_statement_id=accusation.id,
                relation="denies",
                linked_on=dt.date(2021, 1, 1),
                linked_precision="year",
            ),
            models.Verdict(
                statement=accusation,
                label="Half True",
                reviewer="PolitiFact",
                reviewed_on=dt.date(2021, 11, 2),
                normalised_class="mixture",
            ),
        ]
    )
    tag = models.Tag(name="nato")
    session.add(tag)
    session.flush()
    session.add(models.StatementTag(statement_id=accusation.id, tag_id=tag.id))
    session.flush()


def _rows(session: Session, sql: str) -> list[tuple]:
    return [tuple(r) for r in session.execute(text(sql)).all()]


def test_every_view_answers_alike(session: Session) -> None:
    _story(session)
    for name in VIEW_NAMES:  # each view runs on this backend
        session.execute(text(f"SELECT * FROM {name}")).all()
    assert _rows(
        session,
        "SELECT text, said_on, speaker, acts_for, status, verdict, verdict_class, verdict_by, "
        "first_source, first_source_url FROM claim_overview ORDER BY claim_id",
    ) == [
        (
            "Eight officials are intelligence officers.",
            "2021-10-06",
            "NATO",
            None,
            "denied",
            "Half True",
            "mixture",
            "PolitiFact",
            None,
            None,
        ),
        (
            "The accusation is baseless.",
            "2021-10",
            "Sergey Lavrov",
            "Russian Foreign Ministry",
            None,
            None,
            None,
            None,
            "Daily",
            "https://example.org/a",
        ),
    ]
    assert _rows(
        session,
        "SELECT status, status_label, effective_on, evidence_source FROM status_history "
        "ORDER BY effective_from",
    ) == [("denied", "Denied", "2021-10", "Daily"), ("alleged", "Alleged", "2021-10-06", None)]
    assert _rows(
        session, "SELECT from_speaker, relation, to_speaker, linked_on FROM claim_links"
    ) == [("Sergey Lavrov", "denies", "NATO", "2021")]
    assert _rows(
        session,
        "SELECT position, role, verb, source, published_on, based_on FROM attribution_chain",
    ) == [(1, "according_to", "said", "Daily", "2021-10", "Associated Press")]
    assert _rows(session, "SELECT tag FROM claim_tags") == [("nato",)]
    assert _rows(
        session,
        "SELECT speaker, claims, denied, confirmed FROM speaker_scorecard ORDER BY speaker",
    ) == [
        ("NATO", 1, 1, 0),
        ("Russian Foreign Ministry", 0, 0, 0),
        ("Sergey Lavrov", 1, 0, 0),
    ]
