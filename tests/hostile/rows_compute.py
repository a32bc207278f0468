"""Rows for cluster events, instance pools and cluster policies (issue 11): bad input, nothing sent."""

from __future__ import annotations

from tests.hostile.table import Row

CLUSTER = "1126-183000-abcd1234"

ROWS: list[Row] = [
    Row("compute-events-blank-id", ["clusters.events", " "], 2, r"^error: CLUSTER_ID must be a cluster id"),
    Row(
        "compute-events-control-char-type",
        ["clusters.events", CLUSTER, "--type", "RUN\x1bNING"],
        2,
        r"^error: --type must be an event type",
    ),
    Row(
        "compute-events-huge-limit",
        ["clusters.events", CLUSTER, "--limit", "9" * 40],
        2,
        r"^error: --limit must be between 1 and 1000000",
    ),
    Row(
        "compute-events-negative-limit",
        ["clusters.events", CLUSTER, "--limit", "-3"],
        2,
        r"^error: --limit must be between 1 and 1000000",
    ),
    Row(
        "compute-pools-get-newline", ["pools.get", "a\nb"], 2, r"^error: POOL_ID must be an instance pool id"
    ),
    Row(
        "compute-pools-create-not-object",
        ["pools.create", "--json", "[1, 2]"],
        2,
        r"^error: ",
    ),
    Row("compute-policies-get-path", ["policies.get", "../../x"], 2, r"^error: POLICY_ID must be"),
    Row(
        "compute-policies-create-long-name",
        ["policies.create", "n" * 500, "--json", "{{}}"],
        2,
        r"^error: NAME must be 1 to 100 printable characters",
    ),
]
