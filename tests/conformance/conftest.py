"""Fixtures for the conformance suite: the official databricks-sdk against a running emulator."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.emulator.harness import Emu, serving


@pytest.fixture(scope="session")
def sdk_emu() -> Iterator[Emu]:
    with serving() as emu:
        yield emu


@pytest.fixture
def sdk_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, sdk_emu: Emu) -> Emu:
    """The emulator, reset, with no Databricks setting able to leak into the SDK from the machine."""
    for name in list(os.environ):
        if name.startswith(("DATABRICKS_", "ARM_", "GOOGLE_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(tmp_path / "no-such-databrickscfg"))
    assert sdk_emu.control("POST", "reset").status_code == 200
    return sdk_emu
