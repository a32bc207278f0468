"""Execution contexts of the Command Execution API (1.2): one REPL child process per context.

A context belongs to a RUNNING (or RESIZING) cluster and to the principal that created it; its child
(runtime/child/repl.py) acts as that principal through a context token and keeps its namespace
between commands. Commands run one at a time in the order they came: the first without an answer is
Running, the others Queued; an answer file (``result-<n>.json``) makes it Finished or Cancelled.
Cancelling marks the command (``cancel-<n>``) and interrupts the child; until it answers the command
is Cancelling. A child that died leaves its unanswered commands in Error.

Using a context needs CAN_ATTACH_TO on its cluster (state/access.py); only its creator sees it
(another principal gets the same answer as for an unknown context). Destroying it, terminating or
restarting its cluster (``on_cluster``, a listener of state/clusters.py), the control API's reset
and the emulator's shutdown kill the child's process group and remove its directory.

Contexts live in memory only, as a real cluster's REPLs die with its driver; only their tokens are in
the store, and those a killed emulator left behind are revoked when the next one starts. A context
keeps its last 1000 commands; at most 100 wait unanswered.
Which Python runs a child is ``python_for`` (runtime/envs.py ``ClusterEnvs.python_for``): the cluster's
own environment once it has libraries, else the emulator's interpreter.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from brickbook.emulator.errors import ApiError, invalid
from brickbook.emulator.runtime.launcher import child_env
from brickbook.emulator.state.clusters import ClustersState
from brickbook.emulator.state.identity import CONTEXT_TOKEN_KIND, Identity, Principal
from brickbook.emulator.state.store import Store

__all__ = ["MAX_CONTEXTS_PER_CLUSTER", "ExecutionContexts"]

REPL = Path(__file__).resolve().parent / "child" / "repl.py"
MAX_CONTEXTS_PER_CLUSTER = 145  # the documented limit of notebooks or contexts attached to a cluster
MAX_QUEUED_COMMANDS = 100
MAX_KEPT_COMMANDS = 1000  # per context; beyond, the oldest answered commands are forgotten
LANGUAGES = frozenset({"python", "sql", "scala", "r"})
RUNNABLE = frozenset({"python", "sql"})
_USABLE_STATES = frozenset({"RUNNING", "RESIZING"})
_DIED = {
    "resultType": "error",
    "summary": "Fatal error: The Python kernel is unresponsive.",
    "cause": "The Python process exited unexpectedly.",
}


@dataclass
class _Command:
    number: int
    cancel_requested: bool = False


@dataclass
class _Context:
    context_id: str
    cluster_id: str
    owner: str
    token_group: int
    process: subprocess.Popen[bytes]
    workdir: Path
    commands: dict[str, _Command] = field(default_factory=dict)
    numbers: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def answer(self, command: _Command) -> dict[str, Any] | None:
        path = self.workdir / f"result-{command.number}.json"
        if not path.exists():
            return None
        with contextlib.suppress(ValueError):
            answer: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            return answer
        return None

    def unanswered(self) -> list[_Command]:
        pending = [
            c for c in self.commands.values() if not (self.workdir / f"result-{c.number}.json").exists()
        ]
        return sorted(pending, key=lambda c: c.number)


class ExecutionContexts:
    """Every execution context of the emulator, with its child process."""

    def __init__(
        self,
        clusters: ClustersState,
        identity: Identity,
        store: Store,
        *,
        python_for: Callable[[str], str] = lambda cluster_id: sys.executable,
        root: Path | None = None,
    ) -> None:
        self._clusters = clusters
        self._python_for = python_for
        self._identity = identity
        self._root = root
        self._lock = threading.Lock()
        self._contexts: dict[str, _Context] = {}
        self._revoke_orphans(store)

    @staticmethod
    def _revoke_orphans(store: Store) -> None:
        """Revoke the tokens of contexts a previous process left (``--data-dir``): their REPLs are gone.

        Contexts group their tokens under a negative "run id" (job runs use positive ones).
        """
        with store.transaction():
            for key, record in store.items(CONTEXT_TOKEN_KIND):
                if isinstance(record.get("run_id"), int) and record["run_id"] < 0:
                    store.delete(CONTEXT_TOKEN_KIND, key)

    # -- checks ---------------------------------------------------------------------------------

    def _usable_cluster(self, caller: Principal, cluster_id: str) -> None:
        record = self._clusters.authorized(caller, cluster_id, "CAN_ATTACH_TO")
        if record["state"] not in _USABLE_STATES:
            self.cluster_stopped(cluster_id)
            raise ApiError(
                "INVALID_STATE", f"Cluster {cluster_id} is in unexpected state {record['state'].title()}."
            )

    @staticmethod
    def _language(value: str) -> str:
        if value not in LANGUAGES:
            raise invalid(f"Unsupported language: {value}. Supported: python, sql, scala, r.")
        if value not in RUNNABLE:
            raise ApiError(
                "NOT_IMPLEMENTED", f"The brickbook emulator runs python and sql commands, not {value}."
            )
        return value

    def _context(self, caller: Principal, cluster_id: str, context_id: str) -> _Context:
        self._usable_cluster(caller, cluster_id)
        with self._lock:
            found = self._contexts.get(context_id)
        if found is None or found.cluster_id != cluster_id or found.owner != caller.user_name:
            raise invalid(f"Context {context_id} does not exist on cluster {cluster_id}.")
        return found

    # -- contexts -------------------------------------------------------------------------------

    def create(self, caller: Principal, cluster_id: str, language: str, base_url: str) -> str:
        """``contexts/create``: start a REPL child acting as ``caller``; return the context id."""
        self._language(language)
        self._usable_cluster(caller, cluster_id)
        with self._lock:
            open_here = sum(1 for c in self._contexts.values() if c.cluster_id == cluster_id)
        group = -1 - secrets.randbelow(2**53)  # the token's group: a negative "run id", never a job run's
        if open_here >= MAX_CONTEXTS_PER_CLUSTER:
            raise ApiError(
                "RESOURCE_LIMIT_EXCEEDED",
                "Too many execution contexts are open right now. "
                f"(Limit set currently to {MAX_CONTEXTS_PER_CLUSTER})",
            )
        token = self._identity.issue_context_token(caller.user_name, run_id=group)
        context_id = str(10**18 + secrets.randbelow(9 * 10**18))
        workdir = Path(tempfile.mkdtemp(prefix="brickbook-context-", dir=self._root))
        spec_path = workdir / "spec.json"
        fd = os.open(spec_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({"base_url": base_url, "token": token, "parent_pid": os.getpid()}, handle)
        with (workdir / "process.log").open("wb") as log:
            process = subprocess.Popen(
                [self._python_for(cluster_id), "-I", "-u", str(REPL), str(spec_path)],
                cwd=workdir,
                env=child_env(workdir),
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        context = _Context(context_id, cluster_id, caller.user_name, group, process, workdir)
        with self._lock:
            self._contexts[context_id] = context
        return context_id

    def status(self, caller: Principal, cluster_id: str, context_id: str) -> dict[str, Any]:
        """``contexts/status``: Running while its child lives (commands queue until it reads them)."""
        context = self._context(caller, cluster_id, context_id)
        alive = context.process.poll() is None
        return {"id": context_id, "status": "Running" if alive else "Error"}

    def destroy(self, caller: Principal, cluster_id: str, context_id: str) -> None:
        """``contexts/destroy``: kill the child; the context and its commands are gone."""
        self._context(caller, cluster_id, context_id)
        with self._lock:
            context = self._contexts.pop(context_id, None)
        if context is not None:
            self._end(context)

    # -- commands -------------------------------------------------------------------------------

    def execute(
        self, caller: Principal, cluster_id: str, context_id: str, language: str, command: str
    ) -> str:
        """``commands/execute``: queue ``command`` in the context; return the command id."""
        self._language(language)
        context = self._context(caller, cluster_id, context_id)
        if len(context.unanswered()) >= MAX_QUEUED_COMMANDS:
            raise ApiError(
                "RESOURCE_LIMIT_EXCEEDED",
                f"Too many commands are queued in context {context_id} (limit {MAX_QUEUED_COMMANDS}).",
            )
        with self._lock:
            number = next(context.numbers)
            command_id = secrets.token_hex(16)
            context.commands[command_id] = _Command(number)
            self._forget_old(context)
        request = {"n": number, "language": language, "command": command}
        (context.workdir / f"command-{number}.json").write_text(json.dumps(request), encoding="utf-8")
        try:
            assert context.process.stdin is not None
            context.process.stdin.write(f"{number}\n".encode())
            context.process.stdin.flush()
        except (BrokenPipeError, OSError):
            pass  # the child is gone: the command's status says Error
        return command_id

    def command_status(
        self, caller: Principal, cluster_id: str, context_id: str, command_id: str
    ) -> dict[str, Any]:
        """``commands/status``: Queued, Running, Cancelling, then Finished / Cancelled (or Error)."""
        context = self._context(caller, cluster_id, context_id)
        command = self._command(context, command_id)
        answer = context.answer(command)
        if answer is not None:
            return {"id": command_id, **answer}
        if context.process.poll() is not None:
            return {"id": command_id, "status": "Error", "results": dict(_DIED)}
        if command.cancel_requested:
            return {"id": command_id, "status": "Cancelling"}
        first = context.unanswered()[:1]
        running = bool(first) and first[0].number == command.number
        return {"id": command_id, "status": "Running" if running else "Queued"}

    def cancel(self, caller: Principal, cluster_id: str, context_id: str, command_id: str) -> None:
        """``commands/cancel``: interrupt the command (a queued one never starts); finished: no-op."""
        context = self._context(caller, cluster_id, context_id)
        command = self._command(context, command_id)
        if context.answer(command) is not None:
            return
        command.cancel_requested = True
        (context.workdir / f"cancel-{command.number}").touch()
        if (context.workdir / "ready").exists():  # before that, the child sees the file before it starts
            with contextlib.suppress(ProcessLookupError, PermissionError):
                context.process.send_signal(signal.SIGINT)

    @staticmethod
    def _forget_old(context: _Context) -> None:
        """Keep at most MAX_KEPT_COMMANDS per context, forgetting the oldest answered ones."""
        excess = len(context.commands) - MAX_KEPT_COMMANDS
        if excess <= 0:
            return
        pending = {c.number for c in context.unanswered()}
        for command_id, command in list(context.commands.items()):
            if excess <= 0:
                break
            if command.number not in pending:
                del context.commands[command_id]
                (context.workdir / f"result-{command.number}.json").unlink(missing_ok=True)
                excess -= 1

    @staticmethod
    def _command(context: _Context, command_id: str) -> _Command:
        command = context.commands.get(command_id)
        if command is None:
            raise invalid(f"Command {command_id} does not exist in context {context.context_id}.")
        return command

    # -- ending ---------------------------------------------------------------------------------

    def on_cluster(self, event: str, record: dict[str, Any]) -> None:
        """Clusters state listener: the driver goes when its cluster stops, restarts or is deleted."""
        if event in ("stopping", "deleted"):
            self.cluster_stopped(record["cluster_id"])

    def cluster_stopped(self, cluster_id: str) -> None:
        """End every context on ``cluster_id`` (it is terminating, restarting or deleted)."""
        with self._lock:
            ending = [c for c in self._contexts.values() if c.cluster_id == cluster_id]
            for context in ending:
                del self._contexts[context.context_id]
        for context in ending:
            self._end(context)

    def _end(self, context: _Context) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(context.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):  # SIGKILL cannot be ignored
            context.process.wait(timeout=5)
        if context.process.stdin is not None:
            with contextlib.suppress(OSError):
                context.process.stdin.close()
        shutil.rmtree(context.workdir, ignore_errors=True)
        with contextlib.suppress(Exception):  # the store may be closing (shutdown) or cleared (reset)
            self._identity.revoke_context_tokens(context.token_group)

    def _end_all(self) -> None:
        with self._lock:
            ending = list(self._contexts.values())
            self._contexts.clear()
        for context in ending:
            self._end(context)

    def reset(self) -> None:
        """Kill every child: the control API's reset forgot the clusters (and the tokens)."""
        self._end_all()

    def shutdown(self) -> None:
        """Kill every child: the emulator is stopping."""
        self._end_all()
