"""Selecting and describing claims: the filters shared by list, export and report.

Every filter narrows ``statements`` through an index, so a selective filter on a big database
never scans the statements table: ``--speaker`` is ``speaker_id = ?`` (ix_statements_speaker_said),
``--status`` is ``current_status = ?`` (ix_statements_status_said), ``--since/--until`` use
ix_statements_said_on, and ``--source``, ``--tag``, ``--verdict`` and ``--status --as-of`` are
``statements.id IN (subquery)`` over indexed columns of attributions, statement_tags, verdicts
and status_events.

Dates compare by their first day: ``--since 2021-10`` means from 2021-10-01, ``--until 2021``
means up to 2021-01-01, and a claim said "2021-10" (month precision) counts as said on
2021-10-01. ``--as-of D`` judges each claim by its latest status event with effective date
<= D, where an event dated 2021-10 is in force from 2021-10-01.

The listing (``select_claims``, ``list_claims``) is SQLAlchemy Core over the lightweight
tables of ``factdb.tables``: ``claim list`` and ``claim search`` neither import
``factdb.models`` nor configure the ORM mappers, which would cost more than the query itself on
a big database. Only the error paths (near-match suggestions) and ``claim_detail`` use the ORM.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice
from typing import Any

from sqlalchemy import Select, and_, func, literal_column, or_, select, tuple_
from sqlalchemy.orm import Session

from factdb import tables as t
from factdb.dates import format_partial
from factdb.errors import NotFound
from factdb.filters import ClaimFilter
from factdb.textkeys import is_unknown_speaker, label_key, name_key, normalise_code, normalise_tag

_CHUNK = 500


def _later_event(event: Any, as_of: Any) -> Any:
    """SQL: a status event of the same claim, in force by ``as_of``, that supersedes ``event``."""
    later = t.status_events.alias()
    return (
        select(later.c.id)
        .where(
            later.c.statement_id == event.c.statement_id,
            later.c.effective_on <= as_of,
            later.c.withdrawn_at.is_(None),
            or_(
                later.c.effective_on > event.c.effective_on,
                and_(
                    later.c.effective_on == event.c.effective_on,
                    or_(
                        later.c.recorded_at > event.c.recorded_at,
                        and_(later.c.recorded_at == event.c.recorded_at, later.c.id > event.c.id),
                    ),
                ),
            ),
        )
        .exists()
    )


def _later_verdict(verdict: Any) -> Any:
    """SQL: a verdict of the same claim that is more recent than ``verdict``.

    Dated verdicts beat undated ones; among dated, the latest review date; ties by id. The
    same order as the ``claim_overview`` view.
    """
    later = t.verdicts.alias()
    return (
        select(later.c.id)
        .where(
            later.c.statement_id == verdict.c.statement_id,
            or_(
                and_(
                    later.c.reviewed_on.is_not(None),
                    or_(
                        verdict.c.reviewed_on.is_(None),
                        later.c.reviewed_on > verdict.c.reviewed_on,
                        and_(
                            later.c.reviewed_on == verdict.c.reviewed_on,
                            later.c.id > verdict.c.id,
                        ),
                    ),
                ),
                and_(
                    later.c.reviewed_on.is_(None),
                    verdict.c.reviewed_on.is_(None),
                    later.c.id > verdict.c.id,
                ),
            ),
        )
        .exists()
    )


def _speaker_id(session: Session, name: str) -> int:
    """The id of the speaker called ``name`` (or with that alias), as ``find_speaker`` finds it."""
    key = name_key(name)
    sp, al = t.speakers, t.speaker_aliases
    found = session.scalar(select(sp.c.id).where(sp.c.name_key == key).limit(1))
    if found is None:
        found = session.scalar(select(al.c.speaker_id).where(al.c.alias_key == key).limit(1))
    if found is None and is_unknown_speaker(name):
        return -1  # no claim has been imported without a speaker yet: no claim matches
    if found is None:
        # the error path may use the ORM services
        from factdb.services.speakers import speaker_near_matches

        suggestions = speaker_near_matches(session, name)
        hint = f"; did you mean {' or '.join(repr(s) for s in suggestions)}?" if suggestions else ""
        raise NotFound(f"unknown speaker {name!r}{hint}")
    return found


def _status_code(session: Session, code: str) -> str:
    """The canonical code of a known status; an unknown one is ``check_status``'s error."""
    if code and code.strip():
        found = session.scalar(
            select(t.statuses.c.code).where(t.statuses.c.code == normalise_code(code))
        )
        if found is not None:
            return found
    from factdb.services.statuses import check_status

    return check_status(session, code).code  # raises, listing the valid codes


def _source_ids(session: Session, ref: str) -> list[int]:
    src = t.sources
    ref = ref.strip()
    # a source's alias ("AP") stands for every source of that name ("Associated Press")
    aliased = (
        select(src.c.name_key)
        .join(t.source_aliases, t.source_aliases.c.source_id == src.c.id)
        .where(t.source_aliases.c.alias_key == name_key(ref))
        .scalar_subquery()
    )
    ids = list(
        session.scalars(
            select(src.c.id).where(
                or_(src.c.url == ref, src.c.name_key == name_key(ref), src.c.name_key == aliased)
            )
        )
    )
    if not ids:
        from factdb.services.sources import source_near_matches

        suggestions = source_near_matches(session, ref)
        hint = f"; did you mean {' or '.join(repr(s) for s in suggestions)}?" if suggestions else ""
        raise NotFound(f"unknown source {ref!r}{hint}")
    return ids


def _verdict_condition(session: Session, value: str) -> Any:
    v = t.verdicts
    key = label_key(value)
    if key in t.VERDICT_CLASSES:
        return v.c.normalised_class == key
    sr = t.scale_ratings
    named = select(sr.c.scale_id, sr.c.ordinal).where(sr.c.label_key == key)
    # a rating's other spellings on its scale (LIAR's "pants-fire" is PolitiFact's "Pants on
    # Fire"): the labels at the same position of the same scale
    rating_ids = list(
        session.scalars(select(sr.c.id).where(tuple_(sr.c.scale_id, sr.c.ordinal).in_(named)))
    )
    # a label no scale knows is stored verbatim; it is matched case-insensitively (this branch
    # reads the verdicts table, never the statements table)
    verbatim = func.lower(v.c.label) == value.strip().lower()
    return or_(v.c.scale_rating_id.in_(rating_ids), verbatim) if rating_ids else verbatim


def select_claims(session: Session, claim_filter: ClaimFilter) -> Select[Any]:
    """A SELECT of the ids of the claims the filter keeps, ordered by date said, then id.

    Undated claims come first on both backends. Unknown speakers, sources and statuses are
    errors (NotFound / FactdbError with suggestions), not silently empty results; an unknown tag
    or verdict label just matches nothing. With ``search`` the order is relevance (see
    ``services.search.apply_search``). The SELECT is Core over ``factdb.tables.statements``:
    use it as a subquery (``.subquery()``, ``in_``) rather than adding ORM criteria to it.
    """
    f = claim_filter
    st = t.statements
    stmt = select(st.c.id)
    if f.speaker:
        stmt = stmt.where(st.c.speaker_id == _speaker_id(session, f.speaker))
    if f.status:
        code = _status_code(session, f.status)
        if f.as_of is None:
            stmt = stmt.where(st.c.current_status == code)
        else:
            event = t.status_events.alias()
            in_force = select(event.c.statement_id).where(
                event.c.status_code == code,
                event.c.effective_on <= f.as_of,
                event.c.withdrawn_at.is_(None),
                ~_later_event(event, f.as_of),
            )
            stmt = stmt.where(st.c.id.in_(in_force))
    if f.verdict:
        v = t.verdicts
        latest = select(v.c.statement_id).where(
            _verdict_condition(session, f.verdict), ~_later_verdict(v)
        )
        stmt = stmt.where(st.c.id.in_(latest))
    if f.reviewed:
        stmt = stmt.where(st.c.id.in_(select(t.verdicts.c.statement_id)))
    if f.source:
        a = t.attributions
        attributed = select(a.c.statement_id).where(
            a.c.source_id.in_(_source_ids(session, f.source))
        )
        stmt = stmt.where(st.c.id.in_(attributed))
    if f.tag:
        tagged = (
            select(t.statement_tags.c.statement_id)
            .join(t.tags, t.tags.c.id == t.statement_tags.c.tag_id)
            .where(t.tags.c.name == normalise_tag(f.tag))
        )
        stmt = stmt.where(st.c.id.in_(tagged))
    if f.since:
        stmt = stmt.where(st.c.said_on >= f.since)
    if f.until:
        stmt = stmt.where(st.c.said_on <= f.until)
    if f.search:
        # best matches first, ties by id (apply_search orders); with no other filter it may
        # read the full-text index alone, so no ordering on statements columns is added here.
        # The limit is passed on: it decides whether the ranking window can also bound the
        # result (see docs/search.md)
        from factdb.services.search import apply_search

        stmt = apply_search(session, stmt, f.search, limit=f.limit)
        return stmt.limit(f.limit) if f.limit is not None else stmt
    # undated claims first on both backends: SQLite sorts NULL first natively, which lets it
    # walk ix_statements_said_on (or the speaker/status index) instead of sorting
    said: Any = st.c.said_on
    if session.get_bind().dialect.name != "sqlite":
        said = said.asc().nulls_first()
    elif f.verdict or f.source or f.tag or (f.status and f.as_of):
        # with ANALYZE statistics SQLite may prefer walking all of ix_statements_said_on (a
        # full scan, to skip the sort) and probing the id subquery per row; the unary "+"
        # keeps the index out of ORDER BY so the plan starts from the subquery's ids
        said = literal_column("+statements.said_on")
    if f.sort == "id":
        stmt = stmt.order_by(st.c.id)
    elif f.sort == "status":
        # unknown status (no event yet) last: it is the least informative
        stmt = stmt.order_by(st.c.current_status.is_(None), st.c.current_status, said, st.c.id)
    elif f.sort == "speaker":
        sp = t.speakers
        stmt = stmt.join(sp, sp.c.id == st.c.speaker_id).order_by(sp.c.name_key, said, st.c.id)
    else:
        stmt = stmt.order_by(said, st.c.id)
    if f.limit is not None:
        stmt = stmt.limit(f.limit)
    return stmt


def _chunks(iterator: Iterator[int], size: int) -> Iterator[list[int]]:
    while chunk := list(islice(iterator, size)):
        yield chunk


def _rows_for(session: Session, ids: list[int], as_of: Any) -> list[dict[str, Any]]:
    """The listing dicts for a chunk of ids, in the order of ``ids`` (the one row builder)."""
    st, sp = t.statements, t.speakers
    org = t.speakers.alias("acts_for")
    base = session.execute(
        select(
            st.c.id,
            st.c.text,
            st.c.said_on,
            st.c.said_precision,
            st.c.current_status,
            st.c.quote_kind,
            st.c.language,
            st.c.original_text,
            st.c.original_language,
            st.c.context,
            st.c.origin,
            st.c.external_id,
            sp.c.name,
            sp.c.role,
            sp.c.kind,
            org.c.name,
        )
        .select_from(st)
        .join(sp, sp.c.id == st.c.speaker_id)
        .outerjoin(org, org.c.id == sp.c.acts_for_id)
        .where(st.c.id.in_(ids))
    ).all()
    rows: dict[int, dict[str, Any]] = {}
    for r in base:
        rows[r[0]] = {
            "id": r[0],
            "text": r[1],
            "said_on": format_partial(r[2], r[3]),
            "status": r[4],
            "quote_kind": r[5],
            "language": r[6],
            "original_text": r[7],
            "original_language": r[8],
            "context": r[9],
            "origin": r[10],
            "external_id": r[11],
            "speaker": r[12],
            "speaker_role": r[13],
            "speaker_kind": r[14],
            "acts_for": r[15],
            "verdict": None,
            "verdict_class": None,
            "verdict_by": None,
            "reviewed_on": None,
            "review_url": None,
            "source": None,
            "source_url": None,
            "source_kind": None,
            "tags": [],
        }
    if as_of is not None:
        # nothing recorded by that date means no status then, whatever it is now
        for row in rows.values():
            row["status"] = None
        event = t.status_events.alias()
        for statement_id, code in session.execute(
            select(event.c.statement_id, event.c.status_code).where(
                event.c.statement_id.in_(ids),
                event.c.effective_on <= as_of,
                event.c.withdrawn_at.is_(None),
                ~_later_event(event, as_of),
            )
        ):
            rows[statement_id]["status"] = code
    v = t.verdicts
    latest = session.execute(
        select(
            v.c.statement_id,
            v.c.label,
            v.c.normalised_class,
            v.c.reviewer,
            v.c.reviewed_on,
            v.c.url,
        ).where(v.c.statement_id.in_(ids), ~_later_verdict(v))
    )
    for statement_id, label, cls, reviewer, reviewed_on, url in latest:
        rows[statement_id].update(
            verdict=label,
            verdict_class=cls,
            verdict_by=reviewer,
            reviewed_on=reviewed_on,
            review_url=url,
        )
    first = t.attributions.alias("first")
    earlier = t.attributions.alias("earlier")
    src = t.sources
    sources = session.execute(
        select(first.c.statement_id, src.c.name, src.c.url, src.c.kind)
        .join(src, src.c.id == first.c.source_id)
        .where(
            first.c.statement_id.in_(ids),
            ~select(earlier.c.id)
            .where(
                earlier.c.statement_id == first.c.statement_id,
                earlier.c.position < first.c.position,
            )
            .exists(),
        )
    )
    for statement_id, name, url, kind in sources:
        rows[statement_id].update(source=name, source_url=url, source_kind=kind)
    stag, tag = t.statement_tags, t.tags
    tag_rows = session.execute(
        select(stag.c.statement_id, tag.c.name)
        .join(tag, tag.c.id == stag.c.tag_id)
        .where(stag.c.statement_id.in_(ids))
        .order_by(tag.c.name)
    )
    for statement_id, name in tag_rows:
        rows[statement_id]["tags"].append(name)
    return [rows[i] for i in ids if i in rows]


def list_claims(session: Session, claim_filter: ClaimFilter) -> Iterator[dict[str, Any]]:
    """One dict per selected claim, in ``select_claims`` order, streamed in chunks.

    Keys: id, text, speaker, said_on (rendered at its precision), status (as of
    ``claim_filter.as_of`` when given, else the current one), verdict, verdict_class, source
    (the first in the attribution chain), tags (a list), and the other interchange fields:
    speaker_role, speaker_kind, acts_for, quote_kind, language, original_text,
    original_language, context, source_url, source_kind, verdict_by, reviewed_on, review_url,
    origin, external_id. ``claim list`` and ``claim search`` both list through here.
    """
    ids = session.scalars(select_claims(session, claim_filter)).all()
    for chunk in _chunks(iter(ids), _CHUNK):
        yield from _rows_for(session, chunk, claim_filter.as_of)


def claim_detail(session: Session, claim_id: int) -> dict[str, Any]:
    """Everything ``claim show`` prints about one claim, as plain data (JSON-ready).

    Keys: the statement's fields; ``speaker`` (name, kind, role, acts_for, aliases);
    ``attributions`` (the chain in order: position, role, verb, source with kind, url, title,
    credit, published_on, based_on); ``status`` and ``status_label`` (current);
    ``status_history`` (oldest first: status, effective_on at its precision, recorded_at,
    note, evidence_source, evidence_claim_id, recorded_by); ``links`` with ``outgoing`` and
    ``incoming`` (relation, the other claim's id, speaker and text, linked_on, note);
    ``verdicts``; ``tags``.
    """
    # ``claim show`` is one claim: the ORM is fine here (the listings above avoid it)
    from factdb.models import Status
    from factdb.services.claims import get_claim
    from factdb.services.statuses import status_history

    s = get_claim(session, claim_id)
    speaker = s.speaker
    status_label = session.scalar(select(Status.label).where(Status.code == s.current_status))
    history = [
        {
            "id": e.id,
            "status": e.status_code,
            "label": e.status.label,
            "effective_on": format_partial(e.effective_on, e.effective_precision),
            "recorded_at": e.recorded_at,
            "note": e.note,
            "evidence_source": e.evidence_source.name if e.evidence_source else None,
            "evidence_source_url": e.evidence_source.url if e.evidence_source else None,
            "evidence_claim_id": e.evidence_statement_id,
            "recorded_by": e.recorded_by,
            "withdrawn_at": e.withdrawn_at,
            "withdrawn_by": e.withdrawn_by,
            "withdrawn_note": e.withdrawn_note,
        }
        for e in status_history(session, s.id)
    ]
    return {
        "id": s.id,
        "text": s.text,
        "quote_kind": s.quote_kind,
        "language": s.language,
        "original_text": s.original_text,
        "original_language": s.original_language,
        "said_on": format_partial(s.said_on, s.said_precision),
        "context": s.context,
        "origin": s.origin,
        "external_id": s.external_id,
        "created_at": s.created_at,
        "updated_at": s.updated_at,
        "speaker": {
            "id": speaker.id,
            "name": speaker.name,
            "kind": speaker.kind,
            "role": speaker.role,
            "acts_for": speaker.acts_for.name if speaker.acts_for else None,
            "aliases": [a.alias for a in speaker.aliases],
        },
        "attributions": [
            {
                "position": a.position,
                "role": a.role,
                "verb": a.verb,
                "source": {
                    "id": a.source.id,
                    "name": a.source.name,
                    "kind": a.source.kind,
                    "url": a.source.url,
                    "title": a.source.title,
                    "credit": a.source.credit,
                    "published_on": format_partial(
                        a.source.published_on, a.source.published_precision
                    ),
                    "based_on": a.source.based_on.name if a.source.based_on else None,
                },
            }
            for a in s.attributions
        ],
        "status": s.current_status,
        "status_label": status_label,
        "status_history": history,
        "links": {
            "outgoing": _links(session, s.id, outgoing=True),
            "incoming": _links(session, s.id, outgoing=False),
        },
        "verdicts": _verdicts(session, s.id),
        "tags": sorted(t.name for t in s.tags),
    }


def _links(session: Session, claim_id: int, *, outgoing: bool) -> list[dict[str, Any]]:
    from factdb.models import Speaker, Statement, StatementLink

    mine = StatementLink.from_statement_id if outgoing else StatementLink.to_statement_id
    other = StatementLink.to_statement_id if outgoing else StatementLink.from_statement_id
    rows = session.execute(
        select(
            StatementLink.id,
            StatementLink.relation,
            other,
            Speaker.name,
            Statement.text,
            StatementLink.linked_on,
            StatementLink.linked_precision,
            StatementLink.note,
        )
        .join(Statement, Statement.id == other)
        .join(Speaker, Speaker.id == Statement.speaker_id)
        .where(mine == claim_id)
        # by the other claim, then as recorded: the same order in any copy of the database
        # (a story file recreates links claim by claim, so their own ids may come out permuted)
        .order_by(other, StatementLink.id)
    )
    return [
        {
            "id": link_id,
            "relation": relation.replace("_", " "),
            "claim_id": other_id,
            "speaker": speaker,
            "text": text,
            "linked_on": format_partial(linked_on, precision),
            "note": note,
        }
        for link_id, relation, other_id, speaker, text, linked_on, precision, note in rows
    ]


def _verdicts(session: Session, claim_id: int) -> list[dict[str, Any]]:
    from factdb.models import RatingScale, ScaleRating, Verdict

    rows = session.execute(
        select(Verdict, RatingScale.name)
        .outerjoin(ScaleRating, ScaleRating.id == Verdict.scale_rating_id)
        .outerjoin(RatingScale, RatingScale.id == ScaleRating.scale_id)
        .where(Verdict.statement_id == claim_id)
        .order_by(Verdict.reviewed_on.is_(None), Verdict.reviewed_on, Verdict.id)
    )
    return [
        {
            "id": v.id,
            "label": v.label,
            "class": v.normalised_class,
            "reviewer": v.reviewer,
            "reviewed_on": v.reviewed_on,
            "url": v.url,
            "scale": scale,
            "rating_value": v.rating_value,
            "best_rating": v.best_rating,
            "worst_rating": v.worst_rating,
        }
        for v, scale in rows
    ]
