"""Fixtures for the runbook engine tests: contexts on fake time, emulator set-up, a webhook receiver."""

from __future__ import annotations

import base64
import json
import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from brickbook.client import Client
from brickbook.config import Config
from brickbook.context import Context
from tests.conftest import ADMIN_TOKEN, Emulator
from tests.fakes import FakeTime

HEADER = "# Databricks notebook source\n"
CLUSTER = {"spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 1}


def make_context(url: str, time: FakeTime, *, dry_run: bool = False) -> Context:
    """Return a context whose client talks to ``url`` and whose clock and sleep are ``time``'s."""
    client = Client(Config(host=url, auth_type="pat", token=ADMIN_TOKEN), clock=time.clock, sleep=time.sleep)
    return Context(client=client, clock=time.clock, sleep=time.sleep, rng=random.Random(7), dry_run=dry_run)


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime(start=1000.0)


@pytest.fixture
def offline_ctx(fake_time: FakeTime) -> Iterator[Context]:
    """A context for tests that send no request (its client points at a closed port)."""
    ctx = make_context("http://127.0.0.1:9", fake_time)
    yield ctx
    ctx.client.close()


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


def api(emulator: Emulator, method: str, path: str, body: object = None) -> Any:
    """Call the emulator's REST API directly (set-up and checks do not depend on brickbook)."""
    if method == "GET":
        response = httpx.get(
            f"{emulator.url}{path}", params=body, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
        )
    else:
        response = httpx.request(
            method, f"{emulator.url}{path}", json=body, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
        )
    response.raise_for_status()
    return response.json() if response.content else None


def put_notebook(emulator: Emulator, path: str, source: str) -> None:
    content = base64.b64encode((HEADER + source).encode()).decode()
    body = {"path": path, "content": content, "language": "PYTHON", "format": "SOURCE", "overwrite": True}
    api(emulator, "POST", "/api/2.0/workspace/import", body)


def create_job(emulator: Emulator, name: str, source: str) -> int:
    """Create a one-task notebook job running ``source``; return its id."""
    put_notebook(emulator, f"/Shared/{name}", source)
    task = {"task_key": "main", "notebook_task": {"notebook_path": f"/Shared/{name}"}, "new_cluster": CLUSTER}
    return int(api(emulator, "POST", "/api/2.2/jobs/create", {"name": name, "tasks": [task]})["job_id"])


def runs_of(emulator: Emulator, job_id: int) -> list[dict[str, Any]]:
    return api(emulator, "GET", "/api/2.2/jobs/runs/list", {"job_id": job_id}).get("runs") or []


@dataclass
class Webhook:
    """A loopback HTTP server standing in for a Slack webhook; ``status`` is what it answers."""

    url: str
    received: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            hook.received.append(
                {
                    "path": self.path,
                    "headers": dict(self.headers),
                    "body": json.loads(self.rfile.read(length)),
                }
            )
            self.send_response(hook.status)
            self.end_headers()

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    hook.url = f"http://127.0.0.1:{server.server_address[1]}/services/T000/B000/s3cretWebhookPath"
    try:
        yield hook
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
