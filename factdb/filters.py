"""The filters shared by ``claim list``, ``export`` and ``report`` (plain data, no SQLAlchemy)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class ClaimFilter:
    """Which claims to select; every field left as None selects everything.

    ``status`` is judged at ``as_of`` when that is given (from the status history), otherwise
    against the current status. ``since``/``until`` bound the date said, inclusive, comparing a
    partial date by its first day. ``reviewed`` keeps only claims with at least one verdict
    (before ``limit`` counts them). ``sort`` orders the listing (one of ``SORT_KEYS``).
    """

    speaker: str | None = None
    status: str | None = None
    verdict: str | None = None
    source: str | None = None
    tag: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    as_of: dt.date | None = None
    search: str | None = None
    limit: int | None = None
    reviewed: bool = False
    # listing order: None or "said_on" (date said, then id), "id", "status" (current status),
    # "speaker" (speaker's name); each ties on date said, then id
    sort: str | None = None
