"""Writers: claims out as the interchange record (CSV, JSONL) or as ClaimReview JSON-LD.

Rows are read with one streaming query (in id order: the order claims were recorded) and
written as they come, so memory does not grow with the database. Dates are rendered in SQL at
their precision (2021, 2021-10, 2021-10-18): nothing invented is ever written.
"""

from __future__ import annotations

import csv
import dataclasses
import json
from collections.abc import Iterable, Iterator
from typing import IO, Any

from sqlalchemy import Select, String, case, cast, func, select
from sqlalchemy.orm import Session

from factdb.filters import ClaimFilter
from factdb.io.records import COLUMNS, join_tags
from factdb.models import (
    Attribution,
    Source,
    Speaker,
    Statement,
    StatementTag,
    Tag,
    Verdict,
)
from factdb.textkeys import is_unknown_speaker

CHUNK = 2_000


def _partial(column: Any, precision: Any) -> Any:
    """SQL rendering a first-day date at its precision (the views' rule)."""
    iso = cast(column, String)
    return case(
        (precision == "year", func.substr(iso, 1, 4)),
        (precision == "month", func.substr(iso, 1, 7)),
        else_=iso,
    )


def _claim_columns() -> tuple[Any, ...]:
    """The interchange columns from ``text`` to ``context``: the claim's and its speaker's."""
    return (
        Statement.text,
        Speaker.name,
        Speaker.role,
        Speaker.kind,
        _partial(Statement.said_on, Statement.said_precision),
        Statement.current_status,
        Statement.quote_kind,
        Statement.language,
        Statement.context,
    )


def _any_tags_and_verdicts(session: Session) -> tuple[bool, bool]:
    """Whether the database has any tagged claim, and any verdict: an export of a database
    without them need not look them up for each claim."""
    any_tags = session.scalar(select(StatementTag.statement_id).limit(1)) is not None
    return any_tags, session.scalar(select(Verdict.id).limit(1)) is not None


def _restrict(
    session: Session,
    stmt: Select[Any],
    claim_filter: ClaimFilter | None,
    *,
    reviewed_only: bool = False,
) -> Select[Any]:
    """Keep the claims the shared filters select (``services.query.select_claims``).

    ``reviewed_only``: the output has only claims with a verdict, so a ``limit`` counts those
    (the first N reviewed claims the filters select, not the reviewed ones among the first N).
    """
    if claim_filter is None or claim_filter == ClaimFilter():
        return stmt
    from factdb.services.query import select_claims

    if reviewed_only and claim_filter.limit is not None:
        claim_filter = dataclasses.replace(claim_filter, reviewed=True)
    chosen = select_claims(session, claim_filter).subquery()
    return stmt.where(Statement.id.in_(select(chosen.c.id)))


def _fetch(session: Session, stmt: Select[Any]) -> Iterator[Any]:
    """Chunks of rows, streamed. On SQLite straight from the driver's cursor: the selected
    columns need no result processing (dates are cast to text in SQL) and SQLAlchemy's
    per-row machinery would double the export's time. On PostgreSQL a server-side cursor."""
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        result = connection.execute(stmt)
        cursor = result.cursor
        try:
            while rows := cursor.fetchmany(CHUNK):
                yield rows
        finally:
            result.close()
        return
    result = connection.execute(stmt.execution_options(stream_results=True, yield_per=CHUNK))
    yield from result.partitions()


def _rows(session: Session, stmt: Select[Any]) -> list[Any]:
    """All rows of a small query, straight from the driver on SQLite (see :func:`_fetch`)."""
    connection = session.connection()
    result = connection.execute(stmt)
    if connection.dialect.name == "sqlite":
        try:
            return result.cursor.fetchall()
        finally:
            result.close()
    return list(result)


def _first_sources(session: Session, where: Any) -> dict[int, tuple[Any, ...]]:
    """Statement id -> (name, url, kind) of its first source (lowest position)."""
    stmt = (
        select(Attribution.statement_id, Source.name, Source.url, Source.kind)
        .join(Source, Source.id == Attribution.source_id)
        .where(where(Attribution.statement_id))
        # descending: the dict below keeps the last row of each claim, its first position
        .order_by(Attribution.statement_id.desc(), Attribution.position.desc())
    )
    return {r[0]: r[1:] for r in _rows(session, stmt)}


def _latest_verdicts(session: Session, where: Any) -> dict[int, tuple[Any, ...]]:
    """Statement id -> (label, reviewer, url, reviewed on) of its latest verdict: dated before
    undated, then the latest date, then the highest id (the claim_overview view's order)."""
    stmt = (
        select(
            Verdict.statement_id,
            Verdict.label,
            Verdict.reviewer,
            Verdict.url,
            cast(Verdict.reviewed_on, String),
        )
        .where(where(Verdict.statement_id))
        # ascending "goodness": the dict below keeps the last, i.e. the latest, of each claim
        .order_by(
            Verdict.statement_id,
            Verdict.reviewed_on.is_not(None),
            Verdict.reviewed_on,
            Verdict.id,
        )
    )
    return {r[0]: r[1:] for r in _rows(session, stmt)}


_NO_SOURCE = (None, None, None)
_NO_VERDICT = (None, None, None, None)


def interchange_rows(
    session: Session, claim_filter: ClaimFilter | None = None
) -> Iterator[tuple[Any, ...]]:
    """One interchange record (a tuple in COLUMNS order) per claim: first source, latest
    verdict, tags joined with ``; ``; in id order (see :func:`interchange_chunks`)."""
    for chunk in interchange_chunks(session, claim_filter):
        yield from chunk


# tags of the outer statement, sorted, joined with "; " (a lone tag holding a comma gets a
# trailing ";": join_tags' rule), for the one-query SQLite export
_SQLITE_TAGS = (
    # the EXISTS probe first: a claim without tags then costs one index lookup, not a sort
    "CASE WHEN EXISTS (SELECT 1 FROM statement_tags x WHERE x.statement_id = statements.id) "
    "THEN (SELECT CASE WHEN count(*) = 1 AND instr(group_concat(name, '; '), ',') > 0 "
    "THEN group_concat(name, '; ') || ';' ELSE group_concat(name, '; ') END "
    "FROM (SELECT t.name AS name FROM statement_tags st JOIN tags t ON t.id = st.tag_id "
    "WHERE st.statement_id = statements.id ORDER BY t.name)) END"
)
EXPORT_CHUNK = 10_000
EXPORT_CACHE_KIB = 16_384


def _sqlite_chunks(
    session: Session, claim_filter: ClaimFilter | None, *, empty_for_null: bool = False
) -> Iterator[list[Any]]:
    """SQLite: the whole interchange record from one query, first source and latest verdict
    joined through an index lookup per claim, rows straight from the driver's cursor in
    chunks, ready for ``csv.writer.writerows`` (no Python work per row).

    As on the generic path, a database without any verdict or tag is not asked for each
    claim's (two index probes a claim, a tenth of the query's time). ``empty_for_null``:
    empty strings instead of None (SQL's COALESCE), for :func:`write_csv`'s fast path.
    """
    from sqlalchemy import literal_column, null
    from sqlalchemy.orm import aliased

    any_tags, any_verdicts = _any_tags_and_verdicts(session)
    first = aliased(Attribution)
    # the id straight from the (statement_id, position) index, which holds it: one probe
    first_id = (
        select(first.id)
        .where(first.statement_id == Statement.id)
        .order_by(first.position)
        .limit(1)
        .scalar_subquery()
    )
    verdict_columns: tuple[Any, ...] = (null(), null(), null(), null())
    if any_verdicts:
        verdict_columns = (
            Verdict.label,
            Verdict.reviewer,
            Verdict.url,
            cast(Verdict.reviewed_on, String),
        )
    columns: tuple[Any, ...] = (
        *_claim_columns(),
        literal_column(_SQLITE_TAGS) if any_tags else null(),
        Source.name,
        Source.url,
        Source.kind,
        *verdict_columns,
        Statement.origin,
        Statement.external_id,
    )
    if empty_for_null:
        columns = tuple(func.coalesce(column, "") for column in columns)
    stmt = (
        select(*columns)
        .select_from(Statement)
        .join(Speaker, Speaker.id == Statement.speaker_id)
        .outerjoin(Attribution, Attribution.id == first_id)
        .outerjoin(Source, Source.id == Attribution.source_id)
        .order_by(Statement.id)
    )
    if any_verdicts:
        latest = aliased(Verdict)
        latest_id = (
            select(latest.id)
            .where(latest.statement_id == Statement.id)
            # dated before undated, then the latest date, then the highest id
            # (claim_overview's): SQLite sorts NULL lowest, so plainly descending, which reads
            # the (statement, reviewed_on) index backwards instead of sorting for each claim
            .order_by(latest.reviewed_on.desc(), latest.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        stmt = stmt.outerjoin(Verdict, Verdict.id == latest_id)
    stmt = _restrict(session, stmt, claim_filter)
    connection = session.connection()
    raw = connection.connection.dbapi_connection
    assert raw is not None
    # the sources are looked up at random: a page cache that holds them (and the default back)
    default = raw.execute("PRAGMA cache_size").fetchone()[0]
    raw.execute(f"PRAGMA cache_size = {-EXPORT_CACHE_KIB}")
    result = connection.execute(stmt)
    cursor = result.cursor
    try:
        while rows := cursor.fetchmany(EXPORT_CHUNK):
            yield rows
    finally:
        result.close()
        raw.execute(f"PRAGMA cache_size = {default}")


def interchange_chunks(
    session: Session,
    claim_filter: ClaimFilter | None = None,
    *,
    one_query: bool | None = None,
    empty_for_null: bool = False,
) -> Iterator[list[tuple[Any, ...]]]:
    """The interchange records of the selected claims, in id order, a chunk (list) at a time.

    SQLite: one query (:func:`_sqlite_chunks`). Elsewhere the claims are streamed in id order
    and each chunk's sources, verdicts and tags are read with one range query apiece (an index
    range scan) rather than a subquery per claim. ``one_query`` forces either way (tests
    compare the two). ``empty_for_null``: the one query may give empty strings for missing
    values (the CSV export writes both as empty cells).
    """
    if one_query is None:
        one_query = session.connection().dialect.name == "sqlite"
    if one_query:
        yield from _sqlite_chunks(session, claim_filter, empty_for_null=empty_for_null)
        return
    stmt = (
        select(
            Statement.id,
            *_claim_columns(),
            Statement.origin,
            Statement.external_id,
        )
        .join(Speaker, Speaker.id == Statement.speaker_id)
        .order_by(Statement.id)
    )
    filtered = claim_filter is not None and claim_filter != ClaimFilter()
    stmt = _restrict(session, stmt, claim_filter)
    any_tags, any_verdicts = _any_tags_and_verdicts(session)
    no_source, no_verdict = _NO_SOURCE, _NO_VERDICT
    for chunk in _fetch(session, stmt):
        ids = [r[0] for r in chunk]
        if filtered:  # scattered ids: ask for exactly these

            def where(column: Any, ids: list[int] = ids) -> Any:
                return column.in_(ids)
        else:  # every claim in id order: one index range

            def where(column: Any, low: int = ids[0], high: int = ids[-1]) -> Any:
                return column.between(low, high)

        sources = _first_sources(session, where)
        verdicts = _latest_verdicts(session, where) if any_verdicts else {}
        tags = _tags_for(session, ids) if any_tags else {}
        rows = []
        for r in chunk:
            key = r[0]
            found = tags.get(key) if any_tags else None
            rows.append(
                (
                    *r[1:10],
                    join_tags(found) if found else None,
                    *sources.get(key, no_source),
                    *verdicts.get(key, no_verdict),
                    r[10],
                    r[11],
                )
            )
        yield rows


def _tags_for(session: Session, ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    rows = session.execute(
        select(StatementTag.statement_id, Tag.name)
        .join(Tag, Tag.id == StatementTag.tag_id)
        .where(StatementTag.statement_id.in_(ids))
        .order_by(StatementTag.statement_id, Tag.name)
    )
    for statement_id, name in rows:
        found.setdefault(statement_id, []).append(name)
    return found


def write_csv(chunks: Iterable[list[tuple[Any, ...]]], out: IO[str]) -> int:
    """The interchange record as CSV (header first), from chunks of rows (see
    :func:`interchange_chunks`); returns the number of rows written."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    count = 0
    for chunk in chunks:
        plain = plain_csv(chunk, len(COLUMNS))
        if plain is None:
            writer.writerows(chunk)  # None is an empty cell; quoting where a value needs it
        else:
            out.write(plain)
        count += len(chunk)
    return count


def plain_csv(rows: list[tuple[Any, ...]], width: int) -> str | None:
    """What ``csv.writer(lineterminator="\\n").writerows(rows)`` writes, when no value needs
    quoting (then the rows joined with commas are exactly that); None when one might, or a
    value is not a string, or a row is not ``width`` values wide (over one), so the caller lets
    the csv module write the chunk.

    The csv module copies each character through its quoting logic: 6 of an export's 16 s for
    a million claims. Joining and scanning the whole chunk at once runs in C at memory speed.
    A value needs quoting when it holds the delimiter, the quote character or a line break;
    the comma and line counts of the joined text show whether any does.
    """
    if not rows or width < 2:
        return None
    try:
        text = "\n".join(map(",".join, rows))
    except TypeError:  # None or a number among the values
        return None
    if (
        text.count(",") != (width - 1) * len(rows)
        or text.count("\n") != len(rows) - 1
        or '"' in text
        or "\r" in text
    ):
        return None
    return text + "\n"


def write_jsonl(chunks: Iterable[list[tuple[Any, ...]]], out: IO[str]) -> int:
    """The interchange record as JSON Lines (null for empty), from chunks of rows; returns the
    rows written."""
    count = 0
    dumps = json.dumps
    for chunk in chunks:
        out.write(
            "".join(
                dumps(dict(zip(COLUMNS, row, strict=True)), ensure_ascii=False) + "\n"
                for row in chunk
            )
        )
        count += len(chunk)
    return count


# --- ClaimReview ------------------------------------------------------------------------------


def claim_reviews(
    session: Session, claim_filter: ClaimFilter | None = None
) -> Iterator[dict[str, Any]]:
    """One schema.org ClaimReview per verdict of the selected claims, oldest claim first."""
    stmt = (
        select(
            Statement.id,
            Statement.text,
            _partial(Statement.said_on, Statement.said_precision),
            Statement.language,
            Speaker.name,
            Speaker.kind,
            Speaker.role,
            Speaker.external_ids,
            Verdict.label,
            Verdict.reviewer,
            cast(Verdict.reviewed_on, String),
            Verdict.url,
            Verdict.rating_value,
            Verdict.best_rating,
            Verdict.worst_rating,
        )
        .join(Speaker, Speaker.id == Statement.speaker_id)
        .join(Verdict, Verdict.statement_id == Statement.id)
        .order_by(Statement.id, Verdict.id)
    )
    stmt = _restrict(session, stmt, claim_filter, reviewed_only=True)
    result = session.execute(stmt.execution_options(yield_per=CHUNK))
    for chunk in result.partitions():
        appearances = _appearances(session, sorted({r[0] for r in chunk}))
        for r in chunk:
            yield _claim_review(r, appearances.get(r[0], []))


def _appearances(session: Session, ids: list[int]) -> dict[int, list[tuple[Any, ...]]]:
    found: dict[int, list[tuple[Any, ...]]] = {}
    rows = session.execute(
        select(Attribution.statement_id, Attribution.role, Source.name, Source.url)
        .join(Source, Source.id == Attribution.source_id)
        .where(Attribution.statement_id.in_(ids))
        .order_by(Attribution.statement_id, Attribution.position, Attribution.id)
    )
    for statement_id, role, name, url in rows:
        found.setdefault(statement_id, []).append((role, name, url))
    return found


def _drop_none(node: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in node.items() if v not in (None, [], {})}


def _creative_work(name: str, url: str | None) -> dict[str, Any]:
    return _drop_none(
        {
            "@type": "CreativeWork",
            "url": url,
            "publisher": {"@type": "Organization", "name": name},
        }
    )


def _claim_review(r: Any, appearances: list[tuple[Any, ...]]) -> dict[str, Any]:
    (_id, text, said_on, language, speaker, kind, role, external_ids) = r[:8]
    (label, reviewer, reviewed_on, url, value, best, worst) = r[8:]
    same_as = []
    for key, ident in (external_ids or {}).items():
        if key == "wikidata":
            same_as.append(f"https://www.wikidata.org/wiki/{ident}")
        elif isinstance(ident, str) and ident.startswith(("http://", "https://")):
            same_as.append(ident)
    author = _drop_none(
        {
            "@type": "Organization" if kind == "organisation" else "Person",
            "name": speaker,
            "jobTitle": role,
            "sameAs": same_as[0] if len(same_as) == 1 else same_as,
        }
    )
    first = [a for a in appearances if a[0] == "first_reported"]
    rating = {"@type": "Rating", "alternateName": label}
    if value is not None:
        # ordinal scales only: a bare label has no number to give
        rating.update(ratingValue=value, bestRating=best, worstRating=worst)
    item = _drop_none(
        {
            "@type": "Claim",
            # ClaimReview allows a claim without an author: the unknown speaker is none
            "author": None if is_unknown_speaker(speaker) else author,
            "datePublished": said_on,
            "inLanguage": language,
            "appearance": [_creative_work(n, u) for _role, n, u in appearances],
            "firstAppearance": _creative_work(first[0][1], first[0][2]) if first else None,
        }
    )
    return _drop_none(
        {
            "@type": "ClaimReview",
            "claimReviewed": text,
            "itemReviewed": item,
            "reviewRating": _drop_none(rating),
            "author": {"@type": "Organization", "name": reviewer} if reviewer else None,
            "datePublished": reviewed_on,
            "url": url,
        }
    )


def write_claimreview(reviews: Iterator[dict[str, Any]], out: IO[str]) -> int:
    """ClaimReviews as one JSON-LD document (``@context`` + ``@graph``), streamed."""
    out.write('{"@context": "https://schema.org", "@graph": [')
    count = 0
    for review in reviews:
        out.write(("," if count else "") + "\n  " + json.dumps(review, ensure_ascii=False))
        count += 1
    out.write("\n]}\n")
    return count
