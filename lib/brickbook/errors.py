"""The brickbook exception tree, and the table that turns a Databricks error response into one of its classes.

Every error a user can expect carries the exit code the command line returns for it::

    BrickbookError                      1  (unexpected)
    ├── UsageError                      2  bad options, specs or paths
    │   └── ConfigError                 2  missing, ambiguous or malformed configuration
    ├── ApiError                           an HTTP error answered by the service
    │   ├── BadRequest            400   2
    │   │   ├── InvalidParameterValue   2
    │   │   └── InvalidState            5  (also a ResourceConflict)
    │   ├── Unauthenticated       401   3
    │   ├── PermissionDenied      403   3
    │   ├── NotFound              404   4
    │   │   └── ResourceDoesNotExist    4
    │   ├── ResourceConflict      409   5
    │   │   ├── AlreadyExists, ResourceAlreadyExists, Aborted
    │   ├── TooManyRequests       429   6
    │   │   ├── RequestLimitExceeded, ResourceExhausted
    │   ├── Cancelled             499   6
    │   ├── InternalError         500   6
    │   │   ├── Unknown, DataLoss
    │   ├── NotImplemented        501   2
    │   ├── BadGateway            502   6
    │   ├── TemporarilyUnavailable 503  6
    │   └── DeadlineExceeded      504   6
    ├── LocalConflict                   5  a local file is in the way (e.g. exists without --overwrite)
    ├── TransportError                  6  no HTTP answer (refused, reset, timed out) after retries
    ├── RunFailed                       7  a remote run or statement ended unsuccessfully
    ├── WaitTimeout                     8  a local wait deadline passed
    ├── LockHeld                        9  another invocation holds the lock
    └── Interrupted                   130  Ctrl-C or SIGTERM

Classification follows the official SDK: the Databricks ``error_code`` wins, then the HTTP status. A few
real-API quirks are folded in here, at the one boundary, so callers can branch on classes:
- 400 ``INVALID_PARAMETER_VALUE`` "Job 123 does not exist" (jobs/get, runs/get, clusters/get) is a not-found;
- 400 ``RESOURCE_ALREADY_EXISTS`` (legacy 2.0 APIs) is a conflict, like 409;
- an integer ``error_code`` (the auth front door: ``{"error_code": 403, ...}``) is treated as absent.
"""

from __future__ import annotations

import re
from typing import ClassVar

__all__ = [
    "Aborted",
    "AlreadyExists",
    "ApiError",
    "BadGateway",
    "BadRequest",
    "BrickbookError",
    "Cancelled",
    "ConfigError",
    "DataLoss",
    "DeadlineExceeded",
    "DestinationExists",
    "InternalError",
    "Interrupted",
    "InvalidParameterValue",
    "InvalidState",
    "JournalCorrupt",
    "LocalConflict",
    "LockHeld",
    "NotFound",
    "NotImplemented",
    "PermissionDenied",
    "RequestLimitExceeded",
    "ResourceAlreadyExists",
    "ResourceConflict",
    "ResourceDoesNotExist",
    "ResourceExhausted",
    "RunFailed",
    "TemporarilyUnavailable",
    "TlsError",
    "TooManyRequests",
    "TransferFailed",
    "TransportError",
    "Unauthenticated",
    "Unknown",
    "UsageError",
    "WaitTimeout",
    "error_class_for",
]


class BrickbookError(Exception):
    """Base of every error brickbook raises on purpose."""

    exit_code: ClassVar[int] = 1
    error_code: str | None = None
    http_status: int | None = None
    # What to type to fix it, rendered by the command adapter only ("add --overwrite to replace it").
    hint: str | None = None
    # How many attempts the client made before giving up (set by the client; 1 when not retried).
    attempts: int = 1

    def with_hint(self, hint: str) -> BrickbookError:
        """Set the hint the command line shows after the message; return the error for ``raise``."""
        self.hint = hint
        return self

    @property
    def message(self) -> str:
        """Return the one-line message meant for the user."""
        return str(self.args[0]) if self.args else self.__class__.__name__


class UsageError(BrickbookError):
    """Bad options, specs or paths: fix the command line and try again."""

    exit_code = 2


class ConfigError(UsageError):
    """Configuration is missing, ambiguous or malformed; raised before any request."""


class LocalConflict(BrickbookError):
    """A local file or directory is in the way (exists without --overwrite)."""

    exit_code = 5


class TransportError(BrickbookError):
    """The request got no HTTP answer (refused, reset, timed out), even after retries."""

    exit_code = 6

    def __init__(self, message: str, *, method: str, path: str, request_sent: bool) -> None:
        super().__init__(message)
        self.method = method
        self.path = path
        # False when the failure happened before the request left (refused, connect timeout):
        # retrying such a request can never duplicate an effect.
        self.request_sent = request_sent


class RunFailed(BrickbookError):
    """A remote run or statement ended in an unsuccessful state; ``result`` is its last observation."""

    exit_code = 7

    def __init__(self, message: str, *, result: object = None) -> None:
        super().__init__(message)
        self.result = result


class WaitTimeout(BrickbookError):
    """A local wait deadline passed before the remote object settled; it keeps going remotely."""

    exit_code = 8

    def __init__(self, message: str, *, result: object = None) -> None:
        super().__init__(message)
        self.result = result


class LockHeld(BrickbookError):
    """Another invocation holds the lock for this runbook key."""

    exit_code = 9


class Interrupted(BrickbookError):
    """The invocation was interrupted by Ctrl-C or SIGTERM."""

    exit_code = 130


class ApiError(BrickbookError):
    """The service answered with an HTTP error; carries everything needed to diagnose it."""

    status: ClassVar[int | None] = None

    def __init__(
        self,
        message: str,
        *,
        http_status: int,
        error_code: str | None = None,
        method: str = "",
        path: str = "",
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.error_code = error_code
        self.method = method
        self.path = path
        self.request_id = request_id
        self.retry_after = retry_after

    def __str__(self) -> str:
        code = f"{self.error_code}: " if self.error_code else ""
        where = f" ({self.method} {self.path}, HTTP {self.http_status})" if self.method else ""
        return f"{code}{self.message}{where}"


class BadRequest(ApiError):
    """HTTP 400: the service refused the request as invalid."""

    status = 400
    exit_code = 2


class InvalidParameterValue(BadRequest):
    """A parameter was invalid (INVALID_PARAMETER_VALUE)."""


class ResourceConflict(ApiError):
    """HTTP 409: the request conflicts with the current state of the resource."""

    status = 409
    exit_code = 5


class InvalidState(BadRequest, ResourceConflict):
    """The resource is in a state that does not allow the operation (INVALID_STATE, sent as 400)."""

    exit_code = 5


class AlreadyExists(ResourceConflict):
    """The resource already exists (ALREADY_EXISTS)."""


class ResourceAlreadyExists(ResourceConflict):
    """The resource already exists (RESOURCE_ALREADY_EXISTS; legacy APIs send it as 400)."""


class Aborted(ResourceConflict):
    """A concurrent change aborted the operation (ABORTED)."""


class Unauthenticated(ApiError):
    """HTTP 401: no valid credential was sent."""

    status = 401
    exit_code = 3


class PermissionDenied(ApiError):
    """HTTP 403: the credential is invalid or lacks permission."""

    status = 403
    exit_code = 3


class NotFound(ApiError):
    """HTTP 404: the resource or endpoint does not exist."""

    status = 404
    exit_code = 4


class ResourceDoesNotExist(NotFound):
    """The resource does not exist (RESOURCE_DOES_NOT_EXIST, or the 400 "... does not exist" quirk)."""


class TooManyRequests(ApiError):
    """HTTP 429: rate limited, still after retries."""

    status = 429
    exit_code = 6


class RequestLimitExceeded(TooManyRequests):
    """REQUEST_LIMIT_EXCEEDED: a per-endpoint rate limit."""


class ResourceExhausted(TooManyRequests):
    """RESOURCE_EXHAUSTED: a quota or concurrency limit."""


class Cancelled(ApiError):
    """HTTP 499: the operation was cancelled on the service side."""

    status = 499
    exit_code = 6


class InternalError(ApiError):
    """HTTP 500: the service failed, still after retries where retrying was safe."""

    status = 500
    exit_code = 6


class Unknown(InternalError):
    """UNKNOWN error from the service."""


class DataLoss(InternalError):
    """DATA_LOSS reported by the service."""


class NotImplemented(ApiError):
    """HTTP 501: the service (or the emulator) does not implement this request."""

    status = 501
    exit_code = 2


class BadGateway(ApiError):
    """HTTP 502: a proxy in front of the service failed."""

    status = 502
    exit_code = 6


class TemporarilyUnavailable(ApiError):
    """HTTP 503: the service is temporarily unavailable."""

    status = 503
    exit_code = 6


class DeadlineExceeded(ApiError):
    """HTTP 504: the service timed out."""

    status = 504
    exit_code = 6


_BY_STATUS: dict[int, type[ApiError]] = {
    cls.status: cls
    for cls in (
        BadRequest,
        Unauthenticated,
        PermissionDenied,
        NotFound,
        ResourceConflict,
        TooManyRequests,
        Cancelled,
        InternalError,
        NotImplemented,
        BadGateway,
        TemporarilyUnavailable,
        DeadlineExceeded,
    )
    if cls.status is not None
}

_BY_ERROR_CODE: dict[str, type[ApiError]] = {
    "INVALID_PARAMETER_VALUE": InvalidParameterValue,
    "INVALID_STATE": InvalidState,
    "RESOURCE_DOES_NOT_EXIST": ResourceDoesNotExist,
    "ALREADY_EXISTS": AlreadyExists,
    "RESOURCE_ALREADY_EXISTS": ResourceAlreadyExists,
    "ABORTED": Aborted,
    "RESOURCE_CONFLICT": ResourceConflict,
    "REQUEST_LIMIT_EXCEEDED": RequestLimitExceeded,
    "RESOURCE_EXHAUSTED": ResourceExhausted,
    "UNKNOWN": Unknown,
    "DATA_LOSS": DataLoss,
    "PERMISSION_DENIED": PermissionDenied,
    "UNAUTHENTICATED": Unauthenticated,
    "NOT_FOUND": NotFound,
    "ENDPOINT_NOT_FOUND": NotFound,
    "NOT_IMPLEMENTED": NotImplemented,
    "TEMPORARILY_UNAVAILABLE": TemporarilyUnavailable,
    "PARTIAL_DELETE": TemporarilyUnavailable,
    "DEADLINE_EXCEEDED": DeadlineExceeded,
    "CANCELLED": Cancelled,
}

# jobs/get, jobs/runs/get and clusters/get answer a missing object with 400 INVALID_PARAMETER_VALUE
# "Job 123 does not exist" (the SDK's errors/overrides.py); other legacy endpoints word it alike.
_DOES_NOT_EXIST = re.compile(r"does not exist|doesn't exist")


def error_class_for(http_status: int, error_code: str | None, message: str) -> type[ApiError]:
    """Return the class for an error response: quirks first, then error_code, then HTTP status."""
    if error_code == "INVALID_PARAMETER_VALUE" and _DOES_NOT_EXIST.search(message):
        return ResourceDoesNotExist
    if error_code and error_code in _BY_ERROR_CODE:
        return _BY_ERROR_CODE[error_code]
    if http_status in _BY_STATUS:
        return _BY_STATUS[http_status]
    if http_status >= 500:
        return InternalError
    if http_status >= 400:
        return BadRequest
    return ApiError


class TlsError(ConfigError):
    """The TLS handshake with the host failed in a way no retry can fix (exit 2, never retried).

    The server does not speak TLS (a plain-HTTP server behind an ``https://`` host: check the scheme),
    or its certificate cannot be verified (wrong host, or a CA this machine does not trust).
    """

    def __init__(self, message: str, *, method: str, path: str) -> None:
        super().__init__(message)
        self.method = method
        self.path = path


class TransferFailed(BrickbookError):
    """A transfer could not be completed with the expected size, even after restarts."""

    exit_code = 6


class DestinationExists(BrickbookError):
    """A remote object is in the way of a copy or import.

    It exists and overwrite was not given, or it is of a kind that cannot be replaced (a folder where a
    file goes, a notebook where a folder goes). ``error_code`` is the service's, when it answered one.
    """

    exit_code = 5

    def __init__(self, message: str, *, error_code: str | None = None) -> None:
        super().__init__(message)
        self.error_code = error_code


class JournalCorrupt(UsageError):
    """A runbook's state journal is corrupt, unreadable or too large; the message names the file."""


class AmbiguousName(BrickbookError):
    """A name that was to find one remote object names several (exit 5), e.g. two jobs named 'nightly'.

    Job names are not unique in a workspace; an operation that finds a job by name refuses to guess.
    ``ids`` are the objects that share the name.
    """

    exit_code = 5

    def __init__(self, message: str, *, ids: tuple[int | str, ...] = ()) -> None:
        super().__init__(message)
        self.ids = ids


__all__ += ["AmbiguousName"]


class MissingParent(BrickbookError):
    """The folder an object goes into does not exist (exit 4, as for a missing object).

    Raised instead of the service's RESOURCE_DOES_NOT_EXIST when that answer is about the parent folder,
    not the object; ``error_code`` is the service's code, when it answered one.
    """

    exit_code = 4

    def __init__(self, message: str, *, error_code: str | None = None) -> None:
        super().__init__(message)
        self.error_code = error_code


__all__ += ["MissingParent"]


class DeployRecordCorrupt(UsageError):
    """The record of what a folder sync last deployed is corrupt, unreadable or too large (exit 2).

    The message names the file; deleting it is safe (the next sync compares contents again).
    """


__all__ += ["DeployRecordCorrupt"]


class WarehouseGone(BrickbookError):
    """A SQL warehouse is DELETED or DELETING: nothing can start or stop it (exit 4, as if missing)."""

    exit_code = 4


class WarehouseNotRunning(BrickbookError):
    """A statement needs a RUNNING warehouse and this one is stopped (exit 5, a state conflict).

    Raised before the statement is sent; the caller may start the warehouse and submit again.
    """

    exit_code = 5


__all__ += ["WarehouseGone", "WarehouseNotRunning"]


class LocalWriteFailed(UsageError):
    """A local file (or stdout) could not be written: a full or read-only disk, a quota, an I/O error.

    Exit 2, the user's to fix; ``strerror`` is the system's reason, for callers that word it their way.
    """

    def __init__(self, message: str, *, strerror: str) -> None:
        super().__init__(message)
        self.strerror = strerror


__all__ += ["LocalWriteFailed"]


class MalformedAnswer(TransportError):
    """A successful HTTP status whose body is no usable answer: not JSON, larger than the bound, too slow.

    A proxy's HTML page, a body cut short or a server trickling bytes: exit 6 like any broken exchange,
    retried only where repeating the request is safe (the request was sent and may have been applied).
    """


__all__ += ["MalformedAnswer"]
