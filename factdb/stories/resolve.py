"""Check a story's names against the database before anything is written (read-only).

Every speaker, source, status and scale a story names must be declared in the file or exist
in the database; a new name that nearly matches a known one is a problem ("did you mean"),
because storing it would make two records of one person or outlet.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from factdb.services.names import near_matches
from factdb.stories import spec
from factdb.stories.read import Problem, Story


def _did_you_mean(candidates: list[str]) -> str:
    return f"; did you mean {' or '.join(repr(c) for c in candidates)}?" if candidates else ""


@dataclass(frozen=True)
class KnownNames:
    """What the database knows of names, read once (plain data: a process checking a story
    aside, see :mod:`factdb.stories.aside`, gets a copy)."""

    speakers: dict[str, str]
    sources: dict[str, str]
    statuses: frozenset[str]
    scales: frozenset[str]

    @classmethod
    def read(cls, session: Session) -> KnownNames:
        """The speakers' and sources' names and aliases (by key, and sources by URL), the
        status codes and the rating scales' keys."""
        from sqlalchemy import select

        from factdb.models import RatingScale, Source, SourceAlias, Speaker, SpeakerAlias
        from factdb.services.statuses import status_codes

        speakers = {
            key: name for name, key in session.execute(select(Speaker.name, Speaker.name_key))
        }
        speakers.update(
            {
                key: name
                for name, key in session.execute(
                    select(Speaker.name, SpeakerAlias.alias_key).join(SpeakerAlias.speaker)
                )
            }
        )
        sources: dict[str, str] = {}
        for name, key, url in session.execute(select(Source.name, Source.name_key, Source.url)):
            sources.setdefault(key, name)
            if url:
                sources[url] = name
        # a source's other names ("AP") resolve to it, and suggest its name
        for name, key in session.execute(
            select(Source.name, SourceAlias.alias_key).join(SourceAlias.source)
        ):
            sources.setdefault(key, name)
        return cls(
            speakers=speakers,
            sources=sources,
            statuses=frozenset(status_codes(session)),
            scales=frozenset(spec.key(n) for n in session.scalars(select(RatingScale.name))),
        )


class Names:
    """The speakers, sources, statuses and scales known to a load: the files' and the database's."""

    def __init__(self, stories: list[Story], known: KnownNames) -> None:
        self.speakers: dict[str, str] = {}
        self.sources: dict[str, str] = {}
        for story in stories:
            for s in filter(None, story.speakers):
                for value in [s["name"], *(s.get("aliases") or [])]:
                    # an alias suggests its speaker's name: one speaker, one suggestion
                    self.speakers.setdefault(spec.key(value), s["name"])
            for s in filter(None, story.sources):
                self.sources.setdefault(spec.key(s["name"]), s["name"])
                if s.get("url"):
                    self.sources.setdefault(s["url"].strip(), s["name"])
        self.db_speakers = known.speakers
        self.db_sources = known.sources
        self.statuses = known.statuses
        self.scales = known.scales

    def speaker_problem(self, ref: str) -> str | None:
        """Why a speaker reference cannot be resolved, or None."""
        key = spec.key(ref)
        if key in self.speakers or key in self.db_speakers:
            return None
        pairs = [(v, k) for k, v in {**self.db_speakers, **self.speakers}.items()]
        hint = _did_you_mean(near_matches(ref, pairs))
        return f"unknown speaker {ref!r}{hint} (declare it under [[speakers]])"

    def source_problem(self, ref: str) -> str | None:
        """Why a source reference cannot be resolved, or None."""
        if ref.strip() in self.sources or ref.strip() in self.db_sources:
            return None
        key = spec.key(ref)
        if key in self.sources or key in self.db_sources:
            return None
        pairs = [(v, spec.key(v)) for v in {*self.sources.values(), *self.db_sources.values()}]
        hint = _did_you_mean(near_matches(ref, pairs))
        return f"unknown source {ref!r}{hint} (declare it under [[sources]])"

    def new_speaker_problem(self, data: dict[str, Any]) -> str | None:
        """A declared speaker the database lacks whose name nearly matches a known one."""
        names = [data["name"], *(data.get("aliases") or [])]
        if any(spec.key(n) in self.db_speakers for n in names):
            return None
        pairs = [(v, k) for k, v in self.db_speakers.items()]
        near = near_matches(data["name"], pairs)
        if not near:
            return None
        return (
            f"new speaker {data['name']!r} nearly matches a known one{_did_you_mean(near)} "
            "(use that name, or list it among the aliases in the story file)"
        )

    def new_source_problem(self, data: dict[str, Any]) -> str | None:
        """A declared source the database lacks whose name nearly matches a known one."""
        key = spec.key(data["name"])
        if key in self.db_sources or (data.get("url") or "").strip() in self.db_sources:
            return None
        pairs = [(v, spec.key(v)) for v in set(self.db_sources.values())]
        near = [n for n in near_matches(data["name"], pairs) if spec.key(n) != key]
        return (
            f"new source {data['name']!r} nearly matches a known one{_did_you_mean(near)}"
            if near
            else None
        )

    def status_problem(self, code: str) -> str | None:
        """Why a status code is refused, or None."""
        if code.strip().lower() in self.statuses:
            return None
        near = near_matches(code, [(s, s) for s in self.statuses])
        return f"unknown status {code!r}{_did_you_mean(near)} (see 'factdb status list')"


def resolve(session: Session, stories: list[Story]) -> dict[str, list[Problem]]:
    """Every name problem of every story, by file path (empty when all resolve)."""
    return resolve_names(stories, KnownNames.read(session))


def resolve_names(stories: list[Story], known: KnownNames) -> dict[str, list[Problem]]:
    """:func:`resolve` against names read from the database before (``known``)."""
    names = Names(stories, known)
    # a story names the same few speakers, sources and statuses in every claim: each name is
    # judged once
    for method in ("speaker_problem", "source_problem", "status_problem"):
        setattr(names, method, functools.lru_cache(maxsize=None)(getattr(names, method)))
    found: dict[str, list[Problem]] = {}
    for story in stories:
        problems = found.setdefault(str(story.path), [])

        def add(
            message: str | None,
            where: tuple[Any, ...],
            problems: list[Problem] = problems,
            story: Story = story,
        ) -> None:
            if message:
                problems.append(Problem(story.line(*where), message))

        for i, s in enumerate(story.speakers):
            if not s:  # a table with problems of shape, already reported
                continue
            add(names.new_speaker_problem(s), ("speakers", i, "name"))
            if s.get("acts_for"):
                add(names.speaker_problem(s["acts_for"]), ("speakers", i, "acts_for"))
        for i, s in enumerate(story.sources):
            if not s:
                continue
            add(names.new_source_problem(s), ("sources", i, "name"))
            if s.get("based_on"):
                add(names.source_problem(s["based_on"]), ("sources", i, "based_on"))
        for link in story.chain:
            add(
                names.source_problem(link["source"]),
                ("story", None, "chain", link["source"]),
            )
        if story.outlet:
            add(names.source_problem(story.outlet), ("story", None, "outlet"))
        for i, claim in enumerate(story.claims):
            if not claim:
                continue
            add(names.speaker_problem(claim["speaker"]), ("claims", i, "speaker"))
            for item in filter(None, claim.get("attributions") or []):
                add(
                    names.source_problem(item["source"]),
                    ("claims", i, "source", item["source"]),
                )
            for item in filter(None, claim.get("status") or []):
                add(
                    names.status_problem(item["status"]),
                    ("claims", i, "status", item["status"]),
                )
                if item.get("evidence_source"):
                    add(
                        names.source_problem(item["evidence_source"]),
                        ("claims", i, "evidence_source", item["evidence_source"]),
                    )
            for item in filter(None, claim.get("verdicts") or []):
                if item.get("scale") and spec.key(item["scale"]) not in names.scales:
                    add(
                        f"unknown rating scale {item['scale']!r}",
                        ("claims", i, "scale", item["scale"]),
                    )
    return {path: problems for path, problems in found.items() if problems}
