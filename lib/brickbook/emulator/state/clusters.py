"""Clusters: specs, the state machine and its rules (Clusters API 2.1, the SDK's ``State``). No HTTP here.

Lifecycles need no background thread: each record stores its state and when it entered it, and every read
advances it lazily by the injected clock (the shared model of state/lifecycle.py). Each step (PENDING,
RESTARTING, RESIZING -> RUNNING; TERMINATING -> TERMINATED) takes ``settings.cluster_start_seconds``. A
RUNNING cluster with ``autotermination_minutes`` set terminates (INACTIVITY) once idle that long; activity is
what ``touch`` records (the Jobs engine calls it when a run uses the cluster), or the cluster becoming
RUNNING. ``spark_conf["brickbook.emulator.fail_start"] = "true"`` makes every start fail: PENDING ->
TERMINATING -> TERMINATED with SPARK_STARTUP_FAILURE.

Permissions (state/access.py): the creator and admins hold CAN_MANAGE; start, restart and delete
(terminate) need CAN_RESTART, edit, resize, permanent-delete, pin and unpin CAN_MANAGE. Reads are open
to every user. Each API operation takes the calling ``Principal`` first.

Every change is also an event in the record's log (state/cluster_events.py); a spec is checked by
state/cluster_specs.py, against its instance pool (state/pools.py) and its policy (state/policies.py).
``listeners`` hear ``(event, record)`` when a cluster becomes RUNNING after a start or restart
("running"), is told to terminate ("terminating"), reaches TERMINATED ("terminated") or is
permanently deleted ("deleted"): the library
installer (runtime/envs.py) listens. They are called inside the store transaction and must only take
note (no cluster calls, no slow work).

Error fidelity: an unknown cluster is 400 INVALID_PARAMETER_VALUE "Cluster <id> does not exist" on every
call (the SDK overrides it to ResourceDoesNotExist on ``get``); a call in the wrong state is 400
INVALID_STATE "Cluster <id> is in unexpected state Running." as the real service words it.
"""

from __future__ import annotations

import secrets
import string
import time
from collections.abc import Callable
from typing import Any

from brickbook.emulator.errors import ApiError, invalid
from brickbook.emulator.state.access import CLUSTER, owned, require
from brickbook.emulator.state.cluster_events import query_events, record_event
from brickbook.emulator.state.cluster_specs import validate_spec, worker_count
from brickbook.emulator.state.clusters_catalog import NODE_TYPES
from brickbook.emulator.state.identity import Principal
from brickbook.emulator.state.lifecycle import Lifecycle, Transition
from brickbook.emulator.state.policies import check_cluster_policy
from brickbook.emulator.state.pools import check_cluster_pools
from brickbook.emulator.state.store import Store

__all__ = ["ClustersState"]

KIND = "cluster"
FAIL_START_CONF = "brickbook.emulator.fail_start"
RETENTION_SECONDS = 30 * 24 * 3600  # list shows clusters terminated within 30 days (or pinned)
TRANSITIONAL = frozenset({"PENDING", "RESTARTING", "RESIZING"})
# Fields of a submitted spec that are not part of the cluster's configuration.
_NOT_CONFIG = frozenset({"cluster_id", "restart_user"})
_REASON_TYPES = {
    "USER_REQUEST": "SUCCESS",
    "INACTIVITY": "SUCCESS",
    "JOB_FINISHED": "SUCCESS",
    "SPARK_STARTUP_FAILURE": "SERVICE_FAULT",
    "INTERNAL_ERROR": "SERVICE_FAULT",
}
_STEP_MESSAGES = {
    "PENDING": "Finding instances for new nodes, acquiring more instances if necessary",
    "RESTARTING": "Restarting Spark",
    "RESIZING": "Resizing the cluster",
    "TERMINATING": "Terminating the cluster",
}


def _ms(seconds: float) -> int:
    return int(seconds * 1000)


class ClustersState:
    """All clusters of the workspace, in the shared store, advanced lazily by the clock."""

    def __init__(self, store: Store, clock: Callable[[], float], *, step_seconds: float = 1.0) -> None:
        self._store = store
        self._clock = clock
        self.listeners: list[Callable[[str, dict[str, Any]], None]] = []
        self._life = Lifecycle(
            steps={**dict.fromkeys(TRANSITIONAL, "RUNNING"), "TERMINATING": "TERMINATED"},
            step_seconds=step_seconds,
            idle_state="RUNNING",
            idle_target="TERMINATING",
            idle_seconds=self._idle_seconds,
            next_state=self._next_state,
            on_transition=self._on_transition,
        )

    # -- lifecycle ------------------------------------------------------------------------------

    def _enter(self, record: dict[str, Any], state: str, at: float, message: str | None = None) -> None:
        self._life.enter(record, state, at)
        record["state_message"] = _STEP_MESSAGES.get(state, "") if message is None else message

    def _terminate(self, record: dict[str, Any], at: float, code: str, **parameters: str) -> None:
        self._enter(record, "TERMINATING", at)
        self._set_reason(record, code, **parameters)
        user = {"user": parameters["username"]} if "username" in parameters else {}
        record_event(record, "TERMINATING", at, reason=record["termination_reason"], **user)
        self._notify("terminating", record)

    @staticmethod
    def _set_reason(record: dict[str, Any], code: str, **parameters: str) -> None:
        record["termination_reason"] = {
            "code": code,
            "type": _REASON_TYPES.get(code, "SERVICE_FAULT"),
            "parameters": parameters,
        }

    @staticmethod
    def _next_state(record: dict[str, Any], step: Transition) -> str:
        """A start that is set to fail terminates instead of running."""
        if step.source == "PENDING" and step.target == "RUNNING" and record.get("fail_start"):
            return "TERMINATING"
        return step.target

    def _on_transition(self, record: dict[str, Any], step: Transition) -> None:
        record["state_message"] = _STEP_MESSAGES.get(step.target, "")
        if step.target == "RUNNING":
            if step.source == "RESTARTING":
                record["last_restarted_time"] = _ms(step.at)
            workers = worker_count(record["spec"])
            if step.source == "RESIZING":
                sizes = {"current_num_workers": workers, "target_num_workers": workers}
                record_event(record, "UPSIZE_COMPLETED", step.at, **sizes)
            else:
                record_event(record, "RUNNING", step.at, current_num_workers=workers)
                self._notify("running", record)
        elif step.cause == "idle":
            minutes = str(record["spec"]["autotermination_minutes"])
            self._set_reason(record, "INACTIVITY", inactivity_duration_min=minutes)
            record["terminated_message"] = f"Inactive cluster terminated (inactive for {minutes} minutes)."
            record_event(record, "TERMINATING", step.at, reason=record["termination_reason"])
        elif step.target == "TERMINATING":  # a start that failed
            message = "Spark failed to start: injected by spark_conf brickbook.emulator.fail_start"
            self._set_reason(record, "SPARK_STARTUP_FAILURE", databricks_error_message=message)
            record_event(record, "TERMINATING", step.at, reason=record["termination_reason"])
        elif step.target == "TERMINATED":
            record["state_message"] = record.get("terminated_message", "")
            record["terminated_time"] = _ms(step.at)
            self._notify("terminated", record)
            if record.pop("start_after_termination", False):
                self._start(record, step.at)

    def _notify(self, event: str, record: dict[str, Any]) -> None:
        for listener in self.listeners:
            listener(event, record)

    def _advance(self, record: dict[str, Any], now: float) -> bool:
        """Apply every transition due by ``now``; say whether anything changed."""
        return self._life.advance(record, now)

    @staticmethod
    def _idle_seconds(record: dict[str, Any]) -> float:
        """How long a RUNNING cluster may idle before it autoterminates (0: never, as for job clusters)."""
        minutes = record["spec"].get("autotermination_minutes") or 0
        return 0.0 if record["cluster_source"] == "JOB" else float(minutes * 60)

    def _start(self, record: dict[str, Any], at: float, event: str = "STARTING", user: str = "") -> None:
        self._enter(record, "PENDING", at)
        details: dict[str, Any] = {"user": user} if user else {}
        if event == "CREATING":
            details["attributes"] = dict(record["spec"])
        record_event(record, event, at, **details)
        record["start_time"] = _ms(at)
        for key in ("terminated_time", "termination_reason", "terminated_message"):
            record.pop(key, None)

    def _load(self, cluster_id: str) -> dict[str, Any]:
        """The record, advanced to now and saved; a missing one is the real API's 400.

        One transaction, so a read that advances a record cannot overwrite a concurrent action's write.
        """
        with self._store.transaction():
            record = self._store.get(KIND, cluster_id) if cluster_id else None
            if record is None:
                raise invalid(f"Cluster {cluster_id} does not exist")
            if self._advance(record, self._clock()):
                self._store.put(KIND, cluster_id, record)
        return record

    def authorized(self, caller: Principal, cluster_id: str, needed: str) -> dict[str, Any]:
        """The record (as ``_load``), once ``caller`` is known to hold ``needed`` on it (else 403)."""
        record = self._load(cluster_id)
        require(caller, owned(CLUSTER, cluster_id, record["creator_user_name"], "CAN_MANAGE"), needed)
        return record

    def _unexpected(self, record: dict[str, Any]) -> ApiError:
        return ApiError(
            "INVALID_STATE",
            f"Cluster {record['cluster_id']} is in unexpected state {record['state'].title()}.",
        )

    def _not_for_job_clusters(self, record: dict[str, Any], action: str) -> None:
        if record["cluster_source"] == "JOB":
            raise invalid(f"Cluster {record['cluster_id']} was created by a job and cannot be {action}.")

    # -- API operations -------------------------------------------------------------------------

    def create(self, spec: dict[str, Any], creator: str, *, source: str = "API") -> str:
        """``clusters/create``: apply its policy, validate, store as PENDING, return the new cluster id."""
        spec = check_cluster_policy(self._store, spec)
        validate_spec(spec)
        pool_node = check_cluster_pools(self._store, spec)
        now = self._clock()
        stamp = time.strftime("%m%d-%H%M%S", time.gmtime(now))
        suffix = "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(8))
        cluster_id = f"{stamp}-{suffix}"
        config = {k: v for k, v in spec.items() if k not in _NOT_CONFIG}
        record: dict[str, Any] = {
            "cluster_id": cluster_id,
            "spec": config,
            "creator_user_name": creator,
            "cluster_source": source,
            "fail_start": str((config.get("spark_conf") or {}).get(FAIL_START_CONF, "")).lower() == "true",
            "pinned": False,
            **({"pool_node_type_id": pool_node} if pool_node else {}),
        }
        self._start(record, now, "CREATING", creator)
        with self._store.transaction():
            self._store.put(KIND, cluster_id, record)
        return cluster_id

    def get(self, cluster_id: str) -> dict[str, Any]:
        """``clusters/get``: the ClusterDetails."""
        return self._details(self._load(cluster_id))

    def list(
        self,
        *,
        states: set[str] | None = None,
        sources: set[str] | None = None,
        pinned: bool | None = None,
        policy_id: str | None = None,
    ) -> list[dict[str, Any]]:
        """``clusters/list`` before paging: active, pinned, and terminated within 30 days."""
        now = self._clock()
        found = []
        with self._store.transaction():
            for key, record in self._store.items(KIND):
                if self._advance(record, now):
                    self._store.put(KIND, key, record)
                ended = record.get("terminated_time")
                if ended and not record["pinned"] and now * 1000 - ended > RETENTION_SECONDS * 1000:
                    continue
                if states and record["state"] not in states:
                    continue
                if sources and record["cluster_source"] not in sources:
                    continue
                if pinned is not None and record["pinned"] != pinned:
                    continue
                if policy_id is not None and record["spec"].get("policy_id") != policy_id:
                    continue
                found.append(self._details(record))
        return found

    def edit(self, caller: Principal, spec: dict[str, Any]) -> None:
        """``clusters/edit``: RUNNING restarts with the new spec, TERMINATED stays so; else INVALID_STATE."""
        with self._store.transaction():
            record = self.authorized(caller, str(spec.get("cluster_id") or ""), "CAN_MANAGE")
            self._not_for_job_clusters(record, "edited")
            if record["state"] not in ("RUNNING", "TERMINATED"):
                raise self._unexpected(record)
            spec = check_cluster_policy(self._store, spec)
            validate_spec(spec)
            pool_node = check_cluster_pools(self._store, spec)
            record.pop("pool_node_type_id", None)
            record.update({"pool_node_type_id": pool_node} if pool_node else {})
            previous, record["spec"] = record["spec"], {k: v for k, v in spec.items() if k not in _NOT_CONFIG}
            changes = {"attributes": dict(record["spec"]), "previous_attributes": previous}
            record_event(record, "EDITED", self._clock(), user=caller.user_name, **changes)
            conf = record["spec"].get("spark_conf") or {}
            record["fail_start"] = str(conf.get(FAIL_START_CONF, "")).lower() == "true"
            if record["state"] == "RUNNING":
                self._enter(record, "RESTARTING", self._clock())
            self._store.put(KIND, record["cluster_id"], record)

    def start(self, caller: Principal, cluster_id: str) -> None:
        """``clusters/start``: only from TERMINATED (the service answers INVALID_STATE otherwise)."""
        with self._store.transaction():
            record = self.authorized(caller, cluster_id, "CAN_RESTART")
            self._not_for_job_clusters(record, "started")
            if record["state"] != "TERMINATED":
                raise self._unexpected(record)
            self._start(record, self._clock(), user=caller.user_name)
            self._store.put(KIND, cluster_id, record)

    def restart(self, caller: Principal, cluster_id: str) -> None:
        """``clusters/restart``: only from RUNNING."""
        with self._store.transaction():
            record = self.authorized(caller, cluster_id, "CAN_RESTART")
            if record["state"] != "RUNNING":
                raise self._unexpected(record)
            self._enter(record, "RESTARTING", self._clock())
            record_event(record, "RESTARTING", self._clock(), user=caller.user_name)
            self._store.put(KIND, cluster_id, record)

    def resize(
        self, caller: Principal, cluster_id: str, *, num_workers: Any = None, autoscale: Any = None
    ) -> None:
        """``clusters/resize``: only from RUNNING; one of num_workers or autoscale."""
        if num_workers is None and autoscale is None:
            raise invalid("Either num_workers or autoscale must be specified.")
        with self._store.transaction():
            record = self.authorized(caller, cluster_id, "CAN_MANAGE")
            if record["state"] != "RUNNING":
                raise self._unexpected(record)
            spec = {k: v for k, v in record["spec"].items() if k not in ("num_workers", "autoscale")}
            spec.update({"num_workers": num_workers} if autoscale is None else {"autoscale": autoscale})
            validate_spec(spec)
            sizes = {
                "current_num_workers": worker_count(record["spec"]),
                "target_num_workers": worker_count(spec),
            }
            record["spec"] = spec
            self._enter(record, "RESIZING", self._clock())
            record_event(record, "RESIZING", self._clock(), user=caller.user_name, **sizes)
            self._store.put(KIND, cluster_id, record)

    def terminate(
        self, cluster_id: str, reason: str = "USER_REQUEST", *, by: Principal | None = None
    ) -> None:
        """``clusters/delete`` by ``by`` (or, with no one, the emulator ending a job cluster or run).

        A no-op once terminating.
        """
        with self._store.transaction():
            record = self._load(cluster_id) if by is None else self.authorized(by, cluster_id, "CAN_RESTART")
            if record["state"] in ("TERMINATING", "TERMINATED"):
                return
            parameters = {"username": by.user_name} if by else {}
            self._terminate(record, self._clock(), reason, **parameters)
            self._store.put(KIND, cluster_id, record)

    def permanent_delete(self, caller: Principal, cluster_id: str) -> None:
        """``clusters/permanent-delete``: terminate and forget; afterwards the id does not exist."""
        with self._store.transaction():
            record = self.authorized(caller, cluster_id, "CAN_MANAGE")
            self._store.delete(KIND, cluster_id)
            self._notify("deleted", record)

    def set_pinned(self, caller: Principal, cluster_id: str, pinned: bool) -> None:
        """``clusters/pin`` and ``clusters/unpin``."""
        with self._store.transaction():
            record = self.authorized(caller, cluster_id, "CAN_MANAGE")
            record["pinned"] = pinned
            record_event(record, "PINNED" if pinned else "UNPINNED", self._clock(), user=caller.user_name)
            self._store.put(KIND, cluster_id, record)

    def events(self, body: dict[str, Any]) -> dict[str, Any]:
        """``clusters/events``: the cluster's event log, filtered and paged (state/cluster_events.py)."""
        return query_events(self._load(str(body.get("cluster_id") or "")), body)

    # -- for the Jobs engine --------------------------------------------------------------------

    def create_job_cluster(self, spec: dict[str, Any], run_name: str, *, creator: str = "") -> str:
        """Create a run's cluster (cluster_source JOB, named ``run_name``); raises like ``create``."""
        return self.create({**spec, "cluster_name": run_name}, creator, source="JOB")

    def is_running(self, cluster_id: str) -> bool:
        """Tell whether the cluster is RUNNING now."""
        return bool(self._load(cluster_id)["state"] == "RUNNING")

    def touch(self, cluster_id: str) -> None:
        """Record activity (a run using the cluster), which postpones autotermination."""
        with self._store.transaction():
            record = self._load(cluster_id)
            self._life.touch(record, self._clock())
            self._store.put(KIND, cluster_id, record)

    def ensure_running(self, cluster_id: str) -> str:
        """Start the cluster if it is not up or coming up (TERMINATING: start once it has terminated).

        Returns the state now; the caller polls ``is_running``.
        """
        with self._store.transaction():
            record = self._load(cluster_id)
            if record["state"] == "TERMINATED":
                self._start(record, self._clock())
            elif record["state"] == "TERMINATING":
                record["start_after_termination"] = True
            self._store.put(KIND, cluster_id, record)
            return str(record["state"])

    # -- serialisation --------------------------------------------------------------------------

    def _details(self, record: dict[str, Any]) -> dict[str, Any]:
        spec = record["spec"]
        details: dict[str, Any] = {
            **spec,
            "cluster_id": record["cluster_id"],
            "state": record["state"],
            "state_message": record.get("state_message", ""),
            "creator_user_name": record["creator_user_name"],
            "cluster_source": record["cluster_source"],
            "start_time": record["start_time"],
            "spec": dict(spec),
            "default_tags": {
                "Vendor": "Databricks",
                "Creator": record["creator_user_name"],
                "ClusterName": spec.get("cluster_name", ""),
                "ClusterId": record["cluster_id"],
            },
        }
        if record.get("pool_node_type_id"):
            details["node_type_id"] = record["pool_node_type_id"]
        if details.get("node_type_id") and "driver_node_type_id" not in spec:
            details["driver_node_type_id"] = details["node_type_id"]
        for key in ("terminated_time", "termination_reason", "last_restarted_time"):
            if key in record:
                details[key] = record[key]
        if record["pinned"]:
            details["pinned_by_user_name"] = record["creator_user_name"]
        if record["state"] == "RUNNING":
            details["spark_context_id"] = int(record["since"] * 1000) % 10**12
            details["jdbc_port"] = 10000
            node = NODE_TYPES.get(details.get("node_type_id", ""))
            if node is not None:
                count = 1 + worker_count(spec)
                details["cluster_memory_mb"] = node["memory_mb"] * count
                details["cluster_cores"] = node["num_cores"] * count
        return details
