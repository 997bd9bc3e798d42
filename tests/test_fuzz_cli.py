"""Hostile and random input, driven by hypothesis through the real CLI (in-process).

Whatever the arguments or the import file hold (any Unicode, huge fields, wrong types, missing
keys, garbage lines), the CLI never shows a traceback, exits 0, 1 or 2 with one ``Error:`` line
on failure, and a failed command leaves the database file byte-for-byte as it was. Inputs that
are invalid by construction must never exit 0.

Example counts are modest (the suite must stay fast); raise them with
``FACTDB_FUZZ_EXAMPLES=500 pytest tests/test_fuzz_cli.py`` for a longer hunt. Under CI the
examples are the same on every run (the "ci" profile in tests/conftest.py); elsewhere each
run explores new ones. Every failure hypothesis has found is kept below as an explicit
``@example`` (or, for the tests that draw interactively, in ``FOUND_ARGUMENTS``), so that it
is tried on every run, whatever the seed.
"""

from __future__ import annotations

import csv
import gc
import hashlib
import io
import json
import os
import shutil
import sqlite3
import string
import uuid
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from factdb.cli import cli
from factdb.io.records import COLUMNS

SCALE = int(os.environ.get("FACTDB_FUZZ_EXAMPLES", "0")) or None


def examples(n: int) -> settings:
    return settings(
        max_examples=SCALE or n,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


LAVROV = "Sergey Lavrov"
# commands that legitimately rebuild the schema or write outside the database are not fuzzed
SKIP = {("init",), ("seed",), ("db",)}


# --- the database every example starts from ----------------------------------------------------


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Path:
    """A small populated database: 12 claims by 3 speakers, statuses, a link."""
    from factdb.db import make_engine, session_scope
    from factdb.services.claims import add_claim
    from factdb.services.links import link_claims

    path = tmp_path_factory.mktemp("fuzz") / "base.db"
    shutil.copyfile(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    with session_scope(engine) as s:
        speakers = [LAVROV, "Oana Lungescu", "Maria Zakharova"]
        ids = [
            add_claim(
                s,
                text=f"claim number {i}: NATO expelled eight officials",
                speaker=speakers[i % 3],
                said_on="2021-10-06",
                status="alleged",
                tags=["nato"],
            ).id
            for i in range(12)
        ]
        s.flush()
        link_claims(s, ids[1], "denies", ids[0])
    engine.dispose()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return path


class Fresh:
    """A fresh copy of the base database for one example, with helpers to judge a run."""

    def __init__(self, base: Path) -> None:
        self.dir = base.parent / uuid.uuid4().hex[:10]
        self.dir.mkdir()
        self.db = self.dir / "factdb.db"
        shutil.copyfile(base, self.db)

    def digest(self) -> str:
        h = hashlib.sha256(self.db.read_bytes())
        wal = self.db.with_name(self.db.name + "-wal")
        if wal.exists() and wal.stat().st_size:
            h.update(wal.read_bytes())
        return h.hexdigest()

    def invoke(self, args: list[str]) -> Result:
        result = CliRunner().invoke(cli, ["--db", str(self.db), *args], catch_exceptions=True)
        gc.collect()  # close the command's pooled connections before the file is inspected
        return result

    def claims(self) -> int:
        conn = sqlite3.connect(self.db)
        try:
            return conn.execute("SELECT count(*) FROM statements").fetchone()[0]
        finally:
            conn.close()

    def integrity(self) -> str:
        conn = sqlite3.connect(self.db)
        try:
            return conn.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            conn.close()

    def close(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def judge(fresh: Fresh, args: list[str], *, invalid: bool = False) -> Result:
    """Run ``args`` and apply the rules every command obeys; return the result."""
    before = fresh.digest()
    result = fresh.invoke(args)
    where = f"factdb {' '.join(repr(a)[:80] for a in args)}"
    exc = result.exception
    assert exc is None or isinstance(exc, SystemExit), f"{where}: uncaught {exc!r}"
    assert "Traceback" not in result.output, where
    assert result.exit_code in (0, 1, 2), (where, result.exit_code)
    if invalid:
        assert result.exit_code != 0, f"{where}: invalid input accepted\n{result.output[-500:]}"
    if result.exit_code != 0:
        lines = result.stderr.strip().splitlines()
        assert lines and lines[-1].startswith("Error: "), (where, result.stderr[-500:])
        if result.exit_code == 1:
            assert len(lines) == 1, (where, result.stderr[-500:])
        assert fresh.digest() == before, f"{where}: a failed command changed the database"
    return result


# --- value strategies ------------------------------------------------------------------------

any_text = st.text(max_size=40)  # any Unicode (hypothesis's default alphabet: all code points)
huge_text = st.builds(lambda c, n: c * n, st.characters(), st.integers(5_000, 60_000))
dateish = st.one_of(
    st.sampled_from(["2021", "2021-10", "2021-10-06", "2021-02-30", "0000", "9999-12-31"]),
    st.from_regex(r"\A-?[0-9]{1,5}(-[0-9]{1,3}){0,3}\Z"),
)
numberish = st.integers(-(2**70), 2**70).map(str)
words = st.sampled_from(
    [LAVROV, "Oana Lungescu", "alleged", "denied", "nato", "1", "0", "-1", "", " ", "--help"]
)
value = st.one_of(any_text, words, numberish, dateish, huge_text)


def leaf_commands() -> list[tuple[tuple[str, ...], click.Command]]:
    """Every runnable command, walking the lazy tree (imports every CLI module once)."""
    found = []

    def walk(command: click.Command, path: tuple[str, ...]) -> None:
        if path[:1] in SKIP:
            return
        if isinstance(command, click.Group):
            ctx = click.Context(command)
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                if sub is not None:
                    walk(sub, (*path, name))
        elif path:
            found.append((path, command))

    walk(cli, ())
    return found


LEAVES = leaf_commands()


def _writes_files(param: click.Parameter) -> bool:
    return isinstance(param.type, click.Path | click.File) or param.name in ("output", "out")


@st.composite
def invocations(draw: st.DrawFn, tmp: Path) -> list[str]:
    """A random command with a random subset of its options and random arguments."""
    path, command = draw(st.sampled_from(LEAVES))
    args: list[str] = list(path)
    for param in command.params:
        if param.name == "help" or not draw(st.booleans()):
            continue
        if _writes_files(param):
            # never let a fuzzed path write somewhere real: a fresh file in the example's folder
            target = str(tmp / f"out-{uuid.uuid4().hex[:6]}")
            if isinstance(param, click.Option):
                args += [param.opts[0], target]
            else:
                args.append(target)
            continue
        if isinstance(param, click.Option):
            if param.is_flag:
                args.append(param.opts[0])
            elif isinstance(param.type, click.Choice):
                args += [param.opts[0], draw(st.sampled_from([*param.type.choices, "bogus"]))]
            else:
                args += [param.opts[0], draw(value)]
        else:
            n = param.nargs if param.nargs > 0 else draw(st.integers(0, 2))
            args += [draw(value) for _ in range(n)]
    return args


# --- random arguments --------------------------------------------------------------------------


# arguments hypothesis once found to crash a command (each was fixed): tried on every run
FOUND_ARGUMENTS = [
    # digits past Python's 4300-digit limit, or past any 64-bit id: a name, not a crash
    ["source", "show", "0" * 5000],
    ["speaker", "show", "9" * 30],
    ["claim", "list", "--speaker", "0" * 5000],
    # bytes that are not UTF-8 arrive as lone surrogates: a usage error, not a traceback
    ["claim", "add", "--speaker", LAVROV, "text \udcff"],
    ["speaker", "add", "caf\udce9"],  # "café" typed in a Latin-1 terminal
]


@pytest.mark.parametrize("args", FOUND_ARGUMENTS, ids=lambda a: " ".join(a)[:40])
def test_arguments_found_by_fuzzing(base: Path, args: list[str]) -> None:
    fresh = Fresh(base)
    try:
        judge(fresh, args)
        assert fresh.integrity() == "ok"
    finally:
        fresh.close()


@examples(40)
@given(data=st.data())
def test_random_arguments_never_crash_or_half_write(base: Path, data: st.DataObject) -> None:
    fresh = Fresh(base)
    try:
        args = data.draw(invocations(fresh.dir))
        judge(fresh, args)
        assert fresh.integrity() == "ok"
    finally:
        fresh.close()


no_digit_text = st.text(min_size=1, max_size=30).filter(
    lambda t: t.strip() and not any(c.isdigit() for c in t)
)
blank = st.text(alphabet=" \t\n\u00a0\u3000\u2003", min_size=0, max_size=8)
bad_status = st.text(alphabet=string.ascii_lowercase + "_", min_size=1, max_size=12).map(
    lambda t: "zz" + t
)
write_sql = st.sampled_from(
    [
        "DELETE FROM statements",
        "DROP TABLE speakers",
        "UPDATE statements SET text = 'x'",
        "INSERT INTO tags (name) VALUES ('x')",
        "SELECT 1; DELETE FROM statements",
        "ATTACH DATABASE 'x.db' AS x",
        "PRAGMA journal_mode = DELETE",
        "VACUUM",
        "CREATE TABLE t (x)",
    ]
)


@st.composite
def invalid_invocations(draw: st.DrawFn) -> list[str]:
    """Commands that are wrong by construction: each must fail (and change nothing)."""
    kind = draw(st.integers(0, 8))
    if kind == 0:
        return ["claim", "status", "1", draw(bad_status), "--on", "2021-10-07"]
    if kind == 1:
        bad_date = draw(st.one_of(no_digit_text, st.sampled_from(["2021-02-30", "2021-13", "0"])))
        return ["claim", "add", "--speaker", LAVROV, "--said-on", bad_date, draw(any_text) + " x"]
    if kind == 2:
        return ["claim", "add", "--speaker", LAVROV, draw(blank)]
    if kind == 3:
        missing = str(draw(st.integers(10_000, 2**62)))
        sub = draw(st.sampled_from(["show", "history", "delete", "edit"]))
        extra = ["--context", "x"] if sub == "edit" else []
        return ["claim", sub, missing, *extra]
    if kind == 4:
        return ["claim", "link", "1", "denies", "1"]
    if kind == 5:
        return ["claim", "link", "1", draw(bad_status), "2"]
    if kind == 6:
        return ["sql", draw(write_sql) + draw(st.sampled_from(["", " ", ";", " -- x"]))]
    if kind == 7:
        return ["claim", "status", str(draw(st.integers(10_000, 2**62))), "denied"]
    # a claim id that is not an integer at all (a usage error)
    return ["claim", "show", draw(no_digit_text)]


@examples(40)
@given(args=invalid_invocations())
@example(args=["claim", "add", "--speaker", LAVROV, "--said-on", "\x1b", "text x"])
def test_invalid_arguments_always_fail_and_change_nothing(base: Path, args: list[str]) -> None:
    fresh = Fresh(base)
    try:
        judge(fresh, args, invalid=True)
    finally:
        fresh.close()


# --- random import files ---------------------------------------------------------------------

json_scalar = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), any_text, huge_text
)
json_value = st.recursive(
    json_scalar,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(any_text, children, max_size=3)
    ),
    max_leaves=6,
)
good_record = st.fixed_dictionaries(
    {"text": any_text.map(lambda t: "imported " + t), "speaker": st.sampled_from([LAVROV, "X Y"])},
    optional={
        "said_on": dateish,
        "status": st.sampled_from(["alleged", "denied", "confirmed"]),
        "tags": any_text,
        "source": any_text,
    },
)
random_record = st.dictionaries(
    st.one_of(st.sampled_from(COLUMNS), any_text), json_value, max_size=6
)


def jsonl(records: list, garbage: list[str] = ()) -> bytes:
    lines = [json.dumps(r) for r in records] + list(garbage)
    return ("\n".join(lines) + "\n").encode("utf-8", "surrogatepass")


@examples(25)
@given(
    records=st.lists(st.one_of(good_record, random_record), min_size=1, max_size=5),
    garbage=st.lists(st.one_of(any_text, st.just("{"), st.just("[1, 2]")), max_size=1),
    fmt=st.sampled_from(["jsonl", "csv"]),
)
# found: a lone surrogate in a JSON string ended in a UnicodeEncodeError traceback
@example(records=[{"text": "lone \ud800", "speaker": LAVROV}], garbage=[], fmt="jsonl")
@example(records=[{"text": "x", "speaker": LAVROV, "said_on": "\x1b"}], garbage=[], fmt="csv")
def test_random_import_files(base: Path, records: list, garbage: list[str], fmt: str) -> None:
    fresh = Fresh(base)
    try:
        before = fresh.claims()
        path = fresh.dir / f"in.{fmt}"
        if fmt == "jsonl":
            path.write_bytes(jsonl(records, garbage))
        else:
            out = io.StringIO()
            keys = sorted({k for r in records for k in r if k}, key=str)
            writer = csv.DictWriter(out, fieldnames=keys or ["text"], extrasaction="ignore")
            writer.writeheader()
            writer.writerows({k: v for k, v in r.items() if k} for r in records)
            path.write_bytes(out.getvalue().encode("utf-8", "surrogatepass"))
        result = judge(fresh, ["import", str(path)])
        after = fresh.claims()
        assert before <= after <= before + len(records)
        if result.exit_code != 0:
            assert after == before
        assert fresh.integrity() == "ok"
    finally:
        fresh.close()


@st.composite
def broken_files(draw: st.DrawFn) -> bytes:
    """Valid records with exactly one bad ingredient: the whole import must be refused."""
    records: list = draw(st.lists(good_record, min_size=0, max_size=4))
    bad = draw(st.integers(0, 7))
    if bad == 0:
        broken = draw(good_record)
        del broken["text"]
    elif bad == 1:
        broken = draw(good_record)
        del broken["speaker"]
    elif bad == 2:
        # numbers are read as text on purpose (CSV parity); booleans, lists and objects are not
        wrong = st.one_of(st.booleans(), st.lists(any_text), st.dictionaries(any_text, any_text))
        broken = {**draw(good_record), "text": draw(wrong)}
    elif bad == 3:
        broken = {**draw(good_record), "said_on": draw(no_digit_text)}
    elif bad == 4:
        broken = {**draw(good_record), "zz_not_a_column": 1}
    elif bad == 5:
        broken = {**draw(good_record), "text": "lone surrogate \ud800 here"}
    elif bad == 6:
        broken = {**draw(good_record), "speaker": draw(blank)}
    else:
        position = draw(st.integers(0, len(records)))
        lines = [json.dumps(r) for r in records]
        lines.insert(position, draw(st.sampled_from(["{", "[1, 2]", '"text"', "{'a': 1}"])))
        return ("\n".join(lines) + "\n").encode()
    records.insert(draw(st.integers(0, len(records))), broken)
    return jsonl(records)


@examples(30)
@given(content=broken_files())
# found: a said_on of only a control character cleaned to "no date" and was accepted; it is
# not blank, so it is not a date, and the record is refused
@example(content=jsonl([{"text": "imported x", "speaker": LAVROV, "said_on": "\x1b"}]))
@example(
    content=jsonl(
        [
            {"text": "imported y", "speaker": "X Y"},
            {"text": "imported z", "speaker": LAVROV, "said_on": "\u200b\u202e"},
        ]
    )
)
def test_invalid_import_files_are_refused_whole(base: Path, content: bytes) -> None:
    fresh = Fresh(base)
    try:
        path = fresh.dir / "broken.jsonl"
        path.write_bytes(content)
        before = fresh.claims()
        judge(fresh, ["import", str(path)], invalid=True)
        assert fresh.claims() == before
    finally:
        fresh.close()
