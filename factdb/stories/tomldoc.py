"""Story data as a TOML document, written with tomlkit so that an existing file keeps its
comments and layout: ``story export -o story.toml`` over a commented file updates the values
that changed and appends what is new, leaving every comment where it was.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import tomlkit
import tomlkit.exceptions
from tomlkit.items import AoT, Array, InlineTable, Table

from factdb.errors import FactdbError
from factdb.stories import spec

# how the tables of each top-level list are matched between the file and the new data
_MATCH_KEY = {"speakers": "name", "sources": "name", "claims": "id"}


def _inline(table: dict[str, Any]) -> InlineTable:
    item = tomlkit.inline_table()
    item.update(table)
    return item


def _value(value: Any) -> Any:
    """A TOML item for a value: lists of tables become one inline table per line."""
    if isinstance(value, list) and value and isinstance(value[0], dict):
        array: Array = tomlkit.array()
        for table in value:
            array.append(_inline(table))
        array.multiline(True)
        return array
    if isinstance(value, dict):
        return _inline(value)
    return value


def _fill(table: Table, data: dict[str, Any], shape: spec.Spec) -> None:
    """Write ``data`` into ``table``: changed values replaced, keys gone removed, order kept."""
    for key in [k for k in table if k not in data and k in shape]:
        del table[key]
    for key in shape:
        if key not in data:
            continue
        current = table.get(key)
        plain = current.unwrap() if hasattr(current, "unwrap") else current
        if plain != data[key]:
            table[key] = _value(data[key])


def _new_table(data: dict[str, Any], shape: spec.Spec) -> Table:
    table = tomlkit.table()
    _fill(table, data, shape)
    return table


def render(data: dict[str, Any]) -> str:
    """A new story document for ``data``."""
    return tomlkit.dumps(merge(tomlkit.document(), data))


def merge(doc: tomlkit.TOMLDocument, data: dict[str, Any]) -> tomlkit.TOMLDocument:
    """Update ``doc`` (an existing story file, comments and all) with ``data``.

    [story] takes the new values; speakers and sources (by name) and claims (by id) already in
    the file are updated in place, new ones appended; tables the data lacks stay as they are
    (an export of a selection merged into a whole story must not drop the rest).
    """
    story = doc.get("story")
    if not isinstance(story, Table):
        story = tomlkit.table()
        doc["story"] = story
    for key, value in data["story"].items():
        current = story.get(key)
        if (current.unwrap() if hasattr(current, "unwrap") else current) != value:
            story[key] = _value(value)
    for name, shape in spec.TOP_ITEMS.items():
        match = _MATCH_KEY[name]
        existing = doc.get(name)
        if not isinstance(existing, AoT):
            if name in doc:
                del doc[name]
            existing = tomlkit.aot()
            doc.add(tomlkit.nl())
            doc.append(name, existing)
        by_key = {t.get(match): t for t in existing}
        for table in data.get(name) or []:
            found = by_key.get(table[match])
            if found is not None:
                _fill(found, table, shape)
            else:
                existing.append(_new_table(table, shape))
    return doc


def parse(text: str) -> tomlkit.TOMLDocument:
    """An existing story file as an editable document."""
    return tomlkit.parse(text)


def merge_file(path: Path, data: dict[str, Any]) -> str:
    """The text of ``path`` (an existing story file) with ``data`` merged in, or a new one."""
    if not path.exists():
        return render(data)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FactdbError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        doc = parse(text)
    except tomlkit.exceptions.ParseError as exc:
        raise FactdbError(f"{path} is not a TOML story file to merge into: {exc}") from None
    return tomlkit.dumps(merge(doc, data))
