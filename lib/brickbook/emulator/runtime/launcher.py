"""Start, kill and collect the child process that runs one task attempt.

Each attempt gets a private temp dir (its cwd, HOME and TMPDIR) holding SPEC.json (0600; the child
deletes it once read, as it holds the context token), the combined stdout/stderr log and RESULT.json.
The child is ``<python> -I -u bootstrap.py`` (``python``: the interpreter of the cluster's environment,
runtime/envs.py, else the emulator's own) in its own session (so a kill reaches everything it started),
with an environment reduced to PATH and locale: nothing of the emulator's own settings
or credentials leaks into user code.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["MAX_LOG_BYTES", "Child", "Launcher", "Outcome"]

BOOTSTRAP = Path(__file__).resolve().parent / "child" / "bootstrap.py"
MAX_LOG_BYTES = 5 * 1024 * 1024  # get-output returns the last 5 MB of logs
_KEPT_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "SYSTEMROOT")


@dataclass
class Child:
    """One running task attempt."""

    task_run_id: int
    process: subprocess.Popen[bytes]
    workdir: Path

    def poll(self) -> int | None:
        return self.process.poll()


@dataclass
class Outcome:
    """What a finished attempt left behind."""

    failed: bool
    notebook_output: dict[str, Any] | None = None
    error: str | None = None
    error_trace: str | None = None
    logs: str = ""
    logs_truncated: bool = False
    task_values: dict[str, Any] = field(default_factory=dict)

    def output(self) -> dict[str, Any]:
        """The stored part of ``runs/get-output`` (everything but ``metadata``)."""
        out: dict[str, Any] = {"logs": self.logs, "logs_truncated": self.logs_truncated}
        if self.notebook_output is not None:
            out["notebook_output"] = self.notebook_output
        if self.error is not None:
            out["error"] = self.error
            out["error_trace"] = self.error_trace or ""
        return out


def child_env(workdir: Path) -> dict[str, str]:
    env = {name: os.environ[name] for name in _KEPT_ENV if name in os.environ}
    return {**env, "HOME": str(workdir), "TMPDIR": str(workdir), "PYTHONIOENCODING": "utf-8"}


def _tail(path: Path) -> tuple[str, bool]:
    if not path.exists():
        return "", False
    size = path.stat().st_size
    with path.open("rb") as handle:
        if size > MAX_LOG_BYTES:
            handle.seek(size - MAX_LOG_BYTES)
        data = handle.read()
    return data.decode(errors="replace"), size > MAX_LOG_BYTES


class Launcher:
    """Starts task attempts as child processes; ``root`` is where their temp dirs go."""

    def __init__(self, root: Path | None = None) -> None:
        self._root = root

    def launch(self, task_run_id: int, spec: dict[str, Any], *, python: str | None = None) -> Child:
        """Start the child for one attempt; ``spec`` is what bootstrap.py reads (token included)."""
        workdir = Path(tempfile.mkdtemp(prefix=f"brickbook-run-{task_run_id}-", dir=self._root))
        spec_path = workdir / "spec.json"
        fd = os.open(spec_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({**spec, "parent_pid": os.getpid()}, handle)
        with (workdir / "output.log").open("wb") as log:
            process = subprocess.Popen(
                [python or sys.executable, "-I", "-u", str(BOOTSTRAP), str(spec_path)],
                cwd=workdir,
                env=child_env(workdir),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return Child(task_run_id=task_run_id, process=process, workdir=workdir)

    @staticmethod
    def kill(child: Child) -> None:
        """Kill the attempt's whole process group and reap it."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):  # SIGKILL cannot be ignored: only a stuck kernel
            child.process.wait(timeout=5)

    @staticmethod
    def collect(child: Child) -> Outcome:
        """Read an exited attempt's result and logs, then remove its temp dir."""
        logs, truncated = _tail(child.workdir / "output.log")
        result_path = child.workdir / "result.json"
        code = child.process.returncode
        try:
            result = json.loads(result_path.read_text(encoding="utf-8")) if result_path.exists() else None
        except ValueError:
            result = None
        shutil.rmtree(child.workdir, ignore_errors=True)
        if result is None:
            error = f"The task process ended without a result (exit code {code})."
            return Outcome(failed=True, error=error, error_trace=error, logs=logs, logs_truncated=truncated)
        return Outcome(
            failed=code != 0 or "error" in result,
            notebook_output=result.get("notebook_output"),
            error=result.get("error"),
            error_trace=result.get("error_trace"),
            logs=logs,
            logs_truncated=truncated,
            task_values=result.get("task_values") or {},
        )

    @staticmethod
    def discard(child: Child) -> tuple[str, bool]:
        """Logs of a killed attempt (canceled or timed out); its temp dir is removed."""
        logs = _tail(child.workdir / "output.log")
        shutil.rmtree(child.workdir, ignore_errors=True)
        return logs
