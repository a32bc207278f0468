"""Instance Pools API 2.0 primitives (``/api/2.0/instance-pools/*``): one function per endpoint.

A pool keeps idle instances of one node type ready; a cluster spec names it by ``instance_pool_id``
instead of ``node_type_id``. An unknown pool is 404 RESOURCE_DOES_NOT_EXIST (ResourceDoesNotExist).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from brickbook.client import Client

__all__ = ["create", "delete", "get", "list_"]

BASE = "/api/2.0/instance-pools"


def create(client: Client, spec: Mapping[str, Any]) -> str:
    """Create a pool: ``POST instance-pools/create``; return its id. Not retried (a copy makes a second)."""
    return str(client.post(f"{BASE}/create", dict(spec))["instance_pool_id"])


def get(client: Client, pool_id: str) -> dict[str, Any]:
    """Describe a pool with its stats: ``GET instance-pools/get``."""
    return dict(client.get(f"{BASE}/get", {"instance_pool_id": pool_id}))


def list_(client: Client) -> list[dict[str, Any]]:
    """Every pool with its stats: ``GET instance-pools/list`` (one answer, no paging)."""
    return list(client.get(f"{BASE}/list").get("instance_pools") or [])


def delete(client: Client, pool_id: str) -> None:
    """Delete a pool: ``POST instance-pools/delete``."""
    client.post(f"{BASE}/delete", {"instance_pool_id": pool_id})
