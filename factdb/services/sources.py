"""Sources: agencies, outlets, articles and photos where statements appeared."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from factdb.dates import parse_partial
from factdb.errors import FactdbError, NotFound
from factdb.models import SOURCE_KINDS, Source
from factdb.services.names import NearMatch, near_matches
from factdb.textkeys import clean_text, name_key


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
    candidates = session.scalars(
        select(Source)
        .where(Source.name_key == name_key(name))
        .order_by(Source.url.is_not(None), Source.id)
    ).all()
    return candidates[0] if candidates else None


def get_source(session: Session, ref: str | int) -> Source:
    """A source by id, URL or name; NotFound (with suggestions) otherwise."""
    if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
        source = session.get(Source, int(ref))
        if source is None:
            raise NotFound(f"no source with id {ref}")
        return source
    source = session.scalars(
        select(Source)
        .where(or_(Source.url == ref, Source.name_key == name_key(ref)))
        .order_by(Source.url.is_not(None), Source.id)
    ).first()
    if source is None:
        suggestions = source_near_matches(session, ref)
        hint = f"; did you mean {' or '.join(repr(s) for s in suggestions)}?" if suggestions else ""
        raise NotFound(f"unknown source {ref!r}{hint}")
    return source


def source_near_matches(session: Session, name: str) -> list[str]:
    """Existing source names that nearly (but not exactly) match ``name``."""
    key = name_key(name)
    rows = session.execute(select(Source.name, Source.name_key).distinct()).all()
    return [n for n in near_matches(name, [(r[0], r[1]) for r in rows]) if name_key(n) != key]


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
    cleaned = clean_text(name)
    if not cleaned:
        raise FactdbError("a source name cannot be empty")
    url = url.strip() if url else None
    if url and find_source(session, url=url) is not None:
        raise FactdbError(f"a source with URL {url} already exists")
    if not force:
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
    if source is not None:
        return source, False
    if not create:
        raise NotFound(f"unknown source {url or name!r}")
    # a new URL from a known outlet is a new article, not a misspelling
    known_name = url is not None and find_source(session, name) is not None
    return create_source(session, name, kind=kind, url=url, force=force or known_name), True
