"""``factdb story new|load|export``: record a story as a file, load it, write one back out."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from factdb.cli.common import AppContext, filter_options, make_filter, pass_app
from factdb.errors import FactdbError


@click.group()
def story() -> None:
    """Story files: the fast way to record a whole story (see docs/story-files.md)."""


@story.command()
@click.argument("file", required=False, default="-")
@click.option("--force", is_flag=True, help="Overwrite FILE if it exists.")
@pass_app
def new(app: AppContext, file: str, force: bool) -> None:
    """Write a commented story template to FILE (default: standard output)."""
    from factdb.safefiles import OutputFile, check_output, protected_files
    from factdb.stories.template import TEMPLATE

    if file == "-":
        click.echo(TEMPLATE, nl=False)
        return
    path = Path(file)
    # even with --force, never the database or its side files
    check_output(path, protected_files(app.path))
    if path.exists() and not force:
        raise FactdbError(f"{path} already exists (use --force to overwrite it)")
    with OutputFile(path) as out:
        out.write(TEMPLATE)
    click.echo(
        f"wrote a story template to {path}; edit it, then: factdb story load {path}", err=True
    )


def load_files(app: AppContext, files: list[Path], *, dry_run: bool, verb: str) -> None:
    """Check and load story files in one transaction; say what was added and what changed."""
    from factdb.io.bulkwrite import is_bulk
    from factdb.stories.load import load_stories

    # a rough count of claims (a story file runs 300-400 bytes a claim): a big load is a bulk
    # one, as for an import (on SQLite without foreign-key and CHECK constraint checks while it
    # writes; load_stories checks the references it wrote before it returns)
    size = sum(path.stat().st_size for path in files)
    with app.session(bulk=is_bulk(size // 350)) as session:
        report = load_stories(session, files)
        if dry_run:
            session.rollback()
    for change in report.changes:
        click.echo(f"  {change}", err=True)
    prefix = "dry run (nothing written): " if dry_run else ""
    click.echo(prefix + report.summary(verb), err=True)


@story.command()
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--dry-run", is_flag=True, help="Check and report what would change; write nothing.")
@pass_app
def load(app: AppContext, files: tuple[Path, ...], dry_run: bool) -> None:
    """Check story FILES whole (every problem, with its line), then load them in one go."""
    load_files(app, list(files), dry_run=dry_run, verb="loaded")


@story.command()
@filter_options
@click.option("--story", "story_id", metavar="ID", help="Only the claims of this story id.")
@click.option("--title", help="The [story] title to write.")
@click.option(
    "-o",
    "--output",
    metavar="FILE",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to FILE; an existing story file keeps its comments (values merged in).",
)
@pass_app
def export(
    app: AppContext, story_id: str | None, title: str | None, output: Path | None, **filters: Any
) -> None:
    """Write the selected claims (all by default) as a story file that 'story load' reads."""
    from factdb.safefiles import OutputFile, check_output, protected_files
    from factdb.stories import tomldoc
    from factdb.stories.export import export_story

    if output is not None:
        check_output(output, protected_files(app.path), option="-o")
    with app.session(write=False) as session:
        exported = export_story(session, make_filter(**filters), story=story_id, title=title)
    for what, n in sorted(exported.left_out.items()):
        click.echo(f"Warning: {n} {what} left out", err=True)
    if output is None:
        sys.stdout.write(tomldoc.render(exported.data))
        return
    text = tomldoc.merge_file(output, exported.data)
    with OutputFile(output, option="-o") as out:
        out.write(text)
    noun = "claim" if exported.claims == 1 else "claims"
    click.echo(f"exported {exported.claims} {noun} to {output}", err=True)
