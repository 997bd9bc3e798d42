"""Correcting a claim's attribution chain: add a source at a position, remove one, move one.

Positions stay contiguous (1, 2, 3, …) after every change, so "the second source" always means
something. Reordering passes through temporary positions (the unique (claim, position)
constraint is checked row by row on both backends); the audit log records only each row's
net change (see ``factdb.audit.paused``).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from factdb import audit
from factdb.errors import FactdbError, NotFound
from factdb.models import Attribution
from factdb.services.claims import AttributionInput, add_attribution, get_claim


def chain(session: Session, claim_id: int) -> list[Attribution]:
    """The claim's attributions in chain order."""
    return list(
        session.scalars(
            select(Attribution)
            .where(Attribution.statement_id == claim_id)
            .order_by(Attribution.position, Attribution.id)
        )
    )


def _at(rows: list[Attribution], position: int, claim_id: int) -> Attribution:
    for row in rows:
        if row.position == position:
            return row
    shown = f"1 to {len(rows)}" if rows else "none: the claim has no sources"
    raise NotFound(f"claim {claim_id} has no source at position {position} (positions: {shown})")


def _renumber(session: Session, claim_id: int, ordered: list[Attribution]) -> None:
    """Give ``ordered`` the positions 1..n, logging each row whose position changed once."""
    before = {row.id: row.position for row in ordered}
    with audit.paused(session):
        # out of the way first: no two rows of a claim may share a position at any moment
        for row in ordered:
            row.position = -row.id
        session.flush()
        for index, row in enumerate(ordered, start=1):
            row.position = index
        session.flush()
    audit.log_updates(
        session,
        "attributions",
        (
            (row.id, {"statement_id": claim_id}, {"position": before[row.id]}, {"position": p})
            for p, row in enumerate(ordered, start=1)
        ),
    )


def add_source(
    session: Session, claim_id: int, attribution: AttributionInput, position: int | None = None
) -> Attribution:
    """Add a source to the claim's chain, last or at ``position`` (later ones move down)."""
    statement = get_claim(session, claim_id)
    rows = chain(session, statement.id)
    if position is not None and not 1 <= position <= len(rows) + 1:
        raise FactdbError(f"position {position} is outside the chain (1 to {len(rows) + 1})")
    row = add_attribution(session, statement, attribution)
    if position is not None and position != row.position:
        rows.insert(position - 1, row)
        _renumber(session, statement.id, rows)
    return row


def remove_source(session: Session, claim_id: int, position: int) -> Attribution:
    """Remove the attribution at ``position``; the ones after it move up. Returns it."""
    statement = get_claim(session, claim_id)
    rows = chain(session, statement.id)
    row = _at(rows, position, statement.id)
    session.delete(row)
    session.flush()
    rows.remove(row)
    if any(r.position != i for i, r in enumerate(rows, start=1)):
        _renumber(session, statement.id, rows)
    session.expire(statement, ["attributions"])
    return row


def move_source(session: Session, claim_id: int, position: int, to: int) -> list[Attribution]:
    """Move the attribution at ``position`` to position ``to``; returns the new chain."""
    statement = get_claim(session, claim_id)
    rows = chain(session, statement.id)
    row = _at(rows, position, statement.id)
    if not 1 <= to <= len(rows):
        raise FactdbError(f"position {to} is outside the chain (1 to {len(rows)})")
    if to == position:
        raise FactdbError(f"the source is already at position {to}")
    rows.remove(row)
    rows.insert(to - 1, row)
    _renumber(session, statement.id, rows)
    session.expire(statement, ["attributions"])
    return rows


# the keys a --via value may carry, and the AttributionInput field each one sets
VIA_KEYS = {
    "role": "role",
    "verb": "verb",
    "url": "url",
    "kind": "kind",
    "credit": "credit",
    "title": "title",
    "published": "published_on",
    "published_on": "published_on",
}


def parse_via(spec: str, *, force_new: bool = False) -> AttributionInput:
    """One attribution written as ``NAME; role=ROLE; verb=VERB; url=URL; …`` (``--via``).

    The first part is the source's name; the others are ``key=value`` pairs (keys: role, verb,
    url, kind, credit, title, published), each at most once. Role and kind are checked here so
    that a typo is refused before anything is written.
    """
    from factdb.services.claims import check_role
    from factdb.services.sources import check_kind

    name, *parts = (part.strip() for part in spec.split(";"))
    if not name or "=" in name:
        raise FactdbError(
            f"--via {spec!r}: start with the source's name, then '; key=value' parts "
            "(e.g. 'Associated Press; role=according_to; verb=said')"
        )
    fields: dict[str, str] = {}
    for part in parts:
        if not part:
            continue
        key, sep, value = part.partition("=")
        key = key.strip().lower()
        if not sep or key not in VIA_KEYS:
            raise FactdbError(
                f"--via {spec!r}: {part!r} is not key=value with a key among "
                f"{', '.join(k for k in VIA_KEYS if k != 'published_on')}"
            )
        field = VIA_KEYS[key]
        if field in fields:
            raise FactdbError(f"--via {spec!r}: {key} is given twice")
        fields[field] = value.strip()
    if "role" in fields:
        fields["role"] = check_role(fields["role"])
    if "kind" in fields:
        fields["kind"] = check_kind(fields["kind"])
    return AttributionInput(source=name, force_new=force_new, **fields)  # type: ignore[arg-type]


def paired_attributions(
    sources: tuple[str, ...] | list[str],
    paired: dict[str, tuple[str, ...] | list[str]],
    *,
    force_new: bool = False,
) -> list[AttributionInput]:
    """Attributions from the older positional options (``--source`` with ``--role``, ``--verb``,
    ``--source-url``, ``--source-kind``), refusing any combination that needs guessing.

    ``paired`` maps each option's name to its values. One source takes at most one of each;
    several sources need each given option once per source (or not at all): two ``--source``
    and one ``--role`` is refused, since nothing says which source the role belongs to.
    """
    for option, values in paired.items():
        if values and len(values) != len(sources) and (len(sources) != 1 or len(values) > 1):
            raise FactdbError(
                f"ambiguous: {len(sources)} --source but {len(values)} {option}; say which "
                "source each belongs to with one --via per source, e.g. --via "
                "'Associated Press; role=according_to; verb=said'"
            )
    field = {"--source-url": "url", "--source-kind": "kind", "--role": "role", "--verb": "verb"}
    result = []
    for index, name in enumerate(sources):
        values = {
            field[option]: given[index] or None
            for option, given in paired.items()
            if index < len(given) and given[index]
        }
        result.append(AttributionInput(source=name, force_new=force_new, **values))  # type: ignore[arg-type]
    return result
