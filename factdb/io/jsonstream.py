"""A big JSON document read a part at a time: the items of its long arrays one by one.

ClaimReview feeds (a schema.org ``DataFeed``, a ``@graph``, a plain array) and Fact Check API
dumps can be hundreds of megabytes in a single JSON document. :func:`json_parts` yields each
item of the arrays that hold the records as soon as it has been read (each item is parsed
whole: they are small), then the rest of the document, so that memory is bounded by the
biggest item rather than by the file. Several documents one after another (JSON Lines) are
read in turn. The tokenizer is ijson's, on the yajl C library.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from typing import Any, BinaryIO, NamedTuple

from factdb.errors import FactdbError

# arrays of a top-level object whose items are streamed: JSON-LD's @graph, a DataFeed's
# elements, an ItemList's, and a Fact Check API response's claims
STREAMED_KEYS = frozenset({"@graph", "dataFeedElement", "itemListElement", "claims"})
# how deep a value may nest: real records nest a dozen levels; the walkers that read them
# recurse, so a hostile or broken document is refused here with its path instead
MAX_DEPTH = 200


class _Streamed:
    """Stands in the rest of a document for an array whose items were yielded already."""

    def __repr__(self) -> str:
        return "STREAMED"


STREAMED = _Streamed()


class JsonPart(NamedTuple):
    """One part of a JSON input: which document (1, 2, … for JSON Lines), its JSON path, and
    the value there."""

    document: int
    path: str
    value: Any


def json_parts(stream: BinaryIO, name: str) -> Iterator[JsonPart]:
    """The parts of every JSON document in ``stream``: a top-level array's items; a top-level
    object's STREAMED_KEYS arrays' items, then the object itself with those arrays replaced by
    STREAMED; any other top-level value whole. Invalid JSON raises one FactdbError line."""
    import ijson  # here, not at the top: CSV and JSON Lines imports need not load it (15 ms)

    events = ijson.basic_parse(_WithoutBom(stream), use_float=True, multiple_values=True)
    document = 1
    try:
        for document, (event, value) in enumerate(events, start=1):
            if event == "start_array":
                for index, item in enumerate(_items(events, "$")):
                    yield JsonPart(document, f"$[{index}]", item)
            elif event == "start_map":
                yield from _object_parts(events, document)
            else:
                yield JsonPart(document, "$", value)
    except TooDeep as exc:
        where = exc.path if document == 1 else f"document {document} {exc.path}"
        raise FactdbError(f"{name}, {where}: {exc}") from None
    except ijson.JSONError as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else "invalid JSON"
        raise FactdbError(f"{name}: invalid JSON: {detail}") from None


def _object_parts(events: Iterator[tuple[str, Any]], document: int) -> Iterator[JsonPart]:
    rest: dict[str, Any] = {}
    for event, key in events:
        if event == "end_map":
            yield JsonPart(document, "$", rest)
            return
        event, value = next(events)
        path = json_path_key("$", key)
        if key in STREAMED_KEYS and event == "start_array":
            rest[key] = STREAMED
            for index, item in enumerate(_items(events, path)):
                yield JsonPart(document, f"{path}[{index}]", item)
        else:
            rest[key] = _value(events, event, value, path, 1)


def _items(events: Iterator[tuple[str, Any]], path: str) -> Iterator[Any]:
    """The values of the array just opened at ``path``, each built whole."""
    for index, (event, value) in enumerate(events):
        if event == "end_array":
            return
        yield _value(events, event, value, f"{path}[{index}]", 1)


class TooDeep(FactdbError):
    """A JSON value nested deeper than :data:`MAX_DEPTH` levels, at ``path``."""

    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(f"JSON nested deeper than {MAX_DEPTH} levels")


def _value(events: Iterator[tuple[str, Any]], event: str, value: Any, path: str, depth: int) -> Any:
    """The whole value that starts with ``(event, value)`` at ``path``, ``depth`` levels in."""
    if event not in ("start_map", "start_array"):
        return value
    import ijson

    builder = ijson.ObjectBuilder()
    builder.event(event, value)
    for event, value in events:
        builder.event(event, value)
        if event in ("start_map", "start_array"):
            depth += 1
            if depth > MAX_DEPTH:
                raise TooDeep(path)
        elif event in ("end_map", "end_array"):
            depth -= 1
            if depth == 0:
                return builder.value
    raise ijson.IncompleteJSONError("premature end of the document")


def json_path_key(path: str, key: str) -> str:
    """``path`` extended by an object key: ``$.claims``, or ``$['@graph']`` when the key is not
    a plain name."""
    return f"{path}.{key}" if key.isidentifier() else f"{path}['{key}']"


class _WithoutBom:
    """A binary stream without its UTF-8 byte-order mark (yajl does not expect one)."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.started = False

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        if not self.started:
            self.started = True
            if data.startswith(codecs.BOM_UTF8):
                data = data[len(codecs.BOM_UTF8) :]
                if not data and size != 0:
                    data = self.stream.read(size)
        return data
