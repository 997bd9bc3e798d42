"""A one-job-deep pipeline: write batch N on a worker thread while the caller prepares N+1.

An import spends about half its time in Python (reading, cleaning, resolving names) and half in
SQLite. Python's sqlite3 module releases the GIL while SQLite runs a statement, so with a
second core the two halves overlap. Jobs run one at a time and in order on one thread, so the
database sees exactly the sequence of writes it would see without the pipeline; the caller
must :meth:`wait` before it touches the connection itself.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

# how long a thread may keep the GIL while another waits for it (Python's default is 5 ms): the
# writer needs it back after every SQLite call, and 5 ms waits left it idle a third of the time
SWITCH_INTERVAL = 0.0001


class Pipeline:
    """Runs submitted jobs on one worker thread, one at a time, in order.

    A job's exception is raised by the next :meth:`submit`, :meth:`wait` or :meth:`close`.
    ``threaded=False`` runs each job at once in the caller's thread (same interface).
    """

    def __init__(self, *, threaded: bool = True) -> None:
        self._executor = (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="factdb-writer")
            if threaded
            else None
        )
        self._pending: Future[None] | None = None
        self._switch_interval = sys.getswitchinterval()
        if threaded:
            sys.setswitchinterval(min(SWITCH_INTERVAL, self._switch_interval))

    def submit(self, job: Callable[[], None]) -> None:
        """Wait for the job in flight (raising its error), then start ``job``."""
        self.wait()
        if self._executor is None:
            job()
        else:
            self._pending = self._executor.submit(job)

    def wait(self) -> None:
        """Block until no job is in flight; raise the error of the one that was, if any."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def close(self, *, raise_error: bool = True) -> None:
        """Wait for the job in flight and stop the thread.

        ``raise_error=False`` when the caller is already failing: the job is still waited
        for (the caller is about to roll back, which must not race it) but its error is
        dropped in favour of the caller's.
        """
        try:
            if raise_error:
                self.wait()
            else:
                with contextlib.suppress(Exception):  # the caller's own error wins
                    self.wait()
        finally:
            if self._executor is not None:
                self._executor.shutdown(wait=True)
                sys.setswitchinterval(self._switch_interval)
