"""Seed files: a story written as structured data, loaded through the ordinary services.

A seed file is TOML (read with the standard library's ``tomllib``; comments allowed, which is
why the shipped story uses it) or JSON with the same structure::

    [story]                 id (required: the external-id prefix), origin ("seed"), title,
                            language (default of the claims), tags (added to every claim)
    [[speakers]]            name (required), kind, role, acts_for, aliases, external_ids, notes
    [[sources]]             name (required), kind, url, title, credit, published_on, based_on, notes
    [[claims]]              id (required, unique in the story), speaker, text (both required),
                            quote_kind, language, original_text, original_language, said_on,
                            context, tags,
                            attributions = [{source, role, verb}]            (in chain order)
                            status = [{status, on, note, evidence_claim, evidence_source,
                                       recorded_by}]                         (oldest first)
                            links = [{relation, to, on, note}]               (from this claim)
                            verdicts = [{label, reviewer, reviewed_on, url, scale,
                                         rating_value, best_rating, worst_rating}]

A claim is stored with ``origin`` and ``external_id = "<story id>/<claim id>"``; links and
evidence name claims by their local id, or by ``"<story id>/<claim id>"`` for another story's.
Speakers and sources in claims are named by the name (or, for speakers, an alias) given in the
file, else by a name already in the database.

Loading is idempotent, so that ``factdb seed`` twice changes nothing:

- a claim whose origin + external id exists is left as it is ("unchanged"; the seed never
  overwrites what a user edited since); a claim identical to one the user typed in (same
  speaker, text and date) is adopted rather than duplicated;
- a speaker is matched by its name or any of its aliases, a source by URL (or by name when it
  has none); matched ones are not changed, except that missing seed aliases are added;
- a status event is skipped when the claim already has one with the same status and date, a
  link when the same link exists, a verdict when one with the same label, reviewer and date
  exists, an attribution when the same source already has that role in the claim's chain.

Every file is read and checked before anything is written; a malformed file, or one the
database refuses (an unknown status, a near-miss speaker name), raises one FactdbError naming
the file and the problem. The caller owns the transaction, so nothing is half-written.
"""

from __future__ import annotations

import json
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import factdb
from factdb.dates import parse_partial
from factdb.errors import FactdbError
from factdb.models import (
    ATTRIBUTION_ROLES,
    LINK_RELATIONS,
    QUOTE_KINDS,
    SOURCE_KINDS,
    SPEAKER_KINDS,
    Attribution,
    Speaker,
    Statement,
    StatementLink,
    StatusEvent,
    Verdict,
)
from factdb.textkeys import name_key

SEED_SUFFIXES = (".toml", ".json")
DEFAULT_ORIGIN = "seed"

# key → (expected type, required). A list type is written as (list, item type).
_Spec = dict[str, tuple[Any, bool]]
_STR_LIST = (list, str)
_TABLE_LIST = (list, dict)
STORY: _Spec = {
    "id": (str, True),
    "origin": (str, False),
    "title": (str, False),
    "language": (str, False),
    "tags": (_STR_LIST, False),
}
SPEAKER: _Spec = {
    "name": (str, True),
    "kind": (str, False),
    "role": (str, False),
    "acts_for": (str, False),
    "aliases": (_STR_LIST, False),
    "external_ids": (dict, False),
    "notes": (str, False),
}
SOURCE: _Spec = {
    "name": (str, True),
    "kind": (str, False),
    "url": (str, False),
    "title": (str, False),
    "credit": (str, False),
    "published_on": (str, False),
    "based_on": (str, False),
    "notes": (str, False),
}
CLAIM: _Spec = {
    "id": (str, True),
    "speaker": (str, True),
    "text": (str, True),
    "quote_kind": (str, False),
    "language": (str, False),
    "original_text": (str, False),
    "original_language": (str, False),
    "said_on": (str, False),
    "context": (str, False),
    "tags": (_STR_LIST, False),
    "attributions": (_TABLE_LIST, False),
    "status": (_TABLE_LIST, False),
    "links": (_TABLE_LIST, False),
    "verdicts": (_TABLE_LIST, False),
}
ATTRIBUTION: _Spec = {"source": (str, True), "role": (str, False), "verb": (str, False)}
STATUS_EVENT: _Spec = {
    "status": (str, True),
    "on": (str, True),
    "note": (str, False),
    "evidence_claim": (str, False),
    "evidence_source": (str, False),
    "recorded_by": (str, False),
}
LINK: _Spec = {
    "relation": (str, True),
    "to": (str, True),
    "on": (str, False),
    "note": (str, False),
}
VERDICT: _Spec = {
    "label": (str, True),
    "reviewer": (str, False),
    "reviewed_on": (str, False),
    "url": (str, False),
    "scale": (str, False),
    "rating_value": (int, False),
    "best_rating": (int, False),
    "worst_rating": (int, False),
}
TOP: _Spec = {
    "story": (dict, True),
    "speakers": (_TABLE_LIST, False),
    "sources": (_TABLE_LIST, False),
    "claims": (_TABLE_LIST, True),
}


class SeedError(FactdbError):
    """A seed file that cannot be read or loaded; the message names the file."""

    def __init__(self, path: Path | str, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"seed file {self.path}: {problem}")


@dataclass
class Story:
    """One seed file, read and checked (plain data, nothing resolved against a database)."""

    path: Path
    id: str
    origin: str
    language: str | None
    tags: list[str]
    speakers: list[dict[str, Any]]
    sources: list[dict[str, Any]]
    claims: list[dict[str, Any]]
    # claim local id → database id, filled while loading
    claim_ids: dict[str, int] = field(default_factory=dict)

    def external_id(self, ref: str) -> str:
        """The stored external id of a claim reference (local id or "story/id")."""
        return ref if "/" in ref else f"{self.id}/{ref}"


def seed_dir() -> Path:
    """Where the shipped seed files are: package data when installed, else the checkout's seeds/."""
    package = Path(factdb.__file__).resolve().parent
    installed = package / "_seeds"
    if installed.is_dir():
        return installed
    return package.parent / "seeds"


def default_seed_files() -> list[Path]:
    """The seed files shipped with factdb (``seeds/*.toml`` and ``*.json``), in name order."""
    folder = seed_dir()
    if not folder.is_dir():
        raise FactdbError(f"no seed folder found at {folder}")
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in SEED_SUFFIXES)
    if not files:
        raise FactdbError(f"no seed files (*.toml, *.json) in {folder}")
    return files


# --- reading and checking --------------------------------------------------------------------


def _type_name(expected: Any) -> str:
    if isinstance(expected, tuple):
        return "a list of tables" if expected[1] is dict else "a list of strings"
    return {str: "a string", int: "an integer", dict: "a table"}[expected]


def _check_table(path: Path, data: Any, spec: _Spec, where: str) -> dict[str, Any]:
    """Refuse unknown keys (typos), missing required keys and values of the wrong type."""
    if not isinstance(data, dict):
        raise SeedError(path, f"{where} must be a table")
    unknown = sorted(set(data) - set(spec))
    if unknown:
        raise SeedError(
            path, f"{where}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(spec))})"
        )
    for key, (expected, required) in spec.items():
        if key not in data or data[key] is None:
            if required:
                raise SeedError(path, f"{where}: missing {key!r}")
            continue
        value = data[key]
        if isinstance(expected, tuple):
            ok = isinstance(value, list) and all(isinstance(v, expected[1]) for v in value)
        elif expected is int:
            ok = isinstance(value, int) and not isinstance(value, bool)
        else:
            ok = isinstance(value, expected)
        if ok and expected is str and not value.strip() and required:
            raise SeedError(path, f"{where}: {key!r} is empty")
        if not ok:
            raise SeedError(path, f"{where}: {key!r} must be {_type_name(expected)}")
    return data


def _check_choice(path: Path, value: str | None, choices: tuple[str, ...], what: str) -> None:
    if value is not None and value not in choices:
        raise SeedError(path, f"unknown {what} {value!r} (use: {', '.join(choices)})")


def _check_date(path: Path, value: str | None, where: str) -> None:
    if value is None:
        return
    try:
        parse_partial(value)
    except FactdbError as exc:
        raise SeedError(path, f"{where}: {exc}") from None


def _parse(path: Path) -> Any:
    """The file's content as Python data (TOML or JSON by suffix)."""
    if path.suffix not in SEED_SUFFIXES:
        raise SeedError(
            path, f"unsupported file type {path.suffix or '(none)'!r} (use .toml or .json)"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SeedError(path, f"cannot read it: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise SeedError(path, "not UTF-8 text") from None
    try:
        return tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SeedError(path, f"not valid TOML: {exc}") from None
    except json.JSONDecodeError as exc:
        raise SeedError(path, f"not valid JSON: {exc}") from None


def read_seed_file(path: Path) -> Story:
    """Read and check one seed file; every problem is a SeedError naming the file."""
    path = Path(path)
    data = _check_table(path, _parse(path), TOP, "the file")
    story = _check_table(path, data["story"], STORY, "[story]")
    if "/" in story["id"]:
        raise SeedError(path, "[story]: 'id' cannot contain '/'")
    speakers = [
        _check_table(path, s, SPEAKER, f"speaker {i + 1}")
        for i, s in enumerate(data.get("speakers") or [])
    ]
    sources = [
        _check_table(path, s, SOURCE, f"source {i + 1}")
        for i, s in enumerate(data.get("sources") or [])
    ]
    for speaker in speakers:
        _check_choice(path, speaker.get("kind"), SPEAKER_KINDS, "speaker kind")
    for source in sources:
        _check_choice(path, source.get("kind"), SOURCE_KINDS, "source kind")
        _check_date(path, source.get("published_on"), f"source {source['name']!r}")
    claims = [_check_table(path, c, CLAIM, f"claim {i + 1}") for i, c in enumerate(data["claims"])]
    local_ids = [c["id"] for c in claims]
    for claim_id in local_ids:
        if "/" in claim_id:
            raise SeedError(path, f"claim id {claim_id!r} cannot contain '/'")
        if local_ids.count(claim_id) > 1:
            raise SeedError(path, f"claim id {claim_id!r} is used twice")
    for claim in claims:
        _check_claim(path, claim, set(local_ids))
    return Story(
        path=path,
        id=story["id"].strip(),
        origin=(story.get("origin") or DEFAULT_ORIGIN).strip(),
        language=story.get("language"),
        tags=list(story.get("tags") or []),
        speakers=speakers,
        sources=sources,
        claims=claims,
    )


def _check_claim(path: Path, claim: dict[str, Any], local_ids: set[str]) -> None:
    """Check a claim's nested tables, its vocabularies, dates and references to other claims."""
    where = f"claim {claim['id']!r}"
    _check_choice(path, claim.get("quote_kind"), QUOTE_KINDS, "quote kind")
    _check_date(path, claim.get("said_on"), where)

    def claim_ref(ref: str, what: str) -> None:
        if "/" not in ref and ref not in local_ids:
            raise SeedError(path, f"{where}: {what} names unknown claim {ref!r}")
        if ref == claim["id"]:
            raise SeedError(path, f"{where}: {what} names the claim itself")

    for item in claim.get("attributions") or []:
        _check_table(path, item, ATTRIBUTION, f"{where}, attribution")
        _check_choice(path, item.get("role"), ATTRIBUTION_ROLES, "attribution role")
    for item in claim.get("status") or []:
        _check_table(path, item, STATUS_EVENT, f"{where}, status")
        _check_date(path, item["on"], f"{where}, status {item['status']!r}")
        if item.get("evidence_claim"):
            claim_ref(item["evidence_claim"], "status evidence")
    for item in claim.get("links") or []:
        _check_table(path, item, LINK, f"{where}, link")
        _check_choice(path, item["relation"], LINK_RELATIONS, "link relation")
        _check_date(path, item.get("on"), f"{where}, link")
        claim_ref(item["to"], "a link")
    for item in claim.get("verdicts") or []:
        _check_table(path, item, VERDICT, f"{where}, verdict")
        _check_date(path, item.get("reviewed_on"), f"{where}, verdict")


# --- loading ---------------------------------------------------------------------------------


class _Loader:
    """Loads checked stories through the services, counting what it adds and what it finds."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.counts: Counter[str] = Counter()
        # name keys (names and aliases in the seed files) → database rows
        self.speakers: dict[str, Speaker] = {}
        self.sources: dict[str, Any] = {}

    # speakers and sources ----------------------------------------------------------------

    def speaker(self, data: dict[str, Any]) -> None:
        from factdb.services.names import NearMatch
        from factdb.services.speakers import add_alias, find_speaker

        names = [data["name"], *(data.get("aliases") or [])]
        existing = next((s for s in (find_speaker(self.session, n) for n in names) if s), None)
        matched = existing is not None
        if existing is None:
            acts_for = self.speaker_ref(data["acts_for"]).name if data.get("acts_for") else None
            try:
                existing = self._create_speaker(data, acts_for)
            except NearMatch as exc:
                raise FactdbError(
                    f"{exc}; if so, add that spelling to the speaker's aliases in the seed file"
                ) from None
            self.counts["speakers added"] += 1
        else:
            self.counts["speakers matched"] += 1
        for name in names:
            owner = find_speaker(self.session, name)
            if owner is None:
                add_alias(self.session, existing, name)
                if matched:
                    self.counts["aliases added"] += 1
            elif owner.id != existing.id:
                raise FactdbError(
                    f"speaker {data['name']!r}: the name {name!r} already belongs to speaker "
                    f"{owner.name!r}"
                )
            self.speakers[name_key(name)] = existing

    def _create_speaker(self, data: dict[str, Any], acts_for: str | None) -> Speaker:
        from factdb.services.speakers import create_speaker

        return create_speaker(
            self.session,
            data["name"],
            kind=data.get("kind") or "person",
            role=data.get("role"),
            acts_for=acts_for,
            external_ids=data.get("external_ids"),
            notes=data.get("notes"),
        )

    def speaker_ref(self, name: str) -> Speaker:
        from factdb.services.speakers import get_speaker

        return self.speakers.get(name_key(name)) or get_speaker(self.session, name)

    def source(self, data: dict[str, Any]) -> None:
        from factdb.services.sources import create_source, find_source

        existing = find_source(self.session, data["name"], data.get("url"))
        if existing is None:
            based_on = self.source_ref(data["based_on"]).id if data.get("based_on") else None
            existing = create_source(
                self.session,
                data["name"],
                kind=data.get("kind") or "outlet",
                url=data.get("url"),
                title=data.get("title"),
                published_on=data.get("published_on"),
                credit=data.get("credit"),
                based_on=str(based_on) if based_on else None,
                notes=data.get("notes"),
            )
            self.counts["sources added"] += 1
        else:
            self.counts["sources matched"] += 1
        self.sources[name_key(data["name"])] = existing
        if data.get("url"):
            self.sources[data["url"].strip()] = existing

    def source_ref(self, ref: str) -> Any:
        from factdb.services.sources import get_source

        return (
            self.sources.get(ref.strip())
            or self.sources.get(name_key(ref))
            or get_source(self.session, ref)
        )

    # claims ----------------------------------------------------------------------------------

    def claim(self, story: Story, data: dict[str, Any]) -> None:
        from factdb.services.claims import AttributionInput, DuplicateClaim, add_claim

        external_id = story.external_id(data["id"])
        existing = self.session.scalar(
            select(Statement.id).where(
                Statement.origin == story.origin, Statement.external_id == external_id
            )
        )
        if existing is not None:
            story.claim_ids[data["id"]] = existing
            self.counts["claims unchanged"] += 1
            self.missing_attributions(existing, data)
            return
        speaker = self.speaker_ref(data["speaker"])
        attributions = []
        for item in data.get("attributions") or []:
            source = self.source_ref(item["source"])
            attributions.append(
                AttributionInput(
                    source=source.name,
                    url=source.url,
                    kind=source.kind,
                    role=item.get("role") or "reported_by",
                    verb=item.get("verb"),
                )
            )
        try:
            statement = add_claim(
                self.session,
                text=data["text"],
                speaker=speaker.name,
                create_speaker=False,
                quote_kind=data.get("quote_kind") or "direct_quote",
                language=data.get("language") or story.language,
                original_text=data.get("original_text"),
                original_language=data.get("original_language"),
                said_on=data.get("said_on"),
                context=data.get("context"),
                tags=[*story.tags, *(data.get("tags") or [])],
                origin=story.origin,
                external_id=external_id,
                sources=attributions,
            )
        except DuplicateClaim as exc:
            # the user typed this very claim in already: use theirs, do not store it twice
            story.claim_ids[data["id"]] = exc.existing_id
            self.counts["claims matched"] += 1
            self.missing_attributions(exc.existing_id, data)
            return
        story.claim_ids[data["id"]] = statement.id
        self.counts["claims added"] += 1

    def missing_attributions(self, claim_id: int, data: dict[str, Any]) -> None:
        """Append seed attributions the existing claim lacks (same source and role)."""
        from factdb.services.claims import AttributionInput, add_attribution, get_claim

        present = set(
            self.session.execute(
                select(Attribution.source_id, Attribution.role).where(
                    Attribution.statement_id == claim_id
                )
            ).all()
        )
        for item in data.get("attributions") or []:
            source = self.source_ref(item["source"])
            role = item.get("role") or "reported_by"
            if (source.id, role) in present:
                continue
            add_attribution(
                self.session,
                get_claim(self.session, claim_id),
                AttributionInput(
                    source=source.name,
                    url=source.url,
                    kind=source.kind,
                    role=role,
                    verb=item.get("verb"),
                ),
            )
            present.add((source.id, role))
            self.counts["attributions added"] += 1

    def claim_ref(self, story: Story, ref: str) -> int:
        """The database id of a claim named in ``story`` (local id or "story/id")."""
        if "/" not in ref:
            return story.claim_ids[ref]
        found = self.session.scalar(
            select(Statement.id).where(
                Statement.origin == story.origin, Statement.external_id == ref
            )
        )
        if found is None:
            raise FactdbError(f"no claim with origin {story.origin!r} and id {ref!r}")
        return found

    # statuses, links, verdicts ------------------------------------------------------------

    def statuses(self, story: Story, data: dict[str, Any]) -> None:
        from factdb.services.statuses import add_status_event, normalise_code

        claim_id = story.claim_ids[data["id"]]
        for item in data.get("status") or []:
            when = parse_partial(item["on"])
            present = self.session.scalar(
                select(StatusEvent.id).where(
                    StatusEvent.statement_id == claim_id,
                    StatusEvent.status_code == normalise_code(item["status"]),
                    StatusEvent.effective_on == when.start,
                    StatusEvent.effective_precision == when.precision,
                )
            )
            if present is not None:
                self.counts["status events present"] += 1
                continue
            evidence_claim = item.get("evidence_claim")
            evidence_source = item.get("evidence_source")
            add_status_event(
                self.session,
                claim_id,
                item["status"],
                item["on"],
                note=item.get("note"),
                evidence_source=self.source_ref(evidence_source).id if evidence_source else None,
                evidence_claim_id=self.claim_ref(story, evidence_claim) if evidence_claim else None,
                recorded_by=item.get("recorded_by") or "seed",
                # a story's history is replayed as written, repeats included
                again=True,
            )
            self.counts["status events added"] += 1

    def links(self, story: Story, data: dict[str, Any]) -> None:
        from factdb.services.links import link_claims

        from_id = story.claim_ids[data["id"]]
        for item in data.get("links") or []:
            to_id = self.claim_ref(story, item["to"])
            present = self.session.scalar(
                select(StatementLink.id).where(
                    StatementLink.from_statement_id == from_id,
                    StatementLink.to_statement_id == to_id,
                    StatementLink.relation == item["relation"],
                )
            )
            if present is not None:
                self.counts["links present"] += 1
                continue
            link_claims(
                self.session,
                from_id,
                item["relation"],
                to_id,
                linked_on=item.get("on"),
                note=item.get("note"),
            )
            self.counts["links added"] += 1

    def verdicts(self, story: Story, data: dict[str, Any]) -> None:
        from factdb.services.verdicts import add_verdict

        claim_id = story.claim_ids[data["id"]]
        for item in data.get("verdicts") or []:
            reviewed = parse_partial(item["reviewed_on"]).start if item.get("reviewed_on") else None
            query = select(Verdict.id).where(
                Verdict.statement_id == claim_id,
                Verdict.label == item["label"].strip(),
                Verdict.reviewed_on.is_(None)
                if reviewed is None
                else Verdict.reviewed_on == reviewed,
            )
            if item.get("reviewer"):
                query = query.where(Verdict.reviewer == item["reviewer"].strip())
            if self.session.scalar(query) is not None:
                self.counts["verdicts present"] += 1
                continue
            add_verdict(
                self.session,
                claim_id,
                item["label"],
                reviewer=item.get("reviewer"),
                reviewed_on=item.get("reviewed_on"),
                url=item.get("url"),
                scale=item.get("scale"),
                rating_value=item.get("rating_value"),
                best_rating=item.get("best_rating"),
                worst_rating=item.get("worst_rating"),
            )
            self.counts["verdicts added"] += 1


def _in_file(story: Story, step: Any, *args: Any) -> None:
    """Run one loading step; a refusal from a service becomes a SeedError naming the file."""
    try:
        step(*args)
    except SeedError:
        raise
    except FactdbError as exc:
        raise SeedError(story.path, str(exc)) from None


def load_seed_files(session: Session, paths: list[Path] | tuple[Path, ...]) -> str:
    """Load seed files in order (all checked first); return a one-line summary of the changes.

    Flushes, never commits: the caller's transaction makes the load all-or-nothing. Claims of
    every file are loaded before any status event or link, so a file may link to a claim of
    another file loaded in the same call.
    """
    if not paths:
        raise FactdbError("no seed files given")
    stories = [read_seed_file(Path(p)) for p in paths]
    loader = _Loader(session)
    for story in stories:
        for data in story.speakers:
            _in_file(story, loader.speaker, data)
        for data in story.sources:
            _in_file(story, loader.source, data)
    for story in stories:
        for data in story.claims:
            _in_file(story, loader.claim, story, data)
    for story in stories:
        for data in story.claims:
            _in_file(story, loader.statuses, story, data)
            _in_file(story, loader.links, story, data)
            _in_file(story, loader.verdicts, story, data)
    return summarise(loader.counts, len(stories))


def summarise(counts: Counter[str], files: int) -> str:
    """``seeded: 16 claims added, 0 unchanged; 5 speakers added, 0 matched; …``."""
    c = counts
    parts = [
        f"{c['claims added']} claims added, {c['claims unchanged']} unchanged"
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
    noun = "file" if files == 1 else "files"
    return f"seeded: {'; '.join(parts)} ({files} {noun})"
