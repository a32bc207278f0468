"""Client-side throttling: token buckets on an injected clock, and per-family rates that adapt to 429s."""

from __future__ import annotations

import pytest
from structlog.testing import capture_logs

from brickbook.log import get_logger
from brickbook.throttle import (
    FAMILIES,
    OTHER,
    AdaptiveRate,
    AdaptiveRates,
    PinnedRate,
    Throttle,
    TokenBucket,
    family_of,
)
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
    bucket = TokenBucket(1000, clock=time.clock, sleep=time.sleep)
    throttle = Throttle(PinnedRate(bucket), max_concurrency=2)
    with throttle.slot(), throttle.slot():
        assert not throttle._slots.acquire(blocking=False)
    assert throttle._slots.acquire(blocking=False)


def test_pause_holds_everyone_then_lets_the_retry_through_at_once():
    """A pause (Retry-After) makes the next caller wait it out; the one after it waits a token more."""
    time = FakeTime()
    bucket = TokenBucket(10, clock=time.clock, sleep=time.sleep)
    bucket.pause(3)
    time.now += 3
    assert bucket.acquire() == 0  # the retry the service asked for, on time
    assert bucket.acquire() == pytest.approx(0.1)


def test_families_sort_calls_by_endpoint():
    """Calls are sorted into families by method and path; anything unlisted is 'other'."""
    assert family_of("POST", "/api/2.0/dbfs/add-block").name == "dbfs.write"
    assert family_of("GET", "/api/2.0/dbfs/read").name == "dbfs.read"
    assert family_of("POST", "/api/2.0/workspace/import").name == "workspace.import"
    assert family_of("GET", "/api/2.0/workspace/export").name == "workspace.export"
    assert family_of("GET", "/api/2.0/workspace/get-status").name == "workspace.list"
    assert family_of("GET", "/api/2.2/jobs/runs/get").name == "jobs.runs_get"
    assert family_of("post", "/api/2.2/jobs/run-now").name == "jobs.run_now"
    assert family_of("GET", "/api/2.0/preview/scim/v2/Me").name == "scim"
    assert family_of("GET", "/api/2.2/jobs/list") is OTHER
    assert {f.name: f.published for f in FAMILIES}["workspace.export"] == 60


def test_a_family_starts_just_under_its_published_figure():
    """The ceiling, where a family starts, leaves 10% headroom under the published figure."""
    assert family_of("GET", "/api/2.0/workspace/export").ceiling == pytest.approx(54)


def adaptive(time: FakeTime) -> AdaptiveRate:
    """Workspace import: published 30/s, so it starts at its ceiling of 27/s."""
    family = family_of("POST", "/api/2.0/workspace/import")
    assert (family.published, family.ceiling) == (30, pytest.approx(27))
    return AdaptiveRate(family, clock=time.clock, sleep=time.sleep, log=get_logger())


def test_a_burst_of_429s_halves_the_rate_once():
    """The 429s of one burst (within a second) halve the family's rate once, not once each."""
    time = FakeTime()
    rate = adaptive(time)
    for _ in range(8):
        rate.answered(429)
    assert rate.rate == pytest.approx(13.5)


def test_repeated_429s_slow_down_to_the_floor():
    """Each second that still brings 429s halves the rate again, down to 1 request/s."""
    time = FakeTime()
    rate = adaptive(time)
    seen = []
    for _ in range(8):
        rate.answered(429, retry_after=1)
        seen.append(rate.rate)
        time.now += 1
    assert seen == pytest.approx([13.5, 6.75, 3.375, 1.6875, 1, 1, 1, 1])


def test_sustained_success_recovers_to_the_ceiling_and_no_further():
    """After a 429, rounds of successes add a tenth of the ceiling back until the published figure."""
    time = FakeTime()
    rate = adaptive(time)
    rate.answered(429)
    # A round is as many successes as the current rate (rounded up), each adding 2.7/s:
    # 13.5 -> 16.2 -> 18.9 -> 21.6 -> 24.3 -> 27 takes 14 + 17 + 19 + 22 + 25 = 97 successes.
    for _ in range(96):
        rate.answered(200)
    assert rate.rate == pytest.approx(24.3)
    rate.answered(200)
    assert rate.rate == pytest.approx(27)
    for _ in range(1000):
        rate.answered(200)
    assert rate.rate == pytest.approx(27)


def test_failures_other_than_429_change_nothing():
    """A 5xx neither slows the family nor counts toward recovery; a 4xx answer is a success."""
    time = FakeTime()
    rate = adaptive(time)
    rate.answered(429)
    for _ in range(100):
        rate.answered(503)
    assert rate.rate == pytest.approx(13.5)
    for _ in range(14):
        rate.answered(404)
    assert rate.rate == pytest.approx(16.2)


def test_retry_after_holds_back_the_family():
    """A 429 with Retry-After makes the family's next request wait that long."""
    time = FakeTime()
    rate = adaptive(time)
    rate.answered(429, retry_after=4)
    assert rate.acquire() == pytest.approx(4)


def test_rate_changes_are_logged():
    """Each change is one throttle.rate_changed event with the family, old and new rates and the reason."""
    time = FakeTime()
    rate = adaptive(time)
    with capture_logs() as logs:
        rate.answered(429)
        for _ in range(14):
            rate.answered(200)
    changes = [
        (e["family"], e["old"], e["new"], e["reason"]) for e in logs if e["event"] == "throttle.rate_changed"
    ]
    assert changes == [("workspace.import", 27, 13.5, "429"), ("workspace.import", 13.5, 16.2, "success")]


def test_families_have_separate_rates():
    """A 429 on one family leaves the others at their published rate."""
    time = FakeTime()
    rates = AdaptiveRates(clock=time.clock, sleep=time.sleep, log=get_logger())
    rates.lane("POST", "/api/2.0/workspace/import").answered(429)
    assert rates.lane("GET", "/api/2.0/workspace/export") is rates.lane("GET", "/api/2.0/workspace/export")
    assert rates.current() == pytest.approx({"workspace.import": 13.5, "workspace.export": 54})


def test_pinned_rate_ignores_429s():
    """An explicit rate stays fixed whatever the service answers, and is shared by every family."""
    time = FakeTime()
    pinned = PinnedRate(TokenBucket(5, clock=time.clock, sleep=time.sleep))
    pinned.lane("GET", "/api/2.0/dbfs/read").answered(429, retry_after=10)
    assert pinned.lane("GET", "/api/2.2/jobs/list") is pinned
    assert pinned.bucket.rate == 5
    assert pinned.acquire() == 0
