"""The pieces every scenario uses: an emulator in its own process, timed child processes, medians.

Each side of a comparison runs as its own process so that its wall time includes interpreter start and
imports, and its peak RSS is the kernel's own figure for that process (``os.wait4``'s ``ru_maxrss``),
not a share of the harness's memory. Only the standard library talks to the emulator here: the harness
must not lend either side a warm import or a shared connection pool.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

__all__ = [
    "TOKEN",
    "Emulator",
    "Sample",
    "Side",
    "child_env",
    "median",
    "run_timed",
    "serving",
]

TOKEN = "bench-admin-token-0123456789"
REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the venv's scripts: `brickbook` beside this python


@dataclass
class Emulator:
    """A running emulator process: its URL, and a stdlib client for its REST and control APIs."""

    url: str
    process: subprocess.Popen[str]

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """Send one JSON request as the admin; return the decoded answer (None for an empty body)."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(  # noqa: S310 - a loopback URL we built
            self.url + path,
            data=data,
            method=method,
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310 - loopback
            text = answer.read()
        return json.loads(text) if text else None

    def reset(self) -> None:
        """Forget every workspace object and the request journal."""
        self.call("POST", "/_emulator/reset")
        self.call("DELETE", "/_emulator/requests")

    def clear_journal(self) -> None:
        self.call("DELETE", "/_emulator/requests")

    def requests(self) -> list[dict[str, Any]]:
        """The journal's entries since it was last cleared (method, path, status, ...)."""
        answer = self.call("GET", "/_emulator/requests")
        entries = answer["requests"] if isinstance(answer, dict) else answer
        return list(entries)


@contextmanager
def serving(
    *, latency_ms: int = 0, extra: Sequence[str] = (), cpu: int | None = None, stderr: IO[str] | None = None
) -> Iterator[Emulator]:
    """Start ``python -m brickbook.emulator`` on a free loopback port with a temporary data dir.

    ``stderr``: where the emulator's log goes (default: this process's stderr).

    ``cpu`` holds the whole emulator process, every thread of it, on that one processor (``taskset``).
    """
    with tempfile.TemporaryDirectory(prefix="bench-emu-") as data:
        pinned = ["taskset", "-c", str(cpu)] if cpu is not None else []
        argv = [
            *pinned,
            sys.executable,
            "-m",
            "brickbook.emulator",
            "--port",
            "0",
            "--data-dir",
            data,
            *extra,
        ]
        if latency_ms:
            argv += ["--latency-ms", str(latency_ms)]
        env = {**os.environ, "BRICKBOOK_EMULATOR_TOKEN": TOKEN}
        process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=stderr, text=True, env=env)
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            if "listening on " not in line:
                raise RuntimeError(f"the emulator did not start: {line!r}")
            yield Emulator(url=line.rsplit("listening on ", 1)[1].strip(), process=process)
        finally:
            process.terminate()
            process.wait(timeout=30)


def child_env(emulator: Emulator, home: Path) -> dict[str, str]:
    """The environment both sides get: the emulator's host and token, nothing else of Databricks."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABRICKS_", "BRICKBOOK_"))}
    # With PYTHONDONTWRITEBYTECODE (set on our shared machines) every start would compile each module
    # edited since its bytecode was last written: the warm-up runs must be able to write it.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(
        HOME=str(home),
        DATABRICKS_HOST=emulator.url,
        DATABRICKS_TOKEN=TOKEN,
        DATABRICKS_CONFIG_FILE=str(home / "no-databrickscfg"),
        PYTHONPATH=str(REPO),
    )
    return env


@dataclass
class Sample:
    """One timed process: wall seconds, peak resident memory in MiB, what it printed."""

    seconds: float
    peak_rss_mib: float
    stdout: str


def run_timed(argv: Sequence[str], env: dict[str, str], *, cwd: Path | None = None) -> Sample:
    """Run ``argv`` to completion; fail loudly on a non-zero exit (a broken side measures nothing)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(list(argv), stdout=out, stderr=err, env=env, cwd=cwd or REPO)
        try:
            # wait4 reaps the child and returns its own rusage (ru_maxrss in KiB on Linux).
            _, status, usage = os.wait4(process.pid, 0)
        except BaseException:  # Ctrl-C or SIGTERM of the harness: leave no side running
            process.kill()
            process.wait()
            raise
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {process.returncode}: {stderr[-2000:]}")
    return Sample(seconds=seconds, peak_rss_mib=usage.ru_maxrss / 1024, stdout=stdout)


@dataclass
class Side:
    """The samples of one contender in one scenario."""

    name: str
    samples: list[Sample] = field(default_factory=list)
    requests: list[int] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return median([s.seconds for s in self.samples])

    @property
    def peak_rss_mib(self) -> float:
        return median([s.peak_rss_mib for s in self.samples])


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")
