"""``factdb extract``: an article in, its attributed statements proposed as a story file."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import click

from factdb.cli.common import AppContext, pass_app
from factdb.errors import FactdbError


def _known_names(app: AppContext) -> list:  # type: ignore[type-arg]
    """The database's speaker names and aliases (none when there is no database yet)."""
    from factdb.extract.resolve import KnownName
    from factdb.services.speakers import known_names

    if app.path is not None and not app.path.exists():
        return []
    with app.session(write=False) as session:
        return [KnownName(alias, name, kind) for alias, name, kind in known_names(session)]


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
@click.option("--url", help="The article's URL (the last link of every chain).")
@click.option("--outlet", help="The outlet that published the article.")
@click.option("--published-on", help="The article's date, YYYY-MM-DD (resolves 'Monday').")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["story", "jsonl", "table"]),
    default="story",
    show_default=True,
    help="A story file to review and load, one JSON record per attribution, or a summary.",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write here.")
@pass_app
def extract(
    app: AppContext,
    file: Path,
    url: str | None,
    outlet: str | None,
    published_on: str | None,
    fmt: str,
    output: Path | None,
) -> None:
    """Propose the attributed statements of a news article (plain text or saved HTML).

    Nothing is written to the database: review the story file, then load it with
    'factdb seed FILE'. Speakers are matched against the database's names and aliases.
    """
    from factdb.dates import parse_partial
    from factdb.extract.nlp import pipeline

    if published_on is not None and parse_partial(published_on).precision != "day":
        raise click.BadParameter("give a full date, YYYY-MM-DD", param_hint="--published-on")
    pipeline()  # says how to install spaCy before anything else is read
    from factdb.extract.pipeline import extract_article
    from factdb.extract.reading import read_article
    from factdb.extract.render import to_jsonl, to_table
    from factdb.extract.story import write_story

    name = "standard input" if str(file) == "-" else str(file)
    try:
        data = sys.stdin.buffer.read() if str(file) == "-" else file.read_bytes()
    except OSError as exc:
        raise FactdbError(f"cannot read {name}: {exc.strerror}") from None
    article = read_article(data, name)
    article.url = url or article.url
    article.outlet = outlet or article.outlet
    article.published_on = published_on or article.published_on
    extraction = extract_article(article, _known_names(app))
    if fmt == "jsonl":
        text = to_jsonl(extraction)
    elif fmt == "table":
        text = to_table(extraction)
    else:
        stem = "article" if str(file) == "-" else file.stem
        story_id = re.sub(r"[^a-z0-9]+", "-", (article.title or stem).lower()).strip("-")[:60]
        text = write_story(extraction, story_id or "article")
    if output is None:
        click.echo(text, nl=False)
    else:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise FactdbError(f"cannot write {output}: {exc.strerror}") from None
        click.echo(f"wrote {len(extraction.attributions)} attributions to {output}", err=True)
