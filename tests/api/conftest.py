"""Fixtures for the primitive tests: a real Client over loopback HTTP to the session emulator.

The client's clock and sleep are fake (``FakeTime``): a retry wait is recorded, never slept.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from brickbook.client import Client
from brickbook.config import Config
from tests.api.test_wire import make_client, pat_config
from tests.conftest import USER_TOKEN, Emulator
from tests.fakes import FakeTime


@pytest.fixture
def fake_time() -> FakeTime:
    """The client's monotonic clock and sleep."""
    return FakeTime()


@pytest.fixture
def client(emulator: Emulator, fake_time: FakeTime) -> Iterator[Client]:
    """A client authenticated as the workspace admin, on a freshly reset emulator."""
    with make_client(pat_config(emulator.url), fake_time) as api:
        yield api


@pytest.fixture
def alice(emulator: Emulator) -> Iterator[Client]:
    """A client authenticated as alice@example.com, a plain (non-admin) user."""
    config = Config(host=emulator.url, auth_type="pat", token=USER_TOKEN)
    with make_client(config, FakeTime()) as api:
        yield api
