"""Sources: agencies, outlets, articles and photos where statements appeared."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import delete, distinct, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from factdb.dates import format_partial, parse_partial
from factdb.errors import Conflict, FactdbError, NotFound
from factdb.models import SOURCE_KINDS, Attribution, Source, SourceAlias, StatusEvent
from factdb.services.chains import cycle_through
from factdb.services.locks import lock_name
from factdb.services.names import (
    NAME_MAX,
    TEXT_MAX,
    URL_MAX,
    NearMatch,
    as_id,
    check_length,
    check_look_alike,
    check_name,
    note_created,
    suggest,
)
from factdb.text import clean_text
from factdb.textkeys import name_key


def names_of(source: Source) -> list[str]:
    """The names a source answers to: its own and its aliases (``AP``)."""
    return [source.name, *(a.alias for a in source.aliases)]


def check_kind(kind: str) -> str:
    """Validate a source kind (spaces and hyphens accepted: "news agency")."""
    normal = kind.strip().lower().replace(" ", "_").replace("-", "_")
    if normal not in SOURCE_KINDS:
        raise FactdbError(f"unknown source kind {kind!r} (use: {', '.join(SOURCE_KINDS)})")
    return normal


def find_source(session: Session, name: str | None = None, url: str | None = None) -> Source | None:
    """A source by URL (exact), else by name key, preferring the one without a URL."""
    if url:
        found = session.scalars(select(Source).where(Source.url == url.strip())).first()
        if found is not None or name is None:
            return found
        return None
    if not name:
        return None
    key = canonical_key(session, name)
    candidates = session.scalars(
        select(Source).where(Source.name_key == key).order_by(Source.url.is_not(None), Source.id)
    ).all()
    return candidates[0] if candidates else None


def canonical_key(session: Session, name: str) -> str:
    """The name key a source name stands for: an alias ("AP") gives its source's name key."""
    key = name_key(name)
    if session.scalar(select(Source.id).where(Source.name_key == key).limit(1)) is not None:
        return key
    aliased_key = session.scalar(
        select(Source.name_key)
        .join(SourceAlias, SourceAlias.source_id == Source.id)
        .where(SourceAlias.alias_key == key)
    )
    return aliased_key or key


def canonical_name(session: Session, name: str) -> str:
    """The name a source called ``name`` (or one of its aliases) goes by."""
    key = canonical_key(session, name)
    if key == name_key(name):
        return name
    return session.scalar(select(Source.name).where(Source.name_key == key).limit(1)) or name


def get_source(session: Session, ref: str | int) -> Source:
    """A source by id, URL or name; NotFound (with suggestions) otherwise."""
    row_id = as_id(ref)
    if row_id is not None:
        source = session.get(Source, row_id)
        # digits name an id first, then a source so called
        if source is None and isinstance(ref, str):
            source = find_source(session, ref)
        if source is None:
            raise NotFound(f"no source with id {ref}")
        return source
    source = session.scalars(
        select(Source)
        .where(or_(Source.url == ref, Source.name_key == canonical_key(session, ref)))
        .order_by(Source.url.is_not(None), Source.id)
    ).first()
    if source is not None and source.url != ref:
        check_look_alike("source", ref, names_of(source))
    if source is None:
        suggestions = source_near_matches(session, ref)
        hint = f"; did you mean {' or '.join(repr(s) for s in suggestions)}?" if suggestions else ""
        raise NotFound(f"unknown source {ref!r}{hint}")
    return source


def source_near_matches(session: Session, name: str, *, exclude_id: int | None = None) -> list[str]:
    """Existing source names and aliases that nearly (but not exactly) match ``name``:
    misspellings and short forms ("AP" for "Associated Press"). Those of source
    ``exclude_id`` are left out (renaming a source is not a near match of itself)."""
    names = select(Source.name, Source.name_key).distinct()
    # an alias suggests its source's name: one source, one suggestion
    aliases = select(Source.name, SourceAlias.alias_key).join(SourceAlias.source)
    if exclude_id is not None:
        names = names.where(Source.id != exclude_id)
        aliases = aliases.where(SourceAlias.source_id != exclude_id)
    return suggest(session, name, names, aliases)


def create_source(
    session: Session,
    name: str,
    *,
    kind: str = "outlet",
    url: str | None = None,
    title: str | None = None,
    published_on: str | None = None,
    credit: str | None = None,
    based_on: str | None = None,
    notes: str | None = None,
    force: bool = False,
) -> Source:
    """Create a source; a name that nearly matches another source's is refused unless ``force``."""
    cleaned = check_name(name, "a source name")
    # a new article of an outlet known by another name ("AP") takes the outlet's name
    cleaned = canonical_name(session, cleaned)
    url = check_length(url.strip(), URL_MAX, "a URL") if url else None
    check_length(title, TEXT_MAX, "a title")
    check_length(credit, NAME_MAX, "a credit")
    check_length(notes, TEXT_MAX, "the notes")
    if url and find_source(session, url=url) is not None:
        raise FactdbError(f"a source with URL {url} already exists")
    # a name already known is an outlet's next article, never a misspelling, but spelt as
    # known: a look-alike spelling would make the outlet two (even with force)
    known = find_source(session, cleaned)
    if known is not None:
        check_look_alike("source", cleaned, names_of(known))
    elif not force:
        candidates = source_near_matches(session, cleaned)
        if candidates:
            raise NearMatch("source", cleaned, candidates)
    published = parse_partial(published_on) if published_on else None
    source = Source(
        name=cleaned,
        name_key=name_key(cleaned),
        kind=check_kind(kind),
        url=url,
        title=title,
        published_on=published.start if published else None,
        published_precision=published.precision if published else None,
        credit=credit,
        based_on=get_source(session, based_on) if based_on else None,
        notes=notes,
    )
    session.add(source)
    session.flush()
    note_created(session, "source", source.name, source.kind, False)
    return source


def resolve_source(
    session: Session,
    name: str,
    *,
    url: str | None = None,
    kind: str = "outlet",
    create: bool = True,
    force: bool = False,
) -> tuple[Source, bool]:
    """The source with this URL (or, without a URL, this name), created if allowed."""
    source = find_source(session, name, url)
    if source is None and create:
        # another command may be creating this very source: wait for it, then look again
        lock_name(session, "source", url.strip() if url else name_key(name))
        source = find_source(session, name, url)
    if source is not None:
        if source.url is None or source.url != (url or "").strip():
            check_look_alike("source", name, names_of(source))
        return source, False
    if not create:
        raise NotFound(f"unknown source {url or name!r}")
    # a new URL from a known outlet is a new article, not a misspelling
    known_name = url is not None and find_source(session, name) is not None
    return create_source(session, name, kind=kind, url=url, force=force or known_name), True


# the fields edit_source accepts; a value of None clears the field (name and kind excepted)
EDITABLE = ("name", "kind", "url", "title", "published_on", "credit", "based_on", "notes")
_SHOWN_IDS = 10


def _ids(ids: list[int]) -> str:
    """``1, 2, 3`` (at most _SHOWN_IDS of them, then "…")."""
    shown = ", ".join(str(i) for i in ids[:_SHOWN_IDS])
    return shown + (", …" if len(ids) > _SHOWN_IDS else "")


def _label(source: Source) -> str:
    """How a source is named in messages and chains: name, title if any, id."""
    title = f": {source.title}" if source.title else ""
    return f"{source.name}{title} (id {source.id})"


def _check_based_on(source: Source, target: Source) -> None:
    """Refuse a ``based_on`` that would make a source based, directly or not, on itself."""
    chain = cycle_through(source, target, lambda s: s.based_on)
    if chain is not None:
        raise FactdbError(
            f"source {source.id} cannot be based on source {target.id}: that would make a "
            f"cycle ({' → '.join(chain)})"
        )


def based_on_chain(source: Source) -> list[str]:
    """What ``source`` is based on, then what that is based on, …, as labels."""
    chain = []
    seen = {source.id}
    current = source.based_on
    while current is not None and current.id not in seen:
        chain.append(_label(current))
        seen.add(current.id)
        current = current.based_on
    return chain


def _claim_counts():  # type: ignore[no-untyped-def]
    """A subquery: source_id → number of distinct statements attributed to it."""
    return (
        select(Attribution.source_id, func.count(distinct(Attribution.statement_id)).label("n"))
        .group_by(Attribution.source_id)
        .subquery()
    )


def list_sources(
    session: Session,
    *,
    kind: str | None = None,
    name: str | None = None,
    limit: int | None = None,
) -> Iterator[dict[str, Any]]:
    """Sources ordered by name then id: id, name, kind, title, url, published, credit,
    based_on, claims. ``name`` keeps sources whose name contains it (like names compare)."""
    counts = _claim_counts()
    parent = aliased(Source)
    query = (
        select(Source, parent.name, func.coalesce(counts.c.n, 0))
        .outerjoin(parent, parent.id == Source.based_on_id)
        .outerjoin(counts, counts.c.source_id == Source.id)
        .order_by(Source.name_key, Source.id)
    )
    if kind:
        query = query.where(Source.kind == check_kind(kind))
    if name:
        query = query.where(Source.name_key.contains(name_key(name), autoescape=True))
    if limit is not None:
        query = query.limit(limit)
    for source, based_on, claims in session.execute(query):
        yield {
            "id": source.id,
            "name": source.name,
            "kind": source.kind,
            "title": source.title,
            "url": source.url,
            "published": format_partial(source.published_on, source.published_precision),
            "credit": source.credit,
            "based_on": based_on,
            "claims": claims,
        }


def source_detail(session: Session, ref: str | int) -> dict[str, Any]:
    """Everything ``source show`` prints about one source."""
    source = get_source(session, ref)
    claims = session.scalar(
        select(func.count(distinct(Attribution.statement_id))).where(
            Attribution.source_id == source.id
        )
    )
    derived = session.scalars(
        select(Source).where(Source.based_on_id == source.id).order_by(Source.id)
    ).all()
    return {
        "id": source.id,
        "name": source.name,
        "kind": source.kind,
        "title": source.title,
        "url": source.url,
        "published": format_partial(source.published_on, source.published_precision),
        "credit": source.credit,
        "based_on": based_on_chain(source),
        "aliases": source_aliases(session, source),
        "notes": source.notes,
        "claims": claims or 0,
        "based_on_it": [_label(s) for s in derived],
    }


def edit_source(session: Session, ref: str | int, *, force: bool = False, **changes: Any) -> Source:
    """Change a source's fields; only the keys given in ``changes`` are touched.

    A new name nearly matching another source's is refused unless ``force`` (an exact
    match is fine: many articles share an outlet's name). A URL must stay unique;
    ``based_on`` takes a source id/URL/name (None clears it) and refuses a cycle;
    ``published_on`` is YYYY, YYYY-MM or YYYY-MM-DD (None clears it).
    """
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise FactdbError(f"cannot edit {', '.join(sorted(unknown))} of a source")
    # validate everything before changing anything
    if changes.get("kind") is not None:
        check_kind(changes["kind"])
    check_length(changes.get("title"), TEXT_MAX, "a title")
    check_length(changes.get("credit"), NAME_MAX, "a credit")
    check_length(changes.get("notes"), TEXT_MAX, "the notes")
    if changes.get("url"):
        check_length(changes["url"].strip(), URL_MAX, "a URL")
    if changes.get("published_on"):
        parse_partial(changes["published_on"])
    source = get_source(session, ref)
    if changes.get("name") is not None:
        new = check_name(changes["name"], "a source name")
        key = name_key(new)
        if key != source.name_key and not force:
            candidates = source_near_matches(session, new, exclude_id=source.id)
            if candidates:
                raise NearMatch("source", new, candidates)
        source.name, source.name_key = new, key
    if changes.get("kind") is not None:
        source.kind = check_kind(changes["kind"])
    if "url" in changes:
        url = changes["url"].strip() if changes["url"] else None
        check_length(url, URL_MAX, "a URL")
        if url:
            other = find_source(session, url=url)
            if other is not None and other.id != source.id:
                raise FactdbError(f"the URL {url} already belongs to source {_label(other)}")
        source.url = url
    for field in ("title", "credit", "notes"):
        if field in changes:
            setattr(source, field, clean_text(changes[field]) or None if changes[field] else None)
    if "published_on" in changes:
        published = parse_partial(changes["published_on"]) if changes["published_on"] else None
        source.published_on = published.start if published else None
        source.published_precision = published.precision if published else None
    if "based_on" in changes:
        if changes["based_on"] in (None, ""):
            source.based_on = None
        else:
            target = get_source(session, changes["based_on"])
            _check_based_on(source, target)
            source.based_on = target
    session.flush()
    return source


def source_references(session: Session, source: Source) -> list[str]:
    """What refers to ``source`` (attributions, status evidence, sources based on it)."""
    found = []
    claim_ids = _claims_citing(session, Attribution.statement_id, Attribution.source_id, source)
    if claim_ids:
        found.append(f"the attributions of {len(claim_ids)} claim(s) (ids {_ids(claim_ids)})")
    evidence = _claims_citing(
        session, StatusEvent.statement_id, StatusEvent.evidence_source_id, source
    )
    if evidence:
        found.append(
            f"status events of {len(evidence)} claim(s) as evidence (ids {_ids(evidence)})"
        )
    derived = list(
        session.scalars(
            select(Source.id).where(Source.based_on_id == source.id).order_by(Source.id)
        )
    )
    if derived:
        found.append(f"{len(derived)} source(s) based on it (ids {_ids(derived)})")
    return found


def _claims_citing(session: Session, claim: Any, reference: Any, source: Source) -> list[int]:
    """Ids of the claims (``claim`` column) with a row whose ``reference`` is ``source``."""
    return list(
        session.scalars(select(claim).where(reference == source.id).distinct().order_by(claim))
    )


def delete_source(session: Session, ref: str | int, *, cascade: bool = False) -> dict[str, Any]:
    """Delete a source; refused (Conflict, saying what refers to it) unless nothing does.

    With ``cascade`` the source's attributions are deleted (the claims stay, minus that link
    of their chain), status events keep their evidence note but lose the source, and sources
    based on it lose their ``based_on``. Returns what was done.
    """
    source = get_source(session, ref)
    refs = source_references(session, source)
    if refs and not cascade:
        raise Conflict(
            f"cannot delete source {_label(source)}: referred to by {' and '.join(refs)}; "
            "use --cascade to remove those references too"
        )
    label = _label(source)
    removed = session.execute(
        delete(Attribution).where(Attribution.source_id == source.id)
    ).rowcount
    session.execute(
        update(StatusEvent)
        .where(StatusEvent.evidence_source_id == source.id)
        .values(evidence_source_id=None)
    )
    session.execute(update(Source).where(Source.based_on_id == source.id).values(based_on_id=None))
    session.delete(source)
    session.flush()
    # Core statements bypassed the identity map: reload anything already loaded
    session.expire_all()
    return {"deleted": label, "attributions_removed": removed or 0, "references": refs}


def add_source_alias(session: Session, ref: str | int, alias: str) -> SourceAlias:
    """Give source ``ref`` another name ("AP" for "Associated Press").

    From then on the alias resolves to the source wherever a source name is read (claim add,
    import, filters, story files). Refused when a source already has that name or alias.
    """
    source = get_source(session, ref)
    cleaned = check_name(alias, "a source alias")
    key = name_key(cleaned)
    lock_name(session, "source", key)
    if session.scalar(select(Source.id).where(Source.name_key == key).limit(1)) is not None:
        raise Conflict(f"{cleaned!r} is already the name of a source")
    owner = session.scalar(
        select(Source.name).join(SourceAlias).where(SourceAlias.alias_key == key)
    )
    if owner is not None:
        raise Conflict(f"{cleaned!r} is already an alias of source {owner!r}")
    row = SourceAlias(source_id=source.id, alias=cleaned, alias_key=key)
    session.add(row)
    session.flush()
    return row


def remove_source_alias(session: Session, alias: str) -> str:
    """Take an alias away from its source; returns the source's name."""
    row = session.scalar(select(SourceAlias).where(SourceAlias.alias_key == name_key(alias)))
    if row is None:
        raise NotFound(f"no source has the alias {alias!r}")
    name = row.source.name
    session.delete(row)
    session.flush()
    return name


def source_aliases(session: Session, source: Source) -> list[str]:
    """The aliases of a source, oldest first."""
    return list(
        session.scalars(
            select(SourceAlias.alias)
            .where(SourceAlias.source_id == source.id)
            .order_by(SourceAlias.id)
        )
    )


def merge_sources(session: Session, source: str | int, target: str | int) -> dict[str, Any]:
    """Move everything from source ``source`` to ``target``, then delete ``source``.

    Attributions, status-event evidence, sources based on it and its aliases move to
    ``target``; the old name becomes an alias of ``target`` (unless another source still goes
    by that name: many articles share an outlet's name); ``target``'s empty URL, title,
    credit, published date, based-on and notes are filled from ``source``. Returns a summary.
    """
    old = get_source(session, source)
    new = get_source(session, target)
    if old.id == new.id:
        raise FactdbError(f"cannot merge source {_label(old)} into itself")
    moved = session.execute(
        update(Attribution).where(Attribution.source_id == old.id).values(source_id=new.id)
    ).rowcount
    session.execute(
        update(StatusEvent)
        .where(StatusEvent.evidence_source_id == old.id)
        .values(evidence_source_id=new.id)
    )
    # the target based on the old source would become based on itself
    session.execute(
        update(Source)
        .where(Source.based_on_id == old.id, Source.id != new.id)
        .values(based_on_id=new.id)
    )
    session.expire_all()
    aliases = source_aliases(session, old)
    for row in session.scalars(select(SourceAlias).where(SourceAlias.source_id == old.id)):
        row.source_id = new.id
    old_name, old_key, old_url = old.name, old.name_key, old.url
    for field in ("title", "credit", "published_on", "published_precision", "notes"):
        if getattr(new, field) is None and getattr(old, field) is not None:
            setattr(new, field, getattr(old, field))
    if new.based_on_id is None and old.based_on_id not in (None, new.id):
        new.based_on_id = old.based_on_id
    session.flush()
    session.delete(old)
    session.flush()
    if new.url is None and old_url is not None:
        new.url = old_url
    still_named = session.scalar(select(Source.id).where(Source.name_key == old_key).limit(1))
    if old_key != new.name_key and still_named is None:
        session.add(SourceAlias(source_id=new.id, alias=old_name, alias_key=old_key))
        aliases = [old_name, *aliases]
    session.flush()
    session.expire_all()
    return {
        "from": old_name,
        "into": _label(new),
        "attributions": moved or 0,
        "aliases": aliases,
    }
