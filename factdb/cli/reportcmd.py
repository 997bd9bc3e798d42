"""``factdb report``: a Markdown or HTML report of the claims the filters select."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import click

from factdb.cli.common import AppContext, filter_options, make_filter, pass_app
from factdb.errors import FactdbError

REPORT_FORMATS = ("markdown", "html")


def _format_for(fmt: str | None, output: Path | None) -> str:
    """The explicit format, else the one the output file's extension names, else Markdown."""
    if fmt:
        return fmt
    if output is not None and output.suffix.lower() in (".html", ".htm"):
        return "html"
    return "markdown"


def write_atomically(path: Path, chunks: Iterable[bytes]) -> None:
    """Write ``chunks`` to a temporary file beside ``path``, then rename it into place.

    A reader never sees a half-written report, and a failure leaves any old file untouched.
    """
    import tempfile

    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise FactdbError(f"directory {directory} does not exist")
    if path.is_dir():
        raise FactdbError(f"{path} is a directory")
    try:
        fd, temp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise FactdbError(f"cannot write in {directory}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            for chunk in chunks:
                f.write(chunk)
            f.flush()
            os.fsync(f.fileno())
        # mkstemp makes the file private; a report gets the mode an ordinary new file would
        umask = os.umask(0)
        os.umask(umask)
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~umask
        os.chmod(temp, mode)
        os.replace(temp, path)
    except OSError as exc:
        Path(temp).unlink(missing_ok=True)
        raise FactdbError(f"cannot write {path}: {exc.strerror}") from None
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


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

    chosen = _format_for(fmt, output)
    claim_filter = make_filter(**filters)
    with app.session(write=False) as session:
        report_model = build_report(session, claim_filter, title=title)
    # rendered piece by piece (one per claim at the end) so a big report never sits in memory
    # whole; UTF-8 bytes whatever the locale
    chunks = (chunk.encode("utf-8") for chunk in render_chunks(report_model, chosen))
    if output is None:
        for chunk in chunks:
            click.echo(chunk, nl=False)
        return
    write_atomically(output, chunks)
    click.echo(f"wrote {chosen} report to {output}", err=True)
