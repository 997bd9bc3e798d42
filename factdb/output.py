"""All output formatting in one place: table (any tabulate style), csv, tsv, json, jsonl.

Rows are dicts keyed by column name. csv/tsv/jsonl stream row by row; json streams an array.
NULL is an empty cell in table/csv/tsv and ``null`` in JSON. Stored text may hold control
or format characters (data stored before factdb cleaned every input, or written by ``factdb
sql``): tables and csv/tsv show them as visible escapes (``\\x1b``), JSON as ``\\u`` escapes,
so that no listing can recolour the terminal, make a hyperlink or reorder a line.

What the data holds can never act on whoever opens the output:

- csv/tsv: a text cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return, which a
  spreadsheet would run as a formula, gets a leading ``'`` (OWASP's rule); finite numbers
  (integers, floats, decimals) are left as they are, so ``-3`` stays a number;
- blobs are written as SQL blob literals, ``X'0A1B'``, in every format;
- NaN and infinities are the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"`` in JSON (which
  has no such numbers) and the same words in the other formats;
- table styles that are markup (``unsafehtml``, ``latex_raw``, Markdown, MediaWiki, Textile)
  escape their cells: ``unsafehtml`` is rendered as ``html``, ``latex_raw`` as ``latex``, and
  the others get HTML's special characters and ``|`` as character references.
"""

from __future__ import annotations

import datetime as dt
import math
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import IO, Any

from factdb.text import inert_json, visible

FORMATS = ("table", "csv", "tsv", "json", "jsonl")
DEFAULT_STYLE = "simple"

# the first characters that make a spreadsheet read a cell as a formula (OWASP CSV injection)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# tabulate styles that pass cell text through as markup, and what to render them as instead
RAW_STYLES = {"unsafehtml": "html", "latex_raw": "latex"}
# markup styles whose renderers (Markdown, MediaWiki, Textile) also take inline HTML
HTML_ESCAPED_STYLES = {"github", "pipe", "mediawiki", "textile"}
_NON_FINITE = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}


def _is_decimal(value: Any) -> bool:
    # decimal is not imported at start-up (it costs milliseconds on every command); if no
    # driver has loaded it, no Decimal can exist
    decimal = sys.modules.get("decimal")
    return decimal is not None and isinstance(value, decimal.Decimal)


def _blob(value: bytes | bytearray | memoryview) -> str:
    return "X'" + bytes(value).hex().upper() + "'"


def _number(value: Any) -> Any:
    """A finite number as itself (Decimal: a float when that is exact, else its text);
    NaN and infinities as strings, which JSON can carry."""
    if isinstance(value, float):
        return value if math.isfinite(value) else _NON_FINITE[str(value)]
    from decimal import Decimal

    if not value.is_finite():
        return "NaN" if value.is_nan() else ("-Infinity" if value < 0 else "Infinity")
    if value == value.to_integral_value() and abs(value) < 2**63:
        return int(value)
    as_float = float(value)
    return as_float if Decimal(repr(as_float)) == value else str(value)


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, str | int):
        return value
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return _blob(value)
    if isinstance(value, float) or _is_decimal(value):
        return _number(value)
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def _json(record: Any, indent: int | None = None) -> str:
    """``record`` as JSON that any parser reads: no NaN, unknown types (UUID, interval, …)
    as their text."""
    import json

    return json.dumps(
        _jsonable(record), ensure_ascii=False, allow_nan=False, default=str, indent=indent
    )


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return visible(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, bytes | bytearray | memoryview):
        return _blob(value)
    if isinstance(value, float) or _is_decimal(value):
        number = _number(value)
        return number if isinstance(number, str) else str(value)
    # lists and mappings (aliases, external ids) read as text, not as Python reprs
    if isinstance(value, list | tuple):
        return "; ".join(_cell(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}={_cell(v)}" for k, v in value.items())
    return visible(str(value))


def spreadsheet_safe(text: str) -> str:
    """``text`` with a leading ``'`` if a spreadsheet would otherwise run it as a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _csv_cell(value: Any) -> str:
    text = _cell(value)
    if (
        isinstance(value, int)
        or (isinstance(value, float) and math.isfinite(value))
        or (_is_decimal(value) and value.is_finite())
    ):
        return text  # a number, even a negative one, is not a formula ("-Infinity" would be)
    return spreadsheet_safe(text)


def _markup_cell(text: str) -> str:
    import html

    return html.escape(text, quote=False).replace("|", "&#124;")


def render(
    rows: Iterable[Mapping[str, Any]],
    columns: Sequence[str],
    fmt: str = "table",
    style: str = DEFAULT_STYLE,
    out: IO[str] | None = None,
) -> None:
    """Write ``rows`` (only ``columns``, in that order) to ``out`` in the chosen format."""
    out = out or sys.stdout
    if fmt in ("csv", "tsv"):
        # imported here, not at the top: every command's start-up imports this module
        import csv
        import io
        import itertools

        delimiter = "," if fmt == "csv" else "\t"
        writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
        # Python 3.11's writer quotes a cell holding "\r" only if the line terminator holds
        # one: such (rare) rows go through a writer that ends lines with "\r\n", trimmed
        with_cr = csv.writer(buffer := io.StringIO(), delimiter=delimiter, lineterminator="\r\n")
        for line in itertools.chain(
            [[spreadsheet_safe(visible(c)) for c in columns]],
            ([_csv_cell(row.get(c)) for c in columns] for row in rows),
        ):
            if any("\r" in cell for cell in line):
                buffer.seek(0)
                buffer.truncate()
                with_cr.writerow(line)
                out.write(buffer.getvalue()[:-2] + "\n")
            else:
                writer.writerow(line)
    elif fmt == "jsonl":
        for row in rows:
            out.write(inert_json(_json({c: row.get(c) for c in columns})) + "\n")
    elif fmt == "json":
        out.write("[")
        for i, row in enumerate(rows):
            line = inert_json(_json({c: row.get(c) for c in columns}))
            out.write(("," if i else "") + "\n  " + line)
        out.write("\n]\n")
    elif fmt == "table":
        from tabulate import tabulate

        style = RAW_STYLES.get(style, style)
        headers = [visible(c) for c in columns]
        body = [[_cell(row.get(c)) for c in columns] for row in rows]
        if style in HTML_ESCAPED_STYLES:
            headers = [_markup_cell(h) for h in headers]
            body = [[_markup_cell(cell) for cell in line] for line in body]
        out.write(tabulate(body, headers=headers, tablefmt=style, disable_numparse=True))
        out.write("\n")
    else:
        raise ValueError(f"unknown format {fmt!r}")


def render_record(
    record: Mapping[str, Any], fmt: str = "table", out: IO[str] | None = None
) -> None:
    """Write one record: as ``key: value`` lines for table, as a JSON object otherwise."""
    out = out or sys.stdout
    if fmt in ("json", "jsonl"):
        out.write(inert_json(_json(record, indent=None if fmt == "jsonl" else 2)) + "\n")
        return
    width = max((len(k) for k in record), default=0)
    for key, value in record.items():
        out.write(f"{visible(key).ljust(width)}  {_cell(value)}\n")
