"""SQL warehouses: wait for a state, make sure one runs or is stopped (plan, then apply), create, delete.

Waits have one explicit deadline (``None`` for none) and fail loudly: waiting for RUNNING fails
(RunFailed, exit 7) when the warehouse ends STOPPED, DELETING or DELETED instead, as the SDK's
``wait_get_warehouse_running`` does, naming what ``health`` says; the deadline raises
WaitTimeout (exit 8) and leaves it going.

A plan is one ``Change`` whose payload is the warehouse id:

- ``plan_warehouse_running``: RUNNING or STARTING is unchanged; STOPPED or STOPPING is an update of
  ``state`` (start it; a stopping warehouse is started once it has stopped);
- ``plan_warehouse_stopped``: STOPPED or STOPPING is unchanged; RUNNING or STARTING is an update (stop it).

A DELETED or DELETING warehouse cannot be planned for: ``WarehouseGone`` (exit 4).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from brickbook.api import sql
from brickbook.api.sql import Warehouse, WarehouseState
from brickbook.change import Action, Change
from brickbook.errors import UsageError, WarehouseGone
from brickbook.specs.fields import BOOLEAN, OBJECT, STRING, Kind, integer, one_of, optional, require
from brickbook.waiting import Observation, wait_for

if TYPE_CHECKING:
    from brickbook.context import Context

__all__ = [
    "GONE",
    "apply_warehouse_running",
    "apply_warehouse_stopped",
    "check_warehouse_spec",
    "create",
    "delete",
    "observe",
    "plan_warehouse_running",
    "plan_warehouse_stopped",
    "wait_for_state",
]

GONE = frozenset({WarehouseState.DELETING, WarehouseState.DELETED})
_FAILS_ON = {
    WarehouseState.RUNNING: frozenset({WarehouseState.STOPPED, *GONE}),
    WarehouseState.STOPPED: GONE,
}


SIZES = (
    "2X-Small",
    "X-Small",
    "Small",
    "Medium",
    "Large",
    "X-Large",
    "2X-Large",
    "3X-Large",
    "4X-Large",
    "5X-Large",
)
_AUTO_STOP = Kind(
    "0 (never) or an integer >= 10",
    lambda v: isinstance(v, int) and not isinstance(v, bool) and (v == 0 or v >= 10),
)
_NAME = Kind("a non-empty string under 100 characters", lambda v: isinstance(v, str) and 0 < len(v) < 100)


def check_warehouse_spec(spec: Mapping[str, Any], *, creating: bool) -> None:
    """Raise UsageError naming the first field of a warehouse spec the service would refuse.

    ``sql/warehouses`` create and edit: ``name`` (required to create) under 100 characters,
    ``auto_stop_mins`` 0 or >= 10, ``cluster_size`` one of the T-shirt sizes, 1 <= ``min_num_clusters``
    <= ``max_num_clusters`` <= 40; ``id`` is assigned. Fields brickbook does not know pass through.
    """
    (require if creating else optional)(spec, "name", _NAME)
    optional(spec, "auto_stop_mins", _AUTO_STOP)
    optional(spec, "cluster_size", one_of(*SIZES))
    low = optional(spec, "min_num_clusters", integer(1, 30)) or 1
    optional(spec, "max_num_clusters", integer(low, 40))
    optional(spec, "enable_serverless_compute", BOOLEAN)
    optional(spec, "enable_photon", BOOLEAN)
    optional(spec, "warehouse_type", STRING)
    optional(spec, "tags", OBJECT)
    if "id" in spec:
        raise UsageError("spec: id must not be set (the service assigns it)")


def _target(warehouse_id: str) -> str:
    return f"warehouse {warehouse_id}"


def _warehouse_id(change: Change) -> str:
    if not isinstance(change.payload, str):
        raise TypeError(f"not a warehouse plan: {change.describe()}")
    return change.payload


def observe(ctx: Context, warehouse_id: str, target: WarehouseState) -> Observation[Warehouse]:
    """Look at a warehouse once against ``target`` (RUNNING fails on STOPPED or gone; STOPPED on gone)."""
    info = sql.get_warehouse(ctx.client, warehouse_id)
    state = info.state or WarehouseState("UNKNOWN")
    failure = None
    if state in _FAILS_ON.get(target, frozenset()):
        failure = f"ended {state} instead of {target}: {info.health_message or 'no reason given'}"
    return Observation(
        value=info, state=str(state), done=state == target or failure is not None, failure=failure
    )


def wait_for_state(
    ctx: Context, warehouse_id: str, target: WarehouseState, *, timeout: float | None
) -> Warehouse:
    """Poll until the warehouse reaches ``target``; raise RunFailed or WaitTimeout otherwise."""
    return wait_for(
        ctx.bind(warehouse_id=warehouse_id),
        lambda: observe(ctx, warehouse_id, target),
        what=_target(warehouse_id),
        timeout=timeout,
    )


def _gone(warehouse_id: str, state: WarehouseState) -> WarehouseGone:
    return WarehouseGone(f"warehouse {warehouse_id} is {state}")


def plan_warehouse_running(ctx: Context, warehouse_id: str) -> Change:
    """Plan making the warehouse run: unchanged when RUNNING or STARTING, else an update of its state."""
    state = sql.get_warehouse(ctx.client, warehouse_id).state or WarehouseState("UNKNOWN")
    target = _target(warehouse_id)
    if state == WarehouseState.RUNNING:
        return Change(Action.UNCHANGED, target, reason="already running", payload=warehouse_id)
    if state == WarehouseState.STARTING:
        return Change(Action.UNCHANGED, target, reason="already starting", payload=warehouse_id)
    if state in GONE:
        raise _gone(warehouse_id, state)
    return Change(Action.UPDATE, target, ("state",), f"{state}: start it", payload=warehouse_id)


def apply_warehouse_running(ctx: Context, change: Change, *, wait: bool, timeout: float | None) -> None:
    """Start the warehouse if the plan says so; with ``wait``, return once it is RUNNING.

    A STOPPING warehouse is waited on until STOPPED first (a start then would be lost), within ``timeout``.
    """
    warehouse_id = _warehouse_id(change)
    started = ctx.clock()
    if change.changed:
        state = sql.get_warehouse(ctx.client, warehouse_id).state
        if state == WarehouseState.STOPPING:
            wait_for_state(ctx, warehouse_id, WarehouseState.STOPPED, timeout=timeout)
        sql.start_warehouse(ctx.client, warehouse_id)
        ctx.log.info("warehouse.starting", warehouse_id=warehouse_id)
    if wait:
        left = None if timeout is None else max(0.0, timeout - (ctx.clock() - started))
        wait_for_state(ctx, warehouse_id, WarehouseState.RUNNING, timeout=left)


def plan_warehouse_stopped(ctx: Context, warehouse_id: str) -> Change:
    """Plan stopping the warehouse: unchanged when STOPPED or STOPPING, else an update of its state."""
    state = sql.get_warehouse(ctx.client, warehouse_id).state or WarehouseState("UNKNOWN")
    target = _target(warehouse_id)
    if state in (WarehouseState.STOPPED, WarehouseState.STOPPING):
        return Change(Action.UNCHANGED, target, reason=f"already {state.value.lower()}", payload=warehouse_id)
    if state in GONE:
        raise _gone(warehouse_id, state)
    return Change(Action.UPDATE, target, ("state",), f"{state}: stop it", payload=warehouse_id)


def apply_warehouse_stopped(ctx: Context, change: Change, *, wait: bool, timeout: float | None) -> None:
    """Stop the warehouse if the plan says so; with ``wait``, return once it is STOPPED."""
    warehouse_id = _warehouse_id(change)
    if change.changed:
        sql.stop_warehouse(ctx.client, warehouse_id)
        ctx.log.info("warehouse.stopping", warehouse_id=warehouse_id)
    if wait:
        wait_for_state(ctx, warehouse_id, WarehouseState.STOPPED, timeout=timeout)


def create(ctx: Context, spec: Mapping[str, Any], *, wait: bool, timeout: float | None) -> Warehouse:
    """Create a warehouse from a spec (``POST sql/warehouses``); with ``wait``, return it RUNNING."""
    warehouse_id = sql.create_warehouse(ctx.client, spec)
    ctx.log.info("warehouse.created", warehouse_id=warehouse_id)
    if wait:
        return wait_for_state(ctx, warehouse_id, WarehouseState.RUNNING, timeout=timeout)
    return sql.get_warehouse(ctx.client, warehouse_id)


def delete(ctx: Context, warehouse_id: str) -> None:
    """Delete a warehouse (``DELETE sql/warehouses/{id}``)."""
    sql.delete_warehouse(ctx.client, warehouse_id)
    ctx.log.info("warehouse.deleted", warehouse_id=warehouse_id)
