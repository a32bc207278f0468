"""The ``ctx`` fixture: a Context on a real Client talking to the emulator, fake time, seeded randomness.

Its clock and sleep are a ``FakeTime`` that drags the emulator's clock along (a cluster starts while a
wait "waits"), and its wall clock is the emulator's, so nothing sleeps for real.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest

from brickbook.client import Client
from brickbook.config import Config
from brickbook.context import Context
from tests.conftest import ADMIN_TOKEN, Emulator
from tests.fakes import FakeTime


@pytest.fixture
def fake_time(emulator: Emulator) -> FakeTime:
    return FakeTime(follow=emulator.clock)


@pytest.fixture
def ctx(emulator: Emulator, fake_time: FakeTime) -> Iterator[Context]:
    config = Config(host=emulator.url, auth_type="pat", token=ADMIN_TOKEN)
    client = Client(config, clock=fake_time.clock, sleep=fake_time.sleep)
    yield Context(
        client=client,
        clock=fake_time.clock,
        sleep=fake_time.sleep,
        rng=random.Random(0),
        wall=emulator.clock,
    )
    client.close()
