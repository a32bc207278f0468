"""SQL warehouses: specs, lifecycle and rules (``/api/2.0/sql/warehouses``, the SDK's ``WarehousesAPI``).

Lifecycle on the emulator clock (state/lifecycle.py), each step lasting ``warehouse_start_seconds``:
create and start -> STARTING -> RUNNING; stop -> STOPPING -> STOPPED. A RUNNING warehouse with
``auto_stop_mins`` (default 120; 0 = never) and no activity for that long stops by itself; activity
is a statement (``note_activity``) or the warehouse becoming RUNNING. ``start`` of a STARTING or
RUNNING warehouse and ``stop`` of a STOPPING or STOPPED one change nothing; ``start`` while STOPPING
starts again once stopped. ``delete`` removes the warehouse at once (afterwards it does not exist);
``edit`` changes the given fields and leaves the state alone.

Validation as the service documents it (400 INVALID_PARAMETER_VALUE naming the field): ``name``
required, under 100 characters and unique (else RESOURCE_ALREADY_EXISTS); ``cluster_size`` one of
2X-Small ... 5X-Large; ``auto_stop_mins`` 0 or at least 10; ``1 <= min_num_clusters <=
min(max_num_clusters, 30)``, ``max_num_clusters <= 40``; fewer than 45 tags; serverless compute
needs ``warehouse_type`` PRO (left out, it defaults to PRO when serverless, else CLASSIC).

Permissions (state/access.py, levels CAN_VIEW < CAN_USE < CAN_MONITOR < CAN_MANAGE < IS_OWNER, kept
in the shared grants model under ``warehouse:<id>``): the creator is IS_OWNER, admins hold
everything, and ``set_permissions``/``update_permissions`` grant more. ``get`` and ``list`` need
CAN_VIEW (``list`` leaves out what the caller may not view), ``start`` and statements CAN_USE,
``stop``, ``edit`` and ``delete`` CAN_MANAGE. An unknown id is 404 RESOURCE_DOES_NOT_EXIST.

``require_running`` (the ``WarehouseGate`` statements use): RUNNING passes; a serverless warehouse
that is not RUNNING starts on demand and, being serverless, is RUNNING at once (no STARTING step);
any other warehouse that is not RUNNING is 400 INVALID_STATE "... is not running", which tells the
caller to start it first.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from typing import Any

from brickbook.emulator.errors import ApiError, invalid
from brickbook.emulator.state.access import SQL_WAREHOUSE, Resource, may, require
from brickbook.emulator.state.grants import Grants
from brickbook.emulator.state.identity import Principal
from brickbook.emulator.state.lifecycle import Lifecycle, Transition
from brickbook.emulator.state.store import Store

__all__ = ["CLUSTER_SIZES", "KIND", "WarehousesState"]

KIND = "sql_warehouse"
CLUSTER_SIZES = (
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
WAREHOUSE_TYPES = ("CLASSIC", "PRO", "TYPE_UNSPECIFIED")
SPOT_POLICIES = ("COST_OPTIMIZED", "RELIABILITY_OPTIMIZED", "POLICY_UNSPECIFIED")
CHANNELS = ("CHANNEL_NAME_CURRENT", "CHANNEL_NAME_PREVIEW", "CHANNEL_NAME_PREVIOUS", "CHANNEL_NAME_CUSTOM")
MAX_NAME = 100  # names must be shorter
MAX_TAGS = 45  # fewer tags than this
MAX_CLUSTERS = 40
MAX_MIN_CLUSTERS = 30
DEFAULT_AUTO_STOP = 120
# The fields create and edit take, and what create fills in when a field is left out.
_DEFAULTS: dict[str, Any] = {
    "cluster_size": None,
    "min_num_clusters": 1,
    "max_num_clusters": 1,
    "auto_stop_mins": DEFAULT_AUTO_STOP,
    "enable_photon": True,
    "enable_serverless_compute": False,
    "warehouse_type": None,
    "spot_instance_policy": "COST_OPTIMIZED",
    "channel": {"name": "CHANNEL_NAME_CURRENT"},
    "tags": {},
}
_SETTABLE = ("name", *_DEFAULTS)  # other fields (instance_profile_arn, max_dbu, ...) are ignored
MAX_TAG_KEY = 127
MAX_TAG_VALUE = 255
MAX_ACL_ENTRIES = 200
MAX_PRINCIPAL = 256


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_name(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise invalid("Missing required field: name")
    if len(value) >= MAX_NAME:
        raise invalid(f"name must be shorter than {MAX_NAME} characters.")
    return value


def _check_sizes(spec: dict[str, Any]) -> None:
    if spec["cluster_size"] not in CLUSTER_SIZES:
        if spec["cluster_size"] is None:
            raise invalid("Missing required field: cluster_size")
        raise invalid(
            f"Invalid cluster_size {str(spec['cluster_size'])[:40]!r}: "
            f"expected one of {', '.join(CLUSTER_SIZES)}."
        )
    low, high = spec["min_num_clusters"], spec["max_num_clusters"]
    if not _is_int(high) or not 1 <= high <= MAX_CLUSTERS:
        raise invalid(f"max_num_clusters must be an integer from 1 to {MAX_CLUSTERS}, got {high!r}.")
    if not _is_int(low) or not 1 <= low <= min(high, MAX_MIN_CLUSTERS):
        raise invalid(
            f"min_num_clusters must be an integer from 1 to min(max_num_clusters, {MAX_MIN_CLUSTERS}), "
            f"got {low!r}."
        )
    minutes = spec["auto_stop_mins"]
    if not _is_int(minutes) or not (minutes == 0 or 10 <= minutes <= 100_000):
        raise invalid(f"auto_stop_mins must be 0 (never) or at least 10, got {minutes!r}.")


def _check_kinds(spec: dict[str, Any]) -> None:
    for field, allowed in (("warehouse_type", WAREHOUSE_TYPES), ("spot_instance_policy", SPOT_POLICIES)):
        if spec[field] not in allowed:
            raise invalid(f"Invalid {field} {str(spec[field])[:40]!r}: expected one of {', '.join(allowed)}.")
    for field in ("enable_photon", "enable_serverless_compute"):
        if not isinstance(spec[field], bool):
            raise invalid(f"{field} must be a boolean.")
    if spec["enable_serverless_compute"] and spec["warehouse_type"] != "PRO":
        raise invalid("Serverless compute requires warehouse_type PRO.")
    channel = spec["channel"]
    version = channel.get("dbsql_version", "") if isinstance(channel, dict) else None
    if (
        not isinstance(channel, dict)
        or channel.get("name", "CHANNEL_NAME_CURRENT") not in CHANNELS
        or not (isinstance(version, str) and len(version) <= 64)
    ):
        raise invalid(f"channel must be an object whose name is one of {', '.join(CHANNELS)}.")
    tags = spec["tags"]
    pairs = tags.get("custom_tags", []) if isinstance(tags, dict) else None
    if not isinstance(pairs, list):
        raise invalid("tags must be {custom_tags: [{key, value}]}.")
    if len(pairs) >= MAX_TAGS:
        raise invalid(f"tags has {len(pairs)} entries; fewer than {MAX_TAGS} are allowed.")
    for pair in pairs:
        key = pair.get("key") if isinstance(pair, dict) else None
        value = pair.get("value", "") if isinstance(pair, dict) else None
        if not isinstance(key, str) or not 1 <= len(key) <= MAX_TAG_KEY:
            raise invalid(f"Each tag needs a key of 1 to {MAX_TAG_KEY} characters.")
        if not isinstance(value, str) or len(value) > MAX_TAG_VALUE:
            raise invalid(f"Tag {key!r}: the value must be a string of at most {MAX_TAG_VALUE} characters.")


def validate_spec(spec: dict[str, Any]) -> None:
    """Check a complete create/edit spec; raise INVALID_PARAMETER_VALUE naming the field."""
    _check_name(spec.get("name"))
    _check_sizes(spec)
    _check_kinds(spec)


class WarehousesState:
    """All SQL warehouses of the workspace, in the shared store, advanced lazily by the clock."""

    def __init__(
        self,
        store: Store,
        clock: Callable[[], float],
        principal: Callable[[str], Principal],
        *,
        step_seconds: float = 1.0,
    ) -> None:
        self._store = store
        self._clock = clock
        self._principal = principal  # a user name -> the principal, for the gate's permission check
        self._grants = Grants(store)
        self._life = Lifecycle(
            steps={"STARTING": "RUNNING", "STOPPING": "STOPPED"},
            step_seconds=step_seconds,
            idle_state="RUNNING",
            idle_target="STOPPING",
            idle_seconds=lambda record: float(record["spec"]["auto_stop_mins"] * 60),
            on_transition=self._on_transition,
        )

    # -- lifecycle ------------------------------------------------------------------------------

    def _on_transition(self, record: dict[str, Any], step: Transition) -> None:
        if step.target == "RUNNING":
            record["num_clusters"] = record["spec"]["min_num_clusters"]
        elif step.target == "STOPPED":
            record["num_clusters"] = 0
            if record.pop("start_after_stop", False):
                self._life.enter(record, "STARTING", step.at)

    def _load(self, warehouse_id: str) -> dict[str, Any]:
        """The record advanced to now and saved; an unknown id is 404 RESOURCE_DOES_NOT_EXIST."""
        with self._store.transaction():
            record = self._store.get(KIND, warehouse_id) if warehouse_id else None
            if record is None:
                raise ApiError("RESOURCE_DOES_NOT_EXIST", f"SQL warehouse {warehouse_id} does not exist.")
            if self._life.advance(record, self._clock()):
                self._store.put(KIND, warehouse_id, record)
        return record

    def _resource(self, record: dict[str, Any]) -> Resource:
        return Resource(SQL_WAREHOUSE, record["id"], self._grants.levels_on(_securable(record["id"])))

    def authorized(self, caller: Principal, warehouse_id: str, needed: str) -> dict[str, Any]:
        """The record (advanced to now), once ``caller`` holds ``needed`` on it; else 403."""
        record = self._load(warehouse_id)
        require(caller, self._resource(record), needed)
        return record

    # -- API operations -------------------------------------------------------------------------

    def create(self, caller: Principal, body: dict[str, Any]) -> str:
        """``POST /api/2.0/sql/warehouses``: validate, store as STARTING, return the new id."""
        spec = {**_DEFAULTS, **{k: v for k, v in body.items() if k in _SETTABLE and v is not None}}
        if spec["warehouse_type"] is None:
            spec["warehouse_type"] = "PRO" if spec["enable_serverless_compute"] is True else "CLASSIC"
        validate_spec(spec)
        warehouse_id = secrets.token_hex(8)
        record: dict[str, Any] = {"id": warehouse_id, "spec": spec, "creator_name": caller.user_name}
        self._life.enter(record, "STARTING", self._clock())
        record["num_clusters"] = 0
        with self._store.transaction():
            self._unique(spec["name"], warehouse_id)
            self._store.put(KIND, warehouse_id, record)
            self._grants.replace(_securable(warehouse_id), caller.user_name, ["IS_OWNER"])
        return warehouse_id

    def edit(self, caller: Principal, warehouse_id: str, body: dict[str, Any]) -> None:
        """``POST .../{id}/edit``: change the given fields (the state is left as it is)."""
        with self._store.transaction():
            record = self.authorized(caller, warehouse_id, "CAN_MANAGE")
            changes = {k: v for k, v in body.items() if k in _SETTABLE and v is not None}
            spec = {**record["spec"], **changes}
            validate_spec(spec)
            self._unique(spec["name"], warehouse_id)
            record["spec"] = spec
            if record["state"] == "RUNNING":
                record["num_clusters"] = spec["min_num_clusters"]
            self._store.put(KIND, warehouse_id, record)

    def delete(self, caller: Principal, warehouse_id: str) -> None:
        """``DELETE .../{id}``: gone at once; later calls on the id are 404."""
        with self._store.transaction():
            self.authorized(caller, warehouse_id, "CAN_MANAGE")
            self._store.delete(KIND, warehouse_id)
            self._grants.drop(_securable(warehouse_id))

    def start(self, caller: Principal, warehouse_id: str) -> None:
        """``POST .../{id}/start``: STOPPED -> STARTING; STOPPING starts again once stopped."""
        with self._store.transaction():
            record = self.authorized(caller, warehouse_id, "CAN_USE")
            if record["state"] == "STOPPED":
                self._life.enter(record, "STARTING", self._clock())
            elif record["state"] == "STOPPING":
                record["start_after_stop"] = True
            self._store.put(KIND, warehouse_id, record)

    def stop(self, caller: Principal, warehouse_id: str) -> None:
        """``POST .../{id}/stop``: STARTING or RUNNING -> STOPPING."""
        with self._store.transaction():
            record = self.authorized(caller, warehouse_id, "CAN_MANAGE")
            record.pop("start_after_stop", None)
            if record["state"] in ("STARTING", "RUNNING"):
                self._life.enter(record, "STOPPING", self._clock())
            self._store.put(KIND, warehouse_id, record)

    def get(self, caller: Principal, warehouse_id: str, *, host: str) -> dict[str, Any]:
        """``GET .../{id}``: the warehouse as ``GetWarehouseResponse``."""
        return self._details(self.authorized(caller, warehouse_id, "CAN_VIEW"), host)

    def list(self, caller: Principal, *, host: str) -> list[dict[str, Any]]:
        """``GET /api/2.0/sql/warehouses`` before paging: the ones the caller may view, oldest first."""
        found = []
        now = self._clock()
        with self._store.transaction():
            for key, record in self._store.items(KIND):
                if self._life.advance(record, now):
                    self._store.put(KIND, key, record)
                if may(caller, self._resource(record), "CAN_VIEW"):
                    found.append(self._details(record, host))
        return found

    # -- permissions (``/api/2.0/permissions/warehouses/{id}``) -----------------------------------

    def permissions(self, caller: Principal, warehouse_id: str) -> dict[str, Any]:
        """``GET``: the object's access control list (needs CAN_MANAGE)."""
        self.authorized(caller, warehouse_id, "CAN_MANAGE")
        return self._acl(warehouse_id)

    def update_permissions(
        self, caller: Principal, warehouse_id: str, entries: Sequence[tuple[str, str]], *, replace: bool
    ) -> dict[str, Any]:
        """``PATCH`` (add to) or ``PUT`` (replace) the grants; the owner's IS_OWNER always stays."""
        with self._store.transaction():
            self.authorized(caller, warehouse_id, "CAN_MANAGE")
            securable = _securable(warehouse_id)
            if len(entries) > MAX_ACL_ENTRIES:
                raise invalid(f"access_control_list has {len(entries)} entries; at most {MAX_ACL_ENTRIES}.")
            for who, level in entries:
                if level not in SQL_WAREHOUSE.levels or level == "IS_OWNER":
                    raise invalid(f"Invalid permission level {level[:40]!r} for a SQL warehouse.")
                if len(who) > MAX_PRINCIPAL:
                    raise invalid(f"Principal names are at most {MAX_PRINCIPAL} characters.")
            if replace:
                for who, held in self._grants.on(securable).items():
                    if "IS_OWNER" not in held:
                        self._grants.replace(securable, who, [])
            for who, level in entries:
                self._grants.replace(securable, who, [level])
        return self._acl(warehouse_id)

    def _acl(self, warehouse_id: str) -> dict[str, Any]:
        entries = []
        for who, level in self._grants.levels_on(_securable(warehouse_id)).items():
            key = "user_name" if "@" in who else "group_name"
            entries.append({key: who, "all_permissions": [{"permission_level": level, "inherited": False}]})
        return {
            "object_id": f"/sql/warehouses/{warehouse_id}",
            "object_type": "warehouses",
            "access_control_list": entries,
        }

    # -- the WarehouseGate ------------------------------------------------------------------------

    def require_running(self, warehouse_id: str, *, principal: str) -> None:
        """Return if ``principal`` may run a statement on the warehouse now (see the module docstring)."""
        with self._store.transaction():
            record = self.authorized(self._principal(principal), warehouse_id, "CAN_USE")
            now = self._clock()
            if record["state"] != "RUNNING":
                if not record["spec"]["enable_serverless_compute"]:
                    raise ApiError(
                        "INVALID_STATE",
                        f"SQL warehouse {warehouse_id} is not running (state {record['state']}): "
                        "start it before running statements.",
                    )
                record.pop("start_after_stop", None)
                source = record["state"]
                self._life.enter(record, "RUNNING", now)
                self._on_transition(record, Transition(source, "RUNNING", now, "step"))
            self._life.touch(record, now)
            self._store.put(KIND, warehouse_id, record)

    def note_activity(self, warehouse_id: str) -> None:
        """Restart the auto-stop timer of a RUNNING warehouse (a statement ran or is running)."""
        with self._store.transaction():
            record = self._load(warehouse_id)
            if record["state"] == "RUNNING":
                self._life.touch(record, self._clock())
                self._store.put(KIND, warehouse_id, record)

    # -- helpers ----------------------------------------------------------------------------------

    def _unique(self, name: str, warehouse_id: str) -> None:
        for key, other in self._store.items(KIND):
            if key != warehouse_id and other["spec"]["name"] == name:
                raise ApiError("RESOURCE_ALREADY_EXISTS", f"SQL warehouse with name '{name}' already exists.")

    @staticmethod
    def _details(record: dict[str, Any], host: str) -> dict[str, Any]:
        spec = record["spec"]
        warehouse_id = record["id"]
        path = f"/sql/1.0/warehouses/{warehouse_id}"
        healthy = record["state"] == "RUNNING"
        details: dict[str, Any] = {
            "id": warehouse_id,
            **{k: v for k, v in spec.items() if k != "tags" or v},
            "state": record["state"],
            "creator_name": record["creator_name"],
            "num_clusters": record.get("num_clusters", 0),
            "num_active_sessions": 0,
            "jdbc_url": (
                f"jdbc:spark://{host}:443/default;transportMode=http;ssl=1;AuthMech=3;httpPath={path};"
            ),
            "odbc_params": {"hostname": host, "path": path, "port": 443, "protocol": "https"},
        }
        if healthy:
            details["health"] = {"status": "HEALTHY", "summary": "The warehouse is running."}
        return details


def _securable(warehouse_id: str) -> str:
    return f"warehouse:{warehouse_id}"
