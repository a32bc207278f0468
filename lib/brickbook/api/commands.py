"""Command Execution API 1.2 primitives (``/api/1.2/contexts/*``, ``/api/1.2/commands/*``).

An execution context is a REPL on a RUNNING cluster's driver (``Pending`` -> ``Running``, or
``Error``); a command runs in it (``Queued`` -> ``Running`` -> ``Finished``, or ``Cancelling`` ->
``Cancelled``, or ``Error``). A command that raised is *Finished* with ``results.resultType == "error"``
(``summary`` one line, ``cause`` the traceback): callers must look at the results, not only the status.
Field names are camelCase, as the 1.2 API has them. Using a context needs CAN_ATTACH_TO on the
cluster; a cluster that is not running is 400 INVALID_STATE.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from brickbook.client import Client

__all__ = [
    "CommandStatus",
    "cancel",
    "command_status",
    "context_status",
    "create_context",
    "destroy_context",
    "execute",
]

BASE = "/api/1.2"
DONE = frozenset({"Finished", "Cancelled", "Error"})


@dataclass(frozen=True)
class CommandStatus:
    """One ``commands/status`` answer; ``results`` as given (empty until the command has an answer)."""

    command_id: str
    status: str
    results: Mapping[str, Any] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        return self.status in DONE

    @property
    def result_type(self) -> str:
        return str(self.results.get("resultType") or "")

    @classmethod
    def from_api(cls, raw: Mapping[str, Any]) -> CommandStatus:
        results = raw.get("results")
        return cls(
            command_id=str(raw.get("id") or ""),
            status=str(raw.get("status") or ""),
            results=dict(results) if isinstance(results, Mapping) else {},
        )


def create_context(client: Client, cluster_id: str, language: str) -> str:
    """Create a context: ``POST contexts/create``; return its id (not retried: a copy leaks one)."""
    return str(client.post(f"{BASE}/contexts/create", {"clusterId": cluster_id, "language": language})["id"])


def context_status(client: Client, cluster_id: str, context_id: str) -> str:
    """A context's status: ``GET contexts/status`` (Pending, Running or Error)."""
    answer = client.get(f"{BASE}/contexts/status", {"clusterId": cluster_id, "contextId": context_id})
    return str(answer.get("status") or "")


def destroy_context(client: Client, cluster_id: str, context_id: str) -> None:
    """End a context and its REPL: ``POST contexts/destroy``."""
    client.post(f"{BASE}/contexts/destroy", {"clusterId": cluster_id, "contextId": context_id})


def execute(client: Client, cluster_id: str, context_id: str, language: str, command: str) -> str:
    """Run ``command`` in the context: ``POST commands/execute``; return the command id. Not retried."""
    body = {"clusterId": cluster_id, "contextId": context_id, "language": language, "command": command}
    return str(client.post(f"{BASE}/commands/execute", body)["id"])


def command_status(client: Client, cluster_id: str, context_id: str, command_id: str) -> CommandStatus:
    """A command's status and, once it has one, its results: ``GET commands/status``."""
    query = {"clusterId": cluster_id, "contextId": context_id, "commandId": command_id}
    return CommandStatus.from_api(client.get(f"{BASE}/commands/status", query))


def cancel(client: Client, cluster_id: str, context_id: str, command_id: str) -> None:
    """Ask a command to stop: ``POST commands/cancel`` (a finished one is left as it is; safe to resend)."""
    body = {"clusterId": cluster_id, "contextId": context_id, "commandId": command_id}
    client.post(f"{BASE}/commands/cancel", body, idempotent=True)
