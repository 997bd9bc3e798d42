"""Readers: CSV, JSONL, ClaimReview JSON-LD (JSON or HTML) and Fact Check API JSON → records.

Each reader takes a binary stream and a display name, and yields :class:`Record` objects or,
for a record that cannot be read, the :class:`RecordError` saying why (so that the loader can
reject it and go on when asked to). A problem that spoils the whole input (a CSV header with
unknown columns, a JSON document that does not parse) is raised instead.

CSV and JSONL are streamed line by line; a JSON document is streamed a record at a time through
its long arrays (``factdb.io.jsonstream``: ClaimReview feeds and Fact Check API dumps can be
hundreds of megabytes); an HTML page is parsed whole (a page is small).
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import sys
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any, BinaryIO

import orjson

from factdb.errors import FactdbError
from factdb.io.jsonstream import (
    MAX_DEPTH,
    STREAMED,
    JsonPart,
    TooDeep,
    json_parts,
    json_path_key,
)
from factdb.io.records import (
    COLUMNS,
    Record,
    RecordError,
    SourceRef,
    check_columns,
    check_int,
    clean,
    host_of,
    normalise,
    strip_html,
)
from factdb.textkeys import name_key
from factdb.vocab import UNKNOWN_SPEAKER

FORMATS = ("csv", "jsonl", "claimreview", "factcheck-api")
_EXTENSIONS = {
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".html": "claimreview",
    ".htm": "claimreview",
}
SNIFF_BYTES = 1 << 16

Item = Record | RecordError
_COLUMN_SET = frozenset(COLUMNS)


def detect_format(name: str, head: bytes) -> str:
    """The format of an input from its file name and its first bytes (UTF-8). TOML and XML,
    which no reader reads, are refused here whatever the file is called."""
    kind = sniff_kind(head)
    if kind in ("TOML", "XML"):
        raise FactdbError(
            f"{name or '<stdin>'}: this looks like {kind}, not an import format; {_ADVICE[kind]}"
        )
    lower = name.lower()
    for extension, fmt in _EXTENSIONS.items():
        if lower.endswith(extension):
            return fmt
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    if text.startswith("<"):
        return "claimreview"
    if text.startswith(("{", "[")):
        first_line = text.split("\n", 1)[0].strip()
        if text.startswith("{") and "\n" in text.strip():
            try:
                first = json.loads(first_line)
            except ValueError:
                first = None
            if isinstance(first, dict):
                # JSON-LD documents one a line are read as such (their keywords start with @)
                return "claimreview" if any(str(k).startswith("@") for k in first) else "jsonl"
        # a claims:search response (an empty one has just "claims": []) or its claims array
        if '"claimReview"' in text or '"claims"' in text:
            return "factcheck-api"
        # a JSON-LD document of another type: the ClaimReview reader says it holds none
        if "ClaimReview" in text or any(f'"@{k}"' in text for k in ("context", "type", "graph")):
            return "claimreview"
        return "jsonl"
    if lower.endswith(".json"):
        raise FactdbError(f"{name}: cannot tell the format of this JSON file; use --format")
    return "csv"


_FORMAT_NAMES = {
    "csv": "CSV",
    "jsonl": "JSON Lines",
    "claimreview": "ClaimReview JSON-LD",
    "factcheck-api": "Fact Check Tools API JSON",
}


def read_records(stream: BinaryIO, name: str, fmt: str) -> Iterator[Item]:
    """Records (or per-record errors) from ``stream`` in format ``fmt``. An input in which the
    reader finds nothing at all raises FactdbError naming the format tried: "0 added" from a
    file that was misread is a silent failure."""
    if fmt == "csv":
        items = read_csv(stream, name)
    elif fmt == "jsonl":
        items = read_jsonl(stream, name)
    elif fmt == "claimreview":
        items = read_claimreview(stream, name)
    elif fmt == "factcheck-api":
        items = read_factcheck_api(stream, name)
    else:
        raise FactdbError(f"unknown import format {fmt!r} (use: {', '.join(FORMATS)})")
    return _not_empty(items, name, fmt)


def _not_empty(items: Iterator[Item], name: str, fmt: str) -> Iterator[Item]:
    first = next(items, None)
    if first is None:
        raise FactdbError(
            f"{name}: no claim found in it (read as {_FORMAT_NAMES[fmt]}; --format chooses another)"
        )
    yield first
    yield from items  # delegated: no cost per record


# --- what an input is -------------------------------------------------------------------------

_TOML_LINE = re.compile(r"""^(\[\[?\s*[\w."' -]+\]\]?|[\w."-]+\s*=\s*\S)""")
_UTF32 = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)
_UTF16 = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def sniff_kind(head: bytes) -> str | None:
    """What the first bytes of an input look like when that is clearly not CSV: ``JSON``,
    ``TOML``, ``HTML`` or ``XML``; None when it may be CSV (or plain text)."""
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    if text.startswith("<?xml"):
        return "XML"
    if text.startswith("<"):
        return "HTML"
    if text.startswith("{") or re.match(r"\[\s*[\[{\"\d\]-]", text):
        return "JSON"
    # TOML: after its comments, a [table] or a key = value line
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        return "TOML" if _TOML_LINE.match(line) and "," not in line.split("=")[0] else None
    return None


_ADVICE = {
    "JSON": "use --format jsonl, claimreview or factcheck-api",
    "TOML": "a story file is loaded with 'factdb story load FILE'",
    "HTML": "use --format claimreview to read a page's ld+json ClaimReviews",
    "XML": "factdb reads no XML",
    "plain text": "a CSV file starts with a header naming its columns, such as text,speaker",
}


def not_csv(name: str, kind: str) -> FactdbError:
    """The error for an input read as CSV that is something else."""
    return FactdbError(f"{name}: this looks like {kind}, not CSV; {_ADVICE[kind]}")


def utf8_input(head: bytes, rest: BinaryIO, name: str) -> BinaryIO:
    """The input as UTF-8 bytes: UTF-16 and UTF-32 with a byte-order mark are decoded as they
    are read; UTF-16 without one is refused with the command that converts it."""
    codec = None
    if head.startswith(_UTF32):  # before UTF-16: UTF-32-LE's mark starts like UTF-16-LE's
        codec = "utf-32"
    elif head.startswith(_UTF16):
        codec = "utf-16"
    elif head and head.count(0) * 4 >= len(head):  # text with a NUL every other byte
        order = "LE" if head[1:2] == b"\0" else "BE"
        raise FactdbError(
            f"{name}: this looks like UTF-16 text without a byte-order mark; convert it first, "
            f"e.g. iconv -f UTF-16{order} -t UTF-8 {name or 'FILE'} > converted"
        )
    stream: BinaryIO = PrefixedStream(head, rest)  # type: ignore[assignment]
    return _Transcoded(stream, codec, name) if codec else stream  # type: ignore[return-value]


class _Transcoded(io.RawIOBase):
    """A UTF-16 or UTF-32 stream read as UTF-8, a chunk at a time (memory stays bounded)."""

    def __init__(self, raw: BinaryIO, codec: str, name: str) -> None:
        self.raw = raw
        self.name_ = name
        self.codec = codec
        self.decoder = codecs.getincrementaldecoder(codec)(errors="strict")
        self.pending = b""
        self.done = False

    def readable(self) -> bool:
        """Always: this is an input."""
        return True

    def readinto(self, buffer: Any) -> int:
        """Fill ``buffer`` with UTF-8 bytes decoded from the next chunk(s)."""
        while not self.pending and not self.done:
            chunk = self.raw.read(SNIFF_BYTES)
            try:
                text = self.decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                raise FactdbError(
                    f"{self.name_}: invalid {self.codec.upper()} text ({exc.reason})"
                ) from None
            self.done = not chunk
            self.pending = text.encode("utf-8")
        n = min(len(buffer), len(self.pending))
        buffer[:n] = self.pending[:n]
        self.pending = self.pending[n:]
        return n


class PrefixedStream(io.RawIOBase):
    """A stream that replays bytes already read (to sniff the format) before the rest."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self.head = head
        self.rest = rest

    def readable(self) -> bool:
        """Always: this is an input."""
        return True

    def readinto(self, buffer: Any) -> int:
        """Fill ``buffer`` from the replayed bytes first, then from the rest."""
        if self.head:
            n = min(len(buffer), len(self.head))
            buffer[:n] = self.head[:n]
            self.head = self.head[n:]
            return n
        data = self.rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _text_stream(stream: BinaryIO) -> io.TextIOWrapper:
    # utf-8-sig drops a byte-order mark; newline="" leaves CRLF to the csv module / json
    return io.TextIOWrapper(stream, encoding="utf-8-sig", errors="strict", newline="")


def _decode_error(name: str, exc: UnicodeDecodeError, line: int | None = None) -> FactdbError:
    # text is decoded a chunk at a time, so the line is not known exactly: say what to do
    del line
    return FactdbError(
        f"{name}: not UTF-8 text ({exc.reason}); convert it first, e.g. iconv -f latin1 -t utf-8"
    )


# --- CSV -------------------------------------------------------------------------------------


def read_csv(stream: BinaryIO, name: str) -> Iterator[Item]:
    """Interchange records from CSV: a header row naming the columns, then one claim a row.
    JSON, TOML, HTML or plain text read as CSV is refused as such, not by its "columns"."""
    if not hasattr(stream, "peek"):
        stream = io.BufferedReader(stream, SNIFF_BYTES)  # type: ignore[arg-type]
    kind = sniff_kind(stream.peek(SNIFF_BYTES)[:SNIFF_BYTES])  # type: ignore[attr-defined]
    if kind is not None:
        raise not_csv(name, kind)
    text = _text_stream(stream)
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    reader = csv.reader(text, strict=True)
    try:
        header = next(reader, None)
    except UnicodeDecodeError as exc:
        raise _decode_error(name, exc, 1) from None
    except csv.Error:
        raise not_csv(name, "plain text") from None
    if header is None:
        return
    columns = [clean(h).lower() for h in header]
    unknown = [clean(h) for h, c in zip(header, columns, strict=True) if c and c not in COLUMNS]
    if unknown and not _COLUMN_SET.intersection(columns):
        # not one interchange column: the first line is not a header but text
        raise not_csv(name, "plain text")
    # a bad header spoils every row: raised, not yielded (--skip-invalid cannot help)
    try:
        check_columns(unknown, f"{name}, line 1")
    except RecordError as exc:
        raise FactdbError(str(exc)) from None
    if "" in columns:
        raise FactdbError(f"{name}, line 1: a column has no name in the header")
    width = len(columns)
    line = reader.line_num
    while True:
        start = line + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            # an unterminated quote or a stray quote: the rest of the file cannot be trusted
            raise FactdbError(f"{name}, line {start}: malformed CSV: {exc}") from None
        except UnicodeDecodeError as exc:
            raise _decode_error(name, exc, start) from None
        line = reader.line_num
        if not any(field.strip() for field in row):
            continue  # a blank line, or a spreadsheet's row of empty cells
        location = f"{name}, line {start}"
        if len(row) != width:
            error = RecordError(
                location,
                columns[-1] if len(row) > width else columns[len(row)],
                f"{len(row)} fields where the header has {width}"
                + (" (extra fields after the last column)" if len(row) > width else " (missing)"),
            )
            error.raw = row
            yield error
            continue
        raw = dict(zip(columns, row, strict=True))
        try:
            yield normalise(raw, location, check=False)
        except RecordError as exc:
            exc.raw = raw
            yield exc


# --- JSONL -----------------------------------------------------------------------------------


def read_jsonl(stream: BinaryIO, name: str) -> Iterator[Item]:
    """Interchange records from JSON Lines: one object a line, blank lines ignored."""
    loads = orjson.loads  # several times faster than json.loads; same values for valid JSON
    first = True
    for number, line in _binary_lines(stream):
        if not line or line.isspace():
            continue
        location = f"{name}, line {number}"
        try:
            raw = loads(line)
        except ValueError as exc:
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError as decode:
                raise _decode_error(name, decode, number) from None
            if first and _is_csv_header(text):
                # one "invalid JSON" error a row would hide what is wrong: the whole file
                raise FactdbError(
                    f"{name}: this looks like CSV, not JSON Lines; use --format csv"
                ) from None
            first = False
            error = RecordError(location, None, f"invalid JSON: {exc}")
            error.raw = text.rstrip("\r\n")
            yield error
            continue
        first = False
        if not isinstance(raw, dict):
            error = RecordError(location, None, "expected a JSON object")
            error.raw = raw
            yield error
            continue
        try:
            yield normalise(raw, location)
        except RecordError as exc:
            exc.raw = raw
            yield exc


def _is_csv_header(line: str) -> bool:
    """Whether a line that is not JSON is a CSV header naming interchange columns."""
    if line.lstrip().startswith(("{", "[")):
        return False
    try:
        cells = next(csv.reader([line]))
    except csv.Error:
        return False
    return len(cells) > 1 and bool(_COLUMN_SET.intersection(clean(c).lower() for c in cells))


def _binary_lines(stream: BinaryIO) -> Iterator[tuple[int, bytes]]:
    """(line number, line) of a binary stream, as text mode's universal newlines count them
    (LF, CRLF or a lone CR end a line), without its byte-order mark. Bytes, not text: orjson
    reads UTF-8 itself, and decoding every line first took a third of the reading time."""
    number = 0
    first = True
    for chunk in stream:
        if first:
            first = False
            if chunk.startswith(codecs.BOM_UTF8):
                chunk = chunk[len(codecs.BOM_UTF8) :]
        if b"\r" in chunk and b"\r" in chunk.rstrip(b"\r\n"):  # lone CRs (old Mac line ends)
            for line in chunk.splitlines():
                number += 1
                yield number, line
            continue
        number += 1
        yield number, chunk


# --- ClaimReview -------------------------------------------------------------------------------

HTML_CHUNK = 1 << 20  # bytes of a page decoded and parsed at a time


class _LdJsonExtractor(HTMLParser):
    """Collects the bodies of ``<script type="application/ld+json">`` blocks of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.blocks: list[tuple[int, str]] = []
        self._current: list[str] | None = None
        self._line = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            kind = (dict(attrs).get("type") or "").split(";")[0].strip().lower()
            if kind == "application/ld+json":
                self._current = []
                self._line = self.getpos()[0]

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._current is not None:
            self.blocks.append((self._line, "".join(self._current)))
            self._current = None

    def handle_data(self, data: str) -> None:
        if self._current is not None:
            self._current.append(data)


def _ld_json_blocks(head: bytes, rest: BinaryIO, name: str) -> Iterator[tuple[int, str]]:
    """(line, body) of each ld+json block of an HTML page, as soon as the block has been read:
    the page is decoded and parsed a chunk at a time, and only those blocks are kept, so memory
    is bounded by the biggest block, not by the page (a page can be a 100 MB archive)."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="strict")
    parser = _LdJsonExtractor()
    chunk = head
    while True:
        try:
            parser.feed(decoder.decode(chunk, final=not chunk))
        except UnicodeDecodeError as exc:
            raise _decode_error(name, exc) from None
        if not chunk:
            parser.close()
        blocks, parser.blocks = parser.blocks, []
        yield from blocks
        if not chunk:
            return
        chunk = rest.read(HTML_CHUNK)


def _json_parts(stream: BinaryIO, name: str) -> Iterator[tuple[str, JsonPart, bool]]:
    """(location prefix, part, whether it came from an HTML page) of a JSON input, streamed
    (see ``factdb.io.jsonstream``), or of each JSON-LD block of an HTML page (streamed too: a
    block at a time)."""
    head = stream.read(SNIFF_BYTES)
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        for index, (line, body) in enumerate(_ld_json_blocks(head, stream, name), start=1):
            prefix = f"script {index} (line {line}) "
            try:
                value = json.loads(body)
            except ValueError as exc:
                raise FactdbError(f"{name}, {prefix.strip()}: invalid JSON-LD: {exc}") from None
            except RecursionError:
                raise FactdbError(
                    f"{name}, {prefix.strip()}: JSON nested deeper than {MAX_DEPTH} levels"
                ) from None
            yield prefix, JsonPart(1, "$", value), True
        return
    for part in json_parts(PrefixedStream(head, stream), name):
        # several documents one after another (JSON Lines): the second on are numbered
        yield ("" if part.document == 1 else f"document {part.document} "), part, False


def _types(node: dict[str, Any]) -> set[str]:
    value = node.get("@type") or node.get("type") or ()
    values = [value] if isinstance(value, str) else list(value)
    # "ClaimReview", "schema:ClaimReview", "http://schema.org/ClaimReview" are one type
    return {str(v).rsplit("/", 1)[-1].rsplit(":", 1)[-1] for v in values}


_NESTING_KEYS = (
    "@graph",
    "dataFeedElement",
    "itemListElement",
    "item",
    "review",
    "mainEntity",
    "hasPart",
)


def _claim_reviews(node: Any, path: str, depth: int = 0) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every ClaimReview object in a JSON-LD document, with its JSON path; others ignored.
    Nesting deeper than MAX_DEPTH raises TooDeep (this walk recurses)."""
    if depth > MAX_DEPTH:
        raise TooDeep(path)
    if isinstance(node, list):
        for index, item in enumerate(node):
            yield from _claim_reviews(item, f"{path}[{index}]", depth + 1)
    elif isinstance(node, dict):
        if "ClaimReview" in _types(node):
            yield path, node
            return
        # a page may nest its reviews in the article's "review" or in "mainEntity"; a schema.org
        # DataFeed (Google's and Data Commons' ClaimReview feeds) in its elements' "item"
        for key in _NESTING_KEYS:
            if key in node:
                yield from _claim_reviews(node[key], json_path_key(path, key), depth + 1)


def _first(value: Any) -> Any:
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _name(value: Any) -> str | None:
    value = _first(value)
    if isinstance(value, dict):
        value = value.get("name") or value.get("legalName") or value.get("alternateName")
        value = _first(value)
    return str(value) if value not in (None, "") else None


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    try:
        number = float(str(value).strip())
    except ValueError:
        return None
    return int(number) if number.is_integer() else None


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _appearance(item: Any, role: str) -> SourceRef | None:
    if isinstance(item, str):
        url: str | None = clean(item) or None
        name = None
    elif isinstance(item, dict):
        url = clean(str(_first(item.get("url")) or "")) or None
        name = _name(item.get("publisher")) or _name(item.get("author")) or _name(item)
        if name is None and item.get("headline") and not url:
            name = str(item["headline"])
    else:
        return None
    name = clean(name) if name else host_of(url)
    if not name:
        return None
    name = name[:300]
    while len(name_key(name)) > 300:  # its key must fit its column too (rare: ligatures)
        name = name[:-1]
    return SourceRef(name, url, None, role)


# ClaimReview field (as a user would look for it) for each interchange field
_CLAIMREVIEW_FIELDS = {
    "text": "claimReviewed",
    "speaker": "itemReviewed.author.name",
    "speaker_role": "itemReviewed.author.jobTitle",
    "said_on": "itemReviewed.datePublished",
    "verdict": "reviewRating.alternateName",
    "verdict_by": "author.name",
    "review_url": "url",
    "reviewed_on": "datePublished",
    "language": "inLanguage",
}


# the text fields a web page's JSON-LD may carry as HTML: publishing systems write entities
# (``&#8220;``) and sometimes tags into them. The same fields of a JSON file, and every field
# of the Fact Check API, are plain text, kept as written.
_MARKUP_FIELDS = ("text", "speaker", "speaker_role", "verdict", "verdict_by")


def claimreview_record(node: dict[str, Any], location: str, *, markup: bool = False) -> Record:
    """Map one schema.org ClaimReview object to a record (a review without rating: no verdict).
    ``markup``: the object comes from an HTML page, whose text fields may hold HTML."""
    item = _first(node.get("itemReviewed"))
    item = item if isinstance(item, dict) else {}
    author = _first(item.get("author"))
    author = author if isinstance(author, dict) else ({"name": author} if author else {})
    rating = _first(node.get("reviewRating"))
    rating = rating if isinstance(rating, dict) else {}
    label = _name(rating.get("alternateName")) or _name(rating.get("name"))
    value, best, worst = (
        _as_int(rating.get(k)) for k in ("ratingValue", "bestRating", "worstRating")
    )
    if label is None and value is not None:
        label = f"{value}/{best}" if best is not None else str(value)
    raw = {
        "text": node.get("claimReviewed") or item.get("text") or item.get("name"),
        # ClaimReview allows a Claim without an author: the unknown speaker said it
        "speaker": _name(author) or UNKNOWN_SPEAKER,
        "speaker_role": _name(author.get("jobTitle")),
        "speaker_kind": (
            ("organisation" if "Organization" in _types(author) else "person") if author else None
        ),
        "said_on": _first(item.get("datePublished") or item.get("dateCreated")),
        "language": _name(item.get("inLanguage") or node.get("inLanguage")),
        "verdict": label,
        "verdict_by": _name(node.get("author")),
        "review_url": _first(node.get("url")),
        "reviewed_on": _first(node.get("datePublished")),
    }
    if markup:
        for key in _MARKUP_FIELDS:
            if isinstance(raw[key], str):
                raw[key] = strip_html(raw[key])
    try:
        record = normalise(raw, location, check=False)
    except RecordError as exc:
        field_name = _CLAIMREVIEW_FIELDS.get(exc.field or "", exc.field)
        raise RecordError(location, field_name, exc.message) from None
    if record.verdict is not None:
        for number, key in ((value, "ratingValue"), (best, "bestRating"), (worst, "worstRating")):
            check_int(number, f"reviewRating.{key}", location)
        record.rating_value, record.best_rating, record.worst_rating = value, best, worst
    record.speaker_same_as = tuple(
        clean(str(s)) for s in _as_list(author.get("sameAs")) if isinstance(s, str) and s.strip()
    )
    sources: dict[str | None, SourceRef] = {}
    for entry in _as_list(item.get("firstAppearance")):
        ref = _appearance(entry, "first_reported")
        if ref is not None:
            sources.setdefault(ref.url or ref.name, ref)
    for entry in _as_list(item.get("appearance")):
        ref = _appearance(entry, "reported_by")
        if ref is not None:
            sources.setdefault(ref.url or ref.name, ref)
    for ref in sources.values():
        if ref.url is not None and len(ref.url) > 2000:
            raise RecordError(
                location, f"itemReviewed.{ref.role}.url", "longer than 2000 characters"
            )
    record.extra_sources = tuple(sources.values())
    return record


def read_claimreview(stream: BinaryIO, name: str) -> Iterator[Item]:
    """Records from ClaimReview JSON-LD: an object, an array, a ``@graph``, a DataFeed or an
    HTML page; a big document is streamed. Nothing to import at all is an error, not a quiet
    "0 added"."""
    found = False
    for prefix, part, markup in _json_parts(stream, name):
        try:
            for path, node in _claim_reviews(part.value, part.path):
                found = True
                location = f"{name}, {prefix}{path}"
                try:
                    yield claimreview_record(node, location, markup=markup)
                except RecordError as exc:
                    exc.raw = node
                    yield exc
        except TooDeep as exc:
            raise FactdbError(f"{name}, {prefix}{exc.path}: {exc}") from None
    if not found:
        raise FactdbError(
            f"{name}: no ClaimReview found (other JSON-LD types are ignored; "
            "for Fact Check API results use --format factcheck-api)"
        )


# --- Google Fact Check Tools API -----------------------------------------------------------------

_FACTCHECK_FIELDS = {
    "text": "text",
    "speaker": "claimant",
    "said_on": "claimDate",
    "verdict": "textualRating",
    "verdict_by": "publisher.name",
    "review_url": "url",
    "reviewed_on": "reviewDate",
    "language": "languageCode",
}


def read_factcheck_api(stream: BinaryIO, name: str) -> Iterator[Item]:
    """Records from Fact Check Tools ``claims:search`` JSON: one record per (claim, review).
    A response (or an array of them) is streamed claim by claim."""
    for prefix, part, _markup in _json_parts(stream, name):
        if part.path.startswith("$.claims["):  # a claim of a response, streamed
            yield from _factcheck_claim(part.value, name, f"{prefix}{part.path}")
            continue
        page = part.value  # a whole response: the document, or an item of a top-level array
        if part.path != "$" and isinstance(page, dict) and "claims" not in page:
            # a saved "claims" array on its own: the item is a claim, not a response
            yield from _factcheck_claim(page, name, f"{prefix}{part.path}")
            continue
        claims = page.get("claims", []) if isinstance(page, dict) else None
        if not isinstance(claims, list) and claims is not STREAMED:
            raise FactdbError(f"{name}, {prefix}{part.path}: not a claims:search response")
        if isinstance(claims, list):
            for index, claim in enumerate(claims):
                where = f"{prefix}{json_path_key(part.path, 'claims')}[{index}]"
                yield from _factcheck_claim(claim, name, where)


def _factcheck_claim(claim: Any, name: str, path: str) -> Iterator[Item]:
    if not isinstance(claim, dict):
        yield RecordError(f"{name}, {path}", None, "expected an object")
        return
    reviews = [r for r in _as_list(claim.get("claimReview")) if isinstance(r, dict)]
    for review_index, review in enumerate(reviews or [{}]):
        where = f"{path}.claimReview[{review_index}]" if reviews else path
        location = f"{name}, {where}"
        try:
            yield _factcheck_record(claim, review, location)
        except RecordError as exc:
            exc.raw = claim
            yield exc


def _factcheck_record(claim: dict[str, Any], review: dict[str, Any], location: str) -> Record:
    publisher = review.get("publisher") if isinstance(review.get("publisher"), dict) else {}
    raw = {
        "text": claim.get("text"),
        # about one claim in twenty has no claimant (an anonymous viral post)
        "speaker": _name(claim.get("claimant")) or UNKNOWN_SPEAKER,
        "said_on": claim.get("claimDate"),
        "language": review.get("languageCode"),
        "verdict": review.get("textualRating"),
        "verdict_by": publisher.get("name") or publisher.get("site"),
        "review_url": review.get("url"),
        "reviewed_on": review.get("reviewDate"),
    }
    try:
        return normalise(raw, location, check=False)
    except RecordError as exc:
        field_name = _FACTCHECK_FIELDS.get(exc.field or "", exc.field)
        raise RecordError(location, field_name, exc.message) from None
