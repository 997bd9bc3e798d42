"""factdb.safefiles without the CLI: which outputs are refused, and how files are written."""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from factdb.errors import FactdbError
from factdb.safefiles import (
    OutputFile,
    check_database_file,
    check_output,
    protected_files,
)


@pytest.fixture
def here(tmp_path: Path) -> Iterator[Path]:
    """Run in ``tmp_path`` so that relative spellings can be tried."""
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path
    finally:
        os.chdir(old)


def test_every_spelling_of_the_database_is_refused(here: Path) -> None:
    db = here / "factdb.db"
    db.write_bytes(b"SQLite format 3\x00" + b"\x00" * 100)
    (here / "sub").mkdir()
    (here / "link.db").symlink_to(db)
    os.link(db, here / "hard.db")
    protected = protected_files(db)
    for spelling in ("factdb.db", "./factdb.db", "sub/../factdb.db", "link.db", "hard.db"):
        with pytest.raises(FactdbError, match=r"it is the database \("):
            check_output(Path(spelling), protected, option="-o")
    for side, what in (("-wal", "write-ahead log"), ("-shm", "shared-memory"), ("-journal", "")):
        # refused whether or not SQLite has created the side file yet
        with pytest.raises(FactdbError, match=f"database's {what}"):
            check_output(Path("factdb.db" + side), protected)
        (here / ("factdb.db" + side)).write_bytes(b"")
        (here / f"link{side}").symlink_to(here / ("factdb.db" + side))
        with pytest.raises(FactdbError, match=f"database's {what}"):
            check_output(Path(f"link{side}"), protected)
    check_output(Path("other.db"), protected)
    check_output(Path("factdb.db.csv"), protected)


def test_the_input_is_refused_and_devices_never_are(here: Path) -> None:
    source = here / "in.jsonl"
    source.write_text("{}\n")
    (here / "alias.jsonl").symlink_to(source)
    protected = protected_files(None, [(source, "the file being imported")])
    with pytest.raises(
        FactdbError, match="refusing to write --skip-invalid alias.jsonl: it is the"
    ):
        check_output(Path("alias.jsonl"), protected, option="--skip-invalid")
    # a device may be read and written by one command (/dev/null as input and output)
    check_output(Path(os.devnull), protected_files(None, [(Path(os.devnull), "input")]))


def test_a_database_path_that_is_not_a_regular_file_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(FactdbError, match="is a FIFO"):
        check_database_file(fifo)  # a stat: returns at once, nobody needs to open the other end
    with pytest.raises(FactdbError, match="is a directory"):
        check_database_file(tmp_path)
    with pytest.raises(FactdbError, match="is a device"):
        check_database_file(Path(os.devnull))
    check_database_file(tmp_path / "missing.db")
    (tmp_path / "ok.db").write_bytes(b"")
    check_database_file(tmp_path / "ok.db")


@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002])
def test_a_new_file_gets_the_umask_mode(tmp_path: Path, mask: int) -> None:
    old = os.umask(mask)
    try:
        with OutputFile(tmp_path / "new.csv") as out:
            out.write("a\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.csv").stat().st_mode) == 0o666 & ~mask
    assert [p.name for p in tmp_path.iterdir()] == ["new.csv"]


def test_an_existing_file_keeps_its_mode_and_is_replaced_only_on_success(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old\n")
    target.chmod(0o640)
    inode = target.stat().st_ino
    with pytest.raises(RuntimeError), OutputFile(target) as out:
        out.write("half of the new")
        raise RuntimeError("the command failed")
    assert target.read_text() == "old\n" and target.stat().st_ino == inode
    output = OutputFile(target)
    with output as out:
        out.write("dry run")
        output.discard()
    assert target.read_text() == "old\n"
    with OutputFile(target) as out:
        out.write("new\n")
    assert target.read_text() == "new\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert target.stat().st_ino != inode  # a new file renamed into place, not rewritten
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]  # no temporary file left


def test_a_write_error_is_one_error_and_leaves_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    failing = pytest.raises(FactdbError, match=r"cannot write -o .*out.bin: No space left")
    with failing, OutputFile(target, binary=True, option="-o") as out:
        out.write(b"x")
        raise OSError(28, "No space left on device")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_a_symlink_stays_a_link_and_its_target_gets_the_new_content(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    real = tmp_path / "real" / "report.md"
    real.write_text("old")
    link = tmp_path / "report.md"
    link.symlink_to(real)
    with OutputFile(link) as out:
        out.write("new")
    assert link.is_symlink() and real.read_text() == "new"


def test_a_fifo_is_written_in_place_never_replaced(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    with OutputFile(fifo, binary=True) as out:
        out.write(b"through the pipe")
    reader.join(timeout=30)
    assert received == [b"through the pipe"]
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["pipe"]


@pytest.mark.skipif(os.geteuid() != 0, reason="making a device node needs root")
def test_a_device_is_written_in_place_never_replaced(tmp_path: Path) -> None:
    """What ``export -o /dev/null`` as root must do, tried on a private null device."""
    null = tmp_path / "null"
    os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    before = null.stat()
    with OutputFile(null) as out:
        out.write("discarded")
    after = null.stat()
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev
    assert after.st_ino == before.st_ino


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write any file")
def test_a_read_only_file_is_not_replaced(tmp_path: Path) -> None:
    """Renaming over a read-only file would succeed; it is refused, as writing to it is."""
    target = tmp_path / "keep.csv"
    target.write_text("kept")
    target.chmod(0o444)
    with pytest.raises(FactdbError, match="read-only"), OutputFile(target) as out:
        out.write("lost")
    assert target.read_text() == "kept"
