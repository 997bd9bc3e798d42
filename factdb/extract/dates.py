"""Dates said relative to the article's date, at the precision the text gives.

"Monday" in an article dated Wednesday 2021-10-20 is 2021-10-18; "earlier this month" is
2021-10; "last year" is 2020. Nothing finer than the text says is ever invented: a month stays
a month. A phrase this module does not understand gives no date at all.
"""

from __future__ import annotations

import datetime as dt
import re

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
_MONTH_RE = "|".join(_MONTHS)
_FULL = re.compile(rf"\b({_MONTH_RE})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b", re.I)
_MONTH_YEAR = re.compile(rf"\b({_MONTH_RE})\s+(\d{{4}})\b", re.I)
_MONTH_DAY = re.compile(rf"\b({_MONTH_RE})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b", re.I)
_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")


def resolve(phrase: str, today: dt.date | None) -> str | None:
    """The partial date (``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``) a date phrase names.

    ``today`` is the article's date; phrases relative to it give None without it.
    """
    text = phrase.lower().strip()
    if m := _FULL.search(text):
        return _day(int(m.group(3)), _MONTHS.index(m.group(1).lower()) + 1, int(m.group(2)))
    if m := _MONTH_YEAR.search(text):
        return f"{int(m.group(2)):04d}-{_MONTHS.index(m.group(1).lower()) + 1:02d}"
    if m := _YEAR.search(text):
        return m.group(1)
    if today is None:
        return None
    if m := _MONTH_DAY.search(text):
        month = _MONTHS.index(m.group(1).lower()) + 1
        year = today.year if month <= today.month else today.year - 1
        return _day(year, month, int(m.group(2)))
    for i, name in enumerate(_WEEKDAYS):
        if re.search(rf"\b{name}\b", text):
            # the latest such weekday on or before the article's date; "last Monday" too
            back = (today.weekday() - i) % 7
            return (today - dt.timedelta(days=back)).isoformat()
    if re.search(r"\b(today|tonight|this morning|this afternoon|this evening)\b", text):
        return today.isoformat()
    if re.search(r"\byesterday\b", text):
        return (today - dt.timedelta(days=1)).isoformat()
    if re.search(r"\b(this|earlier this|later this) month\b", text):
        return f"{today.year:04d}-{today.month:02d}"
    if re.search(r"\blast month\b", text):
        first = today.replace(day=1) - dt.timedelta(days=1)
        return f"{first.year:04d}-{first.month:02d}"
    if re.search(r"\b(this|earlier this) year\b", text):
        return f"{today.year:04d}"
    if re.search(r"\blast year\b", text):
        return f"{today.year - 1:04d}"
    for i, name in enumerate(_MONTHS):
        if re.search(rf"\b{name}\b", text):
            year = today.year if i + 1 <= today.month else today.year - 1
            return f"{year:04d}-{i + 1:02d}"
    return None


def _day(year: int, month: int, day: int) -> str | None:
    """An ISO day, or None for an impossible one ("February 30")."""
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError:
        return None


def article_date(value: str | None) -> dt.date | None:
    """The article's date from ``YYYY-MM-DD`` (a page's or the user's); None otherwise."""
    if not value:
        return None
    m = re.match(r"^\s*(\d{4})-(\d{2})-(\d{2})", value)
    if not m:
        return None
    try:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def date_in_text(text: str) -> dt.date | None:
    """The latest full date written in the text ("Monday, October 18, 2021"), if any.

    A plain-text article gives no date of its own; its photo captions and datelines often
    do. The latest one is taken: an article is not older than the events it dates.
    """
    days = []
    for m in _FULL.finditer(text):
        value = _day(int(m.group(3)), _MONTHS.index(m.group(1).lower()) + 1, int(m.group(2)))
        if value:
            days.append(dt.date.fromisoformat(value))
    return max(days) if days else None
