"""A short pipeline: write batches on a worker thread while the caller prepares the next ones.

An import spends about half its time in Python (reading, cleaning, resolving names) and half in
SQLite. Python's sqlite3 module releases the GIL while SQLite runs a statement, so with a
second core the two halves overlap. Jobs run one at a time and in order on one thread, so the
database sees exactly the sequence of writes it would see without the pipeline; the caller
must :meth:`wait` before it touches the connection itself.

Up to ``depth`` jobs may be queued or running: a job that takes long (indexing a group of
claims for search) then does not stop the caller, who goes on preparing batches meanwhile.
"""

from __future__ import annotations

import contextlib
import sys
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

# how long a thread may keep the GIL while another waits for it (Python's default is 5 ms): the
# writer needs it back after every SQLite call, and 5 ms waits left it idle a third of the time
SWITCH_INTERVAL = 0.0001


class Pipeline:
    """Runs submitted jobs on one worker thread, one at a time, in order.

    A job's exception is raised by a later :meth:`submit`, :meth:`wait` or :meth:`close`, and
    the jobs queued behind a failed one do not run. ``threaded=False`` runs each job at once
    in the caller's thread (same interface).
    """

    def __init__(self, *, threaded: bool = True, depth: int = 1) -> None:
        self._executor = (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="factdb-writer")
            if threaded
            else None
        )
        self._depth = max(1, depth)
        self._pending: deque[Future[None]] = deque()
        self._failed = False
        self._switch_interval = sys.getswitchinterval()
        if threaded:
            sys.setswitchinterval(min(SWITCH_INTERVAL, self._switch_interval))

    def submit(self, job: Callable[[], None]) -> None:
        """Start ``job`` once fewer than ``depth`` jobs are pending (raising the error of one
        that failed)."""
        while len(self._pending) >= self._depth:
            self._pending.popleft().result()
        if self._executor is None:
            job()
        else:
            self._pending.append(self._executor.submit(self._guarded, job))

    def _guarded(self, job: Callable[[], None]) -> None:
        if self._failed:  # a job before this one failed: the caller will roll back
            return
        try:
            job()
        except BaseException:
            self._failed = True
            raise

    def wait(self) -> None:
        """Block until no job is pending; raise the error of the first that failed, if any."""
        while self._pending:
            self._pending.popleft().result()

    def close(self, *, raise_error: bool = True) -> None:
        """Wait for the pending jobs and stop the thread.

        ``raise_error=False`` when the caller is already failing: the jobs are still waited
        for (the caller is about to roll back, which must not race them) but their errors
        are dropped in favour of the caller's, and queued jobs no longer run.
        """
        try:
            if raise_error:
                self.wait()
            else:
                self._failed = True
                while self._pending:
                    with contextlib.suppress(Exception):  # the caller's own error wins
                        self._pending.popleft().result()
        finally:
            if self._executor is not None:
                self._executor.shutdown(wait=True)
                sys.setswitchinterval(self._switch_interval)
