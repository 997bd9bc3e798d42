"""``factdb claim search TEXT``: full-text search over claims, best matches first."""

from __future__ import annotations

import os
import sys

import click

from factdb.cli.common import (
    DATE,
    AppContext,
    check_style,
    complete_speaker,
    make_filter,
    output_options,
    pass_app,
)

SEARCH_COLUMNS = ["id", "said_on", "speaker", "status", "text"]
TEXT_WIDTH = 70
# bold + underline at a terminal (unless NO_COLOR); visible brackets when table output is piped
ANSI_MARKS = ("\x1b[1;4m", "\x1b[0m")
PLAIN_MARKS = ("[", "]")


def _marks() -> tuple[str, str]:
    if sys.stdout.isatty() and not os.environ.get("NO_COLOR"):
        return ANSI_MARKS
    return PLAIN_MARKS


@click.command()
@click.argument("expression", metavar="TEXT")
@click.option("--speaker", metavar="NAME", shell_complete=complete_speaker, help="By this speaker.")
@click.option("--status", metavar="CODE", help="Current (or --as-of) status.")
@click.option("--tag", metavar="TAG", help="With this tag.")
@click.option("--since", type=DATE, help="Said on or after this date.")
@click.option("--until", type=DATE, help="Said on or before this date.")
@click.option("--as-of", "as_of", type=DATE, help="Judge statuses as they stood on this date.")
@click.option("--limit", type=click.IntRange(min=0), help="At most this many claims.")
@output_options
@pass_app
def search(app: AppContext, expression: str, fmt: str, style: str, **filters: object) -> None:
    """Find claims by words in their text, original text or speaker's names, best first.

    \b
    TEXT is a search expression:
      lavrov                  a word (any case; accents ignored)
      "baseless accusation"   a phrase
      intell*                 a prefix
      nato AND russia         both (AND may be left out)
      nato OR alliance        either
      nato NOT russia         the first without the second
    Matching words are highlighted in table output; csv, tsv, json and jsonl carry the
    text whole and plain.
    """
    check_style(style)
    from factdb.output import render
    from factdb.services.query import list_claims
    from factdb.services.search import highlight, parse_search

    parse_search(expression)  # a syntax error is reported before the database is opened
    with app.session(write=False) as session:
        # the one listing path of claim list (Core only: no ORM models are imported)
        rows = list_claims(session, make_filter(search=expression, **filters))
        if fmt == "table":
            start, end = _marks()
            rows = (
                {
                    **row,
                    "speaker": highlight(row["speaker"], expression, start=start, end=end),
                    "text": highlight(
                        row["text"], expression, start=start, end=end, width=TEXT_WIDTH
                    ),
                }
                for row in rows
            )
        render(rows, SEARCH_COLUMNS, fmt, style)
