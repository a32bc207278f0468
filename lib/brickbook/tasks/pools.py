"""Instance pool tasks: list, get, create (from a JSON or YAML spec), delete."""

from __future__ import annotations

from typing import Any

from brickbook.command import Invocation, command
from brickbook.errors import UsageError
from brickbook.options import shown
from brickbook.output import render_table

__all__ = ["create", "delete", "get", "list_"]

ID_HELP = {"pool_id": "The pool's id, e.g. 1130-120000-brick-pool-abcd1234."}


def _pool_id(value: str) -> str:
    """Check a pool id before any request: not blank, no spaces or control characters, bounded."""
    if not value.strip() or not value.isprintable() or any(c.isspace() for c in value) or len(value) > 100:
        raise UsageError(
            f"POOL_ID must be an instance pool id such as 1130-120000-brick-pool-abcd1234, not {shown(value)}"
        )
    return value


def _pools_table(rows: list[dict[str, Any]]) -> str:
    flat = [
        {
            "instance_pool_id": r.get("instance_pool_id"),
            "name": r.get("instance_pool_name"),
            "node_type_id": r.get("node_type_id"),
            "idle": (r.get("stats") or {}).get("idle_count"),
            "used": (r.get("stats") or {}).get("used_count"),
            "state": r.get("state"),
        }
        for r in rows
    ]
    return render_table(flat)


@command(text=_pools_table, name="list")
def list_(inv: Invocation) -> list[Any]:
    """List the workspace's instance pools with their idle and used instances."""
    from brickbook.api import pools

    return pools.list_(inv.client)


@command(help=ID_HELP)
def get(inv: Invocation, pool_id: str) -> Any:
    """Show one instance pool: node type, capacity, idle settings and stats."""
    from brickbook.api import pools

    return pools.get(inv.client, _pool_id(pool_id))


@command(
    help={
        "json": "The pool spec as inline JSON, or @path to a JSON file (the body of instance-pools/create).",
        "file": "The pool spec as a .json, .yaml or .yml file.",
    }
)
def create(inv: Invocation, *, json: str | None = None, file: str | None = None) -> Any:
    """Create an instance pool from a spec naming at least instance_pool_name and node_type_id."""
    from brickbook.api import pools
    from brickbook.specs import load_spec

    spec = load_spec(json, file)
    for field in ("instance_pool_name", "node_type_id"):
        value = spec.get(field)
        if not isinstance(value, str) or not value.strip() or len(value) > 100:
            raise UsageError(f"the pool spec needs {field}: a string of 1 to 100 characters")
    pool_id = pools.create(inv.client, spec)
    inv.log.info("pool.created", instance_pool_id=pool_id)
    return {"created": pool_id, "instance_pool_id": pool_id, "instance_pool_name": spec["instance_pool_name"]}


@command(help=ID_HELP)
def delete(inv: Invocation, pool_id: str) -> Any:
    """Delete an instance pool."""
    from brickbook.api import pools

    checked = _pool_id(pool_id)
    pools.delete(inv.client, checked)
    inv.log.info("pool.deleted", instance_pool_id=checked)
    return {"deleted": checked, "instance_pool_id": checked}
