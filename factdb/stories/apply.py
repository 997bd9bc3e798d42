"""Write checked stories through the services, and say what changed.

A claim is found again by its stored identity (origin + external id, see
:meth:`Story.identity`), else by its content (speaker, text, date: a claim the user typed in is
adopted, not duplicated). Loading a file twice changes nothing; loading an edited file applies
the edits: a claim's changed fields, added attributions (and changed verbs), new status events,
links and verdicts, a declared speaker's or source's changed fields and new aliases. Nothing is
deleted by a load: removing a record is a command of its own, so that a file missing a line
can never destroy what another desk added.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from factdb.dates import PartialDate, format_partial, parse_partial
from factdb.errors import FactdbError
from factdb.io import bulkwrite
from factdb.models import (
    Attribution,
    Source,
    Speaker,
    Statement,
    StatementTag,
)
from factdb.stories import bulk, spec
from factdb.stories.details import ClaimDetails
from factdb.stories.known import Known
from factdb.stories.read import Problem, Story, StoryError
from factdb.stories.writer import RowWriter
from factdb.text import clean_text
from factdb.textkeys import normalise_tag


@dataclass
class LoadReport:
    """What a load did: counts by kind of change, and one line per edit of an existing record."""

    files: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    changes: list[str] = field(default_factory=list)

    def summary(self, verb: str = "loaded") -> str:
        """``loaded: 16 claims added, 0 unchanged; 5 speakers added, 0 matched; …``."""
        c = self.counts
        parts = [
            f"{c['claims added']} claims added, {c['claims unchanged']} unchanged"
            + (f", {c['claims changed']} changed" if c["claims changed"] else "")
            + (f", {c['claims matched']} matched existing" if c["claims matched"] else ""),
            f"{c['speakers added']} speakers added, {c['speakers matched']} matched",
            f"{c['sources added']} sources added, {c['sources matched']} matched",
            f"{c['status events added']} status events added, {c['status events present']} present",
            f"{c['links added']} links added, {c['links present']} present",
        ]
        if c["verdicts added"] or c["verdicts present"]:
            parts.append(f"{c['verdicts added']} verdicts added, {c['verdicts present']} present")
        if c["attributions added"]:
            parts.append(f"{c['attributions added']} attributions added to existing claims")
        if c["aliases added"]:
            parts.append(f"{c['aliases added']} aliases added to existing speakers")
        noun = "file" if self.files == 1 else "files"
        return f"{verb}: {'; '.join(parts)} ({self.files} {noun})"


def _clean(value: Any) -> Any:
    return clean_text(value) or None if isinstance(value, str) else value


class Applier(ClaimDetails):
    """Applies stories to one session; caches the speakers and sources it resolved."""

    def __init__(self, session: Session, report: LoadReport) -> None:
        self.session = session
        self.report = report
        self.speakers: dict[str, Speaker] = {}
        self.sources: dict[str, Source] = {}
        self.source_ids: dict[str, int] = {}
        self.known = Known(session)
        # status code as written → the vocabulary's code
        self.codes: dict[str, str] = {}
        # claims added by this load: their details are new, not changes to report
        self.fresh: set[int] = set()
        # the date each new claim was said (a status may not be dated before it)
        self.said: dict[int, PartialDate | None] = {}
        # the DDL of indexes dropped for a big load, built again once its new rows are in
        self.deferred: list[str] = []
        # normalised tag name → id
        self.tag_ids: dict[str, int] = {}
        # a speaker's name or alias as a file writes it → the speaker and its id
        self.speaker_ids: dict[str, tuple[Speaker, int]] = {}
        # the new claims' rows are written on its thread (see factdb.stories.writer)
        self.writer = RowWriter(session)

    def count(self, what: str, n: int = 1) -> None:
        self.report.counts[what] += n

    def changed(self, what: str, fields: list[str]) -> None:
        if fields:
            self.report.changes.append(f"{what}: {', '.join(fields)} changed")

    # speakers ------------------------------------------------------------------------------

    def speaker(self, data: dict[str, Any]) -> None:
        """Create a declared speaker, or match it and apply the file's fields and aliases."""
        names = [data["name"], *(data.get("aliases") or [])]
        existing = self.known.speaker(names)
        if existing is None:
            existing = self.known.new_speaker(data)
            self.count("speakers added")
        else:
            # a known speaker: new rows go through the session from here (see Known)
            self.known.to_session()
            self.count("speakers matched")
            # a speaker adopted under another of its names keeps the user's fields
            if existing.name_key == spec.key(data["name"]):
                self._edit_speaker(existing, data)
            known = {existing.name_key} | {a.alias_key for a in existing.aliases}
            # a speaker adopted under one of the file's aliases also answers to the file's name
            for alias in names:
                if spec.key(alias) not in known:
                    self.known.new_alias(existing, alias)
                    known.add(spec.key(alias))
                    self.count("aliases added")
        for n in names:
            self.speakers[spec.key(n)] = existing

    def _edit_speaker(self, speaker: Speaker, data: dict[str, Any]) -> None:
        from factdb.services.speakers import edit_speaker

        changes = {
            k: data[k]
            for k in ("kind", "role", "notes")
            if k in data and _clean(data[k]) != getattr(speaker, k)
        }
        if "external_ids" in data and (data["external_ids"] or None) != speaker.external_ids:
            wanted = data["external_ids"] or {}
            # edit_speaker merges: an empty value removes a key the file no longer has
            changes["external_ids"] = {**{k: "" for k in speaker.external_ids or {}}, **wanted}
        if changes:
            edit_speaker(self.session, speaker.id, **changes)
            self.changed(f"speaker {speaker.name!r}", sorted(changes))

    def speaker_acts_for(self, data: dict[str, Any]) -> None:
        """Second pass: whom each declared speaker acts for (declared in any order)."""
        from factdb.services.speakers import edit_speaker

        if "acts_for" not in data:
            return
        speaker = self.speakers[spec.key(data["name"])]
        if speaker.name_key != spec.key(data["name"]):
            return
        target = self.speaker_ref(data["acts_for"]) if data["acts_for"] else None
        if speaker.acts_for_id != (target.id if target else None):
            had = speaker.acts_for_id is not None
            edit_speaker(self.session, speaker.id, acts_for=target.id if target else None)
            if had:
                self.changed(f"speaker {speaker.name!r}", ["acts_for"])

    def speaker_ref(self, ref: str) -> Speaker:
        from factdb.services.speakers import get_speaker

        found = self.speakers.get(spec.key(ref))
        if found is None:
            self.quiet()
            found = self.speakers[spec.key(ref)] = get_speaker(self.session, ref)
        return found

    # sources -------------------------------------------------------------------------------

    def source(self, data: dict[str, Any]) -> None:
        """Create a declared source, or match it (URL, else name) and apply the file's fields."""
        existing = self.known.source(data["name"], data.get("url"))
        if existing is None:
            existing = self.known.new_source(data)
            self.count("sources added")
        else:
            self.known.to_session()  # as for a known speaker
            self.count("sources matched")
            self._edit_source(existing, data)
        self.sources[spec.key(data["name"])] = self.sources.get(spec.key(data["name"])) or existing
        if data.get("url"):
            self.sources[data["url"].strip()] = existing

    def _edit_source(self, source: Source, data: dict[str, Any]) -> None:
        from factdb.services.sources import edit_source

        changes = {
            k: data[k]
            for k in ("kind", "title", "credit", "notes")
            if k in data and _clean(data[k]) != _clean(getattr(source, k))
        }
        if "published_on" in data:
            stored = format_partial(source.published_on, source.published_precision)
            if data["published_on"] != stored:
                changes["published_on"] = data["published_on"]
        if changes:
            edit_source(self.session, source.id, **changes)
            self.changed(f"source {source.name!r}", sorted(changes))

    def source_based_on(self, data: dict[str, Any]) -> None:
        """Second pass: which source each declared source is based on."""
        from factdb.services.sources import edit_source

        if "based_on" not in data:
            return
        source = self.source_ref(data.get("url") or data["name"])
        target = self.source_ref(data["based_on"]) if data["based_on"] else None
        if source.based_on_id != (target.id if target else None):
            had = source.based_on_id is not None
            edit_source(self.session, source.id, based_on=target.id if target else None)
            if had:
                self.changed(f"source {source.name!r}", ["based_on"])

    def source_id(self, ref: str) -> int:
        """:meth:`source_ref`'s id (kept by reference: a big story cites a few sources in every
        claim, and an ORM attribute costs more than a dict)."""
        found = self.source_ids.get(ref)
        if found is None:
            found = self.source_ids[ref] = self.source_ref(ref).id
        return found

    def source_ref(self, ref: str) -> Source:
        from factdb.services.sources import get_source

        found = self.sources.get(ref.strip()) or self.sources.get(spec.key(ref))
        if found is None:
            self.quiet()
            found = self.sources[spec.key(ref)] = get_source(self.session, ref)
        return found

    # claims ----------------------------------------------------------------------------------

    def new_claims(self, story: Story) -> None:
        """Find the story's claims again (edits go through :meth:`claim`); add the new ones in
        bulk (:mod:`factdb.stories.bulk`) with their tags and chains, a chunk at a time, each
        written on the writer's thread while the next is built (:mod:`factdb.stories.writer`)."""
        self.quiet()
        identities = [story.identity(c) if c else (None, None) for c in story.claims]
        # into a table without claims there is no claim to find, by identity or by content: no
        # look-up, so no wait for the writer between chunks
        look_up = bulk.has_claims(self.session)
        known = bulk.known_identities(self.session, identities) if look_up else {}
        new = []
        for i, data in enumerate(story.claims):
            origin, external = identities[i]
            if external is not None and (origin, external) in known:
                run_step(story, ("claims", i), self.claim, story, data)
                run_step(story, ("claims", i, "attributions"), self.attributions, story, data)
                continue
            new.append((i, data, origin, external))
        if not new:
            return
        # a big load builds its indexes at the end (see apply_stories)
        self.deferred += bulk.defer_indexes(self.session, len(new))
        next_id = bulk.next_id(self.session) if self.writer.sqlite else None
        self.session.flush()
        writer = self.writer
        # PostgreSQL suspends the search index by ALTER TABLE, which locks readers out until
        # the commit: only for a load as big as the importer's bulk ones
        big = bulk.SEARCH_IN_ONE_GO if writer.sqlite else bulkwrite.DEFER_INDEXES_FROM
        search_suspended = False
        # content key → the id of the first new claim with it (a claim the file has twice is
        # stored once); content key → the id of a claim the database had already
        first: dict[str, int] = {}
        in_db: dict[str, int] = {}
        adopted: list[tuple[int, dict[str, Any], str]] = []
        added = 0
        for part in bulk.chunks(new, bulk.CLAIMS_PER_WRITE):
            built = self._new_rows(story, part)
            keys = [row[bulk.KEY_AT] for _i, _d, row, _s in built]
            if look_up:
                self.quiet()
                in_db.update(bulk.known_keys(self.session, [k for k in keys if k not in first]))
            rows = []
            chunk_keys: set[str] = set()
            for new_row, key in zip(built, keys, strict=True):
                if key in in_db or key in first or key in chunk_keys:
                    adopted.append((new_row[0], new_row[1], key))
                else:
                    chunk_keys.add(key)
                    rows.append(new_row)
            if next_id is None:
                ids = bulk.new_ids(self.session, len(rows))
            else:
                # SQLite: the transaction holds the write lock, and only this load adds claims
                ids, next_id = list(range(next_id, next_id + len(rows))), next_id + len(rows)
            if not ids:
                continue
            if not search_suspended and len(new) >= big:
                writer.suspend_search(ids[0] - 1)
                search_suspended = True
            self._write_new(story, list(zip(ids, rows, strict=True)), first)
            writer.index_for_search(ids[-1])
            added += len(ids)
        if search_suspended:
            writer.resume_search()
        self.count("claims added", added)
        if not adopted:
            return
        self.quiet()
        stored = set(in_db.values())
        for i, data, key in adopted:
            # the user typed this very claim in already, or the file has it twice: use the
            # first, do not store it twice
            claim_id = in_db.get(key) or first[key]
            story.claim_ids[data["id"]] = claim_id
            self.count("claims matched" if claim_id in stored else "claims unchanged")
            run_step(story, ("claims", i, "attributions"), self.attributions, story, data)

    def _new_rows(
        self, story: Story, part: list[tuple[int, dict[str, Any], str | None, str | None]]
    ) -> list[tuple[int, dict[str, Any], tuple[Any, ...], PartialDate | None]]:
        """The statements rows of a chunk of new claims (index, file data, origin, external
        id) as (index, file data, row, date said); a refusal is a StoryError at the claim's
        line, as :func:`run_step` gives it (one try for the chunk: a big story has a hundred
        thousand claims)."""
        built = []
        speaker_ids, language, sqlite = self.speaker_ids, story.language, self.writer.sqlite
        values = bulk.statement_values
        i = -1
        try:
            for i, data, origin, external in part:
                found = speaker_ids.get(data["speaker"])
                if found is None:
                    found = self._speaker_id(data["speaker"])
                row, said = values(data, language, found[1], origin, external, sqlite)
                built.append((i, data, row, said))
        except StoryError:
            raise
        except FactdbError as exc:
            raise StoryError(story.path, [Problem(story.line("claims", i), str(exc))]) from None
        return built

    def _speaker_id(self, name: str) -> tuple[Speaker, int]:
        """The speaker a claim names (by the name as written) and its id, kept by that name
        (an ORM attribute costs more than a dict; :meth:`_new_rows` reads the dict inline)."""
        found = self.speaker_ids.get(name)
        if found is None:
            speaker = self.speaker_ref(name)
            found = self.speaker_ids[name] = (speaker, speaker.id)
        return found

    def _write_new(
        self,
        story: Story,
        new: list[tuple[int, tuple[int, dict[str, Any], tuple[Any, ...], PartialDate | None]]],
        first: dict[str, int],
    ) -> None:
        """Hand a chunk of new claims (id, (index, file data, row, date said)) to the writer:
        statements, tags, attributions."""
        writer = self.writer
        shared = _tag_names(story.tags) if story.tags else []
        names = {}
        for id_, (_i, data, _r, _s) in new:
            own = data.get("tags")
            names[id_] = _tag_names([*story.tags, *own]) if own else shared
        self._make_tags({name for found in names.values() for name in found})
        statements, tag_rows, chains = [], [], []
        key_at = bulk.KEY_AT
        plain = not story.chain and not story.outlet
        fresh, said_of, claim_ids, tag_ids = self.fresh, self.said, story.claim_ids, self.tag_ids
        source_id, latest_code, chain_rows = self.source_id, self._latest_code, bulk.chain_rows
        codes = self.codes
        for claim_id, (_i, data, row, said) in new:
            claim_ids[data["id"]] = claim_id
            fresh.add(claim_id)
            first[row[key_at]] = claim_id
            said_of[claim_id] = said
            # the current status goes in with the row: updating it afterwards would re-index
            # every claim for search (an UPDATE fires the search triggers)
            items = data.get("status")
            code = None
            if items and len(items) == 1 and items[0] and len(items[0]) == 2:
                # the common history: one event, only its status and date
                code = codes.get(items[0]["status"])
            statements.append((claim_id, *row, code or latest_code(data)))
            for tag in names[claim_id]:
                tag_rows.append((claim_id, tag_ids[tag]))
            # as written when the story adds no shared links (no copy of each link then)
            wanted = data.get("attributions") if plain else self.wanted_chain(story, data)
            if wanted:
                chains.extend(
                    chain_rows(claim_id, [(source_id(w["source"]), w) for w in wanted if w])
                )
        writer.insert(Statement, STATEMENT_COLUMNS, statements)
        writer.insert(StatementTag, ("statement_id", "tag_id"), tag_rows)
        writer.insert(Attribution, bulk.CHAIN_COLUMNS, chains)

    def _make_tags(self, names: set[str]) -> None:
        """The ids of these tags (normalised names), made in the database when new."""
        from factdb.services.claims import _tag_rows

        missing = sorted(names - self.tag_ids.keys())
        if missing:
            self.quiet()
            self.tag_ids.update({tag.name: tag.id for tag in _tag_rows(self.session, missing)})

    def quiet(self) -> None:
        """Wait for the writer's pending writes (before the session is used here)."""
        self.writer.quiet()

    def _latest_code(self, data: dict[str, Any]) -> str | None:
        """The status a new claim's history leaves it in (latest date, then recorded-at, then
        the file's order; an event without recorded-at is recorded now, after all others)."""
        from factdb.services.statuses import check_status

        items = data.get("status") or []
        if len(items) == 1 and items[0] and not items[0].get("withdrawn_at"):
            # the common case: one event, whatever its date
            code = self.codes.get(items[0]["status"])
            if code is not None:
                return code
        latest: tuple[Any, ...] | None = None
        for order, item in enumerate(filter(None, items)):
            if item.get("withdrawn_at"):
                continue  # in the history, but no longer counts
            code = self.codes.get(item["status"])
            if code is None:
                self.quiet()
                code = self.codes[item["status"]] = check_status(self.session, item["status"]).code
            recorded = item.get("recorded_at") or "9999"
            rank = (parse_partial(item["on"]).start, recorded, order)
            if latest is None or rank > latest[0]:
                latest = (rank, code)
        return latest[1] if latest else None

    def claim(self, story: Story, data: dict[str, Any]) -> None:
        """Add a claim, or find it again and apply the file's changed fields."""
        from factdb.services.claims import DuplicateClaim, add_claim

        origin, external = story.identity(data)
        fields = self._claim_fields(story, data)
        existing = None
        if external is not None:
            existing = self.session.scalar(
                select(Statement).where(
                    Statement.origin == origin, Statement.external_id == external
                )
            )
        if existing is not None:
            story.claim_ids[data["id"]] = existing.id
            self._edit_claim(existing, data, fields)
            return
        try:
            statement = add_claim(
                self.session,
                text=fields["text"],
                speaker=fields["speaker"].name,
                create_speaker=False,
                quote_kind=fields["quote_kind"],
                language=fields["language"],
                original_text=fields["original_text"],
                original_language=fields["original_language"],
                said_on=fields["said_on"],
                context=fields["context"],
                tags=fields["tags"],
                origin=origin,
                external_id=external,
            )
        except DuplicateClaim as exc:
            # the user typed this very claim in already (or it has no external id and was
            # loaded before): use it, do not store it twice
            story.claim_ids[data["id"]] = exc.existing_id
            key = "claims matched" if external is not None else "claims unchanged"
            self.count(key)
            return
        story.claim_ids[data["id"]] = statement.id
        self.fresh.add(statement.id)
        self.count("claims added")

    def _claim_fields(self, story: Story, data: dict[str, Any]) -> dict[str, Any]:
        own = data.get("tags")
        tags = list(dict.fromkeys([*story.tags, *own])) if own else list(story.tags)
        speaker, speaker_id = self._speaker_id(data["speaker"])
        return {
            "text": data["text"],
            "speaker": speaker,
            "speaker_id": speaker_id,
            "quote_kind": data.get("quote_kind") or spec.DEFAULT_QUOTE_KIND,
            "language": data.get("language", story.language),
            "original_text": data.get("original_text"),
            "original_language": data.get("original_language"),
            "said_on": data.get("said_on"),
            "context": data.get("context"),
            "tags": tags,
        }

    def _edit_claim(
        self, statement: Statement, data: dict[str, Any], fields: dict[str, Any]
    ) -> None:
        from factdb.services.claims import edit_claim

        stored = {
            "text": statement.text,
            "speaker": statement.speaker_id,
            "quote_kind": statement.quote_kind,
            "language": statement.language,
            "original_text": statement.original_text,
            "original_language": statement.original_language,
            "said_on": format_partial(statement.said_on, statement.said_precision),
            "context": statement.context,
            "tags": sorted(t.name for t in statement.tags),
        }
        wanted = dict(fields, speaker=fields["speaker_id"], tags=_tag_names(fields["tags"]))
        del wanted["speaker_id"]
        for key in ("text", "original_text", "context"):
            wanted[key] = _clean(wanted[key])
        changes = {k: v for k, v in wanted.items() if v != stored[k]}
        if changes:
            if "speaker" in changes:
                changes["speaker"] = fields["speaker"].name
            edit_claim(self.session, statement.id, **changes)
            self.count("claims changed")
            self.changed(f"claim {data['id']!r} ({statement.id})", sorted(changes))
        else:
            self.count("claims unchanged")

    @staticmethod
    def wanted_chain(story: Story, data: dict[str, Any]) -> list[dict[str, Any]]:
        """The claim's own chain, then the story's shared links and outlet it does not cite."""
        wanted = [dict(item) for item in data.get("attributions") or [] if item]
        if not story.chain and not story.outlet:
            return wanted
        cited = {(spec.key(w["source"]), w.get("role") or spec.DEFAULT_ROLE) for w in wanted}
        extra = list(story.chain)
        if story.outlet:
            extra.append({"source": story.outlet, "role": "published_by"})
        for item in extra:
            if (spec.key(item["source"]), item.get("role") or spec.DEFAULT_ROLE) not in cited:
                wanted.append(dict(item))
        return wanted

    def attributions(self, story: Story, data: dict[str, Any]) -> None:
        """Make an existing claim's chain hold the file's links (new claims: see bulk)."""
        claim_id = story.claim_ids[data["id"]]
        if claim_id in self.fresh:
            return
        rows = list(
            self.session.scalars(
                select(Attribution)
                .where(Attribution.statement_id == claim_id)
                .order_by(Attribution.position)
            )
        )
        wanted = self.wanted_chain(story, data)
        present = {(r.source_id, r.role): r for r in rows}
        taken = {r.position for r in rows}
        for item in wanted:
            source = self.source_ref(item["source"])
            role = item.get("role") or spec.DEFAULT_ROLE
            verb = " ".join(item["verb"].split()) if item.get("verb") else None
            row = present.get((source.id, role))
            if row is not None:
                if row.verb != verb:
                    row.verb = verb
                    what = f"claim {data['id']!r} ({claim_id}), {source.name} {role}"
                    self.changed(what, ["verb"])
                continue
            position = item.get("position")
            if position is None or position in taken:
                position = max(taken, default=0) + 1
            taken.add(position)
            row = Attribution(
                statement_id=claim_id, source_id=source.id, role=role, verb=verb, position=position
            )
            self.session.add(row)
            present[(source.id, role)] = row
            self.count("attributions added")
            self.report.changes.append(
                f"claim {data['id']!r} ({claim_id}): attribution added ({source.name}, {role})"
            )

    def claim_ref(self, story: Story, ref: str) -> int:
        """The database id of a claim named in ``story``: a local key, or "<story>/<key>" for
        another story's claim (under this story's origin, else under the only origin that has
        that external id)."""
        if "/" not in ref:
            return story.claim_ids[ref]
        self.quiet()
        rows = self.session.execute(
            select(Statement.id, Statement.origin).where(Statement.external_id == ref)
        ).all()
        mine = [row.id for row in rows if row.origin == story.origin]
        if mine or len(rows) == 1:
            return mine[0] if mine else rows[0].id
        if not rows:
            raise FactdbError(f"no claim with the id {ref!r}")
        origins = ", ".join(sorted(repr(row.origin) for row in rows))
        raise FactdbError(f"claim id {ref!r} is in several origins ({origins})")


# a new claim's statements row: its id, the columns of bulk.statement_values, its current status
STATEMENT_COLUMNS = ("id", *bulk.STATEMENT_ROW_COLUMNS, "current_status")


def _tag_names(tags: list[str]) -> list[str]:
    """Tags as the database stores them (normalised, once each), sorted."""
    return sorted({name for name in map(normalise_tag, tags) if name})


def run_step(story: Story, where: tuple[Any, ...], step: Any, *args: Any) -> None:
    """Run one loading step; a refusal from a service becomes a StoryError at the line of
    ``where`` (the arguments of :meth:`Story.line`, looked up only when needed)."""
    try:
        step(*args)
    except StoryError:
        raise
    except FactdbError as exc:
        raise StoryError(story.path, [Problem(story.line(*where), str(exc))]) from None
