"""The HTTP boundary: the only module that imports httpx.

One connection-reusing client per invocation. Every call goes through here: query strings for GET
parameters, the bearer token, the shared throttle, the retry policy, the translation of every
unsuccessful response or transport failure into the brickbook exception tree, and one structured log
event per call (``http.request``), plus one per retry (``http.retry``).
"""

from __future__ import annotations

import contextlib
import math
import random
import ssl
import sys
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import httpx

from brickbook import __version__
from brickbook.auth import IssuedToken, OAuthM2M, StaticToken, TokenSource
from brickbook.config import Config
from brickbook.errorbody import api_error_from_response
from brickbook.errors import (
    ApiError,
    BrickbookError,
    MalformedAnswer,
    TlsError,
    TransportError,
    Unauthenticated,
)
from brickbook.log import get_logger
from brickbook.redaction import redact, register_basic_auth, register_secret
from brickbook.retry import RetryPolicy, is_idempotent, parse_retry_after, single_attempt_hint
from brickbook.throttle import AdaptiveRates, PinnedRate, Rates, Throttle, TokenBucket
from brickbook.tls import tls_error

__all__ = ["Client", "RawAnswer", "flatten_query", "post_webhook"]

QueryValue = str | int | float | bool | None | list[Any] | dict[str, Any]
BODYLESS_METHODS = frozenset({"GET", "HEAD", "DELETE"})
OAUTH_TOKEN_PATH = "/oidc/v1/token"
OAUTH_DEFAULT_LIFETIME = 3600.0  # Databricks OAuth tokens last an hour
_SPENT = httpx.ByteStream(b"")
# The largest documented JSON answer is an INLINE statement result (25 MiB); past this bound the body is
# not read on (a broken proxy or a hostile server must not fill the memory of a cron host).
MAX_ANSWER_BYTES = 32 * 1024 * 1024
# The answer is kept decoded and whole: these would describe the wire form, not what is kept.
_BODY_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})
USER_AGENT = f"brickbook/{__version__} python/{'.'.join(map(str, sys.version_info[:3]))}"


def _verify_for(host: str) -> ssl.SSLContext | bool:
    """Return what httpx verifies TLS with: its default for https, an unused bare context for http.

    httpx builds its default context (loading the whole CA bundle, tens of ms) when the client is made,
    whatever the scheme; a plain-HTTP host (the emulator, loopback only) never handshakes, and the
    client follows no redirects, so nothing could reach a TLS host through it.
    """
    if host.startswith("http://"):
        return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    return True


def flatten_query(params: Mapping[str, QueryValue]) -> list[tuple[str, str]]:
    """Encode parameters as the SDK does: lowercase booleans, dotted nested keys, repeated list keys."""
    pairs: list[tuple[str, str]] = []

    def add(key: str, value: QueryValue) -> None:
        if value is None:
            return
        if isinstance(value, bool):
            pairs.append((key, "true" if value else "false"))
        elif isinstance(value, Mapping):
            for sub_key, sub_value in value.items():
                add(f"{key}.{sub_key}", sub_value)
        elif isinstance(value, list | tuple):
            for item in value:
                add(key, item)
        else:
            pairs.append((key, str(value)))

    for key, value in params.items():
        add(key, value)
    return pairs


def _transport_error(
    exc: httpx.TransportError, method: str, path: str, host: str
) -> TransportError | TlsError:
    # The TLS handshake is part of connecting; an ssl error later on is a broken connection.
    tls = tls_error(exc, host=host, method=method, path=path) if isinstance(exc, httpx.ConnectError) else None
    if tls is not None:
        return tls
    # Failures before the request left the machine cannot have changed anything remotely.
    never_sent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
    kind = {
        httpx.ConnectError: "could not connect",
        httpx.ConnectTimeout: "timed out connecting",
        httpx.ReadTimeout: "timed out waiting for the answer",
        httpx.WriteTimeout: "timed out sending the request",
        httpx.RemoteProtocolError: "the connection was dropped",
        httpx.ReadError: "the connection was reset",
    }.get(type(exc), "the request failed")
    detail = redact(str(exc)) or type(exc).__name__
    return TransportError(
        f"{kind} ({method} {path}): {detail}", method=method, path=path, request_sent=not never_sent
    )


class _TokenFetchFailed(Exception):
    """Carries a failed token request through the retry loop of the call that needed the token."""

    def __init__(self, error: BrickbookError) -> None:
        super().__init__(str(error))
        self.error = error


class Client:
    """A Databricks workspace client: request -> JSON, with auth, throttling, retries and error mapping."""

    def __init__(
        self,
        config: Config,
        *,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.config = config
        self._clock = clock
        self._wall_clock = wall_clock
        self._log = get_logger()
        register_secret(config.token)
        if config.client_secret:
            register_basic_auth(config.client_id or "", config.client_secret)
        self._http = httpx.Client(
            base_url=config.host,
            transport=transport,
            timeout=config.http_timeout_seconds,
            follow_redirects=False,
            verify=_verify_for(config.host),
            headers={"User-Agent": USER_AGENT},
        )
        self._policy = RetryPolicy(config.retry, clock=clock, sleep=sleep, random=rng)
        rates: Rates
        if config.rate_limit_per_second is not None:  # set on purpose: one fixed rate for every call
            rates = PinnedRate(TokenBucket(config.rate_limit_per_second, clock=clock, sleep=sleep))
        else:
            cap = config.retry.retry_after_cap_seconds
            rates = AdaptiveRates(clock=clock, sleep=sleep, log=self._log, pause_cap_seconds=cap)
        self.throttle = Throttle(rates, config.max_concurrency)
        self._auth: TokenSource
        if config.auth_type == "oauth-m2m":
            self._auth = OAuthM2M(self._fetch_oauth_token, clock=clock)
        else:
            self._auth = StaticToken(config.token or "")

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    # -- public calls -----------------------------------------------------------------------------

    def get(self, path: str, query: Mapping[str, QueryValue] | None = None) -> Any:
        """GET ``path`` with ``query`` in the query string; return the decoded JSON (``{}`` if empty)."""
        return self.request("GET", path, query=query)

    def get_bytes(self, path: str, query: Mapping[str, QueryValue] | None = None) -> bytes:
        """GET ``path`` and return the answer's body undecoded, for a caller that parses a large one itself.

        The same retries, throttle, log event and error mapping as ``get``; only a success is returned.
        """
        return self._call("GET", path, query=query, body=None, idempotent=None).content

    def post(
        self, path: str, body: Mapping[str, Any] | None = None, *, idempotent: bool | None = None
    ) -> Any:
        """POST a JSON body; retried on transient failures only when the call is idempotent."""
        return self.request("POST", path, body=body, idempotent=idempotent)

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, QueryValue] | None = None,
        body: Mapping[str, Any] | None = None,
        raw_json: bytes | None = None,
        idempotent: bool | None = None,
    ) -> Any:
        """Send one API call with retries and return its decoded JSON body (``{}`` when empty).

        ``idempotent`` overrides the per-endpoint declaration in ``brickbook.retry``. ``raw_json`` is a
        body already encoded as JSON, sent as it is (a DBFS block: encoding 1 MB of base64 through
        ``json.dumps`` costs more than sending it); retry decisions then see no body fields.
        """
        method = method.upper()
        if method in BODYLESS_METHODS and (body is not None or raw_json is not None):
            raise ValueError(f"{method} parameters travel in the query string, not a body")
        if body is not None and raw_json is not None:
            raise ValueError("pass body or raw_json, not both")
        response = self._call(method, path, query=query, body=body, raw_json=raw_json, idempotent=idempotent)
        if not response.content.strip():
            return {}
        try:
            return response.json()
        except RecursionError:  # nested deeper than the parser goes: well-formed, but not for us to walk
            return {"content": response.text}
        except ValueError as exc:  # an HTML login page, a body cut short, plain text from a proxy
            kind = response.headers.get("content-type", "no content type").split(";")[0]
            raise MalformedAnswer(
                f"the answer was not JSON ({method} {path}, HTTP {response.status_code}, {kind})",
                method=method,
                path=path,
                request_sent=True,
            ) from exc

    def paginate(
        self,
        path: str,
        *,
        items_key: str,
        query: Mapping[str, QueryValue] | None = None,
        token_param: str = "page_token",
    ) -> Iterator[Any]:
        """Yield every item of a token-paginated GET list (``next_page_token``); a missing key is empty."""
        params = dict(query or {})
        seen: set[str] = set()
        while True:
            page = self.get(path, params)
            yield from page.get(items_key) or []
            token = page.get("next_page_token")
            if not token or token in seen:
                return
            seen.add(token)
            params[token_param] = token

    def paginate_offset(
        self, path: str, *, items_key: str, query: Mapping[str, QueryValue] | None = None, limit: int = 25
    ) -> Iterator[Any]:
        """Yield every item of an offset-paginated GET list (``offset``/``limit`` + ``has_more``)."""
        params = dict(query or {})
        offset = 0
        while True:
            page = self.get(path, {**params, "offset": offset, "limit": limit})
            items = page.get(items_key) or []
            yield from items
            if not page.get("has_more") or not items:
                return
            offset += len(items)

    # -- internals --------------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, QueryValue] | None,
        body: Mapping[str, Any] | None,
        idempotent: bool | None,
        raw_json: bytes | None = None,
        form: Mapping[str, str] | None = None,
        basic_auth: tuple[str, str] | None = None,
    ) -> httpx.Response:
        """Run the retry loop around one call and log it once."""
        if idempotent is None:
            idempotent = is_idempotent(method, path, body)
        return self._retried(
            method,
            path,
            idempotent,
            lambda: self._send(
                method=method,
                path=path,
                query=query,
                body=body,
                raw_json=raw_json,
                form=form,
                basic_auth=basic_auth,
            ),
        )

    def _retried(
        self, method: str, path: str, idempotent: bool, attempt_once: Callable[[], httpx.Response]
    ) -> httpx.Response:
        """Run ``attempt_once`` under the retry policy; log the call once (``http.request``), either way."""
        started = self._clock()
        attempts = 0

        def on_retry(attempt: int, wait: float, error: BaseException) -> None:
            self._log.warning(
                "http.retry",
                method=method,
                path=path,
                attempt=attempt,
                wait_seconds=round(wait, 3),
                # What to count retries by: the status, or the kind of failure when there was no answer.
                kind=str(getattr(error, "http_status", None) or type(error).__name__),
                reason=str(error),
            )

        retrying = self._policy.retrying(method=method, idempotent=idempotent, on_retry=on_retry)
        response: httpx.Response | None = None
        try:
            try:
                for attempt in retrying:
                    with attempt:
                        attempts += 1
                        response = attempt_once()
            except _TokenFetchFailed as failed:
                # The token request ran its own retries and recorded its own attempts.
                raise failed.error from failed.error.__cause__
            except BrickbookError as error:
                error.attempts = attempts
                if attempts == 1 and error.hint is None:
                    hint = single_attempt_hint(error, method, idempotent, self.config.retry)
                    if hint:
                        error.with_hint(hint)
                raise
        except BrickbookError as error:
            self._log.debug(
                "http.request",
                method=method,
                path=path,
                status=getattr(error, "http_status", None),
                error_code=error.error_code,
                attempts=error.attempts,
                duration_ms=round((self._clock() - started) * 1000),
                request_id=getattr(error, "request_id", None),
            )
            raise
        assert response is not None  # tenacity either returned after a success or re-raised
        self._log.debug(
            "http.request",
            method=method,
            path=path,
            status=response.status_code,
            attempts=attempts,
            duration_ms=round((self._clock() - started) * 1000),
            request_id=response.headers.get("x-request-id"),
        )
        return response

    def _send(
        self,
        *,
        method: str,
        path: str,
        query: Mapping[str, QueryValue] | None,
        body: Mapping[str, Any] | None,
        form: Mapping[str, str] | None,
        basic_auth: tuple[str, str] | None,
        raw_json: bytes | None = None,
    ) -> httpx.Response:
        """Send one attempt; an OAuth token the service refuses is renewed once and the call resent."""
        renewed = False
        while True:
            headers = {} if raw_json is None else {"Content-Type": "application/json"}
            if basic_auth is None:
                try:
                    token = self._auth.token()
                except BrickbookError as failure:
                    # Not this call's failure to retry: the token request already retried on its own.
                    raise _TokenFetchFailed(failure) from failure
                headers["Authorization"] = f"Bearer {token}"
            with self.throttle.slot(method, path) as lane:
                request = self._http.build_request(
                    method,
                    path,
                    params=tuple(flatten_query(query or {})),
                    json=body,
                    content=raw_json,
                    data=form,
                    headers=headers,
                )
                try:
                    response = self._read_bounded(self._http.send(request, auth=basic_auth, stream=True))
                except httpx.TransportError as exc:
                    raise _transport_error(exc, method, path, self.config.host) from exc
            # httpx binds a response and its stream into a reference cycle (the stream points back at
            # the response), which only the cyclic collector frees, and it runs seldom: a transfer's
            # MB-sized bodies and answers would pile up until it did. _read_bounded breaks that cycle
            # on the streamed answer and returns a detached copy, whose stream is spent too.
            response.stream = _SPENT
            if response.is_success:
                lane.answered(response.status_code)
                return response
            error = self._error(response, method, path)
            lane.answered(response.status_code, error.retry_after)  # a 429 slows the call's family down
            # The front door's "Invalid access token." carries an integer code (read as None): an
            # OAuth token revoked or expired early. A real permission problem has a string code.
            refused = error.http_status in (401, 403) and error.error_code is None
            if refused and self._auth.refreshable and basic_auth is None and not renewed:
                self._auth.invalidate()
                renewed = True
                continue
            raise error

    def _read_bounded(self, streamed: httpx.Response) -> httpx.Response:
        """Read a streamed answer whole, within ``MAX_ANSWER_BYTES`` and the HTTP timeout for the body.

        httpx's read timeout is per read, so a server sending a byte just often enough would hold the
        call forever; the body's total time is bounded here. That is network time, measured on the same
        monotonic clock httpx's own timeouts use (the injected clock is workflow time and may be fake).
        Returns an answer detached from the connection (its body in memory, already decoded).
        """
        method, path = streamed.request.method, streamed.request.url.path
        deadline = time.monotonic() + self.config.http_timeout_seconds
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in streamed.iter_bytes():
                size += len(chunk)
                if size > MAX_ANSWER_BYTES:
                    raise MalformedAnswer(
                        f"the answer is larger than {MAX_ANSWER_BYTES >> 20} MiB ({method} {path}); "
                        "stopped reading it",
                        method=method,
                        path=path,
                        request_sent=True,
                    )
                if time.monotonic() > deadline:
                    raise MalformedAnswer(
                        f"timed out reading the answer ({method} {path}): "
                        f"not complete after {self.config.http_timeout_seconds:g} s",
                        method=method,
                        path=path,
                        request_sent=True,
                    )
                chunks.append(chunk)
        finally:
            streamed.close()
            streamed.stream = _SPENT  # break httpx's response <-> stream cycle (see _send)
        headers = [(k, v) for k, v in streamed.headers.multi_items() if k.lower() not in _BODY_HEADERS]
        return httpx.Response(
            streamed.status_code, headers=headers, content=b"".join(chunks), request=streamed.request
        )

    def _error(self, response: httpx.Response, method: str, path: str) -> ApiError:
        retry_after = parse_retry_after(response.headers.get("retry-after"), now=self._wall_clock())
        return api_error_from_response(
            status=response.status_code,
            body=response.content,
            headers=response.headers,
            method=method,
            path=path,
            retry_after=retry_after,
        )

    def _fetch_oauth_token(self) -> IssuedToken:
        """Run the client-credentials grant at ``{host}/oidc/v1/token`` (scope all-apis)."""
        assert self.config.client_id and self.config.client_secret  # guaranteed by resolve_config
        try:
            response = self._call(
                "POST",
                OAUTH_TOKEN_PATH,
                query=None,
                body=None,
                idempotent=True,
                form={"grant_type": "client_credentials", "scope": "all-apis"},
                basic_auth=(self.config.client_id, self.config.client_secret),
            )
        except ApiError as error:
            if error.http_status in (400, 401, 403):
                raise Unauthenticated(
                    f"OAuth token request refused ({error.message}): check DATABRICKS_CLIENT_ID and "
                    "DATABRICKS_CLIENT_SECRET",
                    http_status=error.http_status or 401,
                    error_code=error.error_code,
                    method="POST",
                    path=OAUTH_TOKEN_PATH,
                    request_id=error.request_id,
                ) from error
            raise
        try:
            data = response.json()
        except (ValueError, RecursionError):
            data = None
        token = data.get("access_token") if isinstance(data, dict) else None
        if isinstance(token, str):
            register_secret(token)
        # A token that cannot go in the Authorization header would fail every call after this one.
        if not isinstance(token, str) or not token or not (token.isascii() and token.isprintable()):
            raise Unauthenticated(
                "OAuth token response had no usable access_token (missing, not JSON, or not header-safe)",
                http_status=response.status_code,
                method="POST",
                path=OAUTH_TOKEN_PATH,
            )
        assert isinstance(data, dict)
        return IssuedToken(access_token=token, expires_in=_lifetime(data.get("expires_in")))

    # -- raw bodies (Files API) -----------------------------------------------------------------

    def send_raw(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, QueryValue] | None = None,
        content: Callable[[], Iterator[bytes]] | None = None,
        length: int | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
    ) -> RawAnswer:
        """Send one call with a raw body (``application/octet-stream``) and read its whole answer.

        ``content()`` makes the body's chunks; it is called again for every attempt, so a retried
        upload streams from the start. ``length`` is sent as Content-Length (else the body is chunked).
        Whether the call may be resent is ``brickbook.retry``'s, judged on the query parameters
        (``overwrite`` on a Files API upload), unless ``idempotent`` says.
        """
        with self.stream_raw(
            method, path, query=query, content=content, length=length, headers=headers, idempotent=idempotent
        ) as answer:
            body = b"".join(answer.chunks)
        return RawAnswer(answer.status, answer.headers, iter((body,)))

    @contextlib.contextmanager
    def stream_raw(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, QueryValue] | None = None,
        content: Callable[[], Iterator[bytes]] | None = None,
        length: int | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
    ) -> Iterator[RawAnswer]:
        """Send one call and yield its answer with the body still on the connection (``chunks``).

        Retries cover the request up to the answer's headers; the body is the caller's to read (a
        download that breaks halfway resumes with a ``Range`` of its own). The connection is released
        when the block ends.
        """
        method = method.upper()
        if idempotent is None:
            idempotent = is_idempotent(method, path, query)
        response = self._retried(
            method,
            path,
            idempotent,
            lambda: self._raw_attempt(
                method, path, query=query, content=content, length=length, headers=headers
            ),
        )
        try:
            yield RawAnswer(
                response.status_code,
                response.headers,
                _raw_chunks(response, method, path, self.config.host),
            )
        finally:
            response.close()

    def _raw_attempt(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, QueryValue] | None,
        content: Callable[[], Iterator[bytes]] | None,
        length: int | None,
        headers: Mapping[str, str] | None,
    ) -> httpx.Response:
        """Send one attempt of a raw call; return the open answer when it succeeded, else raise."""
        renewed = False
        while True:
            sent = {"Content-Type": "application/octet-stream"} if content is not None else {}
            if length is not None:
                sent["Content-Length"] = str(length)
            sent.update(headers or {})
            try:
                token = self._auth.token()
            except BrickbookError as failure:
                raise _TokenFetchFailed(failure) from failure
            sent["Authorization"] = f"Bearer {token}"
            request = self._http.build_request(
                method,
                path,
                params=tuple(flatten_query(query or {})),
                content=content() if content is not None else None,
                headers=sent,
            )
            with self.throttle.slot(method, path) as lane:
                try:
                    response = self._http.send(request, stream=True)
                except httpx.TransportError as exc:
                    raise _transport_error(exc, method, path, self.config.host) from exc
            if response.is_success:
                lane.answered(response.status_code)
                return response
            try:
                response.read()
            except httpx.TransportError as exc:
                raise _transport_error(exc, method, path, self.config.host) from exc
            finally:
                response.close()
            error = self._error(response, method, path)
            lane.answered(response.status_code, error.retry_after)
            refused = error.http_status in (401, 403) and error.error_code is None
            if refused and self._auth.refreshable and not renewed:
                self._auth.invalidate()
                renewed = True
                continue
            raise error


def _lifetime(value: object) -> float:
    """Read ``expires_in`` (seconds); a missing, odd or non-positive value means the usual hour."""
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return OAUTH_DEFAULT_LIFETIME
    return seconds if math.isfinite(seconds) and seconds > 0 else OAUTH_DEFAULT_LIFETIME


def post_webhook(
    url: str,
    payload: Mapping[str, Any],
    *,
    timeout: float,
    transport: httpx.BaseTransport | None = None,
) -> int:
    """POST ``payload`` as JSON to a notification webhook (Slack-compatible); return the HTTP status.

    A separate connection that never carries the workspace credentials: no Authorization header, no
    redirects followed (a redirect could lead elsewhere), one attempt (a notification must not hold up
    the exit). The URL may embed a secret, so failures name only its scheme and host.
    """
    parts = urllib.parse.urlsplit(url)
    shown = f"{parts.scheme}://{parts.hostname}/..."  # the path and query may hold a secret
    headers = {"User-Agent": USER_AGENT}
    try:
        with httpx.Client(
            timeout=timeout, follow_redirects=False, transport=transport, headers=headers
        ) as http:
            return http.post(url, json=dict(payload)).status_code
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        never_sent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
        # from None: the httpx exception's text may contain the full URL.
        raise TransportError(
            f"could not deliver the notification to {shown}: {type(exc).__name__}",
            method="POST",
            path=shown,
            request_sent=not never_sent,
        ) from None


class RawAnswer:
    """An answer whose body is raw bytes (Files API): status, headers, and the body as chunks.

    ``chunks`` reads the body from the connection as it is iterated (a streamed download); a failure
    while reading is a ``TransportError``, as for any call.
    """

    def __init__(self, status: int, headers: Mapping[str, str], chunks: Iterator[bytes]) -> None:
        self.status = status
        self.headers = headers
        self.chunks = chunks


def _raw_chunks(response: httpx.Response, method: str, path: str, host: str) -> Iterator[bytes]:
    try:
        yield from response.iter_raw()
    except httpx.TransportError as exc:
        raise _transport_error(exc, method, path, host) from exc
    except httpx.StreamError as exc:  # closed or consumed already: the caller stopped early
        raise TransportError(
            f"the answer could not be read ({method} {path}): {type(exc).__name__}",
            method=method,
            path=path,
            request_sent=True,
        ) from exc
