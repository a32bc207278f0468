"""Error answers, shaped like the real service's (the SDK's errors/deserializer.py and errors/mapper.py).

Two families:

- API errors: ``{"error_code": "CODE", "message": ..., "details": [RequestInfo]}`` with the HTTP status
  the real service uses for that code (MLflow's table, except INVALID_STATE -> 400). State and route
  code raise ``ApiError`` (plain Python: state/ never needs HTTP types); wire.py renders it.
- Front-door auth errors: a legacy *integer* ``error_code`` (401 for a missing credential, 403 for a
  bad one, plus ``X-Databricks-Reason-Phrase``), produced before any route runs (wire.py).
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "STATUS_BY_CODE",
    "ApiError",
    "code_for_status",
    "error_body",
    "invalid",
]

STATUS_BY_CODE: dict[str, int] = {
    "BAD_REQUEST": 400,
    "INVALID_PARAMETER_VALUE": 400,
    "INVALID_STATE": 400,  # MLflow says 500; the real services send state errors as 400
    "MALFORMED_REQUEST": 400,
    "RESOURCE_ALREADY_EXISTS": 400,  # legacy 2.0 APIs (workspace mkdirs, secret scopes)
    "DIRECTORY_NOT_EMPTY": 400,
    "RESOURCE_LIMIT_EXCEEDED": 400,
    "QUOTA_EXCEEDED": 400,
    "MAX_NOTEBOOK_SIZE_EXCEEDED": 400,
    "MAX_BLOCK_SIZE_EXCEEDED": 400,
    "MAX_READ_SIZE_EXCEEDED": 400,
    "IO_ERROR": 400,
    "UNAUTHENTICATED": 401,
    "CUSTOMER_UNAUTHORIZED": 401,
    "PERMISSION_DENIED": 403,
    "NOT_FOUND": 404,
    "ENDPOINT_NOT_FOUND": 404,
    "RESOURCE_DOES_NOT_EXIST": 404,
    "ABORTED": 409,
    "ALREADY_EXISTS": 409,
    "RESOURCE_CONFLICT": 409,
    "REQUEST_LIMIT_EXCEEDED": 429,
    "RESOURCE_EXHAUSTED": 429,
    "CANCELLED": 499,
    "INTERNAL_ERROR": 500,
    "UNKNOWN": 500,
    "DATA_LOSS": 500,
    "NOT_IMPLEMENTED": 501,
    "TEMPORARILY_UNAVAILABLE": 503,
    "PARTIAL_DELETE": 503,  # DBFS: a large recursive delete answers this until it is done
    "DEADLINE_EXCEEDED": 504,
}

# The code an injected fault carries when the rule gives a status but no body.
_CODE_BY_STATUS: dict[int, str] = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "RESOURCE_CONFLICT",
    429: "REQUEST_LIMIT_EXCEEDED",
    499: "CANCELLED",
    500: "INTERNAL_ERROR",
    501: "NOT_IMPLEMENTED",
    503: "TEMPORARILY_UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def code_for_status(status: int) -> str:
    """The usual ``error_code`` for an HTTP status (``UNKNOWN`` when there is none)."""
    return _CODE_BY_STATUS.get(status, "UNKNOWN")


class ApiError(Exception):
    """An API error answer; the status comes from the code unless given."""

    def __init__(
        self, code: str, message: str, *, status: int | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status if status is not None else STATUS_BY_CODE.get(code, 500)
        self.headers = headers or {}


def error_body(code: str, message: str, request_id: str) -> dict[str, Any]:
    return {
        "error_code": code,
        "message": message,
        "details": [
            {
                "@type": "type.googleapis.com/google.rpc.RequestInfo",
                "request_id": request_id,
                "serving_data": "",
            }
        ],
    }


def invalid(message: str) -> ApiError:
    """400 INVALID_PARAMETER_VALUE, the answer to a request field the service refuses."""
    return ApiError("INVALID_PARAMETER_VALUE", message)
