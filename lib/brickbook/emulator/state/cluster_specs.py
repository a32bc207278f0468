"""Cluster specs: the checks ``clusters/create`` and ``clusters/edit`` make (Clusters API 2.1). No HTTP here.

A spec names its nodes by ``node_type_id`` or by ``instance_pool_id`` (the pool's node type is then the
cluster's); whether the pool exists is the caller's check (state/pools.py), as is a ``policy_id``.
"""

from __future__ import annotations

from typing import Any

from brickbook.emulator.errors import invalid
from brickbook.emulator.state.clusters_catalog import NODE_TYPES, is_known_spark_version

__all__ = ["MAX_CUSTOM_TAGS", "validate_spec", "worker_count"]

MAX_CUSTOM_TAGS = 45
MAX_SSH_KEYS = 10


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_size(spec: dict[str, Any]) -> None:
    autoscale, workers = spec.get("autoscale"), spec.get("num_workers")
    if autoscale is not None:
        low = autoscale.get("min_workers") if isinstance(autoscale, dict) else None
        high = autoscale.get("max_workers") if isinstance(autoscale, dict) else None
        if not (_is_int(low) and _is_int(high) and 0 <= low <= high and high >= 1):  # type: ignore[operator]
            raise invalid("autoscale needs integer min_workers >= 0 and max_workers >= min_workers.")
    elif workers is None and not spec.get("is_single_node"):
        raise invalid("Either num_workers or autoscale must be specified.")
    if workers is not None and not (_is_int(workers) and workers >= 0):
        raise invalid(f"num_workers must be a non-negative integer, got {workers!r}.")


def _check_nodes(spec: dict[str, Any]) -> None:
    if spec.get("node_type_id") is None and not (spec.get("instance_pool_id") or spec.get("policy_id")):
        raise invalid("Missing required field: node_type_id")
    for field in ("node_type_id", "driver_node_type_id"):
        value = spec.get(field)
        if value is not None and value not in NODE_TYPES:
            supported = ", ".join(NODE_TYPES)
            raise invalid(f"Node type {value} is not supported. Supported node types: {supported}")


def _check_limits(spec: dict[str, Any]) -> None:
    minutes = spec.get("autotermination_minutes")
    if minutes is not None and not (_is_int(minutes) and (minutes == 0 or 10 <= minutes <= 10000)):
        raise invalid(
            f"autotermination_minutes must be 0 (disabled) or between 10 and 10000, got {minutes!r}."
        )
    for field, limit in (("custom_tags", MAX_CUSTOM_TAGS), ("ssh_public_keys", MAX_SSH_KEYS)):
        value = spec.get(field)
        if value is not None and len(value) > limit:
            raise invalid(f"{field} has {len(value)} entries; at most {limit} are allowed.")
    for field in ("spark_conf", "spark_env_vars", "custom_tags"):
        value = spec.get(field)
        if value is not None and not isinstance(value, dict):
            raise invalid(f"{field} must be an object mapping names to values.")


def validate_spec(spec: dict[str, Any]) -> None:
    """Check a create/edit spec as the service does; raise INVALID_PARAMETER_VALUE naming the field."""
    version = spec.get("spark_version")
    if not isinstance(version, str) or not version:
        raise invalid("Missing required field: spark_version")
    if not is_known_spark_version(version):
        raise invalid(f"Invalid spark version {version}.")
    _check_size(spec)
    _check_nodes(spec)
    _check_limits(spec)


def worker_count(spec: dict[str, Any]) -> int:
    """The workers a spec asks for: ``num_workers``, or autoscale's ``min_workers`` (0 if neither)."""
    return int(spec.get("num_workers") or (spec.get("autoscale") or {}).get("min_workers") or 0)
