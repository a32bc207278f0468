"""Cluster policy tasks: list, get, create (name plus the rules as JSON or YAML), delete."""

from __future__ import annotations

from typing import Any

from brickbook.command import Invocation, command
from brickbook.errors import UsageError
from brickbook.options import shown
from brickbook.output import render_table

__all__ = ["create", "delete", "get", "list_"]

ID_HELP = {"policy_id": "The policy's id, e.g. D0C5A1B2C3D4E5F6."}
MAX_NAME = 100
MAX_DESCRIPTION = 1000


def _policy_id(value: str) -> str:
    """Check a policy id before any request: letters and digits only, bounded."""
    if not value.isascii() or not value.isalnum() or len(value) > 64:
        raise UsageError(
            f"POLICY_ID must be a cluster policy id such as D0C5A1B2C3D4E5F6, not {shown(value)}"
        )
    return value


def _policies_table(rows: list[dict[str, Any]]) -> str:
    flat = [
        {
            "policy_id": r.get("policy_id"),
            "name": r.get("name"),
            "creator": r.get("creator_user_name"),
            "default": r.get("is_default"),
        }
        for r in rows
    ]
    return render_table(flat)


@command(text=_policies_table, name="list")
def list_(inv: Invocation) -> list[Any]:
    """List the workspace's cluster policies, newest first."""
    from brickbook.api import policies

    return policies.list_(inv.client)


@command(help=ID_HELP)
def get(inv: Invocation, policy_id: str) -> Any:
    """Show one cluster policy; -o json gives its definition as the API does (a JSON string)."""
    from brickbook.api import policies

    return policies.get(inv.client, _policy_id(policy_id))


@command(
    help={
        "name": "The policy's name (unique in the workspace, at most 100 characters).",
        "json": "The rules as inline JSON, or @path to a JSON file: {attribute: {type: fixed|range|...}}.",
        "file": "The rules as a .json, .yaml or .yml file.",
        "description": "A description shown with the policy.",
    }
)
def create(
    inv: Invocation,
    name: str,
    *,
    json: str | None = None,
    file: str | None = None,
    description: str | None = None,
) -> Any:
    """Create a cluster policy named NAME from its rules; the service checks the rules' types."""
    from brickbook.api import policies
    from brickbook.specs import load_spec

    if not name.strip() or not name.isprintable() or len(name) > MAX_NAME:
        raise UsageError(f"NAME must be 1 to {MAX_NAME} printable characters, not {shown(name)}")
    if description is not None and len(description) > MAX_DESCRIPTION:
        raise UsageError(f"--description must be at most {MAX_DESCRIPTION} characters")
    rules = load_spec(json, file)
    policy_id = policies.create(inv.client, name, rules, description=description)
    inv.log.info("policy.created", policy_id=policy_id)
    return {"created": policy_id, "policy_id": policy_id, "name": name}


@command(help=ID_HELP)
def delete(inv: Invocation, policy_id: str) -> Any:
    """Delete a cluster policy (clusters created under it keep running)."""
    from brickbook.api import policies

    checked = _policy_id(policy_id)
    policies.delete(inv.client, checked)
    inv.log.info("policy.deleted", policy_id=checked)
    return {"deleted": checked, "policy_id": checked}
