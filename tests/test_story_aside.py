"""A big story load checks its files in a forked process while it writes
(:mod:`factdb.stories.aside`): the same database as a load that checks first for a good file;
for a bad one, the same error, word for word, and the database exactly as it was; on both
backends. ``ASIDE_BYTES`` is lowered (or raised) so that small files take the path wanted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from factdb.errors import FactdbError
from factdb.models import AuditEntry, Base
from factdb.services.seeding import default_seed_files
from factdb.stories import aside, load
from factdb.stories.template import TEMPLATE

pytestmark = pytest.mark.skipif(
    not aside.available(), reason="checking aside needs a forked process (Linux)"
)

SEED = default_seed_files()[0]


def rows(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table by primary key, without the times a load stamps (``*_at``)
    and the audit log's before/after values (which hold such times)."""
    found = {}
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            columns = [
                column
                for column in table.columns
                if not column.name.endswith("_at")
                and not (table is AuditEntry.__table__ and column.name in ("before", "after"))
            ]
            query = select(*columns).order_by(*table.primary_key.columns)
            found[table.name] = [tuple(row) for row in connection.execute(query)]
    return found


CHECKS_ASIDE: list[aside.CheckAside] = []


class CountedCheckAside(aside.CheckAside):
    """The real thing, counted: a test knows the load took the path it means to test."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        CHECKS_ASIDE.append(self)


def load_with(
    engine: Engine, paths: list[Path], *, checking_aside: bool, monkeypatch: pytest.MonkeyPatch
) -> load.LoadReport:
    """Load ``paths`` in one transaction, checking aside or first."""
    monkeypatch.setattr(load, "ASIDE_BYTES", 0 if checking_aside else 10**15)
    monkeypatch.setattr(aside, "CheckAside", CountedCheckAside)
    with Session(engine) as session, session.begin():
        return load.load_stories(session, paths)


def error_of(
    engine: Engine, paths: list[Path], *, checking_aside: bool, monkeypatch: pytest.MonkeyPatch
) -> str:
    """The error a load of ``paths`` gives; the database must be as it was."""
    before = rows(engine)
    with pytest.raises(FactdbError) as caught:
        load_with(engine, paths, checking_aside=checking_aside, monkeypatch=monkeypatch)
    assert rows(engine) == before
    return str(caught.value)


def test_a_good_story_gives_the_same_database_and_report(
    engine: Engine, second_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    CHECKS_ASIDE.clear()
    first = load_with(engine, [SEED], checking_aside=False, monkeypatch=monkeypatch)
    assert CHECKS_ASIDE == []
    second = load_with(second_engine, [SEED], checking_aside=True, monkeypatch=monkeypatch)
    assert len(CHECKS_ASIDE) == 1
    assert rows(second_engine) == rows(engine)
    assert second.summary("loaded") == first.summary("loaded")
    # an edited file, loaded over the first load, applies the same edits either way
    edited = tmp_path / "edited.toml"
    edited.write_text(
        SEED.read_text(encoding="utf-8").replace(
            'role = "reported_by", verb = "accused" },',
            'role = "reported_by", verb = "accused" },\n  { source = "AFP via Getty Images" },',
        ),
        encoding="utf-8",
    )
    first = load_with(engine, [edited], checking_aside=False, monkeypatch=monkeypatch)
    second = load_with(second_engine, [edited], checking_aside=True, monkeypatch=monkeypatch)
    assert second.changes == first.changes != []
    assert rows(second_engine) == rows(engine)


BAD_FILES = {
    # problems of shape and of names, as a user makes them
    "shape and names": TEMPLATE.replace(
        'role = "reported_by", verb = "claimed"', 'role = "reporter", verb = "claimed"'
    )
    .replace('said_on = "2021-10"\ncontext', 'said_on = "2021-02-30"\ncontext')
    .replace('status = "alleged"', 'status = "allegd"')
    .replace('speaker = "NATO"', 'speaker = "NATOO"'),
    # data that makes writing fail before the checks say why
    "wrong types": TEMPLATE.replace('speaker = "NATO"', "speaker = 7").replace(
        'said_on = "2021-10"\ncontext', "said_on = [2021]\ncontext"
    ),
    "no story table": TEMPLATE.replace("[story]", "[stori]"),
    "not TOML": TEMPLATE + "\n[[claims]\n",
}


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_a_bad_story_gives_the_same_error_and_writes_nothing(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    load_with(engine, [SEED], checking_aside=False, monkeypatch=monkeypatch)
    path = tmp_path / "bad.toml"
    path.write_text(BAD_FILES[name], encoding="utf-8")
    first = error_of(engine, [path], checking_aside=False, monkeypatch=monkeypatch)
    CHECKS_ASIDE.clear()
    aside_error = error_of(engine, [path], checking_aside=True, monkeypatch=monkeypatch)
    assert aside_error == first
    # a file that does not parse is reported by the load that checks first
    assert len(CHECKS_ASIDE) == (0 if name == "not TOML" else 1)
    assert str(path) in first


def test_problems_of_several_files_are_reported_together_as_before(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = []
    for name in ("shape and names", "wrong types"):
        path = tmp_path / f"{name.replace(' ', '_')}.toml"
        path.write_text(BAD_FILES[name], encoding="utf-8")
        paths.append(path)
    good = tmp_path / "good.toml"
    good.write_text(SEED.read_text(encoding="utf-8"), encoding="utf-8")
    paths.insert(0, good)
    first = error_of(engine, paths, checking_aside=False, monkeypatch=monkeypatch)
    assert error_of(engine, paths, checking_aside=True, monkeypatch=monkeypatch) == first
    assert all(str(path) in first for path in paths[1:])


def test_checks_that_fail_leave_the_database_as_it_was(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_checks(*_: object) -> None:
        raise RuntimeError("the checker broke")

    monkeypatch.setattr(load, "check_parsed", broken_checks)
    message = error_of(engine, [SEED], checking_aside=True, monkeypatch=monkeypatch)
    assert message == (
        "checking the story files failed: RuntimeError: the checker broke; nothing was loaded"
    )
