"""Concurrent clients of the emulator for the durability and load suites: writes that can be verified
later, reads across the areas, and an emulator process on a data directory that can be killed.

Only the standard library talks to the emulator here (``urllib``), one request per connection, so a
client sees exactly what the server acknowledged: a write counts as acknowledged only once its 2xx
answer has been read in full.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from http.client import HTTPException
from pathlib import Path
from typing import IO, Any

from benchmarks.harness import TOKEN

__all__ = [
    "KINDS",
    "READS",
    "SECRET_VALUE",
    "Answer",
    "Down",
    "EmulatorProcess",
    "Http",
    "ServerError",
    "Write",
    "prepare",
    "write",
]

SECRET_VALUE = "durable-secret-value-9f8e7d6c"  # every secret written; registered for the leak scan
SCOPE = "durability"
SCOPES = 20  # a scope holds at most 1000 secrets, as on the real service: spread the writes
EXPERIMENT = "/Shared/durability-runs"  # not the folder: an experiment is a workspace object too


class Down(Exception):
    """The emulator did not answer (killed, restarting): the request's outcome is unknown."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    seconds: float


class Http:
    """JSON over urllib as the admin; 4xx and 5xx are answers, connection failures raise ``Down``."""

    def __init__(self, url: str, timeout: float = 30) -> None:
        self.url, self.timeout = url, timeout

    def call(self, method: str, path: str, body: object = None) -> Answer:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(  # noqa: S310 - a loopback URL we built
            self.url + path,
            data=data,
            method=method,
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        )
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # noqa: S310 - loopback
                status, text = answer.status, answer.read()
        except urllib.error.HTTPError as refused:
            status, text = refused.code, refused.read()
        except (OSError, HTTPException) as failed:  # refused, reset, cut short, timed out
            raise Down(str(failed)) from failed
        seconds = time.perf_counter() - started
        try:
            body = json.loads(text) if text else {}
        except ValueError:
            body = {"unparsed": text[:200].decode(errors="replace")}
        return Answer(status, body, seconds)


class EmulatorProcess:
    """``python -m brickbook.emulator`` on one data directory, started again after each kill."""

    def __init__(self, data_dir: Path, log: IO[str], extra: tuple[str, ...] = ()) -> None:
        self.data_dir, self.log, self.extra = data_dir, log, extra
        self.process: subprocess.Popen[str] | None = None
        self.url = ""

    def start(self) -> str:
        argv = [sys.executable, "-m", "brickbook.emulator", "--port", "0", "--data-dir", str(self.data_dir)]
        env = {**os.environ, "BRICKBOOK_EMULATOR_TOKEN": TOKEN}
        self.process = subprocess.Popen(
            [*argv, *self.extra], stdout=subprocess.PIPE, stderr=self.log, text=True, env=env
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if "listening on " not in line:
            raise RuntimeError(f"the emulator did not start: {line!r}")
        self.url = line.rsplit("listening on ", 1)[1].strip()
        return self.url

    def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, as when the machine loses power."""
        if self.process is not None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


@dataclass(frozen=True)
class Write:
    """An acknowledged write and how to find it again: ``verify(http)`` is None when it is there."""

    what: str
    verify: Callable[[Http], str | None]


def prepare(http: Http) -> None:
    """The containers the writes go into: a secret scope, an experiment, folders (idempotent)."""
    for index in range(SCOPES):
        http.call("POST", "/api/2.0/secrets/scopes/create", {"scope": f"{SCOPE}-{index}"})
    http.call("POST", "/api/2.0/workspace/mkdirs", {"path": "/Shared/durability"})
    http.call("POST", "/api/2.0/mlflow/experiments/create", {"name": EXPERIMENT})


def _expect(path: str, check: Callable[[Any], bool]) -> Callable[[Http], str | None]:
    def verify(http: Http) -> str | None:
        answer = http.call("GET", path)
        if answer.status == 200 and check(answer.body):
            return None
        return f"GET {path}: HTTP {answer.status} {str(answer.body)[:160]}"

    return verify


def _experiment_id(http: Http) -> str:
    answer = http.call("GET", f"/api/2.0/mlflow/experiments/get-by-name?experiment_name={EXPERIMENT}")
    return str(answer.body["experiment"]["experiment_id"])


def write(http: Http, kind: str, name: str) -> Write | None:
    """Make one write of ``kind``; the ``Write`` once acknowledged, None when the service refused it.

    Raises ``Down`` when no answer came: the write may or may not have happened, so it is not counted.
    """
    code = base64.b64encode(f"print('{name}')\n".encode()).decode()
    if kind == "workspace":
        path = f"/Shared/durability/{name}"
        body = {"path": path, "content": code, "language": "PYTHON", "format": "SOURCE"}
        made = http.call("POST", "/api/2.0/workspace/import", body)
        found = _expect(f"/api/2.0/workspace/get-status?path={path}", lambda b: b.get("path") == path)
    elif kind == "dbfs":
        path = f"/durability/{name}.py"
        made = http.call("POST", "/api/2.0/dbfs/put", {"path": path, "contents": code, "overwrite": True})
        found = _expect(f"/api/2.0/dbfs/read?path={path}", lambda b: b.get("data") == code)
    elif kind == "secrets":
        scope = f"{SCOPE}-{zlib.crc32(name.encode()) % SCOPES}"
        body = {"scope": scope, "key": name, "string_value": SECRET_VALUE}
        made = http.call("POST", "/api/2.0/secrets/put", body)
        found = _expect(
            f"/api/2.0/secrets/list?scope={scope}", lambda b: name in {s["key"] for s in b.get("secrets", [])}
        )
    elif kind == "jobs":
        made = http.call("POST", "/api/2.2/jobs/create", {"name": name})
        job_id = made.body.get("job_id") if made.status == 200 else None
        found = _expect(f"/api/2.2/jobs/get?job_id={job_id}", lambda b: b["settings"]["name"] == name)
    elif kind == "mlflow":
        made = http.call("POST", "/api/2.0/mlflow/runs/create", {"experiment_id": _experiment_id(http)})
        if made.status != 200:
            return None
        run_id = made.body["run"]["info"]["run_id"]
        metric = {"run_id": run_id, "key": name, "value": 1.5, "timestamp": 1, "step": 0}
        made = http.call("POST", "/api/2.0/mlflow/runs/log-metric", metric)
        found = _expect(
            f"/api/2.0/mlflow/runs/get?run_id={run_id}",
            lambda b: name in {m["key"] for m in b["run"]["data"].get("metrics", [])},
        )
    elif kind == "uc":
        made = http.call("POST", "/api/2.1/unity-catalog/schemas", {"name": name, "catalog_name": "main"})
        found = _expect(f"/api/2.1/unity-catalog/schemas/main.{name}", lambda b: b.get("name") == name)
    else:
        raise ValueError(kind)
    if made.status >= 500:
        raise ServerError(f"{kind} {name}: HTTP {made.status} {str(made.body)[:200]}")
    return Write(f"{kind} {name}", found) if made.status == 200 else None


class ServerError(Exception):
    """A 5xx answer nobody injected: an emulator defect."""


KINDS = ("workspace", "dbfs", "secrets", "jobs", "mlflow", "uc")

READS = (
    "/api/2.0/workspace/list?path=/Shared",
    "/api/2.0/dbfs/list?path=/",
    "/api/2.1/clusters/list",
    "/api/2.2/jobs/list",
    "/api/2.2/jobs/runs/list",
    "/api/2.0/secrets/scopes/list",
    "/api/2.0/mlflow/experiments/search",
    "/api/2.1/unity-catalog/catalogs",
    "/api/2.1/unity-catalog/schemas?catalog_name=main",
    "/api/2.0/sql/warehouses",
    "/api/2.0/preview/scim/v2/Me",
    "/api/2.0/instance-pools/list",
    "/api/2.0/policies/clusters/list",
    "/api/2.0/repos",
    "/api/2.0/token/list",
)
