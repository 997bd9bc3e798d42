"""A very small HTML/SVG builder: every string is escaped unless it is already markup.

Markup is built as ``Safe`` strings. ``el("td", text)`` escapes ``text`` with ``html.escape``
(quotes included), turns its line breaks into ``<br/>`` and drops control characters; nested
``el`` results are kept as they are. Void elements are written self-closed (``<br/>``), so the
output is also well-formed XML and XML tools can check it.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

from factdb.reports.text import clean

VOID = frozenset({"br", "meta", "hr", "img", "link", "rect", "line", "path", "circle"})


class Safe(str):
    """A string that is already markup and must not be escaped again."""

    __slots__ = ()


def esc(value: object) -> Safe:
    """Escape a value for element content or an attribute; line breaks become ``<br/>``."""
    if isinstance(value, Safe):
        return value
    return Safe("<br/>".join(html.escape(line, quote=True) for line in clean(value).split("\n")))


def attr_value(value: object) -> str:
    """Escape a value for an attribute (line breaks as spaces: attributes have no markup)."""
    return html.escape(" ".join(clean(value).split("\n")), quote=True)


def join(parts: Iterable[object], sep: str = "") -> Safe:
    """Concatenate escaped parts."""
    return Safe(esc(sep).join(esc(p) for p in parts))


def el(tag: str, *children: object, **attrs: object) -> Safe:
    """An element: ``attrs`` with a trailing ``_`` lose it, other ``_`` become ``-``.

    None and False attributes are left out; children that are None are skipped.
    """
    rendered = []
    for key, value in attrs.items():
        if value is None or value is False:
            continue
        name = key[:-1] if key.endswith("_") else key.replace("_", "-")
        rendered.append(f' {name}="{attr_value(value)}"')
    opening = f"<{tag}{''.join(rendered)}"
    if tag in VOID and not children:
        return Safe(opening + "/>")
    body = "".join(esc(child) for child in children if child is not None)
    return Safe(f"{opening}>{body}</{tag}>")
