"""The audit log: every change to the data, written in the transaction that makes it.

It is implemented once, here, as SQLAlchemy events, so that no service can forget it:

- mapper events (``after_insert``, ``after_update``, ``before_delete``) see every ORM row a flush
  writes, orphans and cascades included, with the attribute history of what changed;
- the session's ``do_orm_execute`` event sees bulk ``UPDATE``/``DELETE`` statements run through
  ``Session.execute`` (a speaker merge moving claims, a claim deletion removing links): it reads
  the rows they touch before and after, and logs each one;
- the session's ``after_flush`` writes what the mapper events collected in one ``executemany``.

The bulk importer (``factdb.io.loader``) writes with Core on the connection, not row by row
through the ORM: it logs one ``import`` entry per load (counts, the range of new claim ids, the
file), which keeps a million-claim import as fast as before (see ``log_import``).

Who made a change is ``session.info["actor"]`` (the CLI's ``--by``), else ``$FACTDB_USER``, else
the login name.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, insert, inspect, select
from sqlalchemy.orm import Mapper, ORMExecuteState, Session

# the tables whose changes are logged, and the column naming the claim a row belongs to
AUDITED: dict[str, str | None] = {
    "statements": "id",
    "attributions": "statement_id",
    "status_events": "statement_id",
    "verdicts": "statement_id",
    "statement_links": "from_statement_id",
    "speakers": None,
    "speaker_aliases": None,
    "sources": None,
    "source_aliases": None,
}
# derived columns: recomputed from others (the current-status cache from the status events,
# keys from names and texts), so an update of them alone is not a change anyone made
DERIVED = frozenset({"current_status", "updated_at", "content_key", "name_key", "alias_key"})
ACTOR_KEY = "actor"
_PENDING = "audit_pending"
_OFF = "audit_off"
# bulk statements read the rows they touch in chunks (both backends cap bound parameters)
_CHUNK = 500


def current_actor(session: Session | None = None) -> str:
    """Who is making changes: the session's actor (``--by``), ``$FACTDB_USER``, the login name."""
    if session is not None and session.info.get(ACTOR_KEY):
        return str(session.info[ACTOR_KEY])
    if os.environ.get("FACTDB_USER", "").strip():
        return os.environ["FACTDB_USER"].strip()
    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError):  # no login name (some containers): say so
        return "unknown"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def jsonable(value: Any) -> Any:
    """A column value as JSON can hold it (dates as ISO strings)."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def _entry(
    session: Session | None,
    table: str,
    row_id: Any,
    action: str,
    values: dict[str, Any],
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> dict[str, Any]:
    claim_column = AUDITED.get(table)
    claim_id = values.get(claim_column) if claim_column else None
    return {
        "changed_at": _now(),
        "changed_by": current_actor(session),
        "table_name": table,
        "row_id": row_id,
        "action": action,
        "claim_id": claim_id,
        "before": jsonable(before) if before is not None else None,
        "after": jsonable(after) if after is not None else None,
    }


def _columns(mapper: Mapper[Any], target: Any) -> dict[str, Any]:
    """The loaded column values of ``target`` by column name (nothing is loaded for this)."""
    loaded = inspect(target).dict
    return {
        prop.columns[0].name: loaded[prop.key]
        for prop in mapper.column_attrs
        if prop.key in loaded and prop.columns[0].table is mapper.local_table
    }


def _queue(target: Any, entry: dict[str, Any]) -> None:
    session = Session.object_session(target)
    if session is not None and not session.info.get(_OFF):
        session.info.setdefault(_PENDING, []).append(entry)


@contextmanager
def paused(session: Session) -> Iterator[None]:
    """Log nothing inside the block: for intermediate states no one asked for (a reorder's
    temporary positions), whose net effect the caller logs with :func:`log_updates`."""
    was = session.info.get(_OFF)
    session.info[_OFF] = True
    try:
        yield
    finally:
        session.info[_OFF] = was


def log_updates(
    session: Session,
    table: str,
    changes: Iterable[tuple[int, dict[str, Any], dict[str, Any], dict[str, Any]]],
) -> None:
    """Log updates made while :func:`paused`: (row id, row values, before, after) each."""
    entries = [
        _entry(session, table, row_id, "update", values, before, after)
        for row_id, values, before, after in changes
        if before != after
    ]
    if entries:
        write_entries(session, entries)


def _whole_row(action: str) -> Any:
    """The mapper event handler logging a whole row: inserted (after) or deleted (before)."""

    def handler(mapper: Mapper[Any], _connection: Any, target: Any) -> None:
        table = mapper.local_table.name  # type: ignore[attr-defined]
        if table not in AUDITED:
            return
        values = _columns(mapper, target)
        before = values if action == "delete" else None
        after = values if action == "insert" else None
        session = Session.object_session(target)
        _queue(target, _entry(session, table, values.get("id"), action, values, before, after))

    return handler


def _after_update(mapper: Mapper[Any], _connection: Any, target: Any) -> None:
    table = mapper.local_table.name  # type: ignore[attr-defined]
    if table not in AUDITED:
        return
    state = inspect(target)
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for prop in mapper.column_attrs:
        history = state.attrs[prop.key].history
        name = prop.columns[0].name
        if history.has_changes() and history.added and name not in DERIVED:
            before[name] = history.deleted[0] if history.deleted else None
            after[name] = history.added[0]
    if table == "statements" and "tags" in mapper.relationships:
        tags = state.attrs["tags"].history
        if tags.has_changes():
            before["tags"] = sorted(t.name for t in [*tags.unchanged, *tags.deleted])
            after["tags"] = sorted(t.name for t in [*tags.unchanged, *tags.added])
    if not after and not before:
        return
    values = _columns(mapper, target)
    session = Session.object_session(target)
    _queue(target, _entry(session, table, values.get("id"), "update", values, before, after))


def insert_entries(session: Session, objects: Sequence[Any]) -> None:
    """Log ORM objects written by a multi-row insert (and made persistent) as a flush would
    have logged their inserts: the same entries, in the same order."""
    if session.info.get(_OFF):
        return
    entries = []
    for target in objects:
        mapper = inspect(target).mapper
        table = mapper.local_table.name  # type: ignore[attr-defined]
        if table in AUDITED:
            values = _columns(mapper, target)
            entries.append(_entry(session, table, values.get("id"), "insert", values, None, values))
    if entries:
        write_entries(session, entries)


def _after_flush(session: Session, _context: Any) -> None:
    pending = session.info.pop(_PENDING, None)
    if pending:
        write_entries(session, pending)


def write_entries(session: Session, entries: Sequence[dict[str, Any]]) -> None:
    """Insert audit entries (dicts of AuditEntry columns) on the session's connection."""
    from factdb.models import AuditEntry

    session.connection().execute(insert(AuditEntry.__table__), list(entries))


def _rows(connection: Any, table: Any, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    found: dict[int, dict[str, Any]] = {}
    ids = list(ids)
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        for row in connection.execute(select(table).where(table.c.id.in_(chunk))).mappings():
            found[row["id"]] = dict(row)
    return found


def _bulk_statement(state: ORMExecuteState) -> Any:
    """Log a bulk UPDATE or DELETE on an audited table: the rows it touches, before and after."""
    if not (state.is_update or state.is_delete) or state.session.info.get(_OFF):
        return None
    statement = state.statement
    table = getattr(statement, "table", None)
    name = getattr(table, "name", None)
    if name not in AUDITED or "id" not in table.c:  # type: ignore[union-attr]
        return None
    session = state.session
    connection = session.connection()
    params = state.parameters
    if isinstance(params, list) and params and all("id" in p for p in params):
        ids = [p["id"] for p in params]  # ORM bulk UPDATE by primary key
    else:
        query = select(table.c.id)  # type: ignore[union-attr]
        if statement.whereclause is not None:  # type: ignore[attr-defined]
            query = query.where(statement.whereclause)  # type: ignore[attr-defined]
        ids = list(connection.execute(query).scalars())
    if not ids:
        return None
    before = _rows(connection, table, ids)
    result = state.invoke_statement()
    entries = []
    if state.is_delete:
        for row_id, values in before.items():
            entries.append(_entry(session, name, row_id, "delete", values, values, None))
    else:
        after = _rows(connection, table, ids)
        for row_id, old in before.items():
            new = after.get(row_id, {})
            changed = [k for k in new if new[k] != old.get(k) and k not in DERIVED]
            if changed:
                entries.append(
                    _entry(
                        session,
                        name,
                        row_id,
                        "update",
                        new,
                        {k: old.get(k) for k in changed},
                        {k: new[k] for k in changed},
                    )
                )
    if entries:
        write_entries(session, entries)
    return result


def log_import(
    session: Session,
    *,
    counts: dict[str, Any],
    first_claim_id: int | None,
    last_claim_id: int | None,
    label: str | None = None,
) -> None:
    """One audit entry for a bulk import: its counts, the new claims' id range, the file.

    A per-claim entry would double what an import writes; the range says which claims the
    import made (new claims get consecutive ids above those that existed before it).
    """
    after = {
        **counts,
        "first_claim_id": first_claim_id,
        "last_claim_id": last_claim_id,
        "file": label,
    }
    write_entries(session, [_entry(session, "statements", None, "import", {}, None, after)])


def install(base: Any) -> None:
    """Register the listeners on the models' base class and on every Session."""
    event.listen(base, "after_insert", _whole_row("insert"), propagate=True)
    event.listen(base, "after_update", _after_update, propagate=True)
    event.listen(base, "before_delete", _whole_row("delete"), propagate=True)
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "do_orm_execute", _bulk_statement)
