"""Client-side throttling: the token bucket paces calls on an injected clock."""

from __future__ import annotations

import pytest

from brickbook.throttle import Throttle, TokenBucket
from tests.fakes import FakeTime


def test_burst_then_paced():
    """A full bucket allows a burst; then calls are spaced 1/rate apart."""
    time = FakeTime()
    bucket = TokenBucket(10, burst=3, clock=time.clock, sleep=time.sleep)
    waits = [bucket.acquire() for _ in range(5)]
    assert waits[:3] == [0, 0, 0]
    assert waits[3] == pytest.approx(0.1)
    assert waits[4] == pytest.approx(0.1)


def test_bucket_refills_with_time():
    """Idle time refills the bucket up to its capacity, not beyond."""
    time = FakeTime()
    bucket = TokenBucket(2, burst=2, clock=time.clock, sleep=time.sleep)
    bucket.acquire()
    bucket.acquire()
    time.now += 100
    assert [bucket.acquire() for _ in range(2)] == [0, 0]
    assert bucket.acquire() == pytest.approx(0.5)


def test_rate_must_be_positive():
    """A zero rate is refused."""
    with pytest.raises(ValueError, match="positive"):
        TokenBucket(0, clock=lambda: 0.0, sleep=lambda s: None)


def test_concurrency_slot_is_bounded():
    """The throttle never hands out more slots than max_concurrency."""
    time = FakeTime()
    throttle = Throttle(TokenBucket(1000, clock=time.clock, sleep=time.sleep), max_concurrency=2)
    with throttle.slot(), throttle.slot():
        assert not throttle._slots.acquire(blocking=False)
    assert throttle._slots.acquire(blocking=False)
