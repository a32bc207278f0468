"""Fault injection and rate limits: the rule books and the pure ASGI middleware that applies them.

Faults are modelled on the Databricks CLI testserver's ``/__testserver/fault``; see ``FaultRule`` for
the options. Rate limits are token buckets on the injected clock. Neither ever touches the control
API (``/_emulator/*``). The middleware is pure ASGI so that a fault can drop a connection halfway
through a response, which no Response object can express.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import random
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from brickbook.emulator.errors import ApiError, code_for_status, error_body
from brickbook.emulator.journal import is_control_path
from brickbook.emulator.settings import FaultRule, RateLimitRule
from brickbook.emulator.wire import error_response

__all__ = [
    "ConnectionDropped",
    "FaultBook",
    "FaultMiddleware",
    "RateLimitMiddleware",
    "RateLimiter",
    "SilenceDroppedConnections",
]


class ConnectionDropped(Exception):
    """Raised on purpose after a partial response, so the server aborts the connection."""


class SilenceDroppedConnections(logging.Filter):
    """Keep the server's error log free of the connections we drop on purpose (and only those)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], ConnectionDropped))


@dataclass
class _ArmedFault:
    id: str
    rule: FaultRule
    seen: int = 0
    fired: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, **self.rule.to_json(), "seen": self.seen, "fired": self.fired}


class FaultBook:
    """The active fault rules, in the order they were added, with their counters."""

    def __init__(self, rules: Iterable[FaultRule] = (), *, seed: int = 0) -> None:
        self._lock = threading.Lock()
        # Which requests a rule with a probability hits: seeded, so one client's requests in one order
        # meet the same faults each time.
        self._random = random.Random(seed)  # noqa: S311 - fault schedules, not cryptography
        self._ids = itertools.count(1)
        self._armed: list[_ArmedFault] = []
        for rule in rules:
            self.add(rule)

    def add(self, rule: FaultRule) -> str:
        with self._lock:
            armed = _ArmedFault(id=f"fault-{next(self._ids)}", rule=rule)
            self._armed.append(armed)
        return armed.id

    def remove(self, fault_id: str) -> bool:
        with self._lock:
            before = len(self._armed)
            self._armed = [a for a in self._armed if a.id != fault_id]
            return len(self._armed) < before

    def clear(self) -> None:
        with self._lock:
            self._armed.clear()

    def describe(self) -> list[dict[str, Any]]:
        with self._lock:
            return [armed.to_json() for armed in self._armed]

    def take(self, method: str, path: str) -> FaultRule | None:
        """The rule that fires for this request, if any; count it, and retire rules that are used up."""
        with self._lock:
            for armed in self._armed:
                if not armed.rule.request_pattern.matches(method, path):
                    continue
                armed.seen += 1
                if armed.seen <= armed.rule.offset:
                    continue
                if armed.rule.probability < 1 and self._random.random() >= armed.rule.probability:
                    continue
                armed.fired += 1
                if armed.rule.times and armed.fired >= armed.rule.times:
                    self._armed.remove(armed)
                return armed.rule
        return None


@dataclass
class _Bucket:
    id: str
    rule: RateLimitRule
    tokens: float
    updated: float


class RateLimiter:
    """One token bucket per rule; a request must find a token in every bucket that matches it."""

    def __init__(self, clock: Callable[[], float], rules: Iterable[RateLimitRule] = ()) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._buckets: list[_Bucket] = []
        for rule in rules:
            self.add(rule)

    def add(self, rule: RateLimitRule) -> str:
        with self._lock:
            bucket = _Bucket(f"rate-limit-{next(self._ids)}", rule, float(rule.capacity), self._clock())
            self._buckets.append(bucket)
        return bucket.id

    def clear(self) -> None:
        with self._lock:
            self._buckets.clear()

    def describe(self) -> list[dict[str, Any]]:
        with self._lock:
            return [{"id": b.id, **b.rule.to_json()} for b in self._buckets]

    def check(self, method: str, path: str) -> tuple[RateLimitRule, int] | None:
        """Take a token for this request; if a bucket is empty, return its rule and the seconds to wait."""
        now = self._clock()
        with self._lock:
            matching = [b for b in self._buckets if b.rule.request_pattern.matches(method, path)]
            for bucket in matching:
                elapsed = max(0.0, now - bucket.updated)
                bucket.tokens = min(
                    bucket.rule.capacity, bucket.tokens + elapsed * bucket.rule.requests_per_second
                )
                bucket.updated = now
            for bucket in matching:
                if bucket.tokens < 1:
                    wait = (1 - bucket.tokens) / bucket.rule.requests_per_second
                    return bucket.rule, max(1, math.ceil(wait))
            for bucket in matching:
                bucket.tokens -= 1
        return None


async def _discard(message: Message) -> None:
    """Swallow a response: the handler ran, but its answer is lost on the way back."""


def _fault_response(rule: FaultRule, request_id: str) -> Response:
    status = rule.status or 500
    headers = dict(rule.headers)
    if rule.retry_after is not None:
        headers["Retry-After"] = rule.retry_after
    if isinstance(rule.body, dict):
        return JSONResponse(rule.body, status_code=status, headers=headers)
    if isinstance(rule.body, str):
        kind = HTMLResponse if rule.body.lstrip().startswith("<") else PlainTextResponse
        return kind(rule.body, status_code=status, headers=headers)
    body = error_body(code_for_status(status), "injected fault", request_id)
    return JSONResponse(body, status_code=status, headers=headers)


async def _drop_connection(scope: Scope, send: Send, status: int) -> None:
    """Start a response, send part of its body, then abort: the client sees a broken connection."""
    scope.setdefault("state", {})["connection_dropped"] = True
    headers = [(b"content-type", b"application/json"), (b"content-length", b"4096")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b'{"partial":', "more_body": True})
    raise ConnectionDropped("fault injection dropped the connection")


class FaultMiddleware:
    """Apply the global latency and the first fault rule that fires for each non-control request."""

    def __init__(self, app: ASGIApp, faults: FaultBook, latency_ms: int = 0) -> None:
        self.app = app
        self.faults = faults
        self.latency_ms = latency_ms

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_control_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        if self.latency_ms:
            await asyncio.sleep(self.latency_ms / 1000)
        rule = self.faults.take(scope["method"], scope["path"])
        if rule is None:
            await self.app(scope, receive, send)
            return
        if rule.latency_ms:
            await asyncio.sleep(rule.latency_ms / 1000)
        if rule.status is None and not rule.reset_connection:
            await self.app(scope, receive, send)
            return
        if rule.after_handler:
            await self.app(scope, receive, _discard)
        if rule.reset_connection:
            await _drop_connection(scope, send, rule.status or 200)
            return
        request_id = str(scope.get("state", {}).get("request_id", ""))
        await _fault_response(rule, request_id)(scope, receive, send)


class RateLimitMiddleware:
    """Answer 429 REQUEST_LIMIT_EXCEEDED with ``Retry-After`` when a matching bucket is empty."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_control_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        limited = self.limiter.check(scope["method"], scope["path"])
        if limited is None:
            await self.app(scope, receive, send)
            return
        rule, wait = limited
        message = (
            f"Request rate limit exceeded for '{rule.pattern}' "
            f"({rule.requests_per_second:g} requests per second). Please try again later."
        )
        error = ApiError("REQUEST_LIMIT_EXCEEDED", message, headers={"Retry-After": str(wait)})
        request_id = str(scope.get("state", {}).get("request_id", ""))
        await error_response(error, request_id)(scope, receive, send)
