"""Retry policy: which failures are worth another try, how long to wait, and when to give up.

The policy is aware of the HTTP method, because retrying a mutation is only safe when a second copy
cannot do harm:

- reads (GET, HEAD) retry on connection errors, timeouts, 429, 500, 502, 503 and 504;
- mutations retry on 429 (the service refused the request) and when the request was never sent
  (connection refused, connect timeout), and on other transient failures only when a second copy can
  do no harm: declared in ``IDEMPOTENT_MUTATIONS``, the one place that says so, per endpoint and, where
  it depends on them, per arguments (``overwrite`` on a workspace import or a DBFS write, an
  ``idempotency_token`` on run-now);
- a DBFS delete's 503 ``PARTIAL_DELETE`` is progress, not a failure: it is never retried here, so the
  caller (``brickbook.ops.dbfs.delete``) calls again at once instead of backing off.

A ``Retry-After`` header is honoured (seconds or an HTTP date), capped; otherwise the wait is capped
exponential backoff with full jitter. Both an attempt cap and a total deadline apply. Anything else
(a ``TlsError`` for a handshake that cannot succeed, a 4xx) is raised at once; a transient failure that
got only one attempt carries a hint saying why (``single_attempt_hint``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from brickbook.config import RetrySettings
from brickbook.errors import ApiError, TransportError

if TYPE_CHECKING:
    import tenacity

__all__ = [
    "IDEMPOTENT_MUTATIONS",
    "NOT_RETRIED_HINT",
    "TRANSIENT_STATUSES",
    "RetryPolicy",
    "is_idempotent",
    "is_partial_delete",
    "maybe_applied",
    "parse_retry_after",
    "should_retry",
    "single_attempt_hint",
]

READ_METHODS = frozenset({"GET", "HEAD"})
RETRYABLE_READ_STATUSES = frozenset({429, 500, 502, 503, 504})
TRANSIENT_STATUSES = frozenset({500, 502, 503, 504})


def _always(_body: Mapping[str, Any]) -> bool:
    return True


def _has_idempotency_token(body: Mapping[str, Any]) -> bool:
    return bool(body.get("idempotency_token"))


def _overwrites(body: Mapping[str, Any]) -> bool:
    # JSON sends a boolean, a multipart form the string "true" (any case).
    return str(body.get("overwrite")).lower() == "true"


_API = r"^/api/2\.\d+/"

# Mutations that are safe to send twice: a second copy can do no harm. Each entry: (method, path regex,
# predicate on the JSON body or form). Most leave the same state and answer the same way; the few whose
# second copy answers otherwise say so, and say who settles that answer.
IDEMPOTENT_MUTATIONS: tuple[tuple[str, re.Pattern[str], Callable[[Mapping[str, Any]], bool]], ...] = (
    # The service deduplicates a trigger that carries the token (Jobs API 2.2 run-now, runs/submit).
    ("POST", re.compile(_API + r"jobs/run-now$"), _has_idempotency_token),
    ("POST", re.compile(_API + r"jobs/runs/submit$"), _has_idempotency_token),
    ("POST", re.compile(_API + r"jobs/runs/cancel(-all)?$"), _always),
    ("POST", re.compile(_API + r"jobs/(reset|update)$"), _always),
    ("POST", re.compile(_API + r"clusters/(delete|resize|edit)$"), _always),
    ("POST", re.compile(_API + r"clusters/events$"), _always),  # a read, sent as POST
    # Workspace import with overwrite replaces the object with the same content again. Without it a
    # second copy is refused RESOURCE_ALREADY_EXISTS: not resent here (``brickbook.ops.workspace``
    # resends a create whose answer was lost and settles that refusal by comparing the content).
    ("POST", re.compile(_API + r"workspace/import$"), _overwrites),
    ("POST", re.compile(_API + r"workspace/mkdirs$"), _always),
    ("POST", re.compile(_API + r"dbfs/(mkdirs|delete)$"), _always),
    # DBFS put and create without overwrite would fail on the file their first copy made; with it, a
    # second stream is harmless (the first one's handle expires unused).
    ("POST", re.compile(_API + r"dbfs/(put|create)$"), _overwrites),
    # A duplicate block (its first answer lost) or a second close is caught by the uploader's final size
    # check in ``brickbook.ops.dbfs``, which restarts the upload.
    ("POST", re.compile(_API + r"dbfs/(add-block|close)$"), _always),
    ("POST", re.compile(_API + r"secrets/(put|acls/put)$"), _always),
    # Files API (``overwrite`` is a query parameter there): an upload that overwrites writes the same
    # bytes again. Without it a lost answer is settled by ``brickbook.ops.files``, comparing the bytes.
    ("PUT", re.compile(_API + r"fs/files/"), _overwrites),
    ("PUT", re.compile(_API + r"fs/directories/"), _always),
    ("PATCH", re.compile(_API + r"repos/\d+$"), _always),
    ("POST", re.compile(_API + r"sql/warehouses/[^/]+/(start|stop)$"), _always),
    ("POST", re.compile(_API + r"sql/statements/[^/]+/cancel$"), _always),
    ("PUT", re.compile(_API + r"permissions/.+$"), _always),
    ("PATCH", re.compile(_API + r"unity-catalog/permissions/.+$"), _always),
    ("POST", re.compile(r"^/oidc/v1/token$"), _always),
)


def is_idempotent(method: str, path: str, body: Mapping[str, Any] | None = None) -> bool:
    """Tell whether sending this call twice is harmless: reads always, mutations when declared so."""
    method = method.upper()
    if method in READ_METHODS:
        return True
    return any(
        method == m and pattern.search(path) and predicate(body or {})
        for m, pattern, predicate in IDEMPOTENT_MUTATIONS
    )


def is_partial_delete(error: BaseException) -> bool:
    """Tell whether an error is the 503 a large DBFS delete answers after deleting part of the tree.

    DBFS API 2.0 ``delete``: a large recursive delete stops after about 45 s with 503 and must be called
    again until it succeeds; the code is ``PARTIAL_DELETE``, or only the message says "more files remaining".
    """
    if not isinstance(error, ApiError) or error.http_status != 503:
        return False
    return error.error_code == "PARTIAL_DELETE" or "more files remaining" in error.message


def should_retry(error: BaseException, *, method: str, idempotent: bool) -> bool:
    """Decide whether a failed attempt deserves another one."""
    if is_partial_delete(error):
        return False  # progress: the caller calls again at once, without backing off
    if isinstance(error, TransportError):
        # A request that was never sent cannot have had an effect; one that may have been sent
        # is only resent when a second copy is harmless.
        return not error.request_sent or idempotent
    if isinstance(error, ApiError):
        if error.http_status == 429:
            return True
        return error.http_status in TRANSIENT_STATUSES and (idempotent or method.upper() in READ_METHODS)
    return False


def maybe_applied(error: BaseException) -> bool:
    """Tell whether a mutation that is not idempotent failed without a verdict: it may have been applied.

    True for a transient failure (a 5xx, an answer lost after sending) that only an idempotent call
    is retried on: the caller may resend it when it can settle a second copy itself.
    """
    return should_retry(error, method="POST", idempotent=True) and not should_retry(
        error, method="POST", idempotent=False
    )


NOT_RETRIED_HINT = (
    "not retried, because repeating this request is not safe: it may or may not have been applied, "
    "so check before running it again"
)


def single_attempt_hint(
    error: BaseException, method: str, idempotent: bool, settings: RetrySettings
) -> str | None:
    """Say why a transient failure got no second attempt: unsafe to repeat, or no retry budget left.

    None when the failure is not transient (its message says it all). A non-idempotent call that got a
    5xx or lost its answer may have been applied: the user must look before running it again.
    """
    if not should_retry(error, method=method, idempotent=True):
        return None
    if not should_retry(error, method=method, idempotent=idempotent):
        return NOT_RETRIED_HINT
    retry_after = getattr(error, "retry_after", None)
    if isinstance(retry_after, int | float) and retry_after >= settings.timeout_seconds:
        return (
            f"not retried: the service asked to wait {retry_after:g} s, longer than the retry deadline "
            "(BRICKBOOK_RETRY_TIMEOUT): try again later"
        )
    return (
        "not retried: the retry budget allows one attempt (BRICKBOOK_MAX_ATTEMPTS, BRICKBOOK_RETRY_TIMEOUT): "
        "try again later"
    )


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """Read a Retry-After header as seconds to wait: integer/decimal seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    import email.utils  # only for the rare HTTP-date form

    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)


@dataclass(frozen=True)
class RetryPolicy:
    """A tenacity policy built from settings, with the clock, sleep and randomness injected."""

    settings: RetrySettings
    clock: Callable[[], float]
    sleep: Callable[[float], None]
    random: Callable[[], float]

    def backoff(self, attempt: int, error: BaseException | None) -> float:
        """Return the wait before attempt ``attempt + 1``: Retry-After if given, else full jitter."""
        s = self.settings
        retry_after = getattr(error, "retry_after", None)
        if isinstance(retry_after, int | float):
            return min(float(retry_after), s.retry_after_cap_seconds)
        ceiling = min(s.backoff_cap_seconds, s.backoff_base_seconds * 2.0 ** (attempt - 1))
        return self.random() * ceiling

    def retrying(
        self,
        *,
        method: str,
        idempotent: bool,
        on_retry: Callable[[int, float, BaseException], None],
    ) -> tenacity.Retrying:
        """Build the tenacity loop for one call."""
        import tenacity  # here, not at import: a command that sends nothing never loads it

        started = self.clock()
        s = self.settings

        def stop(state: tenacity.RetryCallState) -> bool:
            # The deadline counts the sleep we are about to take: never sleep past it.
            over_deadline = self.clock() - started + state.upcoming_sleep > s.timeout_seconds
            return state.attempt_number >= s.max_attempts or over_deadline

        def wait(state: tenacity.RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome else None
            return self.backoff(state.attempt_number, error)

        def before_sleep(state: tenacity.RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome else None
            if error is not None:
                on_retry(state.attempt_number, state.upcoming_sleep, error)

        return tenacity.Retrying(
            retry=tenacity.retry_if_exception(
                lambda e: should_retry(e, method=method, idempotent=idempotent)
            ),
            stop=stop,
            wait=wait,
            sleep=self.sleep,
            before_sleep=before_sleep,
            reraise=True,
        )
