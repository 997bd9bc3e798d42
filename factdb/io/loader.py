"""Bulk loading of records into the database, fast, idempotent and all-or-nothing.

The rules are those of data entry (``services.claims.add_claim``): speakers and sources are
resolved by their keys and aliases (case/accent/whitespace-insensitive), a claim is identified
by its content key (speaker, normalised text, date said) or by origin + external id, labels are
normalised through the known rating scales, the first status becomes a dated status event. An
import cannot ask "did you mean …?", so a *new* name that nearly matches a known one is created
and reported as a warning in the summary instead.

It does not go through the ORM row by row: a million claims would take minutes. Ids are
allocated up front (under SQLite's write lock, or from PostgreSQL's sequence), statements are
written in batches with ``ON CONFLICT DO NOTHING`` (on SQLite as multi-row VALUES, on a
worker thread while the next batch is prepared; elsewhere ``executemany``), and the ids that did
not make it are the duplicates, looked up afterwards in one query per batch. Speakers, sources,
tags, statuses and labels are cached in memory (bounded by the number of distinct names, not
by the number of records), so memory stays flat however long the file is.

The caller owns the transaction: a failure leaves nothing behind once it rolls back.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from factdb.dates import parse_partial
from factdb.errors import FactdbError
from factdb.io.bulkwrite import (
    CACHE_KIB,
    FTS_BULK_SETTINGS,
    clean_content_key,
    flat_inserts,
    is_bulk,
    set_fts_settings,
)
from factdb.io.pipeline import Pipeline
from factdb.io.records import Record, RecordError, SourceRef
from factdb.models import (
    Attribution,
    Source,
    SourceAlias,
    Speaker,
    SpeakerAlias,
    Statement,
    StatementTag,
    Status,
    StatusEvent,
    Tag,
    Verdict,
)
from factdb.textkeys import (
    content_identity,
    is_unknown_speaker,
    look_alike_characters,
    name_key,
    spelling_key,
)

ORIGIN_MAX = 100  # statements.origin is a VARCHAR(100) (models.Statement)
BATCH = 2_500
# batches the writer's thread may have queued or in hand while the main thread prepares the
# next: enough to ride out indexing a group for search (FTS_GROUP) without stopping the main
# thread, which now prepares batches faster than the writer writes that group. At most
# (WRITER_DEPTH + 1) * BATCH records are held
WRITER_DEPTH = 4
# how many name comparisons the near-match check may spend (rapidfuzz, C speed): enough for
# thousands of new names against tens of thousands of known ones
NEAR_MATCH_BUDGET = 5_000_000
# ... and when the content keys' index is built at the end instead (a load into an empty
# table), everything else is written in order: a small cache is as fast and 12 MiB lighter
CACHE_KIB_KEYS_DEFERRED = 4_096
# records between two runs of the cyclic garbage collector during a load (see Loader.load):
# records make no cycles, so this only bounds what a stray cycle could hold on to
GC_EVERY = 100_000
# statements indexed for search at a time during a bulk load on SQLite (see _index_for_search):
# small enough that indexing a group (a quarter of a second) does not outlast the writer's
# queue (WRITER_DEPTH batches), so the main thread never stops for it; 100,000 stopped it for
# 7 of 46 s once the writer had become faster than the main thread
FTS_GROUP = 25_000
# the unique index of claims' content keys (migration 0005)
CONTENT_KEY_INDEX = "uq_statements_content_key"
# ids per IN list when the loader reads or deletes rows by id
IDS_PER_QUERY = 500
# entries per memo of checked field values (bounded memory whatever the file)
MEMO_LIMIT = 100_000
# caches of ids are preloaded when a table is no bigger than this, looked up row by row beyond
PRELOAD_LIMIT = 500_000
# look-alike speaker names reported one by one; past this, counted in one line
LOOK_ALIKE_WARNINGS = 20


@dataclass
class Summary:
    """What an import did (or, for a dry run, would do)."""

    added: int = 0
    changed: int = 0
    unchanged: int = 0
    rejected: int = 0
    new_speakers: int = 0
    new_sources: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Records read: every one was added, changed, unchanged or rejected."""
        return self.added + self.changed + self.unchanged + self.rejected

    def line(self) -> str:
        """The one-line summary the CLI prints."""
        return (
            f"{self.added} added, {self.changed} changed, {self.unchanged} unchanged, "
            f"{self.rejected} rejected; {self.new_speakers} new speakers, "
            f"{self.new_sources} new sources"
        )


@dataclass(slots=True)
class _Prepared:
    """A batch's inserts built ahead for SQLite: new speakers and sources, then statements;
    the details are used when every statement of the batch turned out to be new."""

    names: list[tuple[str, list[Any]]]
    statements: list[tuple[str, list[Any]]]
    details: list[tuple[str, list[Any]]]


@dataclass(slots=True)
class _Row:
    """A record resolved to ids, waiting in a batch."""

    record: Record
    speaker_id: int
    key: str
    origin: str | None
    said: Any  # (first day as stored, precision) or None
    status: str | None
    language: str | None
    quote_kind: str
    source_ids: list[tuple[int, str]]  # (source id, role); _NO_SOURCES (shared) when none
    verdict: tuple[Any, ...] | None  # the verdict row without statement id
    tag_ids: list[int]  # _NO_TAGS (shared, never changed) when there are none


_NO_TAGS: list[int] = []
_NO_SOURCES: list[tuple[int, str]] = []


@dataclass(slots=True)
class _Brings:
    """What a repeated claim brings to the claim it repeats: status, verdicts, sources
    ((source id, role), in order), tags."""

    status: str | None
    verdicts: list[tuple[Any, ...]]  # verdict rows without statement id
    source_ids: list[tuple[int, str]]
    tag_ids: list[int]


class Loader:
    """Loads records into the session's database; see the module docstring.

    ``reject`` is called with each invalid record's error when invalid records are to be
    skipped; without it the first invalid record raises (and the caller rolls back).
    """

    def __init__(
        self,
        session: Session,
        *,
        origin: str | None = None,
        reject: Callable[[RecordError], None] | None = None,
        progress: Callable[[int], None] | None = None,
        expected: int | None = None,
        label: str | None = None,
    ) -> None:
        from factdb.services.claims import check_language, check_quote_kind, normalise_tag
        from factdb.services.statuses import normalise_code

        self.session = session
        # what the audit log's one entry for this load names as its file
        self.label = label
        self.origin = origin.strip() if origin and origin.strip() else None
        if self.origin is not None and len(self.origin) > ORIGIN_MAX:
            # the column's length on PostgreSQL (SQLite would store it): refused on both
            raise FactdbError(f"--origin is longer than {ORIGIN_MAX} characters")
        self.reject = reject
        self.progress = progress
        self.summary = Summary()
        self.conn = session.connection()
        self.dialect = self.conn.dialect.name
        self.raw = self.conn.connection.dbapi_connection if self.dialect == "sqlite" else None
        self.cursor = self.raw.cursor() if self.raw is not None else None  # type: ignore[union-attr]
        self._max_variables = (
            self.raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) if self.raw is not None else 0
        )
        today = dt.date.today()
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        # the DB-API cursor on SQLite takes dates as the strings SQLAlchemy would write
        self._date: Callable[[Any], Any] = (
            (lambda d: d.isoformat() if d is not None else None)
            if self.cursor is not None
            else (lambda d: d)
        )
        self.today = self._date(today)
        self.now = now.strftime("%Y-%m-%d %H:%M:%S.%f") if self.cursor is not None else now
        self._check_language = check_language
        self._check_quote_kind = check_quote_kind
        self._normalise_tag = normalise_tag
        self._normalise_code = normalise_code
        self._languages: dict[str | None, str | None] = {None: None}
        self._partials: dict[str, Any] = {}
        # (status, language, quote kind, date said) -> what _validate made of them
        self._checked: dict[tuple[Any, ...], tuple[Any, str | None, str | None, str]] = {}
        self._quote_kinds: dict[str | None, str] = {None: "direct_quote"}
        self._statuses = {
            code: code for code in session.scalars(select(Status.code))
        }  # accepted spelling -> code
        for code, label in session.execute(select(Status.code, Status.label)):
            self._statuses.setdefault(normalise_code(label), code)
        self._labels: dict[str, tuple[int | None, int | None, int | None, int | None, str]] = {}
        self._tags: dict[str, int] = {}
        self._speaker_by_name: dict[str, int] = {}  # raw name -> id
        self._speaker_shown: dict[str, str] = {}  # key -> name, of speakers made by this load
        self._source_shown: dict[str, str] = {}  # the same for sources
        self._look_alikes = 0
        self._speaker_by_key: dict[str, int] = {}
        self._sources_by_url: dict[str, int] = {}
        self._sources_by_name: dict[str, int] = {}  # name key -> id, URL-less preferred
        self._source_by_ref: dict[tuple[str, str | None], int] = {}
        self._preload()
        self._new_speaker_names: list[str] = []
        self._new_source_names: list[str] = []
        self._batch: list[_Row] = []
        # no claim of the batch has a language, context, origin or external id (the common bulk
        # case): its statements are written without those columns (a third fewer parameters)
        self._batch_plain = True
        # every claim of the batch has exactly one source, in the role reported_by
        self._batch_one_source = True
        self._batch_keys: set[str] = set()
        self._batch_ext: set[tuple[str, str]] = set()
        self._deferred: list[str] = []
        # SQLite, a bulk load into an empty table: the content keys' unique index, dropped for
        # the load and built at the end (see _unique_content_keys)
        self._deferred_content_keys: str | None = None
        self._cache_size: int | None = None
        self._max_before = session.scalar(select(func.max(Statement.id))) or 0
        # SQLite: ids of new statements, speakers and sources are handed out here, under the
        # write lock the transaction holds, and the rows are written with their batch
        self._next_ids: dict[str, int] = {}
        self._deferred_rows: dict[str, tuple[tuple[str, ...], list[tuple[Any, ...]]]] = {}
        if self.cursor is not None:
            for table in (Statement.__table__, Speaker.__table__, Source.__table__):
                top = session.scalar(select(func.max(table.c.id)))  # type: ignore[attr-defined]
                self._next_ids[table.name] = (top or 0) + 1  # type: ignore[attr-defined]
        # on SQLite batches are written on a worker thread while the next one is prepared
        self._writer = Pipeline(threaded=self.cursor is not None, depth=WRITER_DEPTH)
        bulk = is_bulk(expected) and expected >= self._max_before  # type: ignore[operator]
        if self.cursor is not None:
            self._tune_sqlite(bulk)
        # a bulk load indexes its statements for search once at the end (the search service's
        # suspend/resume), not row by row through the triggers
        self._search_suspended: list[str] | None = None
        if bulk:
            from factdb.services.search import suspend_search_index

            self._search_suspended = suspend_search_index(session)
        # statements with ids up to this one are in the search index; on SQLite a bulk load
        # indexes them in groups on the writer's thread while the main thread parses
        self._indexed_upto = self._max_before
        self._fts_restore: dict[str, int] | None = None
        if self._search_suspended is not None and self.cursor is not None:
            self._fts_restore = self._fts_settings(FTS_BULK_SETTINGS)

    def _tune_sqlite(self, bulk: bool) -> None:
        """A bigger page cache for the load (unless the content keys are indexed at the end);
        for a load as big as the table, build the non-unique indexes of the tables it fills
        once at the end instead of row by row.

        Dropping and re-creating them is transactional on SQLite: a failed or dry-run import
        rolls back to the indexes it found. Unique indexes stay: they catch the duplicates.
        """
        cursor = self.cursor
        assert cursor is not None
        self._cache_size = cursor.execute("PRAGMA cache_size").fetchone()[0]
        cursor.execute(f"PRAGMA cache_size = {-CACHE_KIB}")
        if not bulk:
            return
        rows = cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            # not verdicts: repeated records look theirs up by statement during the load. Not
            # status_events: their indexes' keys grow with the load (statement ids, a handful of
            # statuses, empty evidence), so keeping them costs the writer less during the load
            # (when it waits for the main thread anyway) than building them at the end
            "AND tbl_name IN ('statements', 'attributions', 'statement_tags') "
            "ORDER BY name"
        ).fetchall()
        for name, sql in rows:
            if name == CONTENT_KEY_INDEX and self._max_before == 0:
                # every insert into it lands somewhere random (the keys are hashes): a third of
                # the writing of a million claims; into an empty table, claims the file repeats
                # are found and merged once at the end instead
                cursor.execute(f'DROP INDEX "{name}"')
                self._deferred_content_keys = sql
                continue
            if sql.upper().startswith("CREATE UNIQUE"):
                continue
            cursor.execute(f'DROP INDEX "{name}"')
            self._deferred.append(sql)
        if self._deferred_content_keys is not None:
            cursor.execute(f"PRAGMA cache_size = {-CACHE_KIB_KEYS_DEFERRED}")

    # --- caches ------------------------------------------------------------------------------

    def _preload(self) -> None:
        s = self.session
        count = s.scalar(select(Speaker.id).order_by(Speaker.id.desc()).limit(1)) or 0
        self._speakers_preloaded = count <= PRELOAD_LIMIT
        if self._speakers_preloaded:
            # key -> name as written, for the near-match warnings
            self._known_speakers: dict[str, str] | None = {}
            for key, speaker_id, name in s.execute(
                select(Speaker.name_key, Speaker.id, Speaker.name)
            ):
                self._speaker_by_key[key] = speaker_id
                self._known_speakers[key] = name
            for key, speaker_id, alias in s.execute(
                select(SpeakerAlias.alias_key, SpeakerAlias.speaker_id, SpeakerAlias.alias)
            ):
                self._speaker_by_key.setdefault(key, speaker_id)
                self._known_speakers.setdefault(key, alias)
        else:
            self._known_speakers = None
        count = s.scalar(select(Source.id).order_by(Source.id.desc()).limit(1)) or 0
        self._sources_preloaded = count <= PRELOAD_LIMIT
        if self._sources_preloaded:
            rows = s.execute(
                select(Source.url, Source.name_key, Source.id, Source.name).order_by(
                    Source.url.is_not(None), Source.id
                )
            )
            self._known_sources: dict[str, str] | None = {}
            for url, key, source_id, name in rows:
                if url is not None:
                    self._sources_by_url[url] = source_id
                self._sources_by_name.setdefault(key, source_id)
                self._known_sources.setdefault(key, name)
            self._known_source_keys = set(self._sources_by_name)
        else:
            self._known_sources = None
        # a source's other names ("AP") resolve to its name ("Associated Press"), whatever
        # the number of sources (aliases are few)
        self._source_aliases: dict[str, tuple[str, str]] = {
            alias_key: (name, key)
            for alias_key, name, key in s.execute(
                select(SourceAlias.alias_key, Source.name, Source.name_key).join(
                    Source, Source.id == SourceAlias.source_id
                )
            )
        }
        self._tags.update(s.execute(select(Tag.name, Tag.id)).all())

    def _insert_id(
        self, table: Any, values: dict[str, Any], unique: str | None = None
    ) -> tuple[int, bool]:
        """Insert one row; (its id, True). The DB-API cursor on SQLite: no Core overhead.

        ``unique``: the column of a unique key. On PostgreSQL another import may create the same
        name at the same moment (SQLite's write lock rules that out): the insert then does
        nothing (ON CONFLICT DO NOTHING waits for the other transaction to end) and the row it
        committed is selected instead: (its id, False).
        """
        if self.cursor is not None:
            self._writer.wait()  # the connection is the writer's while a batch is in flight
            values = {k: _sqlite_value(v) for k, v in values.items()}
            columns = ", ".join(values)
            marks = ", ".join("?" for _ in values)
            self.cursor.execute(
                f"INSERT INTO {table.name} ({columns}) VALUES ({marks})", tuple(values.values())
            )
            return int(self.cursor.lastrowid), True  # type: ignore[arg-type]
        if unique is None or self.dialect != "postgresql":
            stmt = insert(table).values(values).returning(table.c.id)
            return int(self.conn.execute(stmt).scalar_one()), True
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt = (
            pg_insert(table)
            .values(values)
            .on_conflict_do_nothing(index_elements=[unique])
            .returning(table.c.id)
        )
        created = self.conn.execute(stmt).scalar_one_or_none()
        if created is not None:
            return int(created), True
        # READ COMMITTED: this new statement sees the row the other transaction committed
        existing = self.conn.execute(
            select(table.c.id).where(table.c[unique] == values[unique])
        ).scalar_one()
        return int(existing), False

    def _new_row(
        self, table: Any, values: dict[str, Any], unique: str | None = None
    ) -> tuple[int, bool]:
        """A new speaker or source: on SQLite its id now and the row with the next batch
        (before the statements that refer to it); elsewhere :meth:`_insert_id`."""
        if self.cursor is None:
            return self._insert_id(table, values, unique)
        row_id = self._next_ids[table.name]
        self._next_ids[table.name] = row_id + 1
        columns, rows = self._deferred_rows.setdefault(table.name, (("id", *values), []))
        rows.append((row_id, *(_sqlite_value(v) for v in values.values())))
        return row_id, True

    def _speaker(self, record: Record) -> int:
        found = self._speaker_by_name.get(record.speaker)
        if found is not None:
            return found
        key = name_key(record.speaker)
        found = self._speaker_by_key.get(key)
        known = self._speaker_shown.get(key) or (self._known_speakers or {}).get(key)
        if found is None and not self._speakers_preloaded:
            from factdb.services.speakers import find_speaker

            self._writer.wait()
            speaker = find_speaker(self.session, record.speaker)
            found = speaker.id if speaker is not None else None
            known = speaker.name if speaker is not None else None
        if found is not None and known is not None:
            self._check_look_alike("speaker", record.speaker, known, record.location)
        if found is None:
            # the unknown speaker is nobody in particular: no role or ids from one record,
            # not counted as new, not compared with real names
            unknown = is_unknown_speaker(record.speaker)
            found, created = self._new_row(
                Speaker.__table__,
                {
                    "name": record.speaker,
                    "name_key": key,
                    "kind": "person" if unknown else record.speaker_kind or "person",
                    "role": None if unknown else record.speaker_role,
                    "external_ids": None if unknown else _external_ids(record.speaker_same_as),
                },
                unique="name_key",
            )
            if created and not unknown:
                self.summary.new_speakers += 1
                self._new_speaker_names.append(record.speaker)
                self._speaker_shown[key] = record.speaker
        self._speaker_by_key[key] = found
        if len(self._speaker_by_name) < 1_000_000:
            self._speaker_by_name[record.speaker] = found
        return found

    def _check_look_alike(self, noun: str, name: str, known: str, location: str) -> bool:
        """Whether ``name`` is a known speaker's or source's name only through look-alike or
        invisible characters: it is taken as that one (one identity), and the summary says
        so, once per spelling."""
        if spelling_key(name) == spelling_key(known):
            return False
        self._look_alikes += 1
        if self._look_alikes <= LOOK_ALIKE_WARNINGS:
            odd = ", ".join(look_alike_characters(name, known))
            self.summary.warnings.append(
                f"{location}: {noun} {name!r} taken as {known!r}: it differs only by "
                f"look-alike or invisible characters ({odd})"
            )
        return True

    def _source(self, ref: SourceRef, location: str) -> int:
        cache_key = (ref.name, ref.url)
        found = self._source_by_ref.get(cache_key)
        if found is not None:
            return found
        key = name_key(ref.name)
        name = ref.name
        if key in self._source_aliases:
            name, key = self._source_aliases[key]
        found = self._sources_by_url.get(ref.url) if ref.url else self._sources_by_name.get(key)
        known = self._source_shown.get(key) or (self._known_sources or {}).get(key)
        if found is None and not self._sources_preloaded:
            from factdb.services.sources import find_source

            self._writer.wait()
            source = find_source(self.session, name, ref.url)
            found = source.id if source is not None else None
            known = source.name if source is not None and not ref.url else None
        name = ref.name
        # a known outlet's next article, or the outlet itself: spelt as it is known
        if (
            known is not None
            and (found is None or not ref.url)
            and self._check_look_alike("source", ref.name, known, location)
        ):
            name = known
        if found is None:
            self._source_shown.setdefault(key, name)
            found, created = self._new_row(
                Source.__table__,
                {"name": name, "name_key": key, "kind": ref.kind or "outlet", "url": ref.url},
                unique="url" if ref.url else None,  # names may repeat: only URLs are unique
            )
            self.summary.new_sources += created
            if created and self._sources_preloaded and key not in self._known_source_keys:
                self._known_source_keys.add(key)
                self._new_source_names.append(name)
            if ref.url:
                self._sources_by_url[ref.url] = found
            if not ref.url or key not in self._sources_by_name:
                self._sources_by_name[key] = found
        if len(self._source_by_ref) < 1_000_000:
            self._source_by_ref[cache_key] = found
        return found

    def _tag(self, name: str) -> int:
        found = self._tags.get(name)
        if found is None:
            found, _created = self._insert_id(Tag.__table__, {"name": name}, unique="name")
            self._tags[name] = found
        return found

    def _label(self, label: str) -> tuple[int | None, int | None, int | None, int | None, str]:
        """(scale rating id, ordinal, best, worst, class) for a label, through the service."""
        found = self._labels.get(label)
        if found is None:
            from factdb.services.verdicts import normalise_label

            self._writer.wait()
            rating, normalised = normalise_label(self.session, label)
            if rating is None:
                found = (None, None, None, None, normalised)
            else:
                ordinals = [r.ordinal for r in rating.scale.ratings]
                found = (rating.id, rating.ordinal, max(ordinals), min(ordinals), normalised)
            self._labels[label] = found
        return found

    # --- records -----------------------------------------------------------------------------

    def _invalid(self, error: RecordError) -> None:
        if self.reject is None:
            raise error
        self.summary.rejected += 1
        self.reject(error)

    def _validate(self, record: Record) -> tuple[Any, str | None, str | None, str]:
        """Checks that need the database's vocabularies; raises RecordError naming the field."""
        location = record.location
        status = None
        if record.status is not None:
            status = self._statuses.get(record.status) or self._statuses.get(
                self._normalise_code(record.status)
            )
            if status is None:
                known = ", ".join(sorted(set(self._statuses.values())))
                raise RecordError(
                    location, "status", f"unknown status {record.status!r} (valid: {known})"
                )
        language = self._languages.get(record.language, "")
        if language == "":
            try:
                language = self._check_language(record.language)
            except FactdbError as exc:
                raise RecordError(location, "language", str(exc)) from None
            self._languages[record.language] = language
        quote_kind = self._quote_kinds.get(record.quote_kind)
        if quote_kind is None:
            try:
                quote_kind = self._check_quote_kind(record.quote_kind)  # type: ignore[arg-type]
            except FactdbError as exc:
                raise RecordError(location, "quote_kind", str(exc)) from None
            self._quote_kinds[record.quote_kind] = quote_kind
        said = None
        if record.said_on:
            said = self._partials.get(record.said_on)
            if said is None:
                partial = parse_partial(record.said_on)
                # (stored first day as the driver wants it, precision): computed once per date
                said = (self._date(partial.start), partial.precision)
                self._partials[record.said_on] = said
        return said, status, language, quote_kind

    def add(self, record: Record) -> None:
        """Queue one record (written when its batch is full, or by :meth:`finish`)."""
        # the checks depend on these four fields only, and their combinations repeat
        fields = (record.status, record.language, record.quote_kind, record.said_on)
        checked = self._checked.get(fields)
        if checked is None:
            try:
                checked = self._validate(record)
            except RecordError as exc:
                exc.raw = record.as_row()
                self._invalid(exc)
                return
            if len(self._checked) < MEMO_LIMIT:
                self._checked[fields] = checked
        said, status, language, quote_kind = checked
        # the cache hit inline: a method call per record is measurable here
        speaker_id = self._speaker_by_name.get(record.speaker) or self._speaker(record)
        key = clean_content_key(speaker_id, record.text, record.said_on)
        origin = record.origin or self.origin
        external = (origin, record.external_id) if origin and record.external_id else None
        if language or origin or record.context or record.external_id:
            self._batch_plain = False
        if key in self._batch_keys or (external is not None and external in self._batch_ext):
            # the same claim twice in one batch: write the first, then treat this one as a
            # repeat of an existing claim (it may still bring a new verdict or source)
            self._flush()
        verdict = None
        if record.verdict:
            rating_id, ordinal, best, worst, normalised = self._label(record.verdict)
            reviewed = (
                self._date(parse_partial(record.reviewed_on).start) if record.reviewed_on else None
            )
            verdict = (
                record.verdict,
                record.verdict_by,
                reviewed,
                record.review_url,
                rating_id,
                record.rating_value if record.rating_value is not None else ordinal,
                record.best_rating if record.best_rating is not None else best,
                record.worst_rating if record.worst_rating is not None else worst,
                normalised,
            )
        sources: list[tuple[int, str]] = _NO_SOURCES
        if record.extra_sources or record.source or record.source_url:
            first = self._source_by_ref.get((record.source, record.source_url))
            if first is not None and not record.extra_sources and record.source:
                sources = [(first, "reported_by")]
            else:
                where = record.location
                sources = [(self._source(ref, where), ref.role) for ref in record.sources()]
                if len(sources) != 1 or sources[0][1] != "reported_by":
                    self._batch_one_source = False
        else:
            self._batch_one_source = False
        tags = [self._normalise_tag(t) for t in record.tags] if record.tags else None
        # positional: one of these is made for every record
        row = _Row(
            record,
            speaker_id,
            key,
            origin,
            said,
            status,
            language,
            quote_kind,
            sources,
            verdict,
            [self._tag(t) for t in dict.fromkeys(t for t in tags if t)] if tags else _NO_TAGS,
        )
        self._batch.append(row)
        self._batch_keys.add(key)
        if external is not None:
            self._batch_ext.add(external)
        if len(self._batch) >= BATCH:
            self._flush()

    def load(self, items: Iterable[Record | RecordError]) -> Summary:
        """Load every record (rejecting or raising on errors); returns the summary."""
        # the cyclic garbage collector is run by hand now and then, young generations only:
        # left to itself it kept traversing every cached name and memo (2 s of 14 in Python)
        collecting = gc.isenabled()
        gc.disable()
        try:
            for count, item in enumerate(items, start=1):
                if isinstance(item, RecordError):
                    self._invalid(item)
                else:
                    self.add(item)
                if count % 1000 == 0:
                    if self.progress is not None:
                        self.progress(count)
                    if count % GC_EVERY == 0:
                        gc.collect(1)
        except BaseException:
            # the batch in flight must end before the caller rolls back
            self._writer.close(raise_error=False)
            raise
        finally:
            if collecting:
                gc.enable()
        return self.finish()

    def finish(self) -> Summary:
        """Write the last batch, rebuild deferred indexes, work out near-match warnings."""
        try:
            self._flush()
            # the indexes are built on the writer's thread meanwhile (SQLite, without the GIL)
            self._writer.submit(self._build_indexes)
            self._near_match_warnings()
            if self._look_alikes > LOOK_ALIKE_WARNINGS:
                self.summary.warnings.append(
                    f"... and {self._look_alikes - LOOK_ALIKE_WARNINGS} more names taken as "
                    "known speakers or sources despite look-alike or invisible characters"
                )
        except BaseException:
            self._writer.close(raise_error=False)
            raise
        self._writer.close()
        self._log_import()
        return self.summary

    def _log_import(self) -> None:
        """One audit entry for the whole load (factdb.audit.log_import says why not one per
        claim): the counts and the range of the new claims' ids."""
        from factdb.audit import log_import

        first, last = self.conn.execute(
            select(func.min(Statement.id), func.max(Statement.id)).where(
                Statement.id > self._max_before
            )
        ).one()
        summary = self.summary
        counts = {
            "added": summary.added,
            "changed": summary.changed,
            "unchanged": summary.unchanged,
            "rejected": summary.rejected,
            "new_speakers": summary.new_speakers,
            "new_sources": summary.new_sources,
            "origin": self.origin,
        }
        log_import(
            self.session, counts=counts, first_claim_id=first, last_claim_id=last, label=self.label
        )

    def _build_indexes(self) -> None:
        """The secondary indexes dropped for a bulk load, and the search index of what it added."""
        if self.cursor is not None:
            # the default cache again first: index builds sort in memory up to the cache size,
            # and the page cache of the load is no longer needed (peak memory stays flat)
            if self._cache_size is not None:
                self.cursor.execute(f"PRAGMA cache_size = {self._cache_size}")
            # the sorter may use a second thread (the main thread has finished parsing by now)
            threads = self.cursor.execute("PRAGMA threads").fetchone()[0]
            self.cursor.execute(f"PRAGMA threads = {max(threads, 1)}")
            for sql in self._deferred:
                self.cursor.execute(sql)
            self._deferred = []
            if self._deferred_content_keys is not None:
                self._unique_content_keys(self._deferred_content_keys)
                self._deferred_content_keys = None
            self.cursor.execute(f"PRAGMA threads = {threads}")
        if self._search_suspended is not None:
            from factdb.services.search import resume_search_index

            # only new statements were added (by speakers not renamed, given no aliases), and
            # those up to _indexed_upto are indexed already
            resume_search_index(self.session, self._search_suspended, since_id=self._indexed_upto)
            self._search_suspended = None
            if self._fts_restore is not None:
                self._fts_settings(self._fts_restore)

    def _unique_content_keys(self, create_index: str) -> None:
        """Build the content keys' unique index a load into an empty table went without.

        Claims the file repeated (the same speaker, text and date) were written once each
        meanwhile; if the index finds such a repeat, each one is merged into the claim's first
        occurrence, in file order, as it would have been record by record: what it brings
        (status, verdict, sources, tags) is added there, and the repeat itself goes.
        """
        cursor = self.cursor
        assert cursor is not None
        try:
            cursor.execute(create_index)
            return
        except sqlite3.IntegrityError:
            pass
        repeated: dict[str, list[int]] = {}
        for statement_id, key in cursor.execute(
            "SELECT id, content_key FROM statements WHERE content_key IN "
            "(SELECT content_key FROM statements GROUP BY content_key HAVING count(*) > 1) "
            "ORDER BY id"
        ):
            repeated.setdefault(key, []).append(statement_id)
        self._merge_repeated_claims(sorted(repeated.values()))
        cursor.execute(create_index)

    def _merge_repeated_claims(self, groups: list[list[int]]) -> None:
        """Each group: the ids of one claim's occurrences, first one first."""
        from factdb.services.claims import key_collision, stored_identity

        s = self.session
        ids = [i for group in groups for i in group]
        identity: dict[int, tuple[Any, ...]] = {}
        status: dict[int, str | None] = {}
        for chunk in _chunks(ids):
            for statement_id, current, *stored in s.execute(
                select(
                    Statement.id,
                    Statement.current_status,
                    Statement.speaker_id,
                    Statement.text,
                    Statement.said_on,
                    Statement.said_precision,
                ).where(Statement.id.in_(chunk))
            ):
                identity[statement_id] = stored_identity(*stored)
                status[statement_id] = current
        targets: list[tuple[int, _Brings]] = []
        repeats: list[int] = []
        for first, *others in groups:
            for other in others:
                if identity[other] != identity[first]:
                    raise FactdbError(key_collision(first))
                targets.append((first, _Brings(status[other], [], [], [])))
                repeats.append(other)
        brings = dict(zip(repeats, (b for _first, b in targets), strict=True))
        for chunk in _chunks(repeats):
            for statement_id, *verdict in s.execute(
                select(
                    Verdict.statement_id, *(Verdict.__table__.c[c] for c in _VERDICT_COLUMNS[1:])
                )
                .where(Verdict.statement_id.in_(chunk))
                .order_by(Verdict.id)
            ):
                # as the loader's own rows hold them (dates as text for the DB-API cursor)
                brings[statement_id].verdicts.append(tuple(_iso(v) for v in verdict))
            for statement_id, source_id, role in s.execute(
                select(Attribution.statement_id, Attribution.source_id, Attribution.role)
                .where(Attribution.statement_id.in_(chunk))
                .order_by(Attribution.statement_id, Attribution.position)
            ):
                brings[statement_id].source_ids.append((source_id, role))
            for statement_id, tag_id in s.execute(
                select(StatementTag.statement_id, StatementTag.tag_id).where(
                    StatementTag.statement_id.in_(chunk)
                )
            ):
                brings[statement_id].tag_ids.append(tag_id)
        self._delete_new_statements(repeats)
        self.summary.added -= len(repeats)
        self._apply_repeats(targets)

    def _delete_new_statements(self, ids: list[int]) -> None:
        """Remove statements this load wrote, with their details and search entries (foreign
        keys are not enforced during a bulk load, so nothing cascades by itself)."""
        cursor = self.cursor
        assert cursor is not None
        for chunk in _chunks(ids):
            marks = ", ".join("?" for _ in chunk)
            indexed = [i for i in chunk if i <= self._indexed_upto]
            if indexed and self._search_suspended is not None:
                cursor.execute(
                    "INSERT INTO statements_fts (statements_fts, rowid, text, original_text, "
                    "speaker) SELECT 'delete', id, text, original_text, speaker "
                    f"FROM statements_fts_source WHERE id IN ({', '.join('?' for _ in indexed)})",
                    indexed,
                )
            for table in ("attributions", "verdicts", "statement_tags", "status_events"):
                cursor.execute(f"DELETE FROM {table} WHERE statement_id IN ({marks})", chunk)
            cursor.execute(f"DELETE FROM statements WHERE id IN ({marks})", chunk)

    def _fts_settings(self, settings: dict[str, int]) -> dict[str, int] | None:
        """Change settings of the SQLite full-text index (see ``bulkwrite.set_fts_settings``);
        returns the values they had."""
        assert self.cursor is not None
        return set_fts_settings(self.cursor, settings)

    # --- writing -----------------------------------------------------------------------------

    def _ids(self, n: int) -> list[int]:
        """``n`` fresh statement ids: max + 1… under SQLite's write lock, else the sequence."""
        if self.dialect == "sqlite":
            start = self._next_ids["statements"]
            self._next_ids["statements"] = start + n
            return list(range(start, start + n))
        rows = self.conn.execute(
            text(
                "SELECT nextval(pg_get_serial_sequence('statements', 'id')) "
                "FROM generate_series(1, :n)"
            ),
            {"n": n},
        )
        return [r[0] for r in rows]

    def _inserts(
        self,
        table: Any,
        columns: tuple[str, ...],
        rows: list[tuple[Any, ...]],
        *,
        ignore: bool = False,
    ) -> list[tuple[str, list[Any]]]:
        """SQLite: the statements (SQL, flat parameters) that insert ``rows`` into ``table``.

        Many rows per statement (multi-row VALUES), not executemany's one statement per row:
        SQLite then runs a whole chunk in one call without the GIL (the writer thread needs
        that), and each CHECK constraint's IN list costs less than half as much per row (a bulk
        load skips them altogether: see ``factdb.db.for_bulk_load``).
        """
        return self._flat_inserts(table, columns, list(chain.from_iterable(rows)), ignore=ignore)

    def _flat_inserts(
        self,
        table: Any,
        columns: tuple[str, ...],
        flat: list[Any],
        *,
        ignore: bool = False,
        constants: tuple[tuple[str, str], ...] = (),
    ) -> list[tuple[str, list[Any]]]:
        """:meth:`_inserts` for rows given one after another in one flat list (``constants``:
        see ``bulkwrite.values_insert``)."""
        conflict = " ON CONFLICT DO NOTHING" if ignore else ""
        return list(
            flat_inserts(
                table.name,
                columns,
                flat,
                self._max_variables,
                conflict=conflict,
                constants=constants,
            )
        )

    def _run(self, inserts: list[tuple[str, list[Any]]]) -> int:
        """Execute what :meth:`_inserts` prepared; the number of rows inserted."""
        assert self.cursor is not None
        count = 0
        for sql, parameters in inserts:
            count += self.cursor.execute(sql, parameters).rowcount
        return count

    def _executemany(
        self,
        table: Any,
        columns: tuple[str, ...],
        rows: list[tuple[Any, ...]],
        *,
        ignore: bool = False,
    ) -> None:
        if not rows:
            return
        if self.cursor is not None:
            self._run(self._inserts(table, columns, rows, ignore=ignore))
            return
        stmt: Any = insert(table)
        if ignore:
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            stmt = pg_insert(table).on_conflict_do_nothing()
        self.conn.execute(stmt, [dict(zip(columns, row, strict=True)) for row in rows])

    def _flush(self) -> None:
        """Hand the batch (and the speakers and sources it introduced) to the writer."""
        batch = self._batch
        deferred_rows = self._deferred_rows
        if not batch and not deferred_rows:
            return
        self._batch = []
        self._batch_keys = set()
        self._batch_ext = set()
        self._deferred_rows = {}
        plain, self._batch_plain = self._batch_plain, True
        one_source, self._batch_one_source = self._batch_one_source, True
        ids = self._ids(len(batch))
        statements: list[tuple[Any, ...]] = []
        prepared = None
        if self.cursor is None:
            statements = [_statement_row(i, row) for i, row in zip(ids, batch, strict=True)]
        else:
            # SQLite: every parameter list is built here, so that the writer's thread spends
            # its time in SQLite (without the GIL) rather than waiting for the GIL to run Python;
            # flat from the start (one list per table, cut into chunks), not tuples flattened
            prepared = _Prepared([], [], [])
            for table in (Speaker.__table__, Source.__table__):
                if table.name in deferred_rows:  # type: ignore[attr-defined]
                    columns, rows = deferred_rows[table.name]  # type: ignore[attr-defined]
                    prepared.names += self._inserts(table, columns, rows)
            flat: list[Any] = []
            attributions: list[Any] = []
            row_values = _plain_statement_row if plain else _statement_row
            if one_source:  # each claim reported by one source: its id is all that varies
                for statement_id, row in zip(ids, batch, strict=True):
                    flat += row_values(statement_id, row)
                    attributions += (statement_id, row.source_ids[0][0])
            else:
                for statement_id, row in zip(ids, batch, strict=True):
                    flat += row_values(statement_id, row)
                    for position, (source_id, role) in enumerate(row.source_ids, start=1):
                        attributions += (statement_id, source_id, role, position)
            prepared.statements = self._flat_inserts(
                Statement.__table__,
                _PLAIN_STATEMENT_COLUMNS if plain else _STATEMENT_COLUMNS,
                flat,
                ignore=True,
            )
            prepared.details = (
                self._flat_inserts(
                    Attribution.__table__,
                    ("statement_id", "source_id"),
                    attributions,
                    constants=(("role", "'reported_by'"), ("position", "1")),
                )
                if one_source
                else self._flat_inserts(Attribution.__table__, _ATTRIBUTION_COLUMNS, attributions)
            )
            verdicts, tags = _verdict_and_tag_rows(zip(ids, batch, strict=True))
            prepared.details += self._inserts(Verdict.__table__, _VERDICT_COLUMNS, verdicts)
            prepared.details += self._inserts(
                StatementTag.__table__, ("statement_id", "tag_id"), tags
            )
        self._writer.submit(
            lambda: self._write_batch(ids, batch, statements, deferred_rows, prepared)
        )

    def _write_batch(
        self,
        ids: list[int],
        batch: list[_Row],
        statements: list[tuple[Any, ...]],
        deferred_rows: dict[str, tuple[tuple[str, ...], list[tuple[Any, ...]]]],
        prepared: _Prepared | None,
    ) -> None:
        """Write one batch (on the writer's thread): new speakers and sources, statements,
        then the details of the new ones and what repeats bring to existing ones."""
        all_new = False
        if prepared is not None:
            self._run(prepared.names)
            # ON CONFLICT DO NOTHING does not count the rows it skipped
            all_new = self._run(prepared.statements) == len(batch)
        else:
            for table in (Speaker.__table__, Source.__table__):
                if table.name in deferred_rows:  # type: ignore[attr-defined]
                    self._executemany(table, *deferred_rows[table.name])  # type: ignore[attr-defined]
            if batch:
                self._executemany(Statement.__table__, _STATEMENT_COLUMNS, statements, ignore=True)
        if not batch:
            return
        if all_new and prepared is not None:  # the details prepared for every row are right
            self.summary.added += len(batch)
            self._first_events_sqlite(ids[0], ids[-1])
            self._run(prepared.details)
        else:
            self._write_new_and_repeats(ids, batch)
        self._index_for_search(ids[-1])

    def _write_new_and_repeats(self, ids: list[int], batch: list[_Row]) -> None:
        """After a batch's statements: the details of the new ones, what repeats bring."""
        # the ids that are missing afterwards are the rows ON CONFLICT skipped: duplicates
        between = select(Statement.id).where(Statement.id.between(ids[0], ids[-1]))
        count = self.conn.execute(select(func.count()).select_from(between.subquery())).scalar_one()
        new: list[tuple[int, _Row]] = []
        repeats: list[_Row] = []
        if count == len(ids) and ids[-1] - ids[0] + 1 == len(ids):
            new = list(zip(ids, batch, strict=True))
        else:
            inserted = set(self.conn.execute(between).scalars())
            for statement_id, row in zip(ids, batch, strict=True):
                if statement_id in inserted:
                    new.append((statement_id, row))
                else:
                    repeats.append(row)
        self.summary.added += len(new)
        self._write_details(new)
        if repeats:
            self._merge_repeats(repeats)

    def _index_for_search(self, last_id: int) -> None:
        """SQLite bulk load: index the statements written so far once a group is complete.

        In groups of FTS_GROUP rather than per batch: FTS5 writes its buffer out at the end of
        every statement, and small segments cost three times as much to merge (a group of
        25,000 costs about 10 % more than one of 100,000).
        """
        if self._search_suspended is None or self.cursor is None:
            return
        if last_id - self._indexed_upto < FTS_GROUP:
            return
        from factdb.services.search import index_statement_range

        index_statement_range(self.session, self._indexed_upto, last_id)
        self._indexed_upto = last_id

    def _write_details(self, new: list[tuple[int, _Row]]) -> None:
        """Status events, attributions, verdicts and tags of newly inserted statements."""
        events, attributions, verdicts, tags = self._detail_rows(new)
        if self.cursor is not None and new:
            self._first_events_sqlite(new[0][0], new[-1][0])
        self._executemany(StatusEvent.__table__, _EVENT_COLUMNS, events)
        self._executemany(Attribution.__table__, _ATTRIBUTION_COLUMNS, attributions)
        self._executemany(Verdict.__table__, _VERDICT_COLUMNS, verdicts)
        self._executemany(StatementTag.__table__, ("statement_id", "tag_id"), tags)

    def _detail_rows(self, new: list[tuple[int, _Row]]) -> tuple[list[Any], ...]:
        """(events, attributions, verdicts, tags) rows of new statements; no events on SQLite
        (:meth:`_first_events_sqlite` writes them from the statements)."""
        events, attributions = [], []
        in_sql = self.cursor is not None
        for statement_id, row in new:
            if row.status is not None and not in_sql:
                when = row.said
                events.append(
                    (
                        statement_id,
                        row.status,
                        when[0] if when else self.today,
                        when[1] if when else "day",
                        self.now,
                    )
                )
            for position, (source_id, role) in enumerate(row.source_ids, start=1):
                attributions.append((statement_id, source_id, role, position))
        return events, attributions, *_verdict_and_tag_rows(new)

    def _first_events_sqlite(self, first_id: int, last_id: int) -> None:
        """The first status event of each new statement in an id range, in one statement."""
        assert self.cursor is not None
        # the statements in this id range are exactly the new ones (ids were allocated
        # fresh under the write lock; the skipped duplicates left holes): each with a
        # status gets its first event, dated when it was said, else today (day precision)
        self.cursor.execute(
            "INSERT INTO status_events (statement_id, status_code, effective_on, "
            "effective_precision, recorded_at) "
            "SELECT id, current_status, COALESCE(said_on, ?), "
            "CASE WHEN said_on IS NULL THEN 'day' ELSE said_precision END, ? "
            "FROM statements WHERE id BETWEEN ? AND ? AND current_status IS NOT NULL "
            "ORDER BY id",
            (self.today, self.now, first_id, last_id),
        )

    def _merge_repeats(self, repeats: list[_Row]) -> None:
        """Records whose claim already exists: add what they bring that is not there yet."""
        from factdb.services.claims import key_collision, stored_identity

        s = self.session
        externals = [
            (row.origin, row.record.external_id)
            for row in repeats
            if row.origin and row.record.external_id
        ]
        by_external: dict[tuple[str, str], int] = {}
        for origin in {o for o, _ in externals}:
            wanted = [e for o, e in externals if o == origin]
            by_external.update(
                ((origin, e), i)
                for e, i in s.execute(
                    select(Statement.external_id, Statement.id).where(
                        Statement.origin == origin, Statement.external_id.in_(wanted)
                    )
                )
            )

        found = [
            by_external.get((row.origin, row.record.external_id))
            if row.origin and row.record.external_id
            else None
            for row in repeats
        ]
        # by key only for the others: during a load whose content keys are not indexed yet,
        # only external ids can conflict, and a lookup by key would read the whole table
        keys = [row.key for row, by_id in zip(repeats, found, strict=True) if by_id is None]
        by_key: dict[str, tuple[int, tuple[int, str, str]]] = {}
        if keys:
            by_key = {
                key: (statement_id, stored_identity(*stored))
                for key, statement_id, *stored in s.execute(
                    select(
                        Statement.content_key,
                        Statement.id,
                        Statement.speaker_id,
                        Statement.text,
                        Statement.said_on,
                        Statement.said_precision,
                    ).where(Statement.content_key.in_(keys))
                )
            }
        targets: list[tuple[int, _Brings]] = []
        for row, statement_id in zip(repeats, found, strict=True):
            if statement_id is None and row.key in by_key:
                statement_id, identity = by_key[row.key]
                record = row.record
                if identity != content_identity(row.speaker_id, record.text, record.said_on):
                    raise FactdbError(f"{record.location}: {key_collision(statement_id)}")
            if statement_id is None:  # pragma: no cover - the insert conflicted on something else
                raise FactdbError(f"{row.record.location}: could not store this claim")
            verdicts = [row.verdict] if row.verdict is not None else []
            targets.append(
                (statement_id, _Brings(row.status, verdicts, row.source_ids, row.tag_ids))
            )
        self._apply_repeats(targets)

    def _apply_repeats(self, targets: list[tuple[int, _Brings]]) -> None:
        """Add to each existing claim what a repeat of it brings and it lacks, in order;
        counts each repeat as changed or unchanged."""
        s = self.session
        ids = list({i for i, _ in targets})
        current = dict(
            s.execute(
                select(Statement.id, Statement.current_status).where(Statement.id.in_(ids))
            ).all()
        )
        have_verdicts = {
            (i, label, reviewer, _iso(reviewed), url)
            for i, label, reviewer, reviewed, url in s.execute(
                select(
                    Verdict.statement_id,
                    Verdict.label,
                    Verdict.reviewer,
                    Verdict.reviewed_on,
                    Verdict.url,
                ).where(Verdict.statement_id.in_(ids))
            )
        }
        have_sources: dict[int, set[int]] = {}
        positions: dict[int, int] = {}
        for statement_id, source_id, position in s.execute(
            select(Attribution.statement_id, Attribution.source_id, Attribution.position).where(
                Attribution.statement_id.in_(ids)
            )
        ):
            have_sources.setdefault(statement_id, set()).add(source_id)
            positions[statement_id] = max(positions.get(statement_id, 0), position)
        have_tags = set(
            s.execute(
                select(StatementTag.statement_id, StatementTag.tag_id).where(
                    StatementTag.statement_id.in_(ids)
                )
            ).all()
        )
        events, attributions, verdicts, tags, status_changed = [], [], [], [], set()
        for statement_id, brings in targets:
            changed = False
            if brings.status is not None and current.get(statement_id) != brings.status:
                # the file says the allegation now stands elsewhere: a new event, dated today
                events.append((statement_id, brings.status, self.today, "day", self.now))
                current[statement_id] = brings.status
                status_changed.add(statement_id)
                changed = True
            for v in brings.verdicts:
                identity = (statement_id, v[0], v[1], _iso(v[2]), v[3])
                if identity not in have_verdicts:
                    have_verdicts.add(identity)
                    verdicts.append((statement_id, *v))
                    changed = True
            known = have_sources.setdefault(statement_id, set())
            for source_id, role in brings.source_ids:
                if source_id not in known:
                    known.add(source_id)
                    positions[statement_id] = positions.get(statement_id, 0) + 1
                    attributions.append((statement_id, source_id, role, positions[statement_id]))
                    changed = True
            for tag_id in brings.tag_ids:
                if (statement_id, tag_id) not in have_tags:
                    have_tags.add((statement_id, tag_id))
                    tags.append((statement_id, tag_id))
                    changed = True
            if changed:
                self.summary.changed += 1
            else:
                self.summary.unchanged += 1
        self._executemany(StatusEvent.__table__, _EVENT_COLUMNS, events)
        self._executemany(Attribution.__table__, _ATTRIBUTION_COLUMNS, attributions)
        self._executemany(Verdict.__table__, _VERDICT_COLUMNS, verdicts)
        self._executemany(StatementTag.__table__, ("statement_id", "tag_id"), tags)
        if status_changed:
            self._refresh_status(sorted(status_changed))

    def _refresh_status(self, ids: list[int]) -> None:
        """Recompute the cached current status from the event log (the statuses service rule)."""
        from sqlalchemy import update

        latest = (
            select(StatusEvent.status_code)
            .where(StatusEvent.statement_id == Statement.id, StatusEvent.withdrawn_at.is_(None))
            .order_by(
                StatusEvent.effective_on.desc(),
                StatusEvent.recorded_at.desc(),
                StatusEvent.id.desc(),
            )
            .limit(1)
            .scalar_subquery()
        )
        self.conn.execute(
            update(Statement).where(Statement.id.in_(ids)).values(current_status=latest)
        )

    # --- warnings ----------------------------------------------------------------------------

    def _near_match_warnings(self) -> None:
        """New names that nearly match other names: created anyway, reported here."""
        from rapidfuzz import fuzz, process

        from factdb.services.names import NEAR_MATCH_SCORE

        budget = NEAR_MATCH_BUDGET
        for noun, names, known in (
            ("speaker", self._new_speaker_names, self._known_speakers),
            ("source", self._new_source_names, self._known_sources),
        ):
            if not names or known is None:
                continue
            new_keys = {name_key(n) for n in names}
            choices: list[str] = [k for k in known if k not in new_keys]
            display = dict(known)
            for checked, name in enumerate(names):
                key = name_key(name)
                if budget < len(choices):
                    self.summary.warnings.append(
                        f"near-match check of new {noun} names stopped after {checked} of "
                        f"{len(names)} (too many names to compare)"
                    )
                    break
                budget -= len(choices)
                found = process.extract(
                    key,
                    choices,
                    scorer=fuzz.token_sort_ratio,
                    score_cutoff=NEAR_MATCH_SCORE,
                    limit=3,
                )
                if found:
                    similar = " or ".join(repr(display.get(m, m)) for m, _s, _i in found)
                    self.summary.warnings.append(f"new {noun} {name!r} resembles {similar}")
                choices.append(key)
                display[key] = name


def _statement_row(statement_id: int, row: _Row) -> tuple[Any, ...]:
    """A statement's values in the order of _STATEMENT_COLUMNS."""
    r = row.record
    said = row.said
    return (
        statement_id,
        r.text,
        row.quote_kind,
        row.language,
        said[0] if said else None,
        said[1] if said else None,
        r.context,
        row.speaker_id,
        row.status,
        row.key,
        row.origin,
        r.external_id,
    )


def _plain_statement_row(statement_id: int, row: _Row) -> tuple[Any, ...]:
    """:func:`_statement_row` without the columns a plain batch leaves empty, in the order of
    _PLAIN_STATEMENT_COLUMNS."""
    said = row.said
    return (
        statement_id,
        row.record.text,
        row.quote_kind,
        said[0] if said else None,
        said[1] if said else None,
        row.speaker_id,
        row.status,
        row.key,
    )


def _verdict_and_tag_rows(
    new: Iterable[tuple[int, _Row]],
) -> tuple[list[tuple[Any, ...]], list[tuple[int, int]]]:
    """The verdict rows and the (statement, tag) rows of new statements (id, row pairs)."""
    verdicts: list[tuple[Any, ...]] = []
    tags: list[tuple[int, int]] = []
    for statement_id, row in new:
        if row.verdict is not None:
            verdicts.append((statement_id, *row.verdict))
        for tag_id in row.tag_ids:
            tags.append((statement_id, tag_id))
    return verdicts, tags


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    return (ids[i : i + IDS_PER_QUERY] for i in range(0, len(ids), IDS_PER_QUERY))


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, dt.date) else value


def _sqlite_value(value: Any) -> Any:
    # the DB-API cursor bypasses SQLAlchemy's types: store what they would store
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return value


def _external_ids(same_as: tuple[str, ...]) -> dict[str, str] | None:
    """A speaker's sameAs URLs for the ``external_ids`` column (Wikidata QIDs by name)."""
    if not same_as:
        return None
    ids: dict[str, str] = {}
    for url in same_as:
        if "wikidata.org/" in url:
            ids.setdefault("wikidata", url.rstrip("/").rsplit("/", 1)[-1])
        else:
            ids.setdefault(f"sameAs{len(ids) + 1 if ids else ''}", url)
    return ids


_STATEMENT_COLUMNS = (
    "id",
    "text",
    "quote_kind",
    "language",
    "said_on",
    "said_precision",
    "context",
    "speaker_id",
    "current_status",
    "content_key",
    "origin",
    "external_id",
)
# without language, context, origin and external_id (all empty in a plain batch)
_PLAIN_STATEMENT_COLUMNS = tuple(
    c for c in _STATEMENT_COLUMNS if c not in ("language", "context", "origin", "external_id")
)
_EVENT_COLUMNS = (
    "statement_id",
    "status_code",
    "effective_on",
    "effective_precision",
    "recorded_at",
)
_ATTRIBUTION_COLUMNS = ("statement_id", "source_id", "role", "position")
_VERDICT_COLUMNS = (
    "statement_id",
    "label",
    "reviewer",
    "reviewed_on",
    "url",
    "scale_rating_id",
    "rating_value",
    "best_rating",
    "worst_rating",
    "normalised_class",
)
