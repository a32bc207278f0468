"""Token sources: a personal access token, or OAuth machine-to-machine tokens refreshed before expiry.

The OAuth source does not talk HTTP itself: the client hands it a ``fetch`` function (client.py is
the only module that speaks HTTP). Tokens are cached in memory and refreshed ahead of expiry, so a
wait of several hours keeps working.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from brickbook.redaction import register_secret

__all__ = ["IssuedToken", "OAuthM2M", "StaticToken", "TokenSource"]

# Refresh this long before expiry (capped at a tenth of the token's life for short-lived tokens).
REFRESH_MARGIN_SECONDS = 300.0


class TokenSource(Protocol):
    """Something that yields a bearer token for the Authorization header."""

    refreshable: bool

    def token(self) -> str:
        """Return a currently valid bearer token."""
        ...

    def invalidate(self) -> None:
        """Forget the cached token (it was refused), so the next call fetches a new one."""
        ...


class StaticToken:
    """A personal access token: sent as is, never refreshed."""

    refreshable = False

    def __init__(self, token: str) -> None:
        register_secret(token)
        self._token = token

    def __repr__(self) -> str:
        return "StaticToken(***)"

    def token(self) -> str:
        """Return the personal access token."""
        return self._token

    def invalidate(self) -> None:
        """Do nothing: a personal access token cannot be renewed."""


@dataclass(frozen=True)
class IssuedToken:
    """An OAuth access token and its lifetime in seconds."""

    access_token: str
    expires_in: float

    def __repr__(self) -> str:
        return f"IssuedToken(***, expires_in={self.expires_in})"


class OAuthM2M:
    """OAuth client-credentials tokens, cached and refreshed before they expire (thread-safe)."""

    refreshable = True

    def __init__(self, fetch: Callable[[], IssuedToken], *, clock: Callable[[], float]) -> None:
        self._fetch = fetch
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._refresh_at = 0.0

    def __repr__(self) -> str:
        return "OAuthM2M(***)"

    def token(self) -> str:
        """Return the cached token, fetching a new one when it is missing or close to expiry."""
        with self._lock:
            if self._token is None or self._clock() >= self._refresh_at:
                issued = self._fetch()
                register_secret(issued.access_token)
                margin = min(REFRESH_MARGIN_SECONDS, issued.expires_in / 10)
                self._token = issued.access_token
                self._refresh_at = self._clock() + issued.expires_in - margin
            return self._token

    def invalidate(self) -> None:
        """Drop the cached token so the next call fetches a fresh one."""
        with self._lock:
            self._token = None
