"""The interchange record and the normalisation of raw, messy input into it.

Every reader yields ``(location, raw dict)`` pairs; :func:`normalise` turns a raw dict into a
:class:`Record` or raises :class:`RecordError` naming the location and the field. Real data is
messy: byte-order marks, stray control and bidi characters, unpadded or
written-out dates, empty strings standing for "nothing". All of that is handled here, once,
for every format.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from factdb.errors import FactdbError
from factdb.text import clean
from factdb.textkeys import name_key, normalise_tag
from factdb.vocab import QUOTE_KINDS, SOURCE_KINDS

# the interchange record, in DESIGN.md order: CSV columns and JSONL keys
COLUMNS: tuple[str, ...] = (
    "text",
    "speaker",
    "speaker_role",
    "speaker_kind",
    "said_on",
    "status",
    "quote_kind",
    "language",
    "context",
    "tags",
    "source",
    "source_url",
    "source_kind",
    "verdict",
    "verdict_by",
    "review_url",
    "reviewed_on",
    "origin",
    "external_id",
)
_COLUMN_SET = frozenset(COLUMNS)

# column lengths the schema enforces on PostgreSQL (SQLite would silently accept longer)
_MAX_LENGTH = {
    "speaker": 300,
    "speaker_role": 300,
    "language": 20,
    "source": 300,
    "source_url": 2000,
    "verdict_by": 300,
    "review_url": 2000,
    "origin": 100,
    "external_id": 300,
}

SPEAKER_KINDS = {"person": "person", "organisation": "organisation"}
SPEAKER_KINDS.update({"org": "organisation", "organization": "organisation"})


class RecordError(FactdbError):
    """A record that cannot be imported: names the file, the line or JSON path, the field."""

    def __init__(self, location: str, field_name: str | None, message: str) -> None:
        self.location = location
        self.field = field_name
        self.message = message
        # the record as read (a dict, a list of CSV fields or a line), for the rejects file
        self.raw: Any = None
        self.reason = f"{field_name}: {message}" if field_name else message
        super().__init__(f"{location}: {self.reason}")


@dataclass(frozen=True)
class SourceRef:
    """A source a record cites: the interchange ``source*`` columns or a ClaimReview appearance."""

    name: str
    url: str | None = None
    kind: str | None = None
    role: str = "reported_by"


@dataclass
class Record:
    """One claim as the interchange record carries it, cleaned and validated.

    The fields after ``external_id`` are not interchange columns: the ClaimReview and Fact
    Check API readers fill them (rating values, further appearances, the speaker's sameAs).

    Not slotted, and with immutable defaults only: :func:`normalise` makes each one from the
    dict of the fields it found (the defaults come from the class), which costs a tenth of
    calling ``__init__`` with every field.
    """

    text: str
    speaker: str
    speaker_role: str | None = None
    speaker_kind: str | None = None
    said_on: str | None = None
    status: str | None = None
    quote_kind: str | None = None
    language: str | None = None
    context: str | None = None
    tags: tuple[str, ...] = ()
    source: str | None = None
    source_url: str | None = None
    source_kind: str | None = None
    verdict: str | None = None
    verdict_by: str | None = None
    review_url: str | None = None
    reviewed_on: str | None = None
    origin: str | None = None
    external_id: str | None = None
    rating_value: int | None = None
    best_rating: int | None = None
    worst_rating: int | None = None
    speaker_same_as: tuple[str, ...] = ()
    extra_sources: tuple[SourceRef, ...] = ()
    location: str = field(default="", compare=False)

    def sources(self) -> list[SourceRef]:
        """Every source the record cites, the interchange ``source`` first."""
        refs = []
        if self.source or self.source_url:
            name = self.source or host_of(self.source_url) or self.source_url
            refs.append(SourceRef(name, self.source_url, self.source_kind))  # type: ignore[arg-type]
        refs.extend(self.extra_sources)
        return refs

    def as_row(self) -> dict[str, str | None]:
        """The interchange columns as strings (tags joined with ``; ``), for the writers."""
        row: dict[str, str | None] = {c: getattr(self, c) for c in COLUMNS}
        row["tags"] = join_tags(self.tags)
        return row


# --- text cleaning -------------------------------------------------------------------------

_TAG_START = re.compile(r"<[A-Za-z/!?]")
_BLOCK_TAGS = {"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"}


class _TextExtractor(HTMLParser):
    """Collects the text of an HTML fragment; block elements become line breaks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def strip_html(value: str) -> str:
    """Text of an HTML fragment: tags removed, entities decoded (stdlib html.parser)."""
    if _TAG_START.search(value):
        parser = _TextExtractor()
        parser.feed(value)
        parser.close()
        return "".join(parser.parts)
    if "&" in value:
        return html.unescape(value)
    return value


def clean_statement(value: str) -> str:
    """Statement text from a field known to hold HTML (a web page's JSON-LD): tags removed,
    entities decoded, then :func:`clean` (lines kept). Plain fields are never read as HTML:
    ``If x<y and y>z`` and ``&amp;`` are text like any other."""
    if "<" in value or "&" in value:
        value = strip_html(value)
    return clean(value, multiline=True)


def host_of(url: str | None) -> str | None:
    """The host of a URL without ``www.`` (a source name when only a URL is known)."""
    if not url:
        return None
    match = re.match(r"^[a-z][a-z0-9+.-]*://(?:[^@/]*@)?([^/:?#]+)", url, re.I)
    if not match:
        return None
    host = match.group(1).lower()
    return host[4:] if host.startswith("www.") else host


# --- dates ---------------------------------------------------------------------------------

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_ISO = re.compile(r"^(\d{4})(?:[-/.](\d{1,2})(?:[-/.](\d{1,2}))?)?(?:[T ]\d{1,2}:\d{2}.*)?$")
_MONTH_FIRST = re.compile(r"^([A-Za-z]+)\.?\s+(?:(\d{1,2})(?:st|nd|rd|th)?,?\s+)?(\d{4})$")
_DAY_FIRST = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?\s+([A-Za-z]+)\.?,?\s+(\d{4})$")


def parse_date(value: str) -> str:
    """A date as people write it → ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``.

    Accepts ISO dates (unpadded too: ``2021-7-16``), ISO datetimes (the date as written, no
    time-zone conversion), ``December 30 2024``, ``Dec 30, 2024``, ``30 December 2024`` and
    ``December 2024``. Ambiguous numeric forms such as ``07/08/2021`` are refused.
    Raises ValueError with a message fit for the user.
    """
    text = value.strip()
    match = _ISO.match(text)
    if match:
        year, month, day = match.groups()
    else:
        year = month = day = None
        m = _MONTH_FIRST.match(text) or _DAY_FIRST.match(text)
        if m is not None:
            if m.re is _MONTH_FIRST:
                month_name, day, year = m.groups()
            else:
                day, month_name, year = m.groups()
            number = _MONTHS.get(month_name.lower())
            if number is None:
                raise ValueError(f"unknown month {month_name!r} in {value!r}")
            month = str(number)
        else:
            raise ValueError(
                f"unrecognised date {value!r} (use YYYY-MM-DD, YYYY-MM, YYYY or 'December 30 2024')"
            )
    try:
        if day is not None:
            return dt.date(int(year), int(month), int(day)).isoformat()  # type: ignore[arg-type]
        if month is not None:
            return dt.date(int(year), int(month), 1).isoformat()[:7]  # type: ignore[arg-type]
        return f"{int(year):04d}"  # type: ignore[arg-type]
    except ValueError:
        raise ValueError(f"impossible date {value!r}") from None


# --- tags ----------------------------------------------------------------------------------


def split_tags(value: Any) -> tuple[str, ...]:
    """Tags from a list or a ``;``- (else ``,``-) separated string; cleaned, deduplicated."""
    if value is None:
        return ()
    if isinstance(value, list | tuple):
        parts = [str(v) for v in value if v is not None]
    else:
        text = str(value)
        parts = text.split(";") if ";" in text else text.split(",")
    seen: dict[str, None] = {}
    for part in parts:
        tag = clean(part)
        if tag:
            seen.setdefault(tag, None)
    return tuple(seen)


def join_tags(tags: tuple[str, ...] | list[str]) -> str | None:
    """Tags as one cell: ``a; b``. A lone tag holding a comma gets a trailing ``;`` so that
    :func:`split_tags` does not split it on the comma."""
    if not tags:
        return None
    joined = "; ".join(tags)
    if len(tags) == 1 and "," in joined:
        joined += ";"
    return joined


# PostgreSQL's INTEGER (SQLite's holds 64 bits): the range of the rating columns
INT_MIN, INT_MAX = -(2**31), 2**31 - 1


def check_int(value: int | None, field_name: str, location: str) -> int | None:
    """``value`` if an INTEGER column holds it on every backend; RecordError otherwise."""
    if value is not None and not INT_MIN <= value <= INT_MAX:
        raise RecordError(
            location, field_name, f"{value} is out of range (from {INT_MIN} to {INT_MAX})"
        )
    return value


# --- normalisation of a raw record -----------------------------------------------------------


def _one_line(key: str, value: Any, location: str) -> str | None:
    """A one-line text field: cleaned, empty → None, length checked."""
    if isinstance(value, bool | dict | list):
        raise RecordError(location, key, f"expected text, got {type(value).__name__}")
    text = clean(str(value))
    if not text:
        return None
    limit = _MAX_LENGTH.get(key)
    if limit and len(text) > limit:
        raise RecordError(location, key, f"longer than {limit} characters")
    return text


def _name(key: str, value: Any, location: str) -> str | None:
    """A speaker or source name: a one-line field whose comparison key fits its column too
    (NFKD spells "ﷺ" out in 18 letters; SQLite would store the overlong key, PostgreSQL not)."""
    text = _one_line(key, value, location)
    if text is not None and len(name_key(text)) > _MAX_LENGTH[key]:
        raise RecordError(
            location,
            key,
            f"its comparison key is longer than {_MAX_LENGTH[key]} characters "
            "(case folding and decomposition lengthen some letters)",
        )
    return text


def _choice(value: str | None, options: tuple[str, ...], key: str, location: str) -> str | None:
    if value is None:
        return None
    normal = value.lower().replace(" ", "_").replace("-", "_")
    if normal not in options:
        raise RecordError(location, key, f"unknown value {value!r} (use: {', '.join(options)})")
    return normal


def _statement(key: str, value: Any, location: str) -> str | None:
    if isinstance(value, bool | dict | list):
        raise RecordError(location, key, f"expected text, got {type(value).__name__}")
    return clean(str(value), multiline=True) or None


def _context(key: str, value: Any, location: str) -> str | None:
    if isinstance(value, bool | dict | list):
        raise RecordError(location, key, f"expected text, got {type(value).__name__}")
    return clean(str(value), multiline=True) or None


def _date(key: str, value: Any, location: str) -> str | None:
    """A date field: blank (only whitespace) means no date; anything else must be a date.

    A value of control or invisible characters (``"\x1b"``) cleans to nothing, but it is not
    blank: it was something other than a date, and a fact-checker wants to hear about it
    rather than have the claim silently stored undated.
    """
    text = _one_line(key, value, location)
    if text is None:
        if str(value).strip():
            raise RecordError(
                location,
                key,
                f"not a date: {str(value)!r} holds only control or invisible characters",
            )
        return None
    try:
        return parse_date(text)
    except ValueError as exc:
        raise RecordError(location, key, str(exc)) from None


def _speaker_kind(key: str, value: Any, location: str) -> str | None:
    text = _one_line(key, value, location)
    if text is None:
        return None
    kind = SPEAKER_KINDS.get(text.lower())
    if kind is None:
        raise RecordError(location, key, f"unknown value {text!r} (use: person, organisation)")
    return kind


def _status(key: str, value: Any, location: str) -> str | None:
    text = _one_line(key, value, location)
    return text.lower() if text else None


def _quote_kind(key: str, value: Any, location: str) -> str | None:
    return _choice(_one_line(key, value, location), QUOTE_KINDS, key, location)


def _source_kind(key: str, value: Any, location: str) -> str | None:
    return _choice(_one_line(key, value, location), SOURCE_KINDS, key, location)


def _external_id(key: str, value: Any, location: str) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return _one_line(key, value, location)


def _tags(key: str, value: Any, location: str) -> tuple[str, ...]:
    tags = split_tags(value)
    for tag in tags:
        # as stored: lower case can be longer ("İ" lowers to two characters)
        if len(tag) > 100 or len(normalise_tag(tag)) > 100:
            raise RecordError(location, key, f"tag longer than 100 characters: {tag[:30]!r}…")
    return tags


_RULES = {c: _one_line for c in COLUMNS}
_RULES.update(
    text=_statement,
    context=_context,
    said_on=_date,
    reviewed_on=_date,
    speaker_kind=_speaker_kind,
    status=_status,
    quote_kind=_quote_kind,
    source_kind=_source_kind,
    external_id=_external_id,
    tags=_tags,
    speaker=_name,
    source=_name,
)
# fields whose values repeat from record to record: their cleaned values are memoised
_REPEATING = frozenset(COLUMNS) - {"text", "context", "external_id", "review_url"}
_MEMO_LIMIT = 50_000  # per field: bounded memory however many distinct values
_memos: dict[str, dict[str, Any]] = {key: {} for key in _REPEATING}
_MISSING = object()


def _plain_statement(value: str) -> bool:
    """Whether :func:`clean` would only strip ``value``'s ends: printable ASCII (no line
    breaks, tabs or controls) without a run of spaces."""
    return value.isascii() and value.isprintable() and "  " not in value


def check_columns(keys: Any, location: str) -> None:
    """Refuse columns that are not in the interchange record, naming them."""
    if _COLUMN_SET.issuperset(keys):
        return
    unknown = [k for k in keys if k not in _COLUMN_SET]
    if unknown:
        shown = ", ".join(repr(k) for k in unknown)
        raise RecordError(location, None, f"unknown column(s) {shown}; known: {', '.join(COLUMNS)}")


def normalise(raw: dict[str, Any], location: str, *, check: bool = True) -> Record:
    """Validate and clean one raw interchange record (a CSV row or a JSONL object).

    Empty strings become None; ``text`` and ``speaker`` are required. ``check=False`` skips
    the unknown-column check (the CSV reader checks its header once instead).
    """
    if check and not _COLUMN_SET.issuperset(raw):
        check_columns(raw, location)
    values: dict[str, Any] = {}
    memos = _memos
    # the loop runs for every field of every record of an import: the common cases first
    for key, value in raw.items():
        if type(value) is str:
            if not value:
                continue
            memo = memos.get(key)
            if memo is not None:
                found = memo.get(value, _MISSING)
                if found is _MISSING:
                    found = _RULES[key](key, value, location)
                    if len(memo) < _MEMO_LIMIT:
                        memo[value] = found
            elif key == "text" and _plain_statement(value):
                found = value.strip() or None  # what clean makes of it
            else:
                found = _RULES[key](key, value, location)
        elif value is None:
            continue
        else:
            found = _RULES[key](key, value, location)
        if found is not None:
            values[key] = found
    if "text" not in values:
        raise RecordError(location, "text", "missing (a claim needs its text)")
    if "speaker" not in values:
        raise RecordError(
            location, "speaker", "missing (a claim needs one; (unknown) if nobody is known)"
        )
    values["location"] = location
    # what Record(**values) makes, without assigning all 25 fields (2.5 µs a record): every
    # key is a field (checked above) and the fields not given keep the class's defaults
    record = _new_record(Record)
    record.__dict__ = values
    return record


_new_record = object.__new__
