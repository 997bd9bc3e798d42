"""PostgreSQL: a speaker, tag or source created by another transaction after an import read
its names is picked up by the import (ON CONFLICT DO NOTHING + reselect), not a unique-key
error. Deterministic: the other transaction commits between the loader's preload and its insert.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from factdb.io.loader import Loader
from factdb.io.records import normalise
from factdb.models import Source, Speaker, Statement, StatementTag, Tag
from factdb.textkeys import name_key


def test_names_created_meanwhile_are_reused(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite's write lock serialises imports: no such race")
    with Session(engine) as importing:
        loader = Loader(importing)  # names preloaded now: none of these exist yet
        with Session(engine) as other:
            other.add(
                Speaker(name="Maria Zakharova", name_key=name_key("Maria Zakharova"), kind="person")
            )
            other.add(Tag(name="spies"))
            other.add(
                Source(
                    name="TASS", name_key=name_key("TASS"), kind="outlet", url="https://tass.com/1"
                )
            )
            other.commit()
        record = normalise(
            {
                "text": "The expulsions are a provocation.",
                "speaker": "Maria Zakharova",
                "tags": "spies",
                "source": "TASS",
                "source_url": "https://tass.com/1",
            },
            "test, line 1",
        )
        loader.add(record)
        summary = loader.finish()
        importing.commit()
    assert (summary.added, summary.new_speakers, summary.new_sources) == (1, 0, 0)
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Speaker)) == 1
        assert s.scalar(select(func.count()).select_from(Tag)) == 1
        assert s.scalar(select(func.count()).select_from(Source)) == 1
        claim = s.scalars(select(Statement)).one()
        assert claim.speaker_id == s.scalar(select(Speaker.id))
        assert s.scalar(select(StatementTag.tag_id)) == s.scalar(select(Tag.id))
