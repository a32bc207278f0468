"""Rows that check the table itself against behaviour that already holds."""

from __future__ import annotations

from tests.hostile.table import Row

ROWS = [
    Row(
        "relative-workspace-path", ["workspace.list", "Shared"], 2, r"^error: workspace path must be absolute"
    ),
    Row("missing-workspace-path", ["workspace.get-status", "/Shared/nope"], 4, r"RESOURCE_DOES_NOT_EXIST"),
]
