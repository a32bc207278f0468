"""Instance pools (Instance Pools API 2.0, the SDK's ``InstancePoolsAPI``). No HTTP here.

A pool keeps idle instances of one node type ready for clusters. ``create`` needs
``instance_pool_name`` (1-100 characters, unique among live pools) and a known ``node_type_id``;
``min_idle_instances`` and ``max_capacity`` are non-negative whole numbers with min <= max, and
``idle_instance_autotermination_minutes`` is 0-10000. ``edit`` takes the full set of editable fields
and may not change the node type. ``delete`` forgets the pool. Creating pools takes a workspace admin
(the ``allow-instance-pool-create`` entitlement); editing and deleting one an admin or CAN_MANAGE on
it (the Permissions API); a non-admin needs CAN_ATTACH_TO to name it in a cluster spec
(state/clusters.py ``check_use``); reads are open.

A cluster spec that names ``instance_pool_id`` takes the pool's node type and must not name
``node_type_id`` itself (``check_cluster_pools``); an unknown pool is the service's 400.
"""

from __future__ import annotations

import secrets
import string
import time
from collections.abc import Callable
from typing import Any

from brickbook.emulator.errors import ApiError, invalid
from brickbook.emulator.state.access import INSTANCE_POOL, Resource, may
from brickbook.emulator.state.clusters_catalog import NODE_TYPES
from brickbook.emulator.state.identity import Principal
from brickbook.emulator.state.permissions import ObjectAcls
from brickbook.emulator.state.store import Store

__all__ = ["KIND", "PoolsState", "check_cluster_pools"]

KIND = "instance_pool"
MAX_NAME = 100
MAX_CUSTOM_TAGS = 45
# What create keeps from the request; anything else the request carries is ignored.
_FIELDS = (
    "instance_pool_name",
    "node_type_id",
    "min_idle_instances",
    "max_capacity",
    "idle_instance_autotermination_minutes",
    "custom_tags",
    "enable_elastic_disk",
    "disk_spec",
    "preloaded_spark_versions",
    "preloaded_docker_images",
    "aws_attributes",
    "azure_attributes",
    "gcp_attributes",
)
_EDITABLE = (
    "instance_pool_name",
    "node_type_id",
    "min_idle_instances",
    "max_capacity",
    "idle_instance_autotermination_minutes",
    "custom_tags",
)


def _whole(spec: dict[str, Any], field: str, most: int | None = None) -> None:
    value = spec.get(field)
    if value is None:
        return
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < 0
        or (most is not None and value > most)
    ):
        bound = f" and at most {most}" if most is not None else ""
        raise invalid(f"{field} must be a non-negative integer{bound}, got {str(value)[:40]!r}.")


def _validate(spec: dict[str, Any]) -> None:
    name = spec.get("instance_pool_name")
    if not isinstance(name, str) or not name.strip():
        raise invalid("Missing required field: instance_pool_name")
    if len(name) > MAX_NAME:
        raise invalid(f"instance_pool_name must be at most {MAX_NAME} characters.")
    node = spec.get("node_type_id")
    if not isinstance(node, str) or not node:
        raise invalid("Missing required field: node_type_id")
    if node not in NODE_TYPES:
        raise invalid(
            f"Node type {node[:100]} is not supported. Supported node types: {', '.join(NODE_TYPES)}"
        )
    _whole(spec, "min_idle_instances")
    _whole(spec, "max_capacity")
    _whole(spec, "idle_instance_autotermination_minutes", 10000)
    low, high = spec.get("min_idle_instances") or 0, spec.get("max_capacity")
    if high is not None and low > high:
        raise invalid(f"min_idle_instances ({low}) must not exceed max_capacity ({high}).")
    tags = spec.get("custom_tags")
    if tags is not None and (not isinstance(tags, dict) or len(tags) > MAX_CUSTOM_TAGS):
        raise invalid(f"custom_tags must be an object of at most {MAX_CUSTOM_TAGS} tags.")


def _admin(caller: Principal, action: str, resource: Resource | None = None) -> None:
    """Refuse (403) unless ``caller`` is an admin or holds CAN_MANAGE on ``resource``."""
    if not (caller.is_admin or (resource is not None and may(caller, resource, "CAN_MANAGE"))):
        raise ApiError(
            "PERMISSION_DENIED", f"User {caller.user_name} is not authorized to {action} instance pools."
        )


def _missing(pool_id: object) -> ApiError:
    return ApiError("RESOURCE_DOES_NOT_EXIST", f"Instance pool {str(pool_id)[:100]} does not exist.")


def check_cluster_pools(store: Store, spec: dict[str, Any]) -> str | None:
    """A cluster spec's pool check: the pool's node type, or None when the spec names no pool."""
    pool_id = spec.get("instance_pool_id")
    if pool_id is None:
        return None
    if spec.get("node_type_id") is not None:
        raise invalid("The field 'node_type_id' cannot be supplied when an instance pool ID is provided.")
    found = store.get(KIND, pool_id) if isinstance(pool_id, str) and pool_id else None
    if found is None:
        raise invalid(f"Instance pool {str(pool_id)[:100]} does not exist.")
    driver_pool = spec.get("driver_instance_pool_id")
    if driver_pool is not None and (not isinstance(driver_pool, str) or store.get(KIND, driver_pool) is None):
        raise invalid(f"Instance pool {str(driver_pool)[:100]} does not exist.")
    return str(found["spec"]["node_type_id"])


class PoolsState:
    """The workspace's instance pools, in the shared store."""

    def __init__(self, store: Store, clock: Callable[[], float]) -> None:
        self._store = store
        self._clock = clock
        self._acls = ObjectAcls(store)

    def resource(self, pool_id: str) -> Resource:
        """The pool as the permission rule sees it: its explicit grants (admins hold everything)."""
        return self._acls.merged(Resource(INSTANCE_POOL, pool_id, {}), "instance-pool", [pool_id])

    def _unique(self, name: str, pool_id: str = "") -> None:
        for key, record in self._store.items(KIND):
            if key != pool_id and record["spec"]["instance_pool_name"] == name:
                raise invalid(f"Instance pool name {name!r} is already in use by instance pool {key}.")

    def create(self, caller: Principal, body: dict[str, Any]) -> str:
        """``instance-pools/create``: validate, store ACTIVE, return the new pool id."""
        _admin(caller, "create")
        spec = {k: body[k] for k in _FIELDS if body.get(k) is not None}
        _validate(spec)
        stamp = time.strftime("%m%d-%H%M%S", time.gmtime(self._clock()))
        alphabet = string.ascii_lowercase + string.digits
        word = "".join(secrets.choice(string.ascii_lowercase) for _ in range(5))
        pool_id = f"{stamp}-{word}-pool-{''.join(secrets.choice(alphabet) for _ in range(8))}"
        with self._store.transaction():
            self._unique(spec["instance_pool_name"])
            self._store.put(
                KIND, pool_id, {"instance_pool_id": pool_id, "spec": spec, "creator": caller.user_name}
            )
        return pool_id

    def _load(self, pool_id: object) -> dict[str, Any]:
        if not isinstance(pool_id, str) or not pool_id:
            raise invalid("Missing required field: instance_pool_id")
        record = self._store.get(KIND, pool_id)
        if record is None:
            raise _missing(pool_id)
        return record

    def get(self, pool_id: object) -> dict[str, Any]:
        """``instance-pools/get``: the pool with its state, stats and default tags."""
        return self._details(self._load(pool_id))

    def list(self) -> list[dict[str, Any]]:
        """``instance-pools/list``: every pool, oldest first."""
        return [self._details(record) for _, record in self._store.items(KIND)]

    def edit(self, caller: Principal, body: dict[str, Any]) -> None:
        """``instance-pools/edit``: replace the editable fields; the node type cannot change."""
        with self._store.transaction():
            record = self._load(body.get("instance_pool_id"))
            _admin(caller, "edit", self.resource(record["instance_pool_id"]))
            fixed = {k: v for k, v in record["spec"].items() if k not in _EDITABLE}
            spec = {**fixed, **{k: body[k] for k in _EDITABLE if body.get(k) is not None}}
            _validate(spec)
            if spec["node_type_id"] != record["spec"]["node_type_id"]:
                raise invalid("The node type of an instance pool cannot be changed (node_type_id).")
            self._unique(spec["instance_pool_name"], record["instance_pool_id"])
            record["spec"] = spec
            self._store.put(KIND, record["instance_pool_id"], record)

    def delete(self, caller: Principal, pool_id: object) -> None:
        """``instance-pools/delete``: forget the pool (its id no longer resolves)."""
        with self._store.transaction():
            record = self._load(pool_id)
            _admin(caller, "delete", self.resource(record["instance_pool_id"]))
            self._store.delete(KIND, record["instance_pool_id"])
            self._acls.drop("instance-pool", record["instance_pool_id"])

    @staticmethod
    def _details(record: dict[str, Any]) -> dict[str, Any]:
        spec = record["spec"]
        idle = spec.get("min_idle_instances") or 0
        return {
            "min_idle_instances": 0,
            "idle_instance_autotermination_minutes": 60,
            "enable_elastic_disk": True,
            **spec,
            "instance_pool_id": record["instance_pool_id"],
            "state": "ACTIVE",
            "stats": {"used_count": 0, "idle_count": idle, "pending_used_count": 0, "pending_idle_count": 0},
            "default_tags": {
                "Vendor": "Databricks",
                "DatabricksInstancePoolCreatorId": record["creator"],
                "DatabricksInstancePoolId": record["instance_pool_id"],
            },
        }
