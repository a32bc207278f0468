"""Request parsing and response helpers that every route module shares."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from brickbook.emulator.errors import ApiError
from brickbook.emulator.state.identity import Principal

__all__ = [
    "base_url",
    "caller",
    "json_response",
    "parse_json_object",
    "read_json",
    "request_id",
    "require_admin",
]


def request_id(request: Request) -> str:
    """The id stamped on this request (the ``x-request-id`` header and error details carry it)."""
    return str(request.scope.get("state", {}).get("request_id", ""))


def caller(request: Request) -> Principal:
    """The principal the front door authenticated for this request."""
    principal = request.scope.get("state", {}).get("principal")
    if not isinstance(principal, Principal):
        raise ApiError("UNAUTHENTICATED", "This endpoint needs an authenticated caller.")
    return principal


def require_admin(request: Request) -> Principal:
    principal = caller(request)
    if not principal.is_admin:
        raise ApiError("PERMISSION_DENIED", f"{principal.user_name} is not an admin of this workspace.")
    return principal


def base_url(request: Request) -> str:
    """``scheme://host:port`` as the client addressed it, for the discovery documents."""
    return str(request.base_url).rstrip("/")


async def read_json(request: Request) -> dict[str, Any]:
    """The JSON object in the body; an empty body is ``{}``; anything else is MALFORMED_REQUEST."""
    return parse_json_object(await request.body())


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """Parse a request body that must be a JSON object (empty means ``{}``)."""
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiError("MALFORMED_REQUEST", f"Could not parse request body as JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ApiError("MALFORMED_REQUEST", "The request body must be a JSON object.")
    return data


def json_response(data: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(data, status_code=status)
