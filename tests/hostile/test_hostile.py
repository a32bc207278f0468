"""Hostile and careless input, one row per case, through the installed ``brickbook`` command.

Each row asserts the exit code, the one ``error:`` line, no traceback, no test credential in any
output or log line, and (for refused input) no local or remote change. The rows live by area in
``rows_*.py``; this module only collects and runs them.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest

import tests.hostile
from tests.conftest import Emulator
from tests.hostile.table import Row, run_row


def _rows() -> list[Row]:
    rows: list[Row] = []
    for module in pkgutil.iter_modules(tests.hostile.__path__):
        if module.name.startswith("rows_"):
            rows += importlib.import_module(f"tests.hostile.{module.name}").ROWS
    ids = [row.id for row in rows]
    assert len(ids) == len(set(ids)), "row ids must be unique"
    return rows


ROWS = _rows()


def test_the_table_has_rows():
    """The table is not empty (a collection mistake must not pass silently)."""
    assert len(ROWS) >= 1


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_hostile_input(row: Row, emulator: Emulator, tmp_path: Path):
    """The row ends with its documented exit code and one clear line, changing nothing it must not."""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    (tmp_path / "home").mkdir()
    run_row(row, emulator, scratch)
