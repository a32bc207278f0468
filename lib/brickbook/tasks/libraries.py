"""Cluster library tasks: install (optionally waiting until installed), status, uninstall.

Libraries are wheels (``--whl``), requirements files (``--requirements``), both as URIs (``dbfs:/...``,
``/Workspace/...``, ``/Volumes/...``), and PyPI packages (``--pypi 'name==1.2'``); each option repeats.
A library that fails to install is exit 7 naming it and the installer's message; ``--timeout`` bounds
the wait (exit 8). Uninstalled libraries go when the cluster restarts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from brickbook.command import Invocation, command
from brickbook.output import render_table

if TYPE_CHECKING:
    from brickbook.change import Change

__all__ = ["install", "status", "uninstall"]

LIBRARY_HELP = {
    "cluster_id": "The cluster's id, e.g. 1126-183000-abcd1234.",
    "whl": "A wheel to install: dbfs:/..., /Workspace/... or /Volumes/... (repeatable).",
    "requirements": "A requirements.txt to install: /Workspace/..., /Volumes/... or dbfs:/... (repeatable).",
    "pypi": "A PyPI requirement such as 'simplejson==3.19.2' (repeatable).",
}
DONE = {"create": "installing", "delete": "uninstall on restart", "unchanged": "unchanged"}


def _checked_cluster(value: str) -> str:
    from brickbook.tasks.clusters import _cluster_id

    return _cluster_id(value)


def _libraries(whl: list[str] | None, requirements: list[str] | None, pypi: list[str] | None) -> list[Any]:
    from brickbook.ops.libraries import libraries_from

    return libraries_from(whl=whl or (), requirements=requirements or (), pypi=pypi or ())


def _rows(changes: list[Change], done: dict[str, str]) -> list[dict[str, Any]]:
    from brickbook.ops.libraries import describe

    return [
        {"library": describe(c.payload), "action": done[c.action.value], "reason": c.reason} for c in changes
    ]


def _changes_table(rows: list[dict[str, Any]]) -> str:
    return render_table(rows, ["library", "action", "reason"])


def _status_table(rows: list[dict[str, Any]]) -> str:
    from brickbook.ops.libraries import describe

    flat = [
        {
            "library": describe(r.get("library") or {}),
            "status": r.get("status"),
            "message": " ".join(r.get("messages") or [])[:200],
        }
        for r in rows
    ]
    return render_table(flat, ["library", "status", "message"])


@command(
    help={
        **LIBRARY_HELP,
        "wait": "Wait until every library is INSTALLED (a FAILED one is exit 7).",
        "timeout": "Give up waiting after this long: 90, 90s, 20m or 2h (exit 8). Default: no limit.",
    },
    text=_changes_table,
    iterable=["whl", "requirements", "pypi"],
)
def install(
    inv: Invocation,
    cluster_id: str,
    *,
    whl: list[str] | None = None,
    requirements: list[str] | None = None,
    pypi: list[str] | None = None,
    wait: bool = False,
    timeout: str | None = None,
) -> list[dict[str, Any]]:
    """Install libraries on a cluster (a terminated cluster installs them when it starts)."""
    from brickbook.ops.libraries import ensure_installed
    from brickbook.waiting import parse_duration

    checked = _checked_cluster(cluster_id)
    libraries = _libraries(whl, requirements, pypi)
    seconds = parse_duration(timeout)
    changes = ensure_installed(inv.context, checked, libraries, wait=wait, timeout=seconds)
    return _rows(changes, {**DONE, "create": "installed" if wait else "installing"})


@command(help={"cluster_id": LIBRARY_HELP["cluster_id"]}, text=_status_table)
def status(inv: Invocation, cluster_id: str) -> list[Any]:
    """Show each library of a cluster with its status and the installer's messages."""
    from brickbook.api import libraries

    return libraries.cluster_status(inv.client, _checked_cluster(cluster_id))


@command(help=LIBRARY_HELP, text=_changes_table, iterable=["whl", "requirements", "pypi"])
def uninstall(
    inv: Invocation,
    cluster_id: str,
    *,
    whl: list[str] | None = None,
    requirements: list[str] | None = None,
    pypi: list[str] | None = None,
) -> list[dict[str, Any]]:
    """Mark libraries for removal from a cluster; they go when it restarts."""
    from brickbook.ops.libraries import ensure_uninstalled

    checked = _checked_cluster(cluster_id)
    changes = ensure_uninstalled(inv.context, checked, _libraries(whl, requirements, pypi))
    return _rows(changes, DONE)
