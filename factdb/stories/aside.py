"""Check a big load's story files in a second process while this one writes them.

Checking a story file whole (its shape, then its names against the database) is Python work
as long as parsing it: a third of a 100,000-claim load. A big load therefore forks once the
files are parsed and the database's names read: the child runs the very checks of a
sequential load on its copy of the parsed data (:func:`factdb.stories.load.check_parsed`)
while the parent writes, in its one transaction, what a file without problems gives. Before
the load returns, and at once if writing fails, the parent waits for the child's verdict: a
file with problems raises the same StoryError a sequential load raises, and the caller's
rollback leaves the database as it was. Nothing the parent wrote is ever committed unchecked.

Forking is used where it is the platform's default way to start a process (Linux), before
the load starts its writer thread; elsewhere a load checks first, then writes.
"""

from __future__ import annotations

import multiprocessing
import sys
from collections.abc import Callable
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Any

from factdb.errors import FactdbError
from factdb.stories.read import Problem, StoryError

# a verdict: None (no problems), or the StoryError's path and problems, or an error's text
Verdict = tuple[str, Any] | None


def available() -> bool:
    """Whether a load can check aside here (a forked process: Linux)."""
    return sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


class CheckAside:
    """A forked process running ``check`` (which raises StoryError for files with problems);
    :meth:`raise_problems` waits for it. Use as a context manager: leaving kills the process
    if it is still running (the load failed or was interrupted)."""

    def __init__(self, check: Callable[[], None]) -> None:
        context = multiprocessing.get_context("fork")
        self._receive, send = context.Pipe(duplex=False)
        # output buffered before the fork would be written twice, once by each process
        sys.stdout.flush()
        sys.stderr.flush()
        self._process = context.Process(target=_run, args=(check, send), daemon=True)
        self._process.start()
        send.close()
        self._verdict: Verdict = None
        self._waited = False

    def __enter__(self) -> CheckAside:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._process.is_alive():
            self._process.kill()
        self._process.join()
        self._receive.close()

    def raise_problems(self) -> None:
        """Wait for the checks; raise their StoryError when the files have problems."""
        if not self._waited:
            self._waited = True
            try:
                self._verdict = self._receive.recv()
            except EOFError:
                self._process.join()
                self._verdict = ("failed", f"it stopped (exit code {self._process.exitcode})")
        if self._verdict is None:
            return
        what, detail = self._verdict
        if what == "failed":
            raise FactdbError(f"checking the story files failed: {detail}; nothing was loaded")
        path, problems = detail
        raise StoryError(path, problems)


def _run(check: Callable[[], None], send: Connection) -> None:
    # the child: a verdict that pickles (StoryError itself does not: its arguments are not
    # its message)
    verdict: Verdict
    try:
        check()
        verdict = None
    except StoryError as exc:
        verdict = ("problems", (exc.path, [Problem(p.line, p.message) for p in exc.problems]))
    except BaseException as exc:  # noqa: BLE001 - any failure is the parent's to report
        verdict = ("failed", f"{type(exc).__name__}: {exc}")
    send.send(verdict)
    send.close()
