"""An inline SVG bar chart of the status breakdown (no script, no external anything).

Colours are fixed per seeded status and derived from a stable checksum for user-defined ones,
so the same data always draws the same chart.
"""

from __future__ import annotations

import zlib

from factdb.reports.markup import Safe, el
from factdb.reports.model import NO_STATUS, StatusCount
from factdb.reports.text import bar_length, plural, share

# dark enough for white text on a pill, distinct enough side by side
STATUS_COLOURS = {
    "unverified": "#6b7280",
    "alleged": "#2563eb",
    "denied": "#c2410c",
    "disputed": "#0f766e",
    "confirmed": "#15803d",
    "false": "#b91c1c",
    "misleading": "#7e22ce",
    "retracted": "#374151",
    NO_STATUS: "#9ca3af",
}
_EXTRA_COLOURS = ("#9d174d", "#854d0e", "#4d7c0f", "#1d4ed8", "#a16207", "#6d28d9")

WIDTH = 640
LABEL_WIDTH = 180
BAR_SPACE = 380
ROW = 30
BAR_HEIGHT = 20
PAD = 10
LABEL_CHARS = 24


def status_colour(code: str) -> str:
    """The colour of a status: fixed for the seeded ones, stable for any other code."""
    if code in STATUS_COLOURS:
        return STATUS_COLOURS[code]
    return _EXTRA_COLOURS[zlib.crc32(code.encode("utf-8")) % len(_EXTRA_COLOURS)]


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def status_chart(statuses: list[StatusCount]) -> Safe:
    """A horizontal bar chart, one bar per status, the count at the end of each bar."""
    total = sum(s.count for s in statuses)
    largest = max((s.count for s in statuses), default=0)
    height = 2 * PAD + ROW * max(len(statuses), 1)
    rows = []
    for i, status in enumerate(statuses):
        y = PAD + i * ROW
        middle = y + ROW // 2
        length = bar_length(status.count, largest, BAR_SPACE)
        rows.append(
            el(
                "g",
                el(
                    "title",
                    f"{status.label}: {plural(status.count, 'claim')}"
                    f" ({share(status.count, total)})",
                ),
                el(
                    "text",
                    _short(status.label),
                    x=LABEL_WIDTH - 8,
                    y=middle,
                    text_anchor="end",
                    dominant_baseline="middle",
                    class_="label",
                ),
                el(
                    "rect",
                    x=LABEL_WIDTH,
                    y=middle - BAR_HEIGHT // 2,
                    width=length,
                    height=BAR_HEIGHT,
                    rx=3,
                    fill=status_colour(status.code),
                    class_="bar",
                    data_status=status.code,
                    data_count=status.count,
                ),
                el(
                    "text",
                    str(status.count),
                    x=LABEL_WIDTH + length + 6,
                    y=middle,
                    dominant_baseline="middle",
                    class_="count",
                ),
            )
        )
    axis = el(
        "line",
        x1=LABEL_WIDTH,
        y1=PAD // 2,
        x2=LABEL_WIDTH,
        y2=height - PAD // 2,
        stroke="#9ca3af",
        stroke_width=1,
    )
    return el(
        "svg",
        el("title", "Claims by status"),
        axis,
        *rows,
        xmlns="http://www.w3.org/2000/svg",
        viewBox=f"0 0 {WIDTH} {height}",
        width=WIDTH,
        height=height,
        role="img",
        aria_label="Claims by status: " + ", ".join(f"{s.label} {s.count}" for s in statuses),
        class_="chart",
    )
