"""The writer's pipeline: jobs run in order on one thread, a few may wait in a queue, and a
failure stops the jobs behind it and reaches the caller."""

from __future__ import annotations

import threading

import pytest

from factdb.io.pipeline import Pipeline


def test_jobs_run_in_order_on_one_thread_with_a_bounded_queue() -> None:
    done: list[int] = []
    threads: set[int] = set()
    release = threading.Event()
    pipeline = Pipeline(depth=3)

    def job(n: int) -> None:
        if n == 0:
            release.wait(5)  # the first job holds the writer while others queue up
        threads.add(threading.get_ident())
        done.append(n)

    for n in range(3):
        pipeline.submit(lambda n=n: job(n))  # returns at once: the queue has room
    assert done == []
    release.set()
    for n in range(3, 10):
        pipeline.submit(lambda n=n: job(n))
    pipeline.close()
    assert done == list(range(10))
    assert len(threads) == 1 and threading.get_ident() not in threads


def test_a_failing_job_stops_the_queued_ones_and_reaches_the_caller() -> None:
    ran: list[int] = []
    pipeline = Pipeline(depth=4)
    gate = threading.Event()

    def fail() -> None:
        gate.wait(5)
        raise RuntimeError("disk on fire")

    pipeline.submit(fail)
    for n in range(3):
        pipeline.submit(lambda n=n: ran.append(n))
    gate.set()
    with pytest.raises(RuntimeError, match="disk on fire"):
        pipeline.wait()
    pipeline.close()
    assert ran == []


def test_closing_while_failing_drops_the_jobs_errors() -> None:
    pipeline = Pipeline(depth=2)
    pipeline.submit(lambda: (_ for _ in ()).throw(ValueError("later")))
    pipeline.close(raise_error=False)  # the caller's own error wins; nothing raised here


def test_unthreaded_runs_each_job_at_once() -> None:
    done: list[int] = []
    pipeline = Pipeline(threaded=False, depth=3)
    pipeline.submit(lambda: done.append(1))
    assert done == [1]
    pipeline.close()
