"""What clusters can be made of: a few real AWS node types, Databricks Runtime versions and zones.

Shapes follow ``clusters/list-node-types``, ``clusters/spark-versions`` and ``clusters/list-zones``
(Clusters API 2.1), with the fields the SDK's ``select_node_type`` and ``select_spark_version`` read.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["NODE_TYPES", "SPARK_VERSIONS", "ZONES", "is_known_spark_version"]


def _node(
    node_type_id: str,
    memory_gb: float,
    cores: int,
    category: str,
    *,
    disks: int = 1,
    disk_gb: int = 0,
    gpus: int = 0,
    graviton: bool = False,
) -> dict[str, Any]:
    return {
        "node_type_id": node_type_id,
        "instance_type_id": node_type_id,
        "memory_mb": int(memory_gb * 1024),
        "num_cores": float(cores),
        "num_gpus": gpus,
        "description": node_type_id,
        "category": category,
        "is_deprecated": False,
        "is_hidden": False,
        "is_io_cache_enabled": disk_gb > 0,
        "is_graviton": graviton,
        "photon_worker_capable": gpus == 0,
        "photon_driver_capable": gpus == 0,
        "support_port_forwarding": True,
        "node_instance_type": {
            "instance_type_id": node_type_id,
            "local_disks": disks if disk_gb else 0,
            "local_disk_size_gb": disk_gb,
            "local_nvme_disks": disks if disk_gb else 0,
            "local_nvme_disk_size_gb": disk_gb,
        },
    }


NODE_TYPES: dict[str, dict[str, Any]] = {
    node["node_type_id"]: node
    for node in (
        _node("m5d.large", 8, 2, "General Purpose", disk_gb=75),
        _node("m5d.xlarge", 16, 4, "General Purpose", disk_gb=150),
        _node("m5d.2xlarge", 32, 8, "General Purpose", disk_gb=300),
        _node("i3.xlarge", 30.5, 4, "Storage Optimized", disk_gb=950),
        _node("i3.2xlarge", 61, 8, "Storage Optimized", disk_gb=1900),
        _node("r5d.xlarge", 32, 4, "Memory Optimized", disk_gb=150),
        _node("c5d.2xlarge", 16, 8, "Compute Optimized", disk_gb=200),
        _node("m6gd.xlarge", 16, 4, "General Purpose", disk_gb=237, graviton=True),
        _node("g4dn.xlarge", 16, 4, "GPU Accelerated", disk_gb=125, gpus=1),
    )
}

SPARK_VERSIONS: list[dict[str, str]] = [
    {"key": "17.3.x-scala2.13", "name": "17.3 LTS (includes Apache Spark 4.0.0, Scala 2.13)"},
    {"key": "16.4.x-scala2.12", "name": "16.4 LTS (includes Apache Spark 3.5.2, Scala 2.12)"},
    {"key": "16.4.x-cpu-ml-scala2.12", "name": "16.4 LTS ML (includes Apache Spark 3.5.2, Scala 2.12)"},
    {"key": "15.4.x-scala2.12", "name": "15.4 LTS (includes Apache Spark 3.5.0, Scala 2.12)"},
    {"key": "15.4.x-cpu-ml-scala2.12", "name": "15.4 LTS ML (includes Apache Spark 3.5.0, Scala 2.12)"},
    {"key": "15.4.x-gpu-ml-scala2.12", "name": "15.4 LTS ML (includes Apache Spark 3.5.0, GPU, Scala 2.12)"},
    {"key": "14.3.x-scala2.12", "name": "14.3 LTS (includes Apache Spark 3.5.0, Scala 2.12)"},
    {"key": "13.3.x-scala2.12", "name": "13.3 LTS (includes Apache Spark 3.4.1, Scala 2.12)"},
]

# ``clusters/list-zones``: the availability zones of the workspace's (AWS) region, the default first.
ZONES: dict[str, Any] = {"zones": ["us-west-2a", "us-west-2b", "us-west-2c"], "default_zone": "us-west-2a"}

# Keys shaped like the service's (major.minor.x-..., custom "-photon-"/"-aarch64-" variants included)
# are accepted even when not listed above, so specs written for newer runtimes still work here.
_VERSION_KEY = re.compile(r"^\d+\.\d+\.x-[a-z0-9.-]*scala2\.1[23]$")


def is_known_spark_version(key: str) -> bool:
    """Tell whether ``key`` is a runtime version key the emulator accepts."""
    return any(v["key"] == key for v in SPARK_VERSIONS) or bool(_VERSION_KEY.match(key))
