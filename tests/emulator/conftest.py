"""Fixtures for the emulator suite: one emulator per session on a fake clock, reset before each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.emulator.harness import Emu, serving


@pytest.fixture(scope="session")
def emu_server() -> Iterator[Emu]:
    with serving() as emu:
        yield emu


@pytest.fixture
def emu(emu_server: Emu) -> Emu:
    """The session's emulator with state, faults, rate limits and the journal reset."""
    response = emu_server.control("POST", "reset")
    assert response.status_code == 200, response.text
    return emu_server
