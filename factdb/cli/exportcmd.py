"""``factdb export``: claims out as CSV, JSONL (the interchange record) or ClaimReview JSON-LD."""

from __future__ import annotations

import contextlib
import io
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import click

from factdb.cli.common import AppContext, filter_options, make_filter, pass_app
from factdb.errors import FactdbError

FORMATS = ("csv", "jsonl", "claimreview")


@click.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="csv",
    show_default=True,
    help="csv/jsonl: the interchange record; claimreview: schema.org JSON-LD of each verdict.",
)
@filter_options
@click.option(
    "-o",
    "--output",
    metavar="FILE",
    type=click.Path(dir_okay=False),
    help="Write to FILE (atomically: a failure leaves nothing half-written); default stdout.",
)
@click.option(
    "--spreadsheet-safe",
    is_flag=True,
    help="CSV: prefix cells that a spreadsheet would run as a formula (=, +, -, @) with '. "
    "For opening in a spreadsheet; such a file does not re-import byte for byte.",
)
@pass_app
def export(
    app: AppContext, fmt: str, output: str | None, spreadsheet_safe: bool, **filters: Any
) -> None:
    """Export claims (those the filters select; all by default), in the order recorded.

    The CSV and JSONL output is the interchange record that 'factdb import' reads: importing
    it into an empty database and exporting again gives the same bytes. Cells are written as
    stored, so a spreadsheet may run one that starts with = + - @ as a formula: use
    --spreadsheet-safe for a file meant for a spreadsheet. ClaimReview output has one
    ClaimReview per verdict (claims without a verdict are left out).
    """
    from factdb.io import writers
    from factdb.safefiles import OutputFile, check_output, protected_files

    if spreadsheet_safe and fmt != "csv":
        raise click.UsageError("--spreadsheet-safe applies to --format csv only")
    claim_filter = make_filter(**filters)
    if output is not None:
        check_output(Path(output), protected_files(app.path), option="-o")
    with app.session(write=False) as session:
        if fmt == "claimreview":

            def write(out: Any) -> int:
                # closed here, while the session is open, if writing fails half-way
                with contextlib.closing(writers.claim_reviews(session, claim_filter)) as reviews:
                    return writers.write_claimreview(reviews, out)
        else:
            writer = writers.write_csv if fmt == "csv" else writers.write_jsonl

            def write(out: Any) -> int:
                chunks = writers.interchange_chunks(
                    session, claim_filter, empty_for_null=fmt == "csv"
                )
                with contextlib.closing(chunks):
                    return writer(_spreadsheet_safe(chunks) if spreadsheet_safe else chunks, out)

        if output is None:
            # UTF-8 whatever the locale; a closed pipe (``factdb export | head``) ends the
            # command quietly in the root group (factdb.cli.LazyGroup)
            out = io.TextIOWrapper(
                sys.stdout.buffer, encoding="utf-8", newline="", write_through=False
            )
            try:
                write(out)
                out.flush()
            except BrokenPipeError:
                raise
            except OSError as exc:
                raise FactdbError(f"cannot write to standard output: {exc.strerror}") from None
            finally:
                with contextlib.suppress(OSError, ValueError):
                    out.detach()
            return
        with OutputFile(Path(output), option="-o") as out:
            count = write(out)
    noun = "reviews" if fmt == "claimreview" else "claims"
    click.echo(f"Exported {count} {noun} to {output}", err=True)


def _spreadsheet_safe(chunks: Iterable[list[tuple[Any, ...]]]) -> Iterator[list[tuple[Any, ...]]]:
    """The export's chunks with every text cell made safe for a spreadsheet."""
    from factdb.output import spreadsheet_safe

    for chunk in chunks:
        yield [tuple(spreadsheet_safe(v) if isinstance(v, str) else v for v in r) for r in chunk]
