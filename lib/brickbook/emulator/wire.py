"""Request parsing and response helpers that every route module shares, and the error answers' HTTP form."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from brickbook.emulator.errors import ApiError, error_body
from brickbook.emulator.state.identity import Principal

__all__ = [
    "base_url",
    "caller",
    "error_response",
    "invalid_token_response",
    "json_response",
    "missing_credential_response",
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


# Deeper request bodies are refused before anything walks them recursively (routes, state copies and
# the store all do). Job settings nest about 8 levels; the client's own spec limit is 64.
MAX_BODY_DEPTH = 100


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """Parse a request body that must be a JSON object (empty means ``{}``).

    Anything else is 400 MALFORMED_REQUEST (the code for a body that cannot be parsed): not JSON,
    not an object, ``NaN``/``Infinity`` (not JSON), nested deeper than MAX_BODY_DEPTH, or a number
    Python refuses to convert. None of these may become a 500.
    """
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw, parse_constant=_refuse_constant)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiError("MALFORMED_REQUEST", f"Could not parse request body as JSON: {exc}") from exc
    except RecursionError as exc:
        raise ApiError("MALFORMED_REQUEST", _too_deep()) from exc
    except ValueError as exc:  # e.g. an integer of more than 4300 digits, or NaN
        message = str(exc).split(";")[0]
        raise ApiError("MALFORMED_REQUEST", f"Could not parse request body as JSON: {message}") from exc
    if not isinstance(data, dict):
        raise ApiError("MALFORMED_REQUEST", "The request body must be a JSON object.")
    if _depth_exceeds(data, MAX_BODY_DEPTH):
        raise ApiError("MALFORMED_REQUEST", _too_deep())
    return data


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _too_deep() -> str:
    return f"Could not parse request body as JSON: nested deeper than {MAX_BODY_DEPTH} levels."


def _depth_exceeds(data: Any, limit: int) -> bool:
    """Tell whether objects and arrays nest deeper than ``limit`` (iterative: no recursion)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > limit:
                return True
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children)
    return False


def json_response(data: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(data, status_code=status)


def error_response(error: ApiError, request_id: str) -> JSONResponse:
    return JSONResponse(
        error_body(error.code, error.message, request_id), status_code=error.status, headers=error.headers
    )


def missing_credential_response(request_id: str) -> JSONResponse:
    """HTTP 401 with the front door's integer code: no credential, or not a bearer token."""
    message = f"Credential was not sent or was of an unsupported type for this API. [ReqId: {request_id}]"
    return JSONResponse({"error_code": 401, "message": message}, status_code=401)


def invalid_token_response(request_id: str) -> JSONResponse:
    """HTTP 403 with the front door's integer code: unknown, expired or revoked token."""
    return JSONResponse(
        {"error_code": 403, "message": f"Invalid access token. [ReqId: {request_id}]"},
        status_code=403,
        headers={"X-Databricks-Reason-Phrase": "Invalid access token."},
    )
