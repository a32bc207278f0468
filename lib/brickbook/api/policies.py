"""Cluster Policies API 2.0 primitives (``/api/2.0/policies/clusters/*``): one function per endpoint.

A policy's ``definition`` is a JSON string of attribute rules; a cluster created with its
``policy_id`` that breaks a rule is refused 400 INVALID_PARAMETER_VALUE "Validation failed for ...".
An unknown policy is 404 RESOURCE_DOES_NOT_EXIST (ResourceDoesNotExist).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from brickbook.client import Client

__all__ = ["create", "delete", "get", "list_"]

BASE = "/api/2.0/policies/clusters"


def create(
    client: Client, name: str, definition: Mapping[str, Any], *, description: str | None = None
) -> str:
    """Create a policy: ``POST policies/clusters/create`` (the rules sent as a JSON string); return its id."""
    body: dict[str, Any] = {"name": name, "definition": json.dumps(dict(definition))}
    if description is not None:
        body["description"] = description
    return str(client.post(f"{BASE}/create", body)["policy_id"])


def get(client: Client, policy_id: str) -> dict[str, Any]:
    """Describe a policy: ``GET policies/clusters/get`` (``definition`` is a JSON string)."""
    return dict(client.get(f"{BASE}/get", {"policy_id": policy_id}))


def list_(client: Client) -> list[dict[str, Any]]:
    """Every policy, newest first: ``GET policies/clusters/list`` (one answer, no paging)."""
    return list(client.get(f"{BASE}/list").get("policies") or [])


def delete(client: Client, policy_id: str) -> None:
    """Delete a policy: ``POST policies/clusters/delete``."""
    client.post(f"{BASE}/delete", {"policy_id": policy_id})
