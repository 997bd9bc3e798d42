"""``factdb report``: a Markdown or HTML report of the claims the filters select."""

from __future__ import annotations

from pathlib import Path

import click

from factdb.cli.common import AppContext, filter_options, make_filter, pass_app

REPORT_FORMATS = ("markdown", "html")


def _format_for(fmt: str | None, output: Path | None) -> str:
    """The explicit format, else the one the output file's extension names, else Markdown."""
    if fmt:
        return fmt
    if output is not None and output.suffix.lower() in (".html", ".htm"):
        return "html"
    return "markdown"


@click.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(REPORT_FORMATS),
    help="Report format (default: html for an -o file ending in .html, else markdown).",
)
@click.option("--title", metavar="TEXT", help='Report title (default "Fact-check report").')
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to FILE (atomically) instead of stdout.",
)
@filter_options
@pass_app
def report(
    app: AppContext, fmt: str | None, title: str | None, output: Path | None, **filters: object
) -> None:
    """Write a Markdown or HTML report: totals, status chart, speaker scorecard, timeline, claims.

    The same database always gives the same bytes. The HTML is one self-contained page (inline
    CSS and SVG chart) that opens without a network.
    """
    from factdb.reports import render_chunks
    from factdb.reports.model import build_report
    from factdb.safefiles import OutputFile, check_output, protected_files

    chosen = _format_for(fmt, output)
    claim_filter = make_filter(**filters)
    if output is not None:
        check_output(output, protected_files(app.path), option="-o")
    with app.session(write=False) as session:
        report_model = build_report(session, claim_filter, title=title)
    # rendered piece by piece (one per claim at the end) so a big report never sits in memory
    # whole; UTF-8 bytes whatever the locale
    chunks = (chunk.encode("utf-8") for chunk in render_chunks(report_model, chosen))
    if output is None:
        for chunk in chunks:
            click.echo(chunk, nl=False)
        return
    with OutputFile(output, binary=True, durable=True, option="-o") as out:
        for chunk in chunks:
            out.write(chunk)
    click.echo(f"wrote {chosen} report to {output}", err=True)
