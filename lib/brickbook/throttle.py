"""Throttling shared by the threads of one invocation: adaptive per-family rates and a concurrency cap.

The service limits requests per endpoint and per workspace and answers 429 (``REQUEST_LIMIT_EXCEEDED``,
often with ``Retry-After``) past the limit. One global guess is wrong for every endpoint, so calls are
sorted into families (``FAMILIES``), each with its own token bucket seeded from the published
per-endpoint figure, and each bucket adapts like TCP congestion control (``AdaptiveRate``):

- a 429 halves the family's rate (floor 1 request/s), at most once a second, since the requests already
  in flight when the limit tripped answer 429 too; a ``Retry-After`` also holds back the family's
  other requests until then (capped like the retry policy's wait);
- sustained success adds a tenth of the ceiling back after each round of about one second's worth of
  requests without a 429, up to the ceiling;
- the ceiling, which is also where a family starts, is 90% of the published figure (``HEADROOM``), not
  the figure or above it: the limit is per workspace, shared with every other client of the workspace,
  so probing past it only buys 429s for everyone, and a client paced at exactly the limit still meets
  one whenever network jitter bunches its requests, each costing half the rate. Below the ceiling,
  the rate finds the share that the other clients leave.

Every change is logged as ``throttle.rate_changed`` (family, old, new, reason). An explicit rate
(``BRICKBOOK_RATE_LIMIT``, invoke ``rate_limit``) pins one fixed bucket shared by every family, as
before (``PinnedRate``). The concurrency cap applies in both cases.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = [
    "DECREASE_FACTOR",
    "FAMILIES",
    "HEADROOM",
    "MIN_RATE",
    "OTHER",
    "AdaptiveRate",
    "AdaptiveRates",
    "Family",
    "Lane",
    "PinnedRate",
    "Rates",
    "Throttle",
    "TokenBucket",
    "family_of",
]

HEADROOM = 0.9  # the ceiling, as a fraction of the published figure (see the module docstring)
DECREASE_FACTOR = 0.5  # multiplicative decrease on a 429
MIN_RATE = 1.0  # requests/s: never slower than this
INCREASE_FRACTION = 0.1  # additive increase per round of success, as a fraction of the ceiling
DECREASE_HOLD_SECONDS = 1.0  # one decrease per second: the rest of a burst's 429s are the same event


class TokenBucket:
    """Allow ``rate`` acquisitions per second on average, with bursts of up to ``burst``.

    Without ``burst`` the bucket holds one second's worth (at least 1), following the rate as it changes.
    """

    def __init__(
        self,
        rate: float,
        *,
        burst: float | None = None,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
    ) -> None:
        if not (rate > 0 and math.isfinite(rate)):
            raise ValueError("rate must be positive")
        self.rate = rate
        self._burst = burst
        self.capacity = max(1.0, burst if burst is not None else rate)
        self._clock = clock
        self._sleep = sleep
        self._tokens = self.capacity
        self._updated = clock()  # may lie ahead of the clock while paused: no tokens accrue until then
        self._lock = threading.Lock()

    def _refill(self, now: float) -> None:
        if now > self._updated:
            self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
            self._updated = now

    def acquire(self) -> float:
        """Take one token, sleeping until one is available; return the seconds waited."""
        with self._lock:
            now = self._clock()
            self._refill(now)
            self._tokens -= 1.0
            # A negative balance is a reservation: this caller waits until it is paid back; a pause
            # (``_updated`` ahead of now) adds the time until it ends.
            wait = max(0.0, self._updated - now) + max(0.0, -self._tokens) / self.rate
        if wait > 0:
            self._sleep(wait)
        return wait

    def set_rate(self, rate: float) -> None:
        """Change the rate from now on; tokens earned so far are kept, up to the new capacity."""
        if not (rate > 0 and math.isfinite(rate)):
            raise ValueError("rate must be positive")
        with self._lock:
            self._refill(self._clock())
            self.rate = rate
            self.capacity = max(1.0, self._burst if self._burst is not None else rate)
            self._tokens = min(self._tokens, self.capacity)

    def pause(self, seconds: float) -> None:
        """Hand out nothing for ``seconds`` (the service's Retry-After), then one token at once.

        The one token is for the request the service asked to come back: it retries on time, without
        a further wait. Callers already holding a reservation are not recalled.
        """
        with self._lock:
            now = self._clock()
            self._refill(now)
            self._updated = max(self._updated, now + max(0.0, seconds))
            self._tokens = 1.0


@dataclass(frozen=True)
class Family:
    """Endpoints that share one rate: ``published`` requests/s is the service's figure for them."""

    name: str
    published: float
    method: str | None  # None: any method
    pattern: re.Pattern[str]

    @property
    def ceiling(self) -> float:
        """The rate a family starts at and never exceeds (requests/s)."""
        return self.published * HEADROOM

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and bool(self.pattern.search(path))


_API = r"^/api/2\.\d+/"
_GENERIC = 30.0  # the service's generic "webapp" limit, for endpoints without a published figure

# Databricks "Resource limits", API rate limits (per endpoint, per workspace): DBFS 30 requests/s,
# workspace import 30, export 60, jobs runs/get 100, run-now 20, runs/submit 35, create 20, secrets
# 1,100 a minute; the rest take the generic 30. First match wins.
FAMILIES: tuple[Family, ...] = (
    Family("dbfs.write", 30.0, "POST", re.compile(_API + r"dbfs/")),
    Family("dbfs.read", 30.0, "GET", re.compile(_API + r"dbfs/")),
    Family("workspace.import", 30.0, "POST", re.compile(_API + r"workspace/import$")),
    Family("workspace.export", 60.0, "GET", re.compile(_API + r"workspace/export$")),
    Family("workspace.list", _GENERIC, "GET", re.compile(_API + r"workspace/(list|get-status)$")),
    Family("jobs.runs_get", 100.0, "GET", re.compile(_API + r"jobs/runs/get(-output)?$")),
    Family("jobs.run_now", 20.0, "POST", re.compile(_API + r"jobs/run-now$")),
    Family("jobs.submit", 35.0, "POST", re.compile(_API + r"jobs/runs/submit$")),
    Family("jobs.create", 20.0, "POST", re.compile(_API + r"jobs/create$")),
    Family("clusters", _GENERIC, None, re.compile(_API + r"clusters/")),
    Family("secrets", 1100 / 60, None, re.compile(_API + r"secrets/")),
    Family("scim", _GENERIC, None, re.compile(_API + r"(preview/)?scim/")),
)
OTHER = Family("other", _GENERIC, None, re.compile(""))


def family_of(method: str, path: str) -> Family:
    """Return the family a call belongs to (``OTHER`` when none of ``FAMILIES`` matches)."""
    method = method.upper()
    return next((family for family in FAMILIES if family.matches(method, path)), OTHER)


class Lane(Protocol):
    """What a call goes through: a token before sending, the answer's status afterwards."""

    def acquire(self) -> float: ...

    def answered(self, status: int, retry_after: float | None = None) -> None: ...


class Rates(Protocol):
    """Hands each call the lane of its family."""

    def lane(self, method: str, path: str) -> Lane: ...


class PinnedRate:
    """One fixed token bucket for every call, whatever the answers: an explicit rate setting."""

    def __init__(self, bucket: TokenBucket) -> None:
        self.bucket = bucket

    def lane(self, method: str, path: str) -> Lane:
        return self

    def acquire(self) -> float:
        return self.bucket.acquire()

    def answered(self, status: int, retry_after: float | None = None) -> None:
        """Nothing to learn: the rate was set on purpose (a 429 is still retried by the retry policy)."""


class AdaptiveRate:
    """One family's bucket, halved on a 429 and grown back by steps on sustained success (AIMD)."""

    def __init__(
        self,
        family: Family,
        *,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
        log: Any,
        pause_cap_seconds: float = 120.0,
    ) -> None:
        self.family = family
        self.bucket = TokenBucket(family.ceiling, clock=clock, sleep=sleep)
        self._clock = clock
        self._log = log
        self._pause_cap = pause_cap_seconds
        self._lock = threading.Lock()
        self._successes = 0
        self._last_decrease: float | None = None

    @property
    def rate(self) -> float:
        return self.bucket.rate

    def acquire(self) -> float:
        return self.bucket.acquire()

    def answered(self, status: int, retry_after: float | None = None) -> None:
        """Learn from one answer: a 429 slows the family down, another answer below 500 is a success."""
        if status == 429:
            self.limited(retry_after)
        elif status < 500:
            self.succeeded()

    def succeeded(self) -> None:
        """Count a success; after a round of them (about a second at the current rate) step the rate up."""
        with self._lock:
            ceiling = self.family.ceiling
            if self.rate >= ceiling:
                return
            self._successes += 1
            if self._successes < max(1, math.ceil(self.rate)):
                return
            self._successes = 0
            old = self.rate
            new = min(ceiling, old + ceiling * INCREASE_FRACTION)
            self.bucket.set_rate(new)
        self._changed(old, new, "success")

    def limited(self, retry_after: float | None) -> None:
        """Take a 429: halve the rate (once per burst of 429s) and hold the family for ``Retry-After``."""
        now = self._clock()
        with self._lock:
            self._successes = 0
            old = self.rate
            recent = self._last_decrease is not None and now - self._last_decrease < DECREASE_HOLD_SECONDS
            new = old if recent else max(MIN_RATE, old * DECREASE_FACTOR)
            if not recent:
                self._last_decrease = now
            if new != old:
                self.bucket.set_rate(new)
            if retry_after is not None:
                self.bucket.pause(min(retry_after, self._pause_cap))
        if new != old:
            self._changed(old, new, "429")

    def _changed(self, old: float, new: float, reason: str) -> None:
        self._log.info(
            "throttle.rate_changed",
            family=self.family.name,
            old=round(old, 3),
            new=round(new, 3),
            reason=reason,
        )


class AdaptiveRates:
    """One ``AdaptiveRate`` per family, created on first use and shared by every thread."""

    def __init__(
        self,
        *,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
        log: Any,
        pause_cap_seconds: float = 120.0,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._log = log
        self._pause_cap = pause_cap_seconds
        self._lock = threading.Lock()
        self._rates: dict[str, AdaptiveRate] = {}

    def lane(self, method: str, path: str) -> AdaptiveRate:
        family = family_of(method, path)
        with self._lock:
            rate = self._rates.get(family.name)
            if rate is None:
                rate = self._rates[family.name] = AdaptiveRate(
                    family,
                    clock=self._clock,
                    sleep=self._sleep,
                    log=self._log,
                    pause_cap_seconds=self._pause_cap,
                )
            return rate

    def current(self) -> dict[str, float]:
        """Return the current rate of every family used so far (requests/s)."""
        with self._lock:
            return {name: rate.rate for name, rate in self._rates.items()}


class Throttle:
    """Per-family rates plus a cap on requests in flight, shared by all threads of one client."""

    def __init__(self, rates: Rates, max_concurrency: int) -> None:
        self.rates = rates
        self.max_concurrency = max_concurrency
        self._slots = threading.BoundedSemaphore(max_concurrency)

    @contextmanager
    def slot(self, method: str = "GET", path: str = "/") -> Iterator[Lane]:
        """Hold a concurrency slot and one rate token of the call's family for one request.

        The caller reports the answer through the yielded lane (``answered``), outside the slot.
        """
        lane = self.rates.lane(method, path)
        with self._slots:
            lane.acquire()
            yield lane
