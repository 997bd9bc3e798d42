"""Load story files: check every file whole (shape, then names against the database), then
apply them all in the caller's transaction.

Nothing is written unless every file passes the checks; a refusal while writing (an alias that
belongs to another speaker, say) is a StoryError at the line concerned, and the caller's
rollback leaves the database as it was.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from factdb.errors import FactdbError
from factdb.stories import bulk
from factdb.stories.apply import Applier, LoadReport, run_step
from factdb.stories.read import Problem, Story, StoryError, read_unchecked
from factdb.stories.resolve import resolve


def check_stories(session: Session, paths: list[Path] | tuple[Path, ...]) -> list[Story]:
    """Read and check every file; raise one StoryError listing every problem of every file."""
    if not paths:
        raise FactdbError("no story files given")
    stories: list[Story] = []
    errors: list[StoryError] = []
    for path in paths:
        try:
            stories.append(read_unchecked(Path(path)))
        except StoryError as exc:
            errors.append(exc)
    # names are checked even in a file with other problems: the user fixes all in one pass
    found = resolve(session, stories)
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
    return stories


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
    """Check, then load story files in the caller's transaction (flushes, never commits)."""
    with bulk.no_cyclic_gc():
        stories = check_stories(session, paths)
        with bulk.bigger_cache(session):
            report = apply_stories(session, stories)
    bulk.check_references(session)
    return report
