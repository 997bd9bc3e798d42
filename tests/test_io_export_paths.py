"""The one-query SQLite export gives exactly the rows of the generic (per-chunk) export:
first source by position, latest verdict (dated before undated, then date, then id), tags
sorted and joined with join_tags' rule, filters applied."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select

from factdb.db import make_engine, session_scope
from factdb.filters import ClaimFilter
from factdb.io.writers import interchange_chunks
from factdb.models import Attribution, Statement, StatementTag, Tag, Verdict
from factdb.services.verdicts import add_verdict

DATA = Path(__file__).parent / "data"


def _both(url: str, claim_filter: ClaimFilter | None = None) -> tuple[list[Any], list[Any]]:
    engine = make_engine(url, write=False)
    try:
        with session_scope(engine) as s:
            fast = [
                tuple(r) for c in interchange_chunks(s, claim_filter, one_query=True) for r in c
            ]
            slow = [
                tuple(r) for c in interchange_chunks(s, claim_filter, one_query=False) for r in c
            ]
    finally:
        engine.dispose()
    return fast, slow


def test_one_query_export_matches_generic(run_sqlite: Any, sqlite_path: Path) -> None:
    for name in ("messy.csv", "messy.jsonl", "claimreview_single.json", "claimreview_page.html"):
        assert run_sqlite("import", str(DATA / name)).exit_code == 0
    url = f"sqlite:///{sqlite_path}"
    engine = make_engine(url)
    try:
        with session_scope(engine) as s:
            ids = list(s.scalars(select(Statement.id).order_by(Statement.id)))
            assert len(ids) >= 3
            first, second, third = ids[:3]
            # several verdicts: undated, dated, two on the same day (the higher id wins)
            add_verdict(s, first, "False", reviewer="A")
            add_verdict(s, first, "True", reviewer="B", reviewed_on="2020-01-01")
            add_verdict(s, first, "Mostly False", reviewer="C", reviewed_on="2022-05-05")
            add_verdict(s, first, "Half True", reviewer="D", reviewed_on="2022-05-05")
            add_verdict(s, second, "Pants on Fire", reviewer="E")
            # a lone tag holding a comma, and several tags out of order
            comma = Tag(name="war, peace")
            zebra, apple = Tag(name="zebra"), Tag(name="apple")
            s.add_all([comma, zebra, apple])
            s.flush()
            s.add_all(
                [
                    StatementTag(statement_id=second, tag_id=comma.id),
                    StatementTag(statement_id=third, tag_id=zebra.id),
                    StatementTag(statement_id=third, tag_id=apple.id),
                ]
            )
            # the first source removed: the claim's first is then the one at position 2
            multi = s.execute(
                select(Attribution.statement_id)
                .group_by(Attribution.statement_id)
                .having(func.count() > 1)
            ).first()
            assert multi is not None
            if multi is not None:
                s.execute(
                    delete(Attribution).where(
                        Attribution.statement_id == multi[0], Attribution.position == 1
                    )
                )
    finally:
        engine.dispose()
    fast, slow = _both(url)
    assert fast == slow
    assert len(fast) == len(ids)
    assert any("war, peace" in (r[9] or "") for r in fast)
    assert any("apple; zebra" in (r[9] or "") for r in fast)
    assert any(r[13] == "Half True" and r[14] == "D" for r in fast)
    fast, slow = _both(url, ClaimFilter(status="alleged"))
    assert fast == slow


def test_one_query_export_without_any_verdict_or_tag(run_sqlite: Any, sqlite_path: Path) -> None:
    """A database without verdicts and tags skips their lookups on the one-query path: the
    rows are still the generic path's, with empty verdict and tag columns, and a first
    verdict or tag shows up in the next export."""
    assert run_sqlite("import", str(DATA / "messy.jsonl")).exit_code == 0
    url = f"sqlite:///{sqlite_path}"
    engine = make_engine(url)
    try:
        with session_scope(engine) as s:
            s.execute(delete(StatementTag))
            s.execute(delete(Verdict))
            first = s.scalar(select(func.min(Statement.id)))
    finally:
        engine.dispose()
    fast, slow = _both(url)
    assert fast == slow
    assert fast and all(r[9] is None and r[13:17] == (None,) * 4 for r in fast)
    engine = make_engine(url)
    try:
        with session_scope(engine) as s:
            add_verdict(s, first, "False", reviewer="A", reviewed_on="2021-03-04")
            tag = Tag(name="economy")
            s.add(tag)
            s.flush()
            s.add(StatementTag(statement_id=first, tag_id=tag.id))
    finally:
        engine.dispose()
    fast, slow = _both(url)
    assert fast == slow
    assert fast[0][9] == "economy" and fast[0][13:17] == ("False", "A", None, "2021-03-04")
