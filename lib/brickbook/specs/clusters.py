"""Check a ``clusters/create`` spec before it is sent (Clusters API 2.1 ``create``).

Only what the service would refuse anyway, but named by field and before any request: ``spark_version``
is required; ``num_workers`` or ``autoscale`` unless ``is_single_node``; ``autotermination_minutes`` is 0
(never) or 10 to 10000; ``cluster_id`` is assigned by the service and may not be given. Fields brickbook
does not know pass through untouched: the API grows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from brickbook.errors import UsageError
from brickbook.specs.fields import BOOLEAN, OBJECT, STRING, Kind, integer, optional, require, require_one_of

__all__ = ["check_cluster_spec"]

_MINUTES = Kind(
    "0 (never) or an integer from 10 to 10000",
    lambda v: isinstance(v, int) and not isinstance(v, bool) and (v == 0 or 10 <= v <= 10000),
)


def check_cluster_spec(spec: Mapping[str, Any]) -> None:
    """Raise UsageError naming the first field of a cluster spec that cannot be right."""
    require(spec, "spark_version", STRING)
    if not optional(spec, "is_single_node", BOOLEAN):
        require_one_of(spec, "num_workers", "autoscale", exclusive=False)
    optional(spec, "num_workers", integer(minimum=0))
    if optional(spec, "autoscale", OBJECT) is not None:
        low = require(spec, "autoscale.min_workers", integer(minimum=0))
        require(spec, "autoscale.max_workers", integer(minimum=max(1, low)))
    for field in ("node_type_id", "driver_node_type_id", "cluster_name", "instance_pool_id", "policy_id"):
        optional(spec, field, STRING)
    optional(spec, "autotermination_minutes", _MINUTES)
    for field in ("spark_conf", "spark_env_vars", "custom_tags"):
        optional(spec, field, OBJECT)
    if "cluster_id" in spec:
        raise UsageError("spec: cluster_id must not be set when creating a cluster (it is assigned)")
