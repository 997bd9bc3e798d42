"""Dates as people say them: a year, a year-month or a full date.

A partial date is stored as its first day plus a precision, and compared by that first day:
"2021-10" sorts before "2021-10-01"…"2021-10-31" events of the same month and counts as in
force from 2021-10-01 in ``--as-of`` queries.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from typing import NamedTuple

from factdb.errors import FactdbError

_PATTERN = re.compile(r"^\s*(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?\s*$")


class PartialDate(NamedTuple):
    """A date with the precision it was given at (``year``, ``month`` or ``day``)."""

    start: dt.date
    precision: str

    def __str__(self) -> str:
        return format_partial(self.start, self.precision) or ""


def parse_partial(value: str) -> PartialDate:
    """Parse ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``; impossible dates are an error."""
    match = _PATTERN.match(value)
    if not match:
        raise FactdbError(f"malformed date {value!r}: use YYYY, YYYY-MM or YYYY-MM-DD")
    year, month, day = match.groups()
    try:
        if day is not None:
            return PartialDate(dt.date(int(year), int(month), int(day)), "day")
        if month is not None:
            return PartialDate(dt.date(int(year), int(month), 1), "month")
        return PartialDate(dt.date(int(year), 1, 1), "year")
    except ValueError:
        raise FactdbError(f"impossible date {value!r}") from None


def parse_day(value: str) -> dt.date:
    """Parse a bound such as ``--as-of``: a partial date stands for its first day."""
    return parse_partial(value).start


def format_partial(start: dt.date | None, precision: str | None) -> str | None:
    """Render a stored date at its precision: 2021, 2021-10 or 2021-10-18."""
    if start is None:
        return None
    iso = start.isoformat()
    if precision == "year":
        return iso[:4]
    if precision == "month":
        return iso[:7]
    return iso


def period_end(start: dt.date, precision: str) -> dt.date:
    """The last day of the period a partial date names."""
    if precision == "year":
        return dt.date(start.year, 12, 31)
    if precision == "month":
        next_month = dt.date(start.year + start.month // 12, start.month % 12 + 1, 1)
        return next_month - dt.timedelta(days=1)
    return start


@functools.lru_cache(maxsize=65_536)
def ends_before(when: PartialDate, day: dt.date) -> bool:
    """Whether the whole period ``when`` names ends before ``day`` (memoised: a big story
    checks the same few pairs of dates on every claim)."""
    return period_end(when.start, when.precision) < day
