"""Throttling shared by the threads of one invocation: adaptive per-family rates and a concurrency cap.

The service limits requests per endpoint and per workspace and answers 429 (``REQUEST_LIMIT_EXCEEDED``,
often with ``Retry-After``) past the limit. One global guess is wrong for every endpoint, so calls are
sorted into families (``FAMILIES``), each with its own token bucket seeded from the published
per-endpoint figure, and each bucket finds the service's actual limit like TCP congestion control
(``AdaptiveRate``):

- a family starts at its seed, 90% of the published figure (``HEADROOM``): a client paced at exactly
  a limit still meets a 429 whenever network jitter bunches its requests;
- slow start: while the family has met no 429, its rate doubles with each quarter second's worth of
  successes (in quarter steps, at most one step per sixteenth of a second: a burst of successes that the
  bucket had saved up is no evidence of a higher limit), up to the ceiling, ``CEILING_FACTOR`` (8)
  times the published figure. The published figures are unverified per-workspace defaults
  (workspaces get other limits, and a DBFS transfer kept to 27 requests/s takes twice as long as an
  unthrottled client that never meets a 429), so they seed the search without bounding it. The
  ceiling is a guard, not a guess: it stops a loop from hammering a service that never says no,
  and 8x stays out of the way of what one client sends (a DBFS transfer of 1 MB blocks on loopback
  reaches about 150 requests/s; against the service, latency keeps it far lower);
- a 429 halves the family's rate (floor 1 request/s), at most once a second, since the requests already
  in flight when the limit tripped answer 429 too; a ``Retry-After`` also holds back the family's
  other requests until then (capped like the retry policy's wait). The limit found is the throughput
  that got through since the previous 429's pause ended (or since the start; the rate before the
  decrease when that is lower, or when less than two seconds were measured): the family then climbs
  back additively (a tenth of the target per second's worth of successes) to settle just under it
  (``SETTLE``, never below the seed), instead of sawing between the limit and half of it. A service
  that allows bursts makes the first figure high; the next 429 measures over a longer time;
- after ``PROBE_AFTER_SECONDS`` settled without a 429 the family probes above the limit found again,
  additively, up to the ceiling: the other clients of the workspace may have gone.

Every change is logged as ``throttle.rate_changed`` (family, old, new, reason: ``slow start``, at debug
level, ``429`` or ``success``). An explicit rate
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
    "CEILING_FACTOR",
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

HEADROOM = 0.9  # the seed, where a family starts, as a fraction of the published figure
CEILING_FACTOR = 8.0  # the ceiling, as a multiple of the published figure (see the module docstring)
DECREASE_FACTOR = 0.5  # multiplicative decrease on a 429
MIN_RATE = 1.0  # requests/s: never slower than this
SLOW_START_STEPS = 4  # slow start doubles the rate in this many steps
SLOW_START_SECONDS = 0.25  # slow start doubles at most once per this long
INCREASE_FRACTION = 0.1  # additive increase per round of success, as a fraction of the target
SETTLE = 0.95  # after a 429, climb back to this fraction of the throughput that got through
PROBE_AFTER_SECONDS = 30.0  # settled this long without a 429: probe above the limit found again
DECREASE_HOLD_SECONDS = 1.0  # one decrease per second: the rest of a burst's 429s are the same event
MEASURE_MIN_SECONDS = 2.0  # a throughput measured over less time than this is not trusted


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
    def seed(self) -> float:
        """The rate a family starts at (requests/s), just under the published figure."""
        return self.published * HEADROOM

    @property
    def ceiling(self) -> float:
        """The rate a family never exceeds (requests/s), well above the published figure."""
        return self.published * CEILING_FACTOR

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
    """One family's bucket: slow start up to the ceiling, halved on a 429, then settled under the limit."""

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
        self.bucket = TokenBucket(family.seed, clock=clock, sleep=sleep)
        self._clock = clock
        self._log = log
        self._pause_cap = pause_cap_seconds
        self._lock = threading.Lock()
        self._successes = 0  # in the current round
        self._last_decrease: float | None = None
        self._limit: float | None = None  # the throughput at the last 429; None: slow start
        self._settled_since: float | None = None
        self._last_step = clock()
        # What got through since the last 429's pause ended (or since the start): the limit measured.
        self._measured_since = clock()
        self._measured = 0

    @property
    def rate(self) -> float:
        return self.bucket.rate

    @property
    def limit(self) -> float | None:
        """The throughput (requests/s) that got through when the service last answered 429, if it has."""
        return self._limit

    def acquire(self) -> float:
        return self.bucket.acquire()

    def answered(self, status: int, retry_after: float | None = None) -> None:
        """Learn from one answer: a 429 slows the family down, another answer below 500 is a success."""
        if status == 429:
            self.limited(retry_after)
        elif status < 500:
            self.succeeded()

    def succeeded(self) -> None:
        """Count a success; step the rate up after a round of them (see the module docstring)."""
        now = self._clock()
        with self._lock:
            self._measured += 1
            old = self.rate
            slow_start = self._limit is None
            new = self._grown(old, now)
            if new == old:
                return
            self.bucket.set_rate(new)
        # Slow start's steps are routine (a dozen on every large transfer): debug, unlike the rest.
        self._changed(old, new, "slow start" if slow_start else "success", debug=slow_start)

    def _grown(self, old: float, now: float) -> float:
        """Return the rate after one more success (the caller holds the lock)."""
        ceiling = self.family.ceiling
        if old >= ceiling:
            return old
        self._successes += 1
        if self._limit is None:
            # Slow start: double per quarter second's worth of successes, and at most that often.
            step = 1 / SLOW_START_STEPS
            wait = SLOW_START_SECONDS * step
            if self._successes < max(1, math.ceil(old * wait)) or now - self._last_step < wait:
                return old
            self._successes = 0
            self._last_step = now
            return min(ceiling, old * 2**step)
        target = self.target
        if old >= target - 1e-9:  # additive steps can land a rounding error short of it
            if self._settled_since is None:
                self._settled_since = now
            if now - self._settled_since < PROBE_AFTER_SECONDS:
                self._successes = 0
                return old
            target = ceiling  # settled long enough: probe above the limit found
        if self._successes < max(1, math.ceil(old)):
            return old
        self._successes = 0
        return min(target, old + self.target * INCREASE_FRACTION)

    @property
    def target(self) -> float:
        """Where the family climbs back to after a 429: just under the limit found, never below the seed."""
        if self._limit is None:
            return self.family.ceiling
        return min(self.family.ceiling, max(self.family.seed, self._limit * SETTLE))

    def limited(self, retry_after: float | None) -> None:
        """Take a 429: halve the rate (once per burst of 429s) and hold the family for ``Retry-After``."""
        now = self._clock()
        with self._lock:
            self._successes = 0
            self._settled_since = None
            old = self.rate
            recent = self._last_decrease is not None and now - self._last_decrease < DECREASE_HOLD_SECONDS
            new = old if recent else max(MIN_RATE, old * DECREASE_FACTOR)
            pause = None if retry_after is None else min(retry_after, self._pause_cap)
            if not recent:
                self._last_decrease = now
                self._limit = min(old, self._throughput(now, fallback=old))
                self._measured_since, self._measured = now + (pause or 0.0), 0
            if new != old:
                self.bucket.set_rate(new)
            if pause is not None:
                self.bucket.pause(pause)
        if new != old:
            self._changed(old, new, "429")

    def _throughput(self, now: float, *, fallback: float) -> float:
        """Return the successes per second since the measurement began, or ``fallback`` too soon after.

        Over a short time the service's own burst allowance (a bucket that filled while the family
        waited) inflates the figure; over a longer one it averages out.
        """
        elapsed = now - self._measured_since
        if elapsed < MEASURE_MIN_SECONDS:
            return fallback
        return self._measured / elapsed

    def _changed(self, old: float, new: float, reason: str, *, debug: bool = False) -> None:
        (self._log.debug if debug else self._log.info)(
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
