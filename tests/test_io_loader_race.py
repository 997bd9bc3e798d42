"""PostgreSQL: a speaker, tag or source created by another transaction after an import read
its names is picked up by the import (ON CONFLICT DO NOTHING + reselect), not a unique-key
error. Deterministic: the other transaction commits between the loader's preload and its insert.
Also: the loader's reader thread (records parsed ahead) keeps order and re-raises errors.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from factdb.io.loader import Loader
from factdb.io.records import normalise
from factdb.models import Source, Speaker, Statement, StatementTag, Tag


def test_names_created_meanwhile_are_reused(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite's write lock serialises imports: no such race")
    with Session(engine) as importing:
        loader = Loader(importing)  # names preloaded now: none of these exist yet
        with Session(engine) as other:
            other.add(Speaker(name="Maria Zakharova", name_key="maria zakharova", kind="person"))
            other.add(Tag(name="spies"))
            other.add(Source(name="TASS", name_key="tass", kind="outlet", url="https://tass.com/1"))
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


def test_prefetch_keeps_order_and_raises_where_the_reader_failed() -> None:
    import threading

    from factdb.io.loader import _prefetched

    def items():  # type: ignore[no-untyped-def]
        yield from range(1234)
        raise ValueError("malformed at 1234")

    seen = []
    with pytest.raises(ValueError, match="malformed at 1234"):
        for item in _prefetched(items()):
            seen.append(item)
    assert seen == list(range(1234))
    # a consumer that stops early stops the reader thread too
    endless = _prefetched(iter(range(10**9)))
    assert next(endless) == 0
    endless.close()
    assert not any(t.name == "factdb-import-reader" for t in threading.enumerate())
