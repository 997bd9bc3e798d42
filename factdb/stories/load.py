"""Load story files: check every file whole (shape, then names against the database), then
apply them all in the caller's transaction.

Nothing is kept unless every file passes the checks: a small load checks before it writes; a
big one checks in a second process while it writes (:mod:`factdb.stories.aside`) and raises
the checks' error before it returns. A refusal while writing (an alias that belongs to another
speaker, say) is a StoryError at the line concerned. Either way the caller's rollback leaves
the database as it was.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from sqlalchemy.orm import Session

from factdb.errors import FactdbError
from factdb.stories import aside, bulk
from factdb.stories.apply import Applier, LoadReport, run_step
from factdb.stories.read import (
    Parsed,
    Problem,
    Story,
    StoryError,
    check_data,
    parse_file,
    read_unchecked,
    trusted_story,
)
from factdb.stories.resolve import KnownNames, resolve, resolve_names

T = TypeVar("T")

# story files of this size or more are checked aside while they load (a 10,000-claim story;
# below, starting a process costs more than it saves)
ASIDE_BYTES = 3_500_000


def check_stories(session: Session, paths: list[Path] | tuple[Path, ...]) -> list[Story]:
    """Read and check every file; raise one StoryError listing every problem of every file."""
    if not paths:
        raise FactdbError("no story files given")
    stories, errors = _each_checked(paths, lambda path: read_unchecked(Path(path)))
    # names are checked even in a file with other problems: the user fixes all in one pass
    _raise_problems(stories, errors, resolve(session, stories))
    return stories


def check_parsed(parsed: list[Parsed], known: KnownNames) -> None:
    """:func:`check_stories` of files parsed already, against names the database was found to
    have before (``known``); raises the same StoryError."""
    stories, errors = _each_checked(
        parsed, lambda item: check_data(item.path, item.data, item.lines)
    )
    _raise_problems(stories, errors, resolve_names(stories, known))


def _each_checked(
    items: Sequence[T], check: Callable[[T], Story]
) -> tuple[list[Story], list[StoryError]]:
    """Each file's Story (``check``), or the StoryError that leaves none: every file is
    checked, so that one error reports the problems of all."""
    stories: list[Story] = []
    errors: list[StoryError] = []
    for item in items:
        try:
            stories.append(check(item))
        except StoryError as exc:
            errors.append(exc)
    return stories, errors


def _raise_problems(
    stories: list[Story], errors: list[StoryError], found: dict[str, list[Problem]]
) -> None:
    for story in stories:
        problems = story.problems + found.get(str(story.path), [])
        if problems:
            errors.append(StoryError(story.path, problems))
    if len(errors) == 1:
        raise errors[0]
    if errors:
        # several files: one error naming each problem with its file and line
        problems = [
            Problem(None, f"{p.line and f'{e.path}:{p.line}' or e.path}: {p.message}")
            for e in errors
            for p in e.problems
        ]
        raise StoryError(", ".join(e.path for e in errors), problems)


def apply_stories(session: Session, stories: list[Story]) -> LoadReport:
    """Write checked stories (speakers, sources, claims, then everything between claims)."""
    report = LoadReport(files=len(stories))
    applier = Applier(session, report)
    try:
        _apply(session, stories, applier)
    except BaseException:
        # the writer's pending jobs end before the caller rolls back; its error, if any, yields
        applier.writer.close(raise_error=False)
        raise
    return report


def _apply(session: Session, stories: list[Story], applier: Applier) -> None:
    report = applier.report
    for story in stories:
        for i, data in enumerate(story.speakers):
            run_step(story, ("speakers", i), applier.speaker, data)
        for i, data in enumerate(story.sources):
            run_step(story, ("sources", i), applier.source, data)
    # new speakers and sources written together (edits of known ones were flushed by the
    # services), then their aliases
    applier.known.write_new()
    session.flush()
    for story in stories:
        for i, data in enumerate(story.speakers):
            run_step(story, ("speakers", i, "acts_for"), applier.speaker_acts_for, data)
        for i, data in enumerate(story.sources):
            run_step(story, ("sources", i, "based_on"), applier.source_based_on, data)
    # every file's claims before any link, so that a file may link to another file's claim
    for story in stories:
        applier.new_claims(story)
    # the new claims are in (or queued): the indexes a big load dropped are built on the
    # writer's thread while the status events are prepared, before the steps that read
    deferred, applier.deferred = applier.deferred, []
    applier.writer.submit(lambda: bulk.build_indexes(session, deferred))
    for story in stories:
        applier.fresh_statuses(story)
    applier.writer.close()
    for story in stories:
        for i, data in enumerate(story.claims):
            if (
                story.claim_ids.get(data.get("id")) in applier.fresh
                and not data.get("links")
                and not data.get("verdicts")
            ):
                continue  # a new claim without links or verdicts: its history went in above
            run_step(story, ("claims", i, "status"), applier.statuses, story, data)
            run_step(story, ("claims", i, "links"), applier.links, story, data)
            run_step(story, ("claims", i, "verdicts"), applier.verdicts, story, data)
    session.flush()
    if applier.fresh:
        # new claims go in by bulk inserts, which the audit hooks do not see: one entry for
        # them, as for an import (edits of known claims went through the services, each logged)
        from factdb.audit import log_import

        log_import(
            session,
            counts=dict(report.counts),
            first_claim_id=min(applier.fresh),
            last_claim_id=max(applier.fresh),
            label=", ".join(str(story.path) for story in stories),
        )


def load_stories(session: Session, paths: list[Path] | tuple[Path, ...]) -> LoadReport:
    """Check, then load story files in the caller's transaction (flushes, never commits).

    A big load (``ASIDE_BYTES`` of files or more) checks in a second process while it writes
    (:mod:`factdb.stories.aside`): the same checks, the same errors, in less time."""
    with bulk.no_cyclic_gc():
        report = None
        if sum(_size(path) for path in paths) >= ASIDE_BYTES and aside.available():
            report = _load_checking_aside(session, paths)
        if report is None:
            report = _write(session, check_stories(session, paths))
    return report


def _write(session: Session, stories: list[Story]) -> LoadReport:
    # the stories applied, then every reference they wrote checked (see bulk.check_references)
    with bulk.bigger_cache(session):
        report = apply_stories(session, stories)
    bulk.check_references(session)
    return report


def _size(path: Path | str) -> int:
    try:
        return Path(path).stat().st_size
    except OSError:
        return 0  # reported by the checks


def _load_checking_aside(
    session: Session, paths: list[Path] | tuple[Path, ...]
) -> LoadReport | None:
    """Load while a forked process checks; None when a file cannot even be parsed (the
    sequential load then reports it with every other problem)."""
    try:
        parsed = [parse_file(path) for path in paths]
    except StoryError:
        return None
    known = KnownNames.read(session)
    with aside.CheckAside(functools.partial(check_parsed, parsed, known)) as checker:
        try:
            report = _write(session, [trusted_story(item) for item in parsed])
        except Exception:
            # a file with problems can make writing fail in any way: its problems are the error
            checker.raise_problems()
            raise
        checker.raise_problems()
    return report
