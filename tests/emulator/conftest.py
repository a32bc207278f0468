"""Fixtures for the emulator suite: one emulator per session on a fake clock, reset before each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from brickbook.emulator.server import start_in_thread
from tests.emulator.harness import Emu, FakeClock, make_settings


@pytest.fixture(scope="session")
def emu_server() -> Iterator[Emu]:
    clock = FakeClock()
    with start_in_thread(make_settings(clock)) as running:
        emu = Emu(url=running.url, clock=clock)
        yield emu
        emu.close()


@pytest.fixture
def emu(emu_server: Emu) -> Emu:
    """The session's emulator with state, faults, rate limits and the journal reset."""
    response = emu_server.control("POST", "reset")
    assert response.status_code == 200, response.text
    return emu_server
