"""Read a Databricks error response of any shape into an error class, code, message and request id.

Shapes seen in the wild (those the SDK's errors/deserializer.py parses, and more): the standard
``{"error_code", "message", "details"}``; the auth front door's integer ``error_code``; API 1.2's
``{"error": ...}``; SCIM's ``{"detail", "status"}``; OAuth's ``{"error", "error_description"}``; plain
``CODE: message`` text; HTML pages from gateways and login redirects; and empty bodies. None of them may
end in a decode traceback. Known secrets are masked in the message here, where the error is built.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from brickbook.errors import ApiError, error_class_for
from brickbook.redaction import printable, redact

__all__ = ["api_error_from_response"]

# The message is one part of the user's one error line (with the code, the call and a hint).
MAX_MESSAGE_LENGTH = 300
_PLAIN = re.compile(r"^([A-Z][A-Z0-9_]+): (.+)$", re.DOTALL)
_HTML_PRE = re.compile(r"<pre[^>]*>(.*?)</pre>", re.DOTALL | re.IGNORECASE)
_HTML_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.DOTALL | re.IGNORECASE)
_TAGS = re.compile(r"<[^>]+>")
_REQ_ID_IN_MESSAGE = re.compile(r"\[ReqId: ([^\]]+)\]")


def _one_line(text: str) -> str:
    # Whitespace collapsed, anything else unprintable (terminal escapes) escaped, and shortened.
    return printable(" ".join(text.split()), MAX_MESSAGE_LENGTH)


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"


def _from_json(data: Mapping[str, Any]) -> tuple[str | None, str | None, str | None]:
    """Return (error_code, message, request_id) from a JSON error object."""
    raw_code = data.get("error_code")
    # An integer code (the auth front door) carries no more than the status: treat it as absent.
    code = raw_code if isinstance(raw_code, str) and raw_code else None
    message = data.get("message")
    if not message and isinstance(data.get("error"), str):
        message = data["error"]
        if isinstance(data.get("error_description"), str):  # OAuth token endpoint
            message = f"{data['error']}: {data['error_description']}"
    if not message and data.get("detail"):  # SCIM
        message = str(data["detail"])
        code = code or f"SCIM_{data.get('status', '')}".rstrip("_")
    request_id = None
    for detail in data.get("details") or []:
        if isinstance(detail, Mapping) and detail.get("request_id"):
            request_id = str(detail["request_id"])
    return code, (str(message) if message else None), request_id


def _from_text(text: str) -> tuple[str | None, str | None]:
    """Return (error_code, message) from a non-JSON body: plain ``CODE: message`` or HTML."""
    stripped = text.strip()
    if not stripped:
        return None, None
    if stripped.startswith("<") or "<html" in stripped[:200].lower():
        match = _HTML_PRE.search(stripped) or _HTML_TITLE.search(stripped)
        inner = match.group(1) if match else _TAGS.sub(" ", stripped)
        return None, html.unescape(_TAGS.sub(" ", inner)).strip() or None
    plain = _PLAIN.match(stripped)
    if plain:
        return plain.group(1), plain.group(2)
    return None, stripped


def api_error_from_response(
    *,
    status: int,
    body: bytes,
    headers: Mapping[str, str],
    method: str,
    path: str,
    retry_after: float | None = None,
) -> ApiError:
    """Build the ApiError for an unsuccessful response; never raises on odd bodies."""
    text = body.decode("utf-8", errors="replace")
    code: str | None = None
    message: str | None = None
    request_id: str | None = None
    try:
        data = json.loads(text) if text.strip() else None
    except (ValueError, RecursionError):  # not JSON, or nested deeper than the parser goes
        data = None
    if isinstance(data, Mapping):
        code, message, request_id = _from_json(data)
    elif text.strip():
        code, message = _from_text(text)
    if not message:
        message = headers.get("x-databricks-reason-phrase") or _reason(status)
    if 300 <= status < 400:
        message = f"unexpected redirect to {headers.get('location', '?')} (is the host right?)"
    request_id = request_id or headers.get("x-request-id") or headers.get("x-databricks-request-id")
    in_message = _REQ_ID_IN_MESSAGE.search(message)
    if in_message:
        request_id = request_id or in_message.group(1)
        message = _REQ_ID_IN_MESSAGE.sub("", message)
    # A service may echo what it was sent: mask secrets before the message is cut to one line, and after
    # (the registry also knows each secret's whitespace-collapsed form).
    message = redact(_one_line(redact(message)))
    # Both are printed with the message: keep them short and free of terminal escapes.
    code = printable(code, 64) if code else None
    request_id = printable(request_id, 100) if request_id else None
    cls = error_class_for(status, code, message)
    return cls(
        message,
        http_status=status,
        error_code=code,
        method=method,
        path=path,
        request_id=request_id,
        retry_after=retry_after,
    )
