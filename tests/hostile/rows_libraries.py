"""Rows for the cluster library tasks (issue 11): bad input is refused before any request."""

from __future__ import annotations

from tests.hostile.table import Row

CLUSTER = "1126-183000-abcd1234"

ROWS: list[Row] = [
    Row("libraries-install-nothing", ["libraries.install", CLUSTER], 2, r"^error: no library given"),
    Row(
        "libraries-install-blank-cluster",
        ["libraries.install", " ", "--pypi", "x"],
        2,
        r"^error: CLUSTER_ID must be a cluster id",
    ),
    Row(
        "libraries-install-control-char-whl",
        ["libraries.install", CLUSTER, "--whl", "dbfs:/a\x1b[2J.whl"],
        2,
        r"^error: a wheel URI must be 1 to 4096 printable characters",
    ),
    Row(
        "libraries-install-huge-pypi",
        ["libraries.install", CLUSTER, "--pypi", "p" * 5000],
        2,
        r"^error: a PyPI package must be 1 to 4096 printable characters",
    ),
    Row(
        "libraries-install-bad-timeout",
        ["libraries.install", CLUSTER, "--pypi", "x", "--wait", "--timeout", "-5m"],
        2,
        r"^error: --timeout must be a positive duration",
    ),
    Row("libraries-uninstall-nothing", ["libraries.uninstall", CLUSTER], 2, r"^error: no library given"),
    Row(
        "libraries-status-newline-id",
        ["libraries.status", "a\nb"],
        2,
        r"^error: CLUSTER_ID must be a cluster id",
    ),
]
