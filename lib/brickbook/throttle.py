"""Client-side throttling shared by every thread of an invocation: a token bucket and a concurrency cap.

The official Go SDK limits itself to 15 requests/s; the Python SDK declares a rate limit and never
applies it. Throttling here keeps a parallel runbook (folder imports, many run polls) under the
workspace's per-endpoint limits instead of learning about them from 429s.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = ["Throttle", "TokenBucket"]


class TokenBucket:
    """Allow ``rate`` acquisitions per second on average, with bursts of up to ``burst``."""

    def __init__(
        self,
        rate: float,
        *,
        burst: float | None = None,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.capacity = max(1.0, burst if burst is not None else rate)
        self._clock = clock
        self._sleep = sleep
        self._tokens = self.capacity
        self._updated = clock()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Take one token, sleeping until one is available; return the seconds waited."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
            self._updated = now
            self._tokens -= 1.0
            # A negative balance is a reservation: this caller waits until it is paid back.
            wait = 0.0 if self._tokens >= 0 else -self._tokens / self.rate
        if wait > 0:
            self._sleep(wait)
        return wait


class Throttle:
    """A token bucket plus a cap on requests in flight, shared by all threads of one client."""

    def __init__(self, bucket: TokenBucket, max_concurrency: int) -> None:
        self.bucket = bucket
        self.max_concurrency = max_concurrency
        self._slots = threading.BoundedSemaphore(max_concurrency)

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold a concurrency slot and one rate token for the duration of one request."""
        with self._slots:
            self.bucket.acquire()
            yield
