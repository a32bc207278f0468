"""Hostile rows found while merging the areas: the same kinds of defect in places between them."""

from __future__ import annotations

import subprocess

from tests.hostile.table import Row, Scene

Done = subprocess.CompletedProcess[bytes]
DEEP_IPYNB = b'{"cells": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"


def deep_notebook(scene: Scene) -> None:
    (scene.tmp / "deep.ipynb").write_bytes(DEEP_IPYNB)


def nothing_imported(scene: Scene, _done: Done) -> None:
    names = [o["path"] for o in scene.api("GET", "/api/2.0/workspace/list?path=/Shared").get("objects", [])]
    assert "/Shared/deep" not in names


ROWS = [
    # The emulator parses an imported .ipynb itself: a nesting bomb is a 400, not a 500 or a hang.
    Row(
        "lead-import-deeply-nested-ipynb",
        ["workspace.import", "deep.ipynb", "/Shared/deep"],
        2,
        r"INVALID_PARAMETER_VALUE.*not a valid Jupyter notebook",
        refused=False,  # the import reaches the service, which refuses it
        setup=deep_notebook,
        check=nothing_imported,
    ),
]
