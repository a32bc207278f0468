"""The request journal, and the outermost middleware: a request id on every answer, one entry per call.

Tests count calls with the journal (``GET /_emulator/requests``). It keeps method, path, query string,
status and principal, never headers or bodies, so no secret lands in it. Control-API calls are not
recorded. A connection the fault injector dropped is recorded with ``status: null``.
"""

from __future__ import annotations

import threading
import uuid
from collections import deque
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CONTROL_PREFIX", "RequestContextMiddleware", "RequestJournal", "is_control_path"]

CONTROL_PREFIX = "/_emulator/"


def is_control_path(path: str) -> bool:
    return path.startswith(CONTROL_PREFIX)


class RequestJournal:
    """Entries in arrival order; the oldest are dropped beyond ``limit``."""

    def __init__(self, limit: int = 100_000) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=limit)
        self._lock = threading.Lock()

    def record(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class RequestContextMiddleware:
    """Give each request a fresh id (``state["request_id"]``, header ``x-request-id``); journal it."""

    def __init__(self, app: ASGIApp, journal: RequestJournal) -> None:
        self.app = app
        self.journal = journal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state: dict[str, Any] = scope.setdefault("state", {})
        state["request_id"] = request_id = uuid.uuid4().hex
        status: int | None = None

        async def stamped_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                MutableHeaders(scope=message).append("x-request-id", request_id)
            await send(message)

        try:
            await self.app(scope, receive, stamped_send)
        finally:
            if not is_control_path(scope["path"]):
                principal = state.get("principal")
                self.journal.record(
                    {
                        "method": scope["method"],
                        "path": scope["path"],
                        "query": scope.get("query_string", b"").decode("latin-1"),
                        "status": None if state.get("connection_dropped") else status,
                        "principal": getattr(principal, "user_name", None),
                    }
                )
