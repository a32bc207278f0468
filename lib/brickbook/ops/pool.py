"""Run independent calls concurrently, bounded by the client's concurrency cap, in input order.

The one worker pool the ops use (workspace syncs, DBFS copies): as many threads as the client allows
requests in flight (``BRICKBOOK_MAX_CONCURRENCY``), never more than there are calls, and none for a
single call. Each call runs in a copy of the caller's context variables, so log fields bound by a
runbook step reach the events its workers log. The first failure stops calls not yet started; once the
running ones finish, the first failure in input order is raised (no thread outlives the op).
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from brickbook.context import Context

__all__ = ["run_bounded"]

T = TypeVar("T")


def run_bounded(ctx: Context, calls: Sequence[Callable[[], T]], *, label: str = "") -> list[T]:
    """Run ``calls`` concurrently (at most the client's concurrency cap at once); return results in order.

    With ``label``, ``ctx.progress`` shows ``label done/total`` as calls finish (cleared at the end).
    """
    if not calls:
        return []
    total = len(calls)
    if total == 1:
        return [calls[0]()]
    workers = max(1, min(ctx.client.throttle.max_concurrency, total))
    done = 0
    lock = threading.Lock()  # callbacks run in the worker that finished: one line written at a time

    def finished(_future: Future[T]) -> None:
        nonlocal done
        with lock:
            done += 1
            if label:
                ctx.progress.update(f"{label} {done}/{total}")

    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="brickbook-op")
    try:
        futures = []
        for call in calls:
            future = pool.submit(contextvars.copy_context().run, call)
            future.add_done_callback(finished)
            futures.append(future)
        wait(futures, return_when=FIRST_EXCEPTION)
        pool.shutdown(
            wait=True, cancel_futures=True
        )  # on a failure: start nothing more, let running ones end
        for future in futures:
            error = None if future.cancelled() else future.exception()
            if error is not None:
                raise error
        return [future.result() for future in futures]
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        if label:
            ctx.progress.clear()
