"""The child process's REST client for the emulator that started it (stdlib ``urllib`` only).

The child runs user code, so it imports nothing from brickbook or httpx: it talks to the emulator the
way a notebook on a cluster talks to its workspace, with a context token that acts as the run's
principal. API errors become ``ApiCallError`` carrying the service's ``error_code`` and message.
A read that meets a transient failure (429, 503, a dropped connection: the emulator's own fault
injection) is retried a few times, as a cluster's own calls to its workspace are; a write is sent once.
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

__all__ = ["ApiCallError", "RestClient"]

_TIMEOUT_SECONDS = 60
_READ_ATTEMPTS = 6
_TRANSIENT = (429, 500, 502, 503, 504)


class ApiCallError(Exception):
    """An error answer from the workspace API."""

    def __init__(self, error_code: str, message: str, status: int, retry_after: float | None = None) -> None:
        super().__init__(f"{error_code}: {message}")
        self.error_code = error_code
        self.message = message
        self.status = status
        self.retry_after = retry_after


class RestClient:
    """GET/POST JSON against ``base_url`` with a bearer token."""

    def __init__(self, base_url: str, token: str) -> None:
        self._base = base_url.rstrip("/")
        self._token = token

    def get(self, endpoint: str, /, **query: Any) -> dict[str, Any]:
        pairs = {
            k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in query.items() if v is not None
        }
        suffix = f"?{urllib.parse.urlencode(pairs)}" if pairs else ""
        for attempt in range(1, _READ_ATTEMPTS + 1):
            try:
                return self._call("GET", f"{endpoint}{suffix}", None)
            except ApiCallError as exc:
                if exc.status not in _TRANSIENT or attempt == _READ_ATTEMPTS:
                    raise
                time.sleep(min(exc.retry_after or 0.1 * 2**attempt, 5.0))
            except (OSError, http.client.HTTPException):
                if attempt == _READ_ATTEMPTS:
                    raise
                time.sleep(0.1 * 2**attempt)
        raise AssertionError("unreachable")  # the loop returns or raises

    def post(self, endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", endpoint, json.dumps(body).encode())

    def _call(self, method: str, path: str, data: bytes | None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(f"{self._base}{path}", data=data, headers=headers, method=method)  # noqa: S310 - the emulator's own http URL
        try:
            with urllib.request.urlopen(request, timeout=_TIMEOUT_SECONDS) as response:  # noqa: S310 - idem
                raw = response.read()
        except urllib.error.HTTPError as exc:
            raise _api_error(exc) from None
        if not raw.strip():
            return {}
        decoded = json.loads(raw)
        return decoded if isinstance(decoded, dict) else {}


def _api_error(exc: urllib.error.HTTPError) -> ApiCallError:
    try:
        body = json.loads(exc.read() or b"{}")
    except ValueError:
        body = {}
    code = body.get("error_code") if isinstance(body, dict) else None
    message = body.get("message") if isinstance(body, dict) else None
    retry_after = exc.headers.get("Retry-After") if exc.headers else None
    wait = float(retry_after) if retry_after and retry_after.isdigit() else None
    return ApiCallError(str(code or exc.code), str(message or exc.reason), exc.code, wait)
