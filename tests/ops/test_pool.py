"""The bounded worker pool the workspace and DBFS ops share."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
import structlog

from brickbook.context import Context
from brickbook.ops.pool import run_bounded


class Recorder:
    """A progress sink that keeps what it was shown."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.cleared = 0

    def update(self, text: str) -> None:
        self.lines.append(text)

    def clear(self) -> None:
        self.cleared += 1

    def close(self) -> None:
        pass


def test_results_come_back_in_input_order(ctx: Context):
    """Whatever order calls finish in, results are returned in the order the calls were given."""
    calls = [lambda n=n: n * n for n in range(20)]
    assert run_bounded(ctx, calls) == [n * n for n in range(20)]


def test_no_more_calls_run_at_once_than_the_client_allows(ctx: Context):
    """At most the client's concurrency cap of calls run at the same time."""
    cap = ctx.client.throttle.max_concurrency
    running, peak, lock = 0, 0, threading.Lock()
    gate = threading.Barrier(min(cap, 8), timeout=10)

    def call() -> None:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        gate.wait()  # the first calls meet here, so the pool really holds several at once
        with lock:
            running -= 1

    run_bounded(ctx, [call] * min(cap, 8) * 3)
    assert 1 < peak <= cap


def test_the_first_failure_is_raised_and_stops_calls_not_started(ctx: Context):
    """A failing call's error is raised; calls queued behind it are never started."""
    started: list[int] = []
    hold = threading.Event()  # never set: the other calls linger briefly, so the queue is still full

    def make(n: int) -> Callable[[], int]:
        def call() -> int:
            started.append(n)
            if n == 0:
                raise ValueError("boom")
            hold.wait(timeout=0.05)
            return n

        return call

    with pytest.raises(ValueError, match="boom"):
        run_bounded(ctx, [make(n) for n in range(100)])
    assert len(started) <= 2 * ctx.client.throttle.max_concurrency  # a free worker may take one more


def test_progress_counts_finished_calls_and_is_cleared(ctx: Context):
    """With a label, the progress line shows 'label done/total' and is cleared at the end."""
    sink = Recorder()
    run_bounded(
        ctx.__class__(client=ctx.client, progress=sink), [lambda: 1, lambda: 2, lambda: 3], label="copying"
    )
    assert sorted(sink.lines) == ["copying 1/3", "copying 2/3", "copying 3/3"]
    assert sink.cleared == 1


def test_calls_see_the_callers_bound_log_context(ctx: Context):
    """Context variables (a runbook step's bound log fields) reach the calls run in worker threads."""
    structlog.contextvars.bind_contextvars(step="import notebooks")
    try:
        seen = run_bounded(ctx, [lambda: structlog.contextvars.get_contextvars().get("step")] * 2)
    finally:
        structlog.contextvars.unbind_contextvars("step")
    assert seen == ["import notebooks", "import notebooks"]
