"""Run a query in a child process that can be stopped whatever it is doing.

SQLite's progress handler stops a query between virtual-machine steps, but not inside one
built-in call: ``printf('%.*c', 1e9, 'x')`` takes half a minute in a single step, ``instr`` of
two long texts far longer. So ``factdb sql`` on SQLite reads in a forked child that sends its
rows through a pipe, and the parent kills it at the time limit. The child also bounds the
memory a query can take from the command (it dies alone), and whatever it fails with reaches
the parent as one message.

Without ``os.fork`` (Windows) the query runs in-process, bounded by the progress handler only.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import select
import signal
import struct
import time
from collections.abc import Callable, Iterator
from typing import Any

from factdb.errors import FactdbError

_HEADER = struct.Struct("!Q")
OUT_OF_MEMORY = "out of memory while running the query (add a LIMIT or lower --max-bytes)"
BATCH = 500


def forked(
    produce: Callable[[], tuple[list[str], Iterator[tuple[Any, ...]]]],
    deadline: float,
    time_out: Callable[[], FactdbError],
    error: Callable[[str], FactdbError] = FactdbError,
    cleanup: Callable[[], None] | None = None,
) -> tuple[list[str], Iterator[tuple[Any, ...]]]:
    """``produce()`` (columns and rows) run in a child; its columns and rows read here.

    ``deadline``: the monotonic time at which the child is killed and ``time_out()`` raised.
    Errors in the child (FactdbError, MemoryError, anything) are raised here as ``error``
    with the same one-line message. ``cleanup`` runs here once the child is gone (a killed
    child cannot clean up after itself).
    """
    if not hasattr(os, "fork"):
        return produce()
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(read_fd)
        _child(produce, write_fd)
    os.close(write_fd)
    channel = _Channel(read_fd, pid, deadline, time_out, error, cleanup)
    try:
        kind, payload = channel.receive()
        if kind != "columns":
            raise AssertionError(kind)
    except BaseException:
        channel.close()
        raise
    return payload, channel.rows()


def _child(produce: Callable[..., Any], fd: int) -> None:
    code = 0
    try:
        # the parent decides when to stop: Ctrl-C and its alarm are for it alone
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        try:
            columns, rows = produce()
            _send(fd, "columns", list(columns))
            batch: list[tuple[Any, ...]] = []
            for row in rows:
                batch.append(tuple(row))
                if len(batch) >= BATCH:
                    _send(fd, "rows", batch)
                    batch = []
            if batch:
                _send(fd, "rows", batch)
            _send(fd, "end", None)
        except FactdbError as exc:
            _send(fd, "error", str(exc))
        except MemoryError:
            _send(fd, "error", OUT_OF_MEMORY)
        except BrokenPipeError:
            code = 1  # the parent stopped reading
        except Exception as exc:  # one line for whatever else: the parent shows it
            _send(fd, "error", str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc))
    except BaseException:
        code = 1
    finally:
        os._exit(code)


def _send(fd: int, kind: str, payload: Any) -> None:
    data = marshal.dumps((kind, payload))
    view = memoryview(_HEADER.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view) :]


class _Channel:
    """The parent's end: framed messages from the child, each awaited until the deadline."""

    def __init__(
        self,
        fd: int,
        pid: int,
        deadline: float,
        time_out: Callable[[], FactdbError],
        error: Callable[[str], FactdbError],
        cleanup: Callable[[], None] | None,
    ) -> None:
        self.fd, self.pid, self.deadline = fd, pid, deadline
        self.time_out, self.error, self.cleanup = time_out, error, cleanup
        self.closed = self.done = False

    def _read(self, n: int) -> bytes:
        chunks, left = [], n
        while left:
            wait = self.deadline - time.monotonic()
            if wait <= 0 or not select.select([self.fd], [], [], wait)[0]:
                raise self.time_out()
            chunk = os.read(self.fd, min(left, 1 << 20))
            if not chunk:
                raise self.error("the query's process ended without an answer (out of memory?)")
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def receive(self) -> tuple[str, Any]:
        (size,) = _HEADER.unpack(self._read(_HEADER.size))
        kind, payload = marshal.loads(self._read(size))
        if kind == "error":
            raise self.error(payload)
        return kind, payload

    def rows(self) -> Iterator[tuple[Any, ...]]:
        try:
            while True:
                kind, payload = self.receive()
                if kind == "end":
                    self.done = True
                    return
                yield from payload
        finally:
            self.close()

    def close(self) -> None:
        """Stop the child (if still running) and reap it."""
        if self.closed:
            return
        self.closed = True
        os.close(self.fd)
        if not self.done:  # stopped early: the child may still be reading
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        if self.cleanup is not None:
            self.cleanup()
