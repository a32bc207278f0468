"""Libraries API 2.0 primitives (``/api/2.0/libraries/*``): one function per endpoint.

A library is a JSON object with one kind: ``{"whl": URI}``, ``{"requirements": URI}``, ``{"pypi":
{"package", "repo"}}``, ``{"jar": URI}``, ``{"maven": {...}}``, ``{"cran": {...}}``. Installing is
asynchronous: ``cluster_status`` shows each library PENDING -> INSTALLING -> INSTALLED or FAILED
(``messages`` says why); an uninstalled library stays UNINSTALL_ON_RESTART until the cluster restarts.
An unknown cluster is 400 INVALID_PARAMETER_VALUE.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from brickbook.client import Client

__all__ = ["all_cluster_statuses", "cluster_status", "install", "uninstall"]

BASE = "/api/2.0/libraries"


def install(client: Client, cluster_id: str, libraries: Sequence[Mapping[str, Any]]) -> None:
    """Add libraries to a cluster: ``POST libraries/install`` (one it already has is ignored)."""
    client.post(f"{BASE}/install", {"cluster_id": cluster_id, "libraries": [dict(x) for x in libraries]})


def uninstall(client: Client, cluster_id: str, libraries: Sequence[Mapping[str, Any]]) -> None:
    """Mark libraries for removal at the next restart: ``POST libraries/uninstall``."""
    client.post(f"{BASE}/uninstall", {"cluster_id": cluster_id, "libraries": [dict(x) for x in libraries]})


def cluster_status(client: Client, cluster_id: str) -> list[dict[str, Any]]:
    """The cluster's ``library_statuses``: ``GET libraries/cluster-status`` (absent when it has none)."""
    answer = client.get(f"{BASE}/cluster-status", {"cluster_id": cluster_id})
    return list(answer.get("library_statuses") or [])


def all_cluster_statuses(client: Client) -> list[dict[str, Any]]:
    """Every cluster's ``{cluster_id, library_statuses}``: ``GET libraries/all-cluster-statuses``."""
    return list(client.get(f"{BASE}/all-cluster-statuses").get("statuses") or [])
