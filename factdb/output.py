"""All output formatting in one place: table (any tabulate style), csv, tsv, json, jsonl.

Rows are dicts keyed by column name. csv/tsv/jsonl stream row by row; json streams an array.
NULL is an empty cell in table/csv/tsv and ``null`` in JSON. Stored text may hold control
or format characters (data stored before factdb cleaned every input, or written by ``factdb
sql``): tables and csv/tsv show them as visible escapes (``\\x1b``), JSON as ``\\u`` escapes,
so that no listing can recolour the terminal, make a hyperlink or reorder a line.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import IO, Any

from factdb.text import inert_json, visible

FORMATS = ("table", "csv", "tsv", "json", "jsonl")
DEFAULT_STYLE = "simple"


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    # lists and mappings (aliases, external ids) read as text, not as Python reprs
    if isinstance(value, list | tuple):
        return "; ".join(_cell(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}={_cell(v)}" for k, v in value.items())
    return visible(str(value))


def render(
    rows: Iterable[Mapping[str, Any]],
    columns: Sequence[str],
    fmt: str = "table",
    style: str = DEFAULT_STYLE,
    out: IO[str] | None = None,
) -> None:
    """Write ``rows`` (only ``columns``, in that order) to ``out`` in the chosen format."""
    out = out or sys.stdout
    # csv and json are imported here, not at the top: every command's start-up imports this module
    import json

    if fmt in ("csv", "tsv"):
        import csv

        writer = csv.writer(out, delimiter="," if fmt == "csv" else "\t", lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_cell(row.get(c)) for c in columns])
    elif fmt == "jsonl":
        for row in rows:
            record = {c: _jsonable(row.get(c)) for c in columns}
            out.write(inert_json(json.dumps(record, ensure_ascii=False)) + "\n")
    elif fmt == "json":
        out.write("[")
        for i, row in enumerate(rows):
            record = {c: _jsonable(row.get(c)) for c in columns}
            line = inert_json(json.dumps(record, ensure_ascii=False))
            out.write(("," if i else "") + "\n  " + line)
        out.write("\n]\n")
    elif fmt == "table":
        from tabulate import tabulate

        body = [[_cell(row.get(c)) for c in columns] for row in rows]
        out.write(tabulate(body, headers=list(columns), tablefmt=style, disable_numparse=True))
        out.write("\n")
    else:
        raise ValueError(f"unknown format {fmt!r}")


def render_record(
    record: Mapping[str, Any], fmt: str = "table", out: IO[str] | None = None
) -> None:
    """Write one record: as ``key: value`` lines for table, as a JSON object otherwise."""
    out = out or sys.stdout
    if fmt in ("json", "jsonl"):
        import json

        serialised = json.dumps(
            record, ensure_ascii=False, default=_jsonable, indent=None if fmt == "jsonl" else 2
        )
        out.write(inert_json(serialised) + "\n")
        return
    width = max((len(k) for k in record), default=0)
    for key, value in record.items():
        out.write(f"{visible(key).ljust(width)}  {_cell(value)}\n")
