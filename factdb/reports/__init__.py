"""Markdown and HTML reports built from the database (no click here).

``build_report(session, claim_filter, title=...)`` gathers a ``Report``; ``render(report, fmt)``
formats it as ``markdown`` or ``html``. The same database always gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from factdb.reports.model import Report

FORMATS = ("markdown", "html")


def render_chunks(report: Report, fmt: str = "markdown") -> Iterator[str]:
    """Render ``report`` in ``fmt`` (``markdown`` or ``html``) as pieces to write in turn."""
    if fmt == "markdown":
        from factdb.reports.markdown import iter_markdown

        return iter_markdown(report)
    if fmt == "html":
        from factdb.reports.html import iter_html

        return iter_html(report)
    raise ValueError(f"unknown report format {fmt!r}")


def render(report: Report, fmt: str = "markdown") -> str:
    """Render ``report`` in ``fmt`` (``markdown`` or ``html``) as one string."""
    return "".join(render_chunks(report, fmt))
