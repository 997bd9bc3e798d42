"""No command destroys a file it was not asked to write (issue 12, section 1), through the CLI.

Output options refuse the database, its side files and the command's input however spelt;
REJECTS is moved into place only when the import commits; ``--db`` is a literal path and a
FIFO, device or directory there is refused at once; a closed pipe ends a command quietly.
The pipe and FIFO checks run the real ``python -m factdb`` in a subprocess with a timeout.
"""

from __future__ import annotations

import gc
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import Result
from conftest import FactdbRunner

SIDE = ("-wal", "-shm", "-journal")


def one_error(result: Result, *mentions: str) -> str:
    """Exit 1 with exactly one ``Error:`` line on stderr mentioning each of ``mentions``."""
    assert result.exit_code == 1, (result.exit_code, result.output)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    for mention in mentions:
        assert mention in lines[0], (mention, lines[0])
    return lines[0]


def files(directory: Path) -> set[str]:
    return {p.name for p in directory.iterdir()}


@pytest.fixture
def seeded(run_sqlite: FactdbRunner, sqlite_path: Path) -> FactdbRunner:
    """A SQLite database with a few claims, its WAL folded in (so the file bytes are all)."""
    for i in range(3):
        assert (
            run_sqlite("claim", "add", "--speaker", "NATO", "--new-speaker", f"c{i}").exit_code == 0
        )
    gc.collect()
    return run_sqlite


# --- the output guard --------------------------------------------------------------------------


@pytest.mark.parametrize("command", [["export"], ["export", "--format", "jsonl"], ["report"]])
def test_output_onto_the_database_is_refused_however_spelt(
    seeded: FactdbRunner, sqlite_path: Path, command: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = sqlite_path.parent
    monkeypatch.chdir(folder)
    (folder / "link.db").symlink_to(sqlite_path)
    os.link(sqlite_path, folder / "hard.db")
    (folder / "sub").mkdir()
    before = sqlite_path.read_bytes()
    spellings = [str(sqlite_path), sqlite_path.name, f"sub/../{sqlite_path.name}", "link.db"]
    spellings += ["hard.db", *(sqlite_path.name + s for s in SIDE)]
    for spelling in spellings:
        existing = files(folder)
        one_error(seeded(*command, "-o", spelling), "refusing to write -o", "it is the database")
        gc.collect()
        assert sqlite_path.read_bytes() == before, spelling
        assert files(folder) <= existing, spelling  # nothing created, not even a side file


def test_backup_and_copy_refuse_the_side_files(seeded: FactdbRunner, sqlite_path: Path) -> None:
    before = sqlite_path.read_bytes()
    for side in SIDE:
        target = str(sqlite_path) + side
        one_error(seeded("db", "backup", target, "--force"), "it is the database's")
        one_error(seeded("db", "copy", "--to", target), "it is the database's")
        gc.collect()
        assert not Path(target).exists() or Path(target).stat().st_size == 0
    assert sqlite_path.read_bytes() == before


def test_backup_refuses_a_device_instead_of_renaming_over_it(
    seeded: FactdbRunner, tmp_path: Path
) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    one_error(seeded("db", "backup", str(fifo), "--force"), "a backup must be a regular file")
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_export_writes_a_new_file_with_the_umask_mode_and_keeps_an_existing_mode(
    seeded: FactdbRunner, tmp_path: Path
) -> None:
    old = os.umask(0o027)
    try:
        assert seeded("export", "-o", str(tmp_path / "new.csv")).exit_code == 0
        assert seeded("report", "-o", str(tmp_path / "new.md")).exit_code == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.csv").stat().st_mode) == 0o640
    assert stat.S_IMODE((tmp_path / "new.md").stat().st_mode) == 0o640
    kept = tmp_path / "kept.csv"
    kept.write_text("old")
    kept.chmod(0o604)
    assert seeded("export", "-o", str(kept)).exit_code == 0
    assert stat.S_IMODE(kept.stat().st_mode) == 0o604 and kept.read_text().startswith("text,")
    assert not [n for n in files(tmp_path) if n.endswith(".tmp")]


def test_export_to_a_fifo_writes_into_it(seeded: FactdbRunner, tmp_path: Path) -> None:
    """A FIFO target is written in place (a reader gets the rows), never renamed over."""
    fifo = tmp_path / "rows"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    try:
        result = seeded("export", "-o", str(fifo))
        out, _ = reader.communicate(timeout=60)
    finally:
        reader.kill()
    assert result.exit_code == 0, result.output
    assert out.decode().startswith("text,speaker") and out.count(b"\n") == 4
    assert stat.S_ISFIFO(fifo.stat().st_mode)


# --- REJECTS -------------------------------------------------------------------------------------

GOOD_AND_BAD = '{"text": "a claim", "speaker": "NATO"}\n{"speaker": "NATO"}\n'


def test_rejects_untouched_by_a_failed_or_dry_run_import(run: FactdbRunner, tmp_path: Path) -> None:
    rejects = tmp_path / "rejects.jsonl"
    rejects.write_text("an unrelated file\n")
    rejects.chmod(0o600)
    bad_header = tmp_path / "bad.csv"
    bad_header.write_text("text,speaker,bogus\na,b,c\n")
    one_error(run("import", str(bad_header), "--skip-invalid", str(rejects)), "unknown column")
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text(GOOD_AND_BAD)
    result = run("import", str(mixed), "--skip-invalid", str(rejects), "--dry-run")
    assert result.exit_code == 0 and "1 rejected" in result.stderr
    assert rejects.read_text() == "an unrelated file\n"
    assert not [name for name in files(tmp_path) if name.endswith(".tmp")]
    result = run("import", str(mixed), "--skip-invalid", str(rejects))
    assert result.exit_code == 0 and "1 added" in result.stderr
    entries = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert [e["field"] for e in entries] == ["text"]
    assert stat.S_IMODE(rejects.stat().st_mode) == 0o600  # the existing file's mode is kept


def test_rejects_is_never_the_input_or_the_database(run: FactdbRunner, tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(GOOD_AND_BAD)
    (tmp_path / "same.jsonl").symlink_to(source)
    os.link(source, tmp_path / "hard.jsonl")
    for spelling in (source, tmp_path / "same.jsonl", tmp_path / "hard.jsonl"):
        result = run("import", str(source), "--skip-invalid", str(spelling))
        one_error(result, "it is the file being imported")
    assert source.read_text() == GOOD_AND_BAD
    assert run("claim", "list", "--format", "csv").output.count("\n") == 1  # header: none in
    if run.db.startswith("sqlite:///"):
        database = run.db.removeprefix("sqlite:///")
        one_error(run("import", str(source), "--skip-invalid", database), "it is the database")


def test_rejects_to_a_fifo_is_written_in_place(run: FactdbRunner, tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(GOOD_AND_BAD)
    fifo = tmp_path / "rejects"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    try:
        result = run("import", str(source), "--skip-invalid", str(fifo))
        out, _ = reader.communicate(timeout=60)
    finally:
        reader.kill()
    assert result.exit_code == 0, result.output
    assert json.loads(out)["field"] == "text"
    assert stat.S_ISFIFO(fifo.stat().st_mode)


# --- --db is a literal path ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["we?ird.db", "50%/d.db", "a #b.db", "sp ace%20.db", "q?x=1#y.db"])
def test_db_names_exactly_the_file_given(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.parent.mkdir(exist_ok=True)
    before = files(path.parent)
    run = FactdbRunner(str(path))
    assert run("init").exit_code == 0
    assert run("claim", "add", "--speaker", "NATO", "--new-speaker", "a claim").exit_code == 0
    assert "a claim" in run("claim", "list").output
    assert run("sql", "SELECT count(*) AS n FROM statements", "--format", "csv").output == "n\n1\n"
    assert run("export", "-o", str(tmp_path / "out.csv")).exit_code == 0
    backup = tmp_path / ("copy of " + Path(name).name)
    result = run("db", "backup", str(backup))
    assert result.exit_code == 0 and "1 claims" in result.stderr, result.stderr
    gc.collect()
    created = files(path.parent) - before - {"out.csv", backup.name}
    assert created <= {path.name, *(path.name + s for s in SIDE)} and path.name in created
    assert path.read_bytes().startswith(b"SQLite format 3\x00")


def _factdb(*args: str, timeout: float = 60, **kwargs) -> subprocess.CompletedProcess:  # type: ignore[no-untyped-def]
    """The real ``python -m factdb`` (stdout captured unless given), stopped after ``timeout``."""
    kwargs.setdefault("stdout", subprocess.PIPE)
    return subprocess.run(
        [sys.executable, "-m", "factdb", *args], stderr=subprocess.PIPE, timeout=timeout, **kwargs
    )


def test_a_fifo_device_or_directory_as_db_is_refused_at_once(tmp_path: Path) -> None:
    """Each command exits with one line; none opens the FIFO (which would block for ever)."""
    fifo = tmp_path / "fifo.db"
    os.mkfifo(fifo)
    commands = [["claim", "list"], ["sql", "SELECT 1"], ["init"], ["db", "backup", "x.db"]]
    for db, kind in (
        (fifo, "is a FIFO"),
        (Path(os.devnull), "is a device"),
        (tmp_path, "directory"),
    ):
        for command in commands:
            done = _factdb("--db", str(db), *command, timeout=60, cwd=tmp_path)
            err = done.stderr.decode()
            assert done.returncode == 1, (db, command, err)
            assert err.count("\n") == 1 and err.startswith("Error: ") and kind in err, err
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert stat.S_ISCHR(Path(os.devnull).stat().st_mode)


# --- closed pipes --------------------------------------------------------------------------------


@pytest.fixture
def many(run: FactdbRunner, tmp_path: Path) -> FactdbRunner:
    """A database with enough claims that every listing overflows a pipe's buffer (64 KiB)."""
    source = tmp_path / "many.jsonl"
    with source.open("w") as f:
        for i in range(3000):
            f.write(json.dumps({"text": f"claim {i} " + "x" * 60, "speaker": f"S{i % 9}"}) + "\n")
    assert run("import", str(source)).exit_code == 0
    return run


PIPED = [
    ["export"],
    ["export", "--format", "jsonl"],
    ["claim", "list", "--format", "csv"],
    ["claim", "list"],
    ["sql", "SELECT * FROM statements", "--format", "jsonl"],
    ["report"],
]


def test_a_closed_pipe_ends_quietly_like_cat(many: FactdbRunner) -> None:
    """``factdb … | head -1``: exit 0, nothing on stderr (no traceback, no "Exception
    ignored" from the interpreter's last flush)."""
    for command in PIPED:
        process = subprocess.Popen(
            [sys.executable, "-m", "factdb", "--db", many.db, *command],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert process.stdout is not None and process.stderr is not None
        first = process.stdout.readline()
        process.stdout.close()  # what head does after its line
        try:
            err = process.stderr.read()
            code = process.wait(timeout=120)
        finally:
            process.kill()
        assert first, command
        assert code == 0, (command, code, err.decode()[-800:])
        assert err == b"", (command, err.decode()[-800:])


def test_stdout_redirected_into_the_database_is_refused(
    seeded: FactdbRunner, sqlite_path: Path
) -> None:
    """``factdb export >> factdb.db`` would append CSV to the database; so would any listing."""
    gc.collect()
    before = sqlite_path.read_bytes()
    for command in (["export"], ["report"], ["claim", "list"], ["sql", "SELECT 1"]):
        with sqlite_path.open("ab") as stdout:
            done = _factdb("--db", str(sqlite_path), *command, stdout=stdout)
        assert done.returncode == 1
        assert done.stderr.decode().startswith("Error: refusing to write to standard output")
    assert sqlite_path.read_bytes() == before
