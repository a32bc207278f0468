"""The control API: admin only, the request journal, reset."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import httpx
import pytest
from starlette.routing import BaseRoute

from brickbook.emulator.app import create_app
from brickbook.emulator.area import AreaContext
from brickbook.emulator.server import start_in_thread
from tests.emulator.harness import ADMIN, ADMIN_TOKEN, ALICE_TOKEN, ME, Emu, FakeClock, make_settings


@pytest.mark.parametrize(("method", "path"), [("GET", "faults"), ("POST", "reset"), ("GET", "requests")])
def test_control_api_refuses_non_admins(emu: Emu, method: str, path: str):
    """A non-admin principal gets 403 PERMISSION_DENIED from the control API."""
    response = emu.control(method, path, token=ALICE_TOKEN)
    assert response.status_code == 403
    assert response.json()["error_code"] == "PERMISSION_DENIED"
    assert "not an admin" in response.json()["message"]


def test_control_api_refuses_service_principals(emu: Emu):
    """An OAuth service principal is not an admin either."""
    token = emu.oauth_token().json()["access_token"]
    response = emu.control("DELETE", "faults", token=token)
    assert response.status_code == 403
    assert response.json()["error_code"] == "PERMISSION_DENIED"
    assert "not an admin" in response.json()["message"]


def test_control_api_needs_a_credential(emu: Emu):
    """Without a token the control API answers the front door's 401."""
    response = emu.control("GET", "requests", token=None)
    assert response.status_code == 401
    assert response.json()["error_code"] == 401
    assert "Credential was not sent" in response.json()["message"]


def test_journal_records_each_request_in_order(emu: Emu):
    """The journal lists method, path, query, status and principal for each call, in order."""
    emu.get(ME, params={"attributes": "userName"})
    emu.get(ME, token=ALICE_TOKEN)
    emu.get(ME, token="bad")
    assert emu.journal() == [
        {"method": "GET", "path": ME, "query": "attributes=userName", "status": 200, "principal": ADMIN},
        {"method": "GET", "path": ME, "query": "", "status": 200, "principal": "alice@example.com"},
        {"method": "GET", "path": ME, "query": "", "status": 403, "principal": None},
    ]


def test_journal_leaves_out_control_calls(emu: Emu):
    """Calls to /_emulator/* are not journalled."""
    emu.control("GET", "faults")
    emu.control("GET", "requests")
    assert emu.journal() == []


def test_journal_never_holds_secrets(emu: Emu):
    """No token, secret or body appears anywhere in the journal."""
    emu.oauth_token()
    emu.post("/api/2.0/token/create", json={"comment": "c"})
    text = emu.control("GET", "requests").text
    assert ADMIN_TOKEN not in text
    assert "secret" not in text
    assert "comment" not in text


def test_delete_requests_clears_the_journal(emu: Emu):
    """DELETE /_emulator/requests empties the journal."""
    emu.get(ME)
    emu.control("DELETE", "requests")
    assert emu.journal() == []


def test_reset_clears_faults_limits_journal_and_state(emu: Emu):
    """POST /_emulator/reset forgets faults, rate limits, the journal and API state."""
    emu.fault(pattern=f"GET {ME}", status=503, times=0)
    emu.control("POST", "rate-limits", {"pattern": "GET /x", "requests_per_second": 1})
    emu.post("/api/2.0/token/create", json={})
    emu.control("POST", "reset")
    assert emu.control("GET", "faults").json() == {"faults": []}
    assert emu.control("GET", "rate-limits").json() == {"rate_limits": []}
    assert emu.journal() == []
    assert emu.get("/api/2.0/token/list").json() == {}


def test_reset_keeps_principals_and_issued_oauth_tokens(emu: Emu):
    """Configured principals and already issued OAuth tokens still work after a reset."""
    token = emu.oauth_token().json()["access_token"]
    emu.control("POST", "reset")
    assert emu.get(ME, token=ALICE_TOKEN).status_code == 200
    assert emu.get(ME, token=token).status_code == 200


def test_global_latency_still_answers():
    """With latency_ms set, requests are delayed but answered normally."""
    with start_in_thread(make_settings(FakeClock(), latency_ms=1)) as running:
        response = httpx.get(f"{running.url}{ME}", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert response.status_code == 200


class RecordingArea:
    """An area with no routes that records the contract calls it receives."""

    calls: ClassVar[list[str]] = []

    def __init__(self, context: AreaContext) -> None:
        self.services = context.services

    def routes(self) -> list[BaseRoute]:
        return []

    def reset(self) -> None:
        RecordingArea.calls.append("reset")

    def shutdown(self) -> None:
        RecordingArea.calls.append("shutdown")


async def _post(app: Any, path: str) -> int:
    """One POST through the ASGI app, as the admin; the status answered."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    headers = [(b"authorization", f"Bearer {ADMIN_TOKEN}".encode())]
    scope = {"type": "http", "method": "POST", "path": path, "raw_path": path.encode(), "query_string": b"",
             "headers": headers, "scheme": "http", "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 1),
             "http_version": "1.1", "root_path": ""}  # fmt: skip
    await app(scope, receive, send)
    return int(next(m["status"] for m in sent if m["type"] == "http.response.start"))


def test_reset_and_shutdown_reach_every_area():
    """The control API's reset calls each area's reset(); stopping the app calls its shutdown() once."""
    RecordingArea.calls = []
    app = create_app(make_settings(FakeClock()), areas=(RecordingArea,))

    async def session() -> None:
        async with app.router.lifespan_context(app):
            assert await _post(app, "/_emulator/reset") == 200
            assert RecordingArea.calls == ["reset"]

    asyncio.run(session())
    assert RecordingArea.calls == ["reset", "shutdown"]


def test_areas_share_one_instance_of_each_service():
    """Two areas built from one app see the same clusters, runs and warehouses (no private copies)."""
    built: list[RecordingArea] = []

    def factory(context: AreaContext) -> RecordingArea:
        built.append(RecordingArea(context))
        return built[-1]

    app = create_app(make_settings(FakeClock()), areas=(factory, factory))

    async def session() -> None:
        async with app.router.lifespan_context(app):  # shuts the services down and closes the store
            pass

    asyncio.run(session())
    first, second = built
    assert first.services is second.services
    assert first.services.warehouse_gate is first.services.warehouses
