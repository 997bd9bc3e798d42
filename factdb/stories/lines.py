"""Line numbers in a story file's text, so that each problem can say where it is.

``tomllib`` gives values without positions, so the lines are found in the text: the n-th
``[[claims]]`` header starts the n-th claim, which runs to the next top-level header; a key is
the first ``key =`` line in that range, a value the first line in it that holds the value
written as a TOML string. That is exact for files written as the template and the exporter
write them, and close (the table's header) for any other layout.
"""

from __future__ import annotations

import json
import re

_HEADER = re.compile(r"^\s*\[\[?\s*([A-Za-z0-9_\-]+)\s*\]\]?\s*(#.*)?$")


class LineIndex:
    """Where each top-level table starts and ends in the text of a TOML file.

    The text is scanned on the first question only: a file without problems never asks one,
    and scanning a story of 100,000 claims costs a tenth of a second or more.
    """

    def __init__(self, text: str | None) -> None:
        self._text = text
        self._lines: list[str] | None = None
        # (table name, header line number), in file order; sub-tables ([[claims.status]]) do
        # not end the table they belong to
        self.headers: list[tuple[str, int]] = []
        # table name → positions in ``headers`` of its tables, in order
        self.by_name: dict[str, list[int]] = {}

    @property
    def lines(self) -> list[str]:
        """The file's lines (the headers found on the way)."""
        if self._lines is None:
            self._lines = self._text.splitlines() if self._text is not None else []
            for number, line in enumerate(self._lines, start=1):
                match = _HEADER.match(line)
                if match:
                    self.by_name.setdefault(match.group(1), []).append(len(self.headers))
                    self.headers.append((match.group(1), number))
        return self._lines

    def table(self, name: str, index: int | None = None) -> tuple[int, int] | None:
        """The (first, last) line of table ``name`` (its ``index``-th when it is a list)."""
        lines = self.lines
        found = self.by_name.get(name, [])
        position = 0 if index is None else index
        if position >= len(found):
            return None
        at = found[position]
        first = self.headers[at][1]
        last = self.headers[at + 1][1] - 1 if at + 1 < len(self.headers) else len(lines)
        return first, last

    def find(
        self, name: str, index: int | None = None, key: str | None = None, value: object = None
    ) -> int | None:
        """The line of ``key`` (holding ``value`` when given) in a table, else the table's."""
        span = self.table(name, index)
        if span is None:
            return None
        first, last = span
        if key is None and value is None:
            return first
        key_line = re.compile(rf"^\s*{re.escape(key)}\s*=") if key else None
        wanted = json.dumps(value, ensure_ascii=False) if isinstance(value, str) else None
        fallback = None
        for number in range(first, last + 1):
            line = self.lines[number - 1]
            if line.lstrip().startswith("#"):
                continue
            holds = wanted is not None and (wanted in line or f"'{value}'" in line)
            if holds and (key is None or key in line):
                return number
            if fallback is None and key_line is not None and key_line.match(line):
                fallback = number
        return fallback or first
