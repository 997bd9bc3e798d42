"""Read a story file and check everything that needs no database, collecting every problem.

A problem is a line number and a sentence; :class:`StoryError` carries all of a file's problems
so that the user fixes them in one pass instead of one per run.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import rtoml

from factdb.dates import PartialDate, ends_before, parse_partial
from factdb.errors import FactdbError
from factdb.stories import spec
from factdb.stories.lines import LineIndex
from factdb.textkeys import name_key
from factdb.vocab import ATTRIBUTION_ROLES, LINK_RELATIONS, QUOTE_KINDS, SOURCE_KINDS, SPEAKER_KINDS

try:
    # the same parser as the standard library's tomllib, compiled (mypyc); tomllib when it is
    # absent. It says where a file is wrong (see parse_text)
    import tomli as tomllib
except ImportError:  # pragma: no cover
    import tomllib

SUFFIXES = (".toml", ".json")
# a line number, or a callable that finds it (scanning for a line is paid only for a problem)
LineRef = int | None | Callable[[], int | None]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a story file, at a line when the line is known."""

    line: int | None
    message: str


class StoryError(FactdbError):
    """A story file that cannot be loaded: every problem found, each with its line."""

    def __init__(self, path: Path | str, problems: list[Problem]) -> None:
        self.path = str(path)
        self.problems = sorted(problems, key=lambda p: p.line or 0)

        def where(p: Problem) -> str:
            return f"{self.path}:{p.line}" if p.line else self.path

        if len(self.problems) == 1:
            message = f"story file {where(self.problems[0])}: {self.problems[0].message}"
        else:
            lines = [f"{where(p)}: {p.message}" for p in self.problems]
            count = f"{len(self.problems)} problems"
            message = f"story file {self.path}: {count}\n" + "\n".join(lines)
        super().__init__(message)


@dataclass
class Story:
    """A story file's content, checked for shape (plain data, nothing resolved)."""

    path: Path
    lines: LineIndex
    id: str
    origin: str
    title: str | None
    language: str | None
    tags: list[str]
    chain: list[dict[str, Any]]
    outlet: str | None
    speakers: list[dict[str, Any]]
    sources: list[dict[str, Any]]
    claims: list[dict[str, Any]]
    # problems of shape found by the checker (the resolver adds the database's)
    problems: list[Problem] = field(default_factory=list)
    # claim key → database id, filled while loading
    claim_ids: dict[str, int] = field(default_factory=dict)

    def line(
        self, table: str, index: int | None = None, key: str | None = None, value: Any = None
    ) -> int | None:
        """The line of a table (the ``index``-th of a list), or of a key/value in it."""
        return self.lines.find(table, index, key, value)

    def identity(self, claim: dict[str, Any]) -> tuple[str | None, str | None]:
        """The (origin, external id) a claim is stored under (see docs/story-files.md)."""
        origin = claim.get("origin", self.origin)
        external = claim["external_id"] if "external_id" in claim else f"{self.id}/{claim['id']}"
        return (origin.strip() or None), (external.strip() or None)

    def external_ref(self, ref: str) -> tuple[str, str]:
        """A "<story>/<key>" reference to another story's claim: (origin, external id)."""
        return self.origin, ref


def parse_text(path: Path, text: str) -> Any:
    """A file's text as Python data (TOML or JSON by suffix); a syntax error is a problem."""
    try:
        if path.suffix != ".toml":
            return json.loads(text)
        try:
            # rtoml (Rust) reads a big story in half the time of tomli, to the same data
            return rtoml.loads(text)
        except rtoml.TomlParsingError:
            # the error as tomli words it, with its line: what users have always been shown
            return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise StoryError(
            path, [Problem(getattr(exc, "lineno", None), f"not valid TOML: {exc}")]
        ) from None
    except json.JSONDecodeError as exc:
        raise StoryError(path, [Problem(exc.lineno, f"not valid JSON: {exc.msg}")]) from None


def read_text(path: Path) -> str:
    """The file's text; an unreadable file is a StoryError."""
    if path.suffix not in SUFFIXES:
        raise StoryError(
            path,
            [
                Problem(
                    None, f"unsupported file type {path.suffix or '(none)'!r} (use .toml or .json)"
                )
            ],
        )
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise StoryError(path, [Problem(None, f"cannot read it: {exc.strerror}")]) from None
    except UnicodeDecodeError:
        raise StoryError(path, [Problem(None, "not UTF-8 text")]) from None


class _Checker:
    """Collects the problems of one file's data."""

    def __init__(self, path: Path, lines: LineIndex) -> None:
        self.path = path
        self.lines = lines
        self.problems: list[Problem] = []

    def add(self, line: Any, message: str) -> None:
        """Record a problem; ``line`` may be a callable giving it (found only when needed)."""
        self.problems.append(Problem(line() if callable(line) else line, message))

    def table(
        self, data: Any, shape: spec.Spec, where: str, line: LineRef
    ) -> dict[str, Any] | None:
        """Check unknown keys, missing required keys and types; None when not a table."""
        if not isinstance(data, dict):
            self.add(line, f"{where} must be a table")
            return None
        if _plainly_right(data, shape):
            return data
        for key in sorted(set(data) - set(shape)):
            self.add(line, f"{where}: unknown key {key!r} (allowed: {', '.join(sorted(shape))})")
        ok = True
        for key, (expected, required) in shape.items():
            if key not in data:
                if required:
                    self.add(line, f"{where}: missing {key!r}")
                    ok = False
                continue
            value = data[key]
            if not spec.has_type(value, expected):
                self.add(line, f"{where}: {key!r} must be {spec.type_name(expected)}")
                ok = False
            elif required and expected is str and not value.strip():
                self.add(line, f"{where}: {key!r} is empty")
                ok = False
        return data if ok else None

    def choice(self, value: Any, choices: tuple[str, ...], what: str, line: LineRef) -> None:
        if isinstance(value, str) and value not in choices:
            self.add(line, f"unknown {what} {value!r} (use: {', '.join(choices)})")

    def date(self, value: Any, where: str, line: LineRef) -> PartialDate | None:
        if not isinstance(value, str):
            return None
        try:
            return _partial(value)
        except FactdbError as exc:
            self.add(line, f"{where}: {exc}")
            return None

    def timestamp(self, value: Any, where: str, line: LineRef) -> None:
        if isinstance(value, str):
            try:
                dt.datetime.fromisoformat(value)
            except ValueError:
                self.add(line, f"{where}: {value!r} is not a date and time (YYYY-MM-DDTHH:MM:SS)")


@functools.lru_cache(maxsize=65_536)
def _partial(value: str) -> PartialDate:
    # a story's claims and events share thousands of dates (5,000 in the benchmark's 100,000
    # claims, more than a cache of 4,096 keeps): each parsed once
    return parse_partial(value)


def _plainly_right(data: dict[str, Any], shape: spec.Spec) -> bool:
    """The common case, decided fast: every key known, of its type, every required key there
    and a required string not blank (anything else goes through the full check, which says
    what is wrong).

    Types are compared exactly (a parser gives plain str, int, dict and list): a subclass, or
    a bool where an integer is expected, is left to the full check."""
    required, types, nonblank, lists = spec.fast_shape(shape)
    keys = data.keys()
    if not required <= keys or not keys <= types.keys():
        return False
    for key, value in data.items():
        if type(value) is not types[key]:
            return False
    for key in nonblank:
        if not data[key].strip():
            return False
    for key, kind in lists:
        items = data.get(key)
        if items and not all(type(item) is kind for item in items):
            return False
    return True


def check_data(path: Path, data: Any, lines: LineIndex) -> Story:
    """Check parsed data: the Story, with its problems (tables with problems are left empty).

    Raises StoryError only when there is no story to speak of (not a table, no [story] id).
    """
    c = _Checker(path, lines)
    top = c.table(data, spec.TOP, "the file", None)
    if top is None:
        raise StoryError(path, c.problems)
    story = c.table(top["story"], spec.STORY, "[story]", lambda: lines.find("story"))
    items: dict[str, list[dict[str, Any]]] = {}
    for name, shape in spec.TOP_ITEMS.items():
        raw = top.get(name) or []
        items[name] = []
        for i, item in enumerate(raw if isinstance(raw, list) else []):
            named = (item.get("id") or item.get("name")) if isinstance(item, dict) else None
            label = f"{name[:-1]} {named!r}" if isinstance(named, str) else f"{name[:-1]} {i + 1}"
            checked = c.table(item, shape, label, lambda n=name, i=i: lines.find(n, i))
            items[name].append(checked if checked is not None else {})
    if story is not None and "/" in story["id"]:
        c.add(lines.find("story", None, "id"), "[story]: 'id' cannot contain '/'")
    chain: list[dict[str, Any]] = []
    if story is not None:
        for j, link in enumerate(story.get("chain") or []):
            if c.table(
                link,
                spec.ATTRIBUTION,
                f"[story] chain item {j + 1}",
                lambda: lines.find("story", None, "chain"),
            ):
                c.choice(
                    link.get("role"),
                    ATTRIBUTION_ROLES,
                    "attribution role",
                    lambda link=link: lines.find("story", None, "chain", link.get("role")),
                )
                chain.append(link)
    _check_names(c, items["speakers"], "speakers", "speaker")
    _check_names(c, items["sources"], "sources", "source")
    for i, s in enumerate(items["speakers"]):
        c.choice(
            s.get("kind"),
            SPEAKER_KINDS,
            "speaker kind",
            lambda i=i: lines.find("speakers", i, "kind"),
        )
    for i, s in enumerate(items["sources"]):
        c.choice(
            s.get("kind"), SOURCE_KINDS, "source kind", lambda i=i: lines.find("sources", i, "kind")
        )
        c.date(
            s.get("published_on"),
            f"source {s.get('name')!r}",
            lambda i=i: lines.find("sources", i, "published_on"),
        )
    keys = [claim.get("id") for claim in items["claims"]]
    seen: set[str] = set()
    for i, key in enumerate(keys):
        if not isinstance(key, str):
            continue
        if "/" in key:
            c.add(lines.find("claims", i, "id"), f"claim id {key!r} cannot contain '/'")
        if key in seen:
            c.add(lines.find("claims", i, "id"), f"claim id {key!r} is used twice")
        seen.add(key)
    for i, claim in enumerate(items["claims"]):
        if claim:
            _check_claim(c, i, claim, seen)
    if story is None:
        raise StoryError(path, c.problems)
    return _story(path, lines, story, items, chain, c.problems)


def _story(
    path: Path,
    lines: LineIndex,
    story: dict[str, Any],
    items: dict[str, list[dict[str, Any]]],
    chain: list[dict[str, Any]],
    problems: list[Problem],
) -> Story:
    return Story(
        path=path,
        lines=lines,
        id=story["id"].strip(),
        origin=(story.get("origin") or spec.DEFAULT_ORIGIN).strip(),
        title=story.get("title"),
        language=story.get("language"),
        tags=list(story.get("tags") or []),
        chain=chain,
        outlet=story.get("outlet"),
        speakers=items["speakers"],
        sources=items["sources"],
        claims=items["claims"],
        problems=problems,
    )


def trusted_story(parsed: Parsed) -> Story:
    """The Story :func:`check_data` gives for a file without problems, built without checking
    (the checks run aside, see :mod:`factdb.stories.aside`). Data with problems may give a
    wrong Story or raise any error: the load that uses it waits for the checks' verdict."""
    top = parsed.data
    items = {name: list(top.get(name) or []) for name in spec.TOP_ITEMS}
    story = top["story"]
    return _story(parsed.path, parsed.lines, story, items, list(story.get("chain") or []), [])


def _check_names(c: _Checker, tables: list[dict[str, Any]], name: str, noun: str) -> None:
    """A speaker or source declared twice (the same name, or a name that is another's alias)."""
    owner: dict[str, int] = {}
    for i, table in enumerate(tables):
        names = [table.get("name")] + list(table.get("aliases") or [])
        for value in names:
            if not isinstance(value, str) or not value.strip():
                continue
            key = name_key(value) + (
                "\0" + table["url"] if noun == "source" and table.get("url") else ""
            )
            if key in owner and owner[key] != i:
                c.add(
                    c.lines.find(name, i, None, value), f"{noun} name {value!r} is declared twice"
                )
            owner.setdefault(key, i)


def _check_claim(c: _Checker, i: int, claim: dict[str, Any], keys: set[str]) -> None:
    """A claim's vocabularies, dates, nested lists and references to other claims."""
    where = f"claim {claim['id']!r}"

    def line(key: str | None = None, value: Any = None) -> Any:
        # a callable: finding a line costs a scan of the claim's text, paid only for a problem
        return lambda: c.lines.find("claims", i, key, value)

    def item_line(key: str, item: Any) -> Any:
        # the line of a nested item, found by its first string (only for a problem)
        return lambda: c.lines.find("claims", i, key, _first_string(item))

    # (the checks below are skipped where there is plainly nothing to check: a big story has
    # a hundred thousand claims)
    if "quote_kind" in claim:
        c.choice(claim["quote_kind"], QUOTE_KINDS, "quote kind", line("quote_kind"))
    said = c.date(claim["said_on"], where, line("said_on")) if "said_on" in claim else None
    for key, shape in spec.CLAIM_ITEMS.items():
        items = claim.get(key)
        if not items:
            continue
        for j, item in enumerate(items):
            if type(item) is dict and _plainly_right(item, shape):
                continue
            at = item_line(key, item)
            if c.table(item, shape, f"{where}, {key} item {j + 1}", at) is None:
                claim[key][j] = None
    for item in filter(None, claim.get("attributions") or []):
        role = item.get("role")
        if role is not None and role not in ATTRIBUTION_ROLES:
            c.choice(role, ATTRIBUTION_ROLES, "attribution role", line("role", role))
    for item in filter(None, claim.get("status") or []):
        status = item["status"]
        when = c.date(item["on"], f"{where}, status {status!r}", line("on", item["on"]))
        if when is not None and said is not None and ends_before(when, said.start):
            made = f"is before the claim was made ({said})"
            c.add(line("status", status), f"{where}: status {status!r} dated {when} {made}")
        if "recorded_at" in item:
            at = line("status", status)
            c.timestamp(item["recorded_at"], f"{where}, status {status!r}", at)
        if "evidence_claim" in item:
            _claim_ref(
                c,
                claim,
                item["evidence_claim"],
                keys,
                "status evidence",
                line("evidence_claim", item["evidence_claim"]),
            )
    for item in filter(None, claim.get("links") or []):
        at = line("to", item["to"])
        c.choice(
            item["relation"], LINK_RELATIONS, "link relation", line("relation", item["relation"])
        )
        c.date(item.get("on"), f"{where}, link", at)
        _claim_ref(c, claim, item["to"], keys, "a link", at)
    for item in filter(None, claim.get("verdicts") or []):
        c.date(
            item.get("reviewed_on"),
            f"{where}, verdict",
            line("reviewed_on", item.get("reviewed_on")),
        )


def _first_string(item: Any) -> str | None:
    if isinstance(item, dict):
        for value in item.values():
            if isinstance(value, str):
                return value
    return None


def _claim_ref(
    c: _Checker, claim: dict[str, Any], ref: Any, keys: set[str], what: str, line: int | None
) -> None:
    if not isinstance(ref, str):
        return
    if "/" not in ref and ref not in keys:
        c.add(line, f"claim {claim['id']!r}: {what} names unknown claim {ref!r}")
    elif ref == claim["id"]:
        c.add(line, f"claim {claim['id']!r}: {what} names the claim itself")


@dataclass(frozen=True)
class Parsed:
    """A story file read and parsed, not checked yet."""

    path: Path
    data: Any
    lines: LineIndex


def parse_file(path: Path | str) -> Parsed:
    """Read and parse one story file (TOML, or JSON of the same shape); an unreadable or
    unparsable file is a StoryError."""
    path = Path(path)
    text = read_text(path)
    data = parse_text(path, text)
    return Parsed(path, data, LineIndex(text if path.suffix == ".toml" else None))


def read_unchecked(path: Path | str) -> Story:
    """Read one story file (TOML, or JSON of the same shape); its problems are in the Story."""
    parsed = parse_file(path)
    return check_data(parsed.path, parsed.data, parsed.lines)


def read_story(path: Path | str) -> Story:
    """Read and check one story file; a StoryError lists every problem of its shape."""
    story = read_unchecked(path)
    if story.problems:
        raise StoryError(story.path, story.problems)
    return story
