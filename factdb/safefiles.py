"""Which files a command may write, and how it writes them.

Every option that names a file to write (``export -o``, ``report -o``, ``import --skip-invalid
REJECTS``, ``db backup FILE``, ``db copy --to FILE``) goes through :func:`check_output`: a
path that is the database, one of its side files (``-wal``, ``-shm``, ``-journal``) or the
command's own input is refused whatever its spelling (relative, through a symlink, a hard
link), before anything is written. :class:`OutputFile` then writes a regular file through a
temporary file in the same directory, renamed into place only when the command succeeds;
a device, FIFO or ``/dev/stdout`` is written in place and never replaced.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from factdb.errors import FactdbError

# files SQLite keeps beside a database, and what each is called in a refusal
SIDE_FILES = (
    ("-wal", "the database's write-ahead log"),
    ("-shm", "the database's shared-memory index"),
    ("-journal", "the database's rollback journal"),
)


def kind_of(mode: int) -> str:
    """What a file that is not a regular file is, in words ("a FIFO", "a device", …)."""
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def check_database_file(path: Path) -> None:
    """Refuse at once a database path that exists but is not a regular file.

    ``os.stat`` never opens the file: a FIFO given as ``--db`` is refused instead of waited on
    (opening a FIFO blocks until someone writes to it), a device instead of read.
    """
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return  # missing (or unreadable): the caller says what that means for its command
    if not stat.S_ISREG(mode):
        raise FactdbError(f"{path} is {kind_of(mode)}, not a database file")


def protected_files(
    database: Path | None, inputs: Iterable[tuple[Path, str]] = ()
) -> list[tuple[Path, str]]:
    """The files a command must never write: its SQLite database with its side files, and
    its inputs, each with the words a refusal uses for it."""
    found: list[tuple[Path, str]] = []
    if database is not None:
        found.append((database, "the database"))
        found += [(database.with_name(database.name + s), what) for s, what in SIDE_FILES]
    found += list(inputs)
    return found


def _same_file(a: Path, b: Path) -> bool:
    """True when ``a`` and ``b`` name one file: the same inode (symlinks and hard links
    included) when both exist, else the same path once made absolute and resolved."""
    try:
        sa, sb = os.stat(a), os.stat(b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)
    # a device or FIFO may be both an input and an output (/dev/null, a terminal): only a
    # regular file can be destroyed by writing over it
    return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino) and stat.S_ISREG(sa.st_mode)


def check_output(
    path: Path,
    protected: Iterable[tuple[Path, str]],
    *,
    option: str = "",
    shown: str | None = None,
) -> None:
    """Refuse ``path`` as an output when it is one of the ``protected`` files, however spelt.

    ``option`` names the option in the message (``-o``); ``shown`` replaces the whole name.
    """
    for other, what in protected:
        if _same_file(path, other):
            named = shown or (f"{option} {path}" if option else str(path))
            raise FactdbError(f"refusing to write {named}: it is {what} ({other})")


def check_stdout(protected: Iterable[tuple[Path, str]]) -> None:
    """Refuse to write to standard output when the shell sent it into a protected file
    (``factdb export >> factdb.db``)."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, ValueError, OSError):
        return  # not a real file (click's test runner, a closed stream)
    check_output(Path(f"/dev/fd/{fd}"), protected, shown="to standard output")


class OutputFile:
    """A file to write: a context manager yielding the open stream, or :meth:`open`, then
    :meth:`commit` or :meth:`abort`.

    A regular file (or a new one) is written to a temporary file beside it (through a
    symlink: beside its target, so the link stays a link), which replaces it when the block
    ends without an exception; on an exception, or after :meth:`discard`, the temporary file
    is removed and the old file is untouched. A new file gets the mode any new file gets
    (0666 less the umask); an existing one keeps its mode (and, where allowed, its owner).
    Anything else (a device, a FIFO, ``/dev/stdout``) is opened and written in place: renaming
    over it would replace the device node itself.
    """

    def __init__(
        self, path: Path, *, binary: bool = False, durable: bool = False, option: str = ""
    ) -> None:
        self.path = path
        self.binary = binary
        self.durable = durable
        self.shown = f"{option} {path}" if option else str(path)
        self.temp: Path | None = None
        self.stream: IO[Any] | None = None
        self.discarded = False

    def _open(self, target: Path | int, mode: str) -> IO[Any]:
        if self.binary:
            return open(target, mode + "b")  # noqa: SIM115 - closed in __exit__
        return open(target, mode, encoding="utf-8", newline="")  # noqa: SIM115

    def open(self) -> IO[Any]:
        """Open the stream to write to (the temporary file, or a device in place)."""
        target = Path(os.path.realpath(self.path))
        try:
            st: os.stat_result | None = os.stat(target)
        except FileNotFoundError:
            st = None
        except OSError as exc:
            raise FactdbError(f"cannot write {self.shown}: {exc.strerror}") from None
        if st is not None and stat.S_ISDIR(st.st_mode):
            raise FactdbError(f"{self.shown} is a directory")
        if st is not None and not stat.S_ISREG(st.st_mode):
            try:
                self.stream = self._open(target, "w")
            except OSError as exc:
                raise FactdbError(f"cannot write {self.shown}: {exc.strerror}") from None
            return self.stream
        if st is not None and not os.access(target, os.W_OK):
            # renaming over it would succeed; writing to it, as cat would, would not
            raise FactdbError(f"cannot write {self.shown}: it is read-only")
        directory = target.parent
        if not directory.is_dir():
            raise FactdbError(f"directory {directory} does not exist")
        self.target = target
        fd = self._make_temp(directory, target.name)
        try:
            if st is not None:
                os.fchmod(fd, stat.S_IMODE(st.st_mode))
                if (st.st_uid, st.st_gid) != (os.getuid(), os.getgid()):
                    with contextlib.suppress(OSError):
                        os.fchown(fd, st.st_uid, st.st_gid)
            self.stream = self._open(fd, "w")
        except BaseException:
            os.close(fd)
            self._remove_temp()
            raise
        return self.stream

    def _make_temp(self, directory: Path, name: str) -> int:
        """Create a new hidden file in ``directory``; 0666 so that the umask decides its mode."""
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
        for _ in range(100):
            temp = directory / f".{name}.{os.urandom(4).hex()}.tmp"
            try:
                fd = os.open(temp, flags, 0o666)
            except FileExistsError:
                continue
            except OSError as exc:
                raise FactdbError(f"cannot write in {directory}: {exc.strerror}") from None
            self.temp = temp
            return fd
        raise FactdbError(f"cannot write in {directory}: no free temporary name")

    def commit(self) -> None:
        """Close the stream and move the temporary file into place (a no-op in place)."""
        stream, self.stream = self.stream, None
        try:
            if stream is not None:
                if self.durable and self.temp is not None:
                    stream.flush()
                    os.fsync(stream.fileno())
                stream.close()
            if self.temp is not None:
                os.replace(self.temp, self.target)
                self.temp = None
        except OSError as error:
            raise FactdbError(f"cannot write {self.shown}: {error.strerror}") from None
        finally:
            self.abort()

    def abort(self) -> None:
        """Close the stream and remove the temporary file: the destination stays as it was.
        Safe to call again, and after :meth:`commit` (then it does nothing)."""
        stream, self.stream = self.stream, None
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()
        self._remove_temp()

    def discard(self) -> None:
        """Leave the destination as it was when the ``with`` block ends (a dry run)."""
        self.discarded = True

    def _remove_temp(self) -> None:
        if self.temp is not None:
            with contextlib.suppress(OSError):
                self.temp.unlink()
            self.temp = None

    def __enter__(self) -> IO[Any]:
        return self.open()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None and not self.discarded:
            self.commit()
            return
        self.abort()
        if isinstance(exc, OSError) and not isinstance(exc, BrokenPipeError):
            # the disk filled up, the file system went read-only…: one line, not a traceback
            raise FactdbError(f"cannot write {self.shown}: {exc.strerror}") from None
