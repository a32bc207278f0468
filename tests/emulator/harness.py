"""Shared test helpers for the emulator and conformance suites: a fake clock, settings, an HTTP helper.

Plain module (not a conftest) so both suites' conftests can import it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from brickbook.emulator.settings import EmulatorSettings
from tests.fakes import FakeClock

ADMIN = "admin@example.com"
ADMIN_TOKEN = "emu-admin-token-1f2e3d4c"
ALICE = "alice@example.com"
ALICE_TOKEN = "emu-alice-token-5b6a7988"
CLIENT_ID = "sp-emu-client-id"
CLIENT_SECRET = "emu-client-secret-0a9b8c7d"
TOKEN_TTL = 3600
ME = "/api/2.0/preview/scim/v2/Me"


def make_settings(clock: FakeClock, **overrides: Any) -> EmulatorSettings:
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": 0,
        "admin_token": ADMIN_TOKEN,
        "admin_user": ADMIN,
        "users": {ALICE: ALICE_TOKEN},
        "oauth_clients": {CLIENT_ID: CLIENT_SECRET},
        "token_ttl_seconds": TOKEN_TTL,
        "clock": clock,
    }
    values.update(overrides)
    return EmulatorSettings(**values)


def bearer(token: str | None) -> dict[str, str]:
    return {} if token is None else {"Authorization": f"Bearer {token}"}


@dataclass
class Emu:
    """A running emulator and raw-HTTP helpers (independent of brickbook's own client)."""

    url: str
    clock: FakeClock
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=10), repr=False)

    def request(
        self, method: str, path: str, *, token: str | None = ADMIN_TOKEN, **kwargs: Any
    ) -> httpx.Response:
        headers = {**bearer(token), **kwargs.pop("headers", {})}
        return self.http.request(method, f"{self.url}{path}", headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def control(
        self, method: str, path: str, body: object = None, token: str | None = ADMIN_TOKEN
    ) -> httpx.Response:
        return self.request(method, f"/_emulator/{path}", token=token, json=body)

    def fault(self, **rule: object) -> str:
        response = self.control("POST", "faults", rule)
        assert response.status_code == 200, response.text
        return str(response.json()["id"])

    def journal(self, path: str | None = None) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = self.control("GET", "requests").json()["requests"]
        return [e for e in entries if path is None or e["path"] == path]

    def oauth_token(self, client_id: str = CLIENT_ID, secret: str = CLIENT_SECRET) -> httpx.Response:
        form = {"grant_type": "client_credentials", "scope": "all-apis"}
        return self.http.post(f"{self.url}/oidc/v1/token", data=form, auth=(client_id, secret))

    def close(self) -> None:
        self.http.close()


@contextmanager
def serving(**overrides: Any) -> Iterator[Emu]:
    """Run an emulator in a thread on a fake clock for as long as the block lasts."""
    from brickbook.emulator.server import start_in_thread

    clock = FakeClock()
    with start_in_thread(make_settings(clock, **overrides)) as running:
        emu = Emu(url=running.url, clock=clock)
        try:
            yield emu
        finally:
            emu.close()
