"""``get_context()``: the REPL context of the notebook or task running in this process.

Databricks Runtime answers an object with plain attributes (``apiUrl``, ``apiToken``,
``notebookPath``, ``notebookId``, ``isInNotebook``, ``isInJob``, ``jobId``, ``idInJob``...), or None
outside a REPL; mlflow's ``databricks_utils`` reads it before anything else.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["ReplContext", "get_context", "set_context"]


@dataclass(frozen=True)
class ReplContext:
    """The attributes Databricks Runtime's REPL context has that the emulator can fill."""

    apiUrl: str
    apiToken: str = field(repr=False)
    notebookPath: str | None
    notebookId: str | None
    isInNotebook: bool
    isInJob: bool
    isInCluster: bool
    jobId: str | None
    idInJob: str | None
    jobTaskType: str
    userName: str | None
    browserHostName: str
    clusterId: str | None = None
    workspaceUrl: str | None = None
    replId: str | None = None


_current: list[ReplContext] = []  # at most one: the run's


def set_context(context: ReplContext) -> None:
    """Publish the run's context (the child's bootstrap calls this once, before user code)."""
    _current[:] = [context]


def get_context() -> ReplContext | None:
    """The current REPL context, or None outside a run."""
    return _current[0] if _current else None
