"""TLS handshake failures that no retry can fix, told apart from a connection cut short.

httpx reports every failed handshake as a ``ConnectError`` wrapping an ``ssl.SSLError``; the client's
retry policy would treat it as "never sent" and retry it for the whole deadline. Some of them can never
succeed: the server answered the handshake with plain HTTP (an ``http://`` server, such as the emulator,
behind a host without a scheme, which becomes ``https://``), or its certificate cannot be verified.
Those are configuration errors (``TlsError``, exit 2), raised at once. On a loopback host every
handshake failure is taken as a scheme mistake. A handshake cut short on the way to a remote host stays
a transient transport error. Kept apart from client.py, which calls ``tls_error`` at its one boundary.
"""

from __future__ import annotations

import ssl

from brickbook.config import is_loopback_host
from brickbook.errors import TlsError

__all__ = ["NOT_TLS_REASONS", "tls_error"]

# OpenSSL's words when the first bytes the server sent back are not TLS (typically a plain-HTTP answer).
NOT_TLS_REASONS = frozenset(
    {
        "WRONG_VERSION_NUMBER",
        "RECORD_LAYER_FAILURE",
        "PACKET_LENGTH_TOO_LONG",
        "UNKNOWN_PROTOCOL",
        "HTTP_REQUEST",
    }
)
# A handshake cut short by the network may succeed on another try: these stay transient (not on loopback).
_INTERRUPTED = (ssl.SSLEOFError, ssl.SSLZeroReturnError, ssl.SSLSyscallError)


def _ssl_cause(exc: BaseException) -> ssl.SSLError | None:
    """Return the ssl.SSLError behind an error (httpx -> httpcore -> ssl), if there is one."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, ssl.SSLError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def tls_error(exc: BaseException, *, host: str, method: str, path: str) -> TlsError | None:
    """Return the configuration error for a failed TLS handshake no retry can fix, or None.

    ``exc`` is the error raised while connecting, ``host`` the normalised ``scheme://host[:port]``.
    """
    cause = _ssl_cause(exc)
    if cause is None:
        return None
    reason = str(getattr(cause, "reason", None) or "")
    detail = reason.lower().replace("_", " ") or type(cause).__name__
    loopback = is_loopback_host(host)
    if isinstance(cause, ssl.SSLCertVerificationError):
        verified = getattr(cause, "verify_message", None) or detail
        message = f"the TLS certificate of {host} could not be verified ({verified}"
        hint = (
            "check the host name; behind a proxy that re-signs TLS traffic, "
            "point SSL_CERT_FILE at a CA bundle that includes its certificate"
        )
    elif reason in NOT_TLS_REASONS or loopback:
        message = f"the server at {host} does not speak TLS (handshake failed: {detail}"
        plain = "http://" + host.split("://", 1)[-1]
        hint = (
            f"check the scheme: a plain-HTTP server there is {plain} (http:// is allowed for loopback hosts)"
            if loopback
            else "check the host and port: brickbook needs an https:// server there"
        )
    elif isinstance(cause, _INTERRUPTED):
        return None
    else:
        message = f"the TLS handshake with {host} failed ({detail}"
        hint = "check the host and port, and that the server accepts TLS 1.2 or later"
    error = TlsError(f"{message}; {method} {path})", method=method, path=path)
    error.with_hint(hint)
    return error
