"""Fixtures for the legacy ``databricks`` CLI: one emulator on 127.0.0.1:80 per module (see harness.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.emulator.harness import Emu
from tests.legacy.harness import DATABRICKS, LegacyCli, gaps, start


@pytest.fixture(scope="module")
def legacy_server() -> Iterator[Emu]:
    if not DATABRICKS.exists():
        pytest.fail(f"{DATABRICKS} is missing: install the test extra (databricks-cli)")
    clock, running = start()
    with running:
        emu = Emu(url=running.url, clock=clock)
        try:
            yield emu
        finally:
            emu.close()


@pytest.fixture
def dbcli(legacy_server: Emu, tmp_path: Path) -> Iterator[LegacyCli]:
    """The CLI against the reset emulator; afterwards no request may have met a missing route."""
    assert legacy_server.control("POST", "reset").status_code == 200
    home = tmp_path / "home"
    home.mkdir()
    yield LegacyCli(legacy_server, home)
    assert not (home / ".databrickscfg").exists()
    assert gaps(legacy_server) == []
