"""The speakers and sources a load can match, read once: a story of thousands of speakers and
sources costs one query per table instead of a few per name, and new ones are created without
a round trip each (validated as the services validate them, written together).

A load whose speakers and sources are all new writes them by one multi-row insert per table,
with the audit entries a flush would log (:meth:`Known.write_new`); from the first one it
matches, they go through the session as before (:meth:`Known.to_session`), so that edits and
new rows reach the database, and the audit log, in the order they always did.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, inspect, select
from sqlalchemy.orm import Session, make_transient_to_detached

from factdb.dates import parse_partial
from factdb.errors import FactdbError
from factdb.models import Source, Speaker, SpeakerAlias
from factdb.services.names import NAME_MAX, TEXT_MAX, URL_MAX, check_length, check_name
from factdb.stories import spec
from factdb.text import clean


class Known:
    """Name keys and URLs → rows, for the speakers and sources in the database and new ones."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.speakers: dict[str, Speaker] = {
            s.name_key: s for s in session.scalars(select(Speaker))
        }
        by_id = {s.id: s for s in self.speakers.values()}
        for key, speaker_id in session.execute(
            select(SpeakerAlias.alias_key, SpeakerAlias.speaker_id)
        ):
            self.speakers[key] = by_id[speaker_id]
        self.by_url: dict[str, Source] = {}
        self.by_name: dict[str, Source] = {}
        # a name means the source without a URL first (as find_source does), then the oldest
        rows = session.scalars(select(Source).order_by(Source.url.is_not(None), Source.id))
        for source in rows:
            if source.url:
                self.by_url[source.url] = source
            self.by_name.setdefault(source.name_key, source)
        # new speakers and sources not in the session yet, in the order they were made (their
        # aliases hang on them); None once they go through the session
        self.pending: list[Any] | None = []

    def to_session(self) -> None:
        """From now on, new speakers and sources go into the session at once (as they did
        before the bulk path), those made so far first, in the order they were made."""
        pending, self.pending = self.pending, None
        for row in pending or []:
            self.session.add(row)

    def _add(self, row: Any) -> None:
        if self.pending is None:
            self.session.add(row)
        else:
            self.pending.append(row)

    def speaker(self, names: list[str]) -> Speaker | None:
        """The speaker answering to any of ``names``."""
        return next(filter(None, (self.speakers.get(spec.key(n)) for n in names)), None)

    def source(self, name: str, url: str | None) -> Source | None:
        """The source with this URL, or (without one) this name."""
        return self.by_url.get(url.strip()) if url else self.by_name.get(spec.key(name))

    def new_speaker(self, data: dict[str, Any]) -> Speaker:
        """A new speaker (and its aliases) added to the session, not yet flushed."""
        from factdb.services.speakers import check_kind

        name = check_name(data["name"], "a speaker name")
        role = data.get("role")
        check_length(role, NAME_MAX, "a role")
        check_length(data.get("notes"), TEXT_MAX, "the notes")
        speaker = Speaker(
            name=name,
            name_key=spec.key(name),
            kind=check_kind(data.get("kind") or "person"),
            role=clean(role) or None if role else None,
            external_ids={k: v for k, v in (data.get("external_ids") or {}).items() if v} or None,
            notes=data.get("notes") or None,
        )
        self._add(speaker)
        self.speakers[speaker.name_key] = speaker
        for alias in data.get("aliases") or []:
            self.new_alias(speaker, alias)
        return speaker

    def new_alias(self, speaker: Speaker, alias: str) -> None:
        """Give ``speaker`` another name, refused when any speaker answers to it already."""
        cleaned = check_name(alias, "a speaker name")
        key = spec.key(cleaned)
        owner = self.speakers.get(key)
        if owner is not None and owner is not speaker:
            raise FactdbError(f"the name {cleaned!r} is already used by speaker {owner.name!r}")
        if owner is None:
            alias = SpeakerAlias(speaker=speaker, alias=cleaned, alias_key=key)
            if not inspect(speaker).transient:
                self.session.add(alias)
            # else it goes in with its speaker (the session's cascade)
            self.speakers[key] = speaker

    def new_source(self, data: dict[str, Any]) -> Source:
        """A new source added to the session, not yet flushed."""
        from factdb.services.sources import check_kind

        name = check_name(data["name"], "a source name")
        url = check_length(data["url"].strip(), URL_MAX, "a URL") if data.get("url") else None
        for key in ("title", "notes"):
            check_length(data.get(key), TEXT_MAX, f"the {key}")
        check_length(data.get("credit"), NAME_MAX, "a credit")
        published = parse_partial(data["published_on"]) if data.get("published_on") else None
        source = Source(
            name=name,
            name_key=spec.key(name),
            kind=check_kind(data.get("kind") or "outlet"),
            url=url,
            title=data.get("title"),
            published_on=published.start if published else None,
            published_precision=published.precision if published else None,
            credit=data.get("credit"),
            notes=data.get("notes"),
        )
        self._add(source)
        if url:
            self.by_url[url] = source
        self.by_name.setdefault(source.name_key, source)
        return source

    def write_new(self) -> None:
        """Write the new sources, then the new speakers (the order of a flush), each table by
        one multi-row insert with the audit entries a flush would log, and make them the
        session's persistent rows; their aliases are added to the session, for the caller's
        flush. Nothing to do once :meth:`to_session` was called."""
        from factdb.audit import insert_entries

        pending, self.pending = self.pending, None
        for model in (Source, Speaker):
            objects = [row for row in pending or [] if type(row) is model]
            if not objects:
                continue
            table = model.__table__  # type: ignore[attr-defined]
            # the columns the objects were given, as the flush would insert them
            given = inspect(objects[0]).dict
            columns = [c.name for c in table.columns if c.name in given]
            rows = [{c: inspect(o).dict[c] for c in columns} for o in objects]
            written = self.session.execute(
                insert(table).returning(
                    table.c.id, table.c.created_at, sort_by_parameter_order=True
                ),
                rows,
            ).all()
            for row, (row_id, created) in zip(objects, written, strict=True):
                row.id, row.created_at = row_id, created
                make_transient_to_detached(row)
                self.session.add(row)  # persistent; its new aliases become pending
            insert_entries(self.session, objects)
