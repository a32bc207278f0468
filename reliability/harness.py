"""What every reliability suite uses: sizes, figures, the secrets in play, and a capture of all output.

A suite is a module with ``NAME``, ``TITLE``, a docstring (its first paragraph is what the document
says the suite does) and ``run(h: Harness) -> SuiteResult``. It starts its own emulator with
``h.emulator(...)`` (``benchmarks.harness.serving``, its stderr captured), runs ``brickbook`` as real
processes with ``h.run_cli`` / ``h.start_cli`` (every byte they print is kept), registers every
credential and secret value it uses with ``h.secrets.register`` and returns figures: a figure with a
``required`` bound fails the whole run when ``ok`` is false; one without (``required=""``) is reported
only. The leak suite runs last and scans everything captured for every registered secret.
"""

from __future__ import annotations

import base64
import random
import signal
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.harness import REPO, Emulator, child_env, serving
from benchmarks.harness import TOKEN as ADMIN_TOKEN

__all__ = [
    "ADMIN_TOKEN",
    "BIN",
    "CLUSTER",
    "REPO",
    "SIZES",
    "Capture",
    "Completed",
    "Emulator",
    "Figure",
    "Harness",
    "Secrets",
    "Size",
    "SuiteResult",
    "count_figure",
    "describe",
    "log_events",
    "notebook_job",
]

BIN = Path(sys.executable).parent  # the venv's scripts: `brickbook` beside this python


@dataclass(frozen=True)
class Figure:
    """One measured figure: its value, the bound it must meet (``""``: reported only) and whether it does."""

    name: str
    value: str | int | float
    required: str = ""
    ok: bool | None = None  # None: informational

    @property
    def failed(self) -> bool:
        return self.ok is False


def count_figure(name: str, value: int, expected: int) -> Figure:
    """A required exact count ("30/30 complete", "0 leaks")."""
    return Figure(name, value, f"= {expected}", value == expected)


@dataclass
class SuiteResult:
    """What one suite reports: its figures, free-text notes, the command that reruns it, its wall time."""

    name: str
    title: str
    description: str
    command: str
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    duration_s: float = 0.0

    @property
    def ok(self) -> bool:
        return not any(f.failed for f in self.figures)


@dataclass(frozen=True)
class Size:
    """How big each suite runs: ``ci`` (all suites together well under 5 minutes) or ``full``."""

    name: str
    counts: Mapping[str, int]

    def count(self, key: str) -> int:
        return self.counts[key]


# Per-suite counts. Suites of other modules add their keys here (one line each).
SIZES: dict[str, Size] = {
    "ci": Size(
        "ci",
        {
            "soak_invocations": 8,  # of each runbook
            "crash_kills": 7,  # one per moment
            "interrupt_rounds": 1,  # of each signal x each mode
            "hostile_cases": 100,
            "durability_kills": 3,
            "load_clients": 8,
            "load_seconds": 10,
        },
    ),
    "full": Size(
        "full",
        {
            "soak_invocations": 100,
            "crash_kills": 30,
            "interrupt_rounds": 2,
            "hostile_cases": 100,
            "durability_kills": 20,
            "load_clients": 16,
            "load_seconds": 60,
        },
    ),
}


class Secrets:
    """Every credential and secret value the suites put in play, with the forms a leak could take."""

    def __init__(self) -> None:
        self._values: dict[str, str] = {}

    def register(self, value: str, label: str) -> str:
        """Remember ``value`` (a token, client secret, secret value) under ``label``; return it."""
        if len(value) < 8:
            raise ValueError(f"secret {label!r} is too short to scan for without false alarms")
        self._values[value] = label
        return value

    def items(self) -> list[tuple[str, str]]:
        """(label, value) pairs, in registration order."""
        return [(label, value) for value, label in self._values.items()]

    @staticmethod
    def forms(value: str) -> dict[str, str]:
        """The encodings a leak could take: raw, base64 (also of ``Bearer`` and of ``user:secret``), ..."""
        raw = value.encode()
        forms = {
            "raw": value,
            "base64": base64.b64encode(raw).decode(),
            "base64url": base64.urlsafe_b64encode(raw).decode().rstrip("="),
            "repr": repr(value),
            "url-encoded": urllib.parse.quote(value, safe=""),
            "bearer": f"Bearer {value}",
            "base64-bearer": base64.b64encode(f"Bearer {value}".encode()).decode(),
        }
        # A base64 form shows up inside a longer base64 text only at a 3-byte boundary; its body without
        # the padding is what a scan can find.
        for key in ("base64", "base64-bearer"):
            forms[key] = forms[key].rstrip("=")
        return forms


@dataclass(frozen=True)
class Completed:
    """A finished ``brickbook`` process: its argv, exit code, stdout, stderr and wall seconds."""

    argv: tuple[str, ...]
    code: int
    stdout: str
    stderr: str
    seconds: float


class Capture:
    """Every text any suite saw: process output, log lines, the emulator's log. Scanned by ``leaks``."""

    def __init__(self) -> None:
        self._texts: list[tuple[str, str]] = []
        self._files: list[tuple[str, Path]] = []

    def add(self, label: str, text: str) -> None:
        if text:
            self._texts.append((label, text))

    def add_file(self, label: str, path: Path) -> None:
        """Scan this file at the end (a log still being written, or too big to hold)."""
        self._files.append((label, path))

    def texts(self) -> Iterator[tuple[str, str]]:
        """Each captured text, the files read now (a missing file is empty)."""
        yield from self._texts
        for label, path in self._files:
            try:
                yield label, path.read_bytes().decode(errors="replace")
            except FileNotFoundError:
                continue


@dataclass
class Harness:
    """One reliability run: its size, seed, work directory, secrets and capture, shared by all suites."""

    size: Size
    seed: int
    work: Path
    secrets: Secrets = field(default_factory=Secrets)
    capture: Capture = field(default_factory=Capture)

    def __post_init__(self) -> None:
        self.secrets.register(ADMIN_TOKEN, "admin token")

    def rng(self, suite: str) -> random.Random:
        """A generator of the run's seed and the suite's name: each suite's choices are reproducible alone."""
        return random.Random(f"{self.seed}:{suite}")

    def command(self, suite: str) -> str:
        return f"invoke reliability --size {self.size.name} --only {suite} --seed {self.seed}"

    @contextmanager
    def emulator(self, label: str, *, extra: Sequence[str] = ()) -> Iterator[Emulator]:
        """Start an emulator (``python -m brickbook.emulator``) whose log is captured for the leak scan."""
        log = self.work / f"{label}-emulator.log"
        with log.open("w") as stderr, serving(extra=extra, stderr=stderr) as emulator:
            self.capture.add_file(f"{label}: emulator log", log)
            yield emulator

    def env(self, emulator: Emulator, name: str, **extra: str) -> dict[str, str]:
        """A child environment: the emulator's host and admin token, a home of its own, JSON logs."""
        home = self.work / "homes" / name
        home.mkdir(parents=True, exist_ok=True)
        env = child_env(emulator, home)
        env["BRICKBOOK_LOG_FORMAT"] = "json"
        env.update(extra)
        return env

    def argv(self, args: Sequence[str]) -> list[str]:
        return [str(BIN / "brickbook"), *args]

    def run_cli(
        self,
        args: Sequence[str],
        env: Mapping[str, str],
        *,
        timeout: float = 300,
        label: str = "",
        stdin: str | None = None,
    ) -> Completed:
        """Run ``brickbook ARGS`` to its end (``stdin``: its input, else none); keep what it printed."""
        argv = self.argv(args)
        started = time.perf_counter()
        try:
            done = subprocess.run(
                argv,
                env=dict(env),
                input=stdin if stdin is not None else "",
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
                cwd=REPO,
            )
        except subprocess.TimeoutExpired as expired:
            out = _text(expired.stdout)
            err = _text(expired.stderr)
            self.capture.add(label or args[0], out + err)
            return Completed(tuple(argv), -9, out, err + "\n(reliability: timed out)", timeout)
        self.capture.add(label or args[0], done.stdout + done.stderr)
        return Completed(
            tuple(argv), done.returncode, done.stdout, done.stderr, time.perf_counter() - started
        )

    def start_cli(self, args: Sequence[str], env: Mapping[str, str]) -> subprocess.Popen[str]:
        """Start ``brickbook ARGS`` with piped output; hand what it printed to ``finish`` afterwards."""
        return subprocess.Popen(
            self.argv(args),
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
            # A harness started in the background (``cmd &``) ignores SIGINT, and a child would inherit
            # that: Python would then never turn SIGINT into KeyboardInterrupt.
            preexec_fn=_default_sigint,  # noqa: PLW1509 - only resets one signal's disposition
        )

    def finish(self, child: subprocess.Popen[str], label: str, *, timeout: float = 300) -> Completed:
        """Wait for a started process (or collect a killed one); capture and return what it printed."""
        started = time.perf_counter()
        try:
            out, err = child.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            child.kill()
            out, err = child.communicate()
            err += "\n(reliability: timed out)"
        self.capture.add(label, out + err)
        argv = child.args if isinstance(child.args, list | tuple) else [child.args]
        return Completed(tuple(map(str, argv)), child.returncode, out, err, time.perf_counter() - started)


CLUSTER = {"spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 1}


def notebook_job(emu: Emulator, name: str, notebook_path: str) -> int:
    """Create a one-task job running the workspace notebook at ``notebook_path`` on a new cluster."""
    task = {
        "task_key": "main",
        "new_cluster": CLUSTER,
        "notebook_task": {"notebook_path": notebook_path, "source": "WORKSPACE"},
    }
    return int(emu.call("POST", "/api/2.2/jobs/create", {"name": name, "tasks": [task]})["job_id"])


def describe(doc: str | None) -> str:
    """A suite's docstring as the document's paragraph(s): lines joined, paragraphs kept."""
    paragraphs = (doc or "").strip().split("\n\n")
    return "\n\n".join(" ".join(p.split()) for p in paragraphs)


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _text(data: Any) -> str:
    if isinstance(data, bytes):
        return data.decode(errors="replace")
    return data or ""


def log_events(stderr: str) -> Iterator[dict[str, Any]]:
    """The JSON log lines of a process's stderr (other lines are skipped)."""
    import json

    for line in stderr.splitlines():
        if line.startswith("{"):
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict):
                yield event
