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
    """The seed, where a family starts, leaves 10% headroom under the published figure."""
    assert family_of("GET", "/api/2.0/workspace/export").seed == pytest.approx(54)


def adaptive(time: FakeTime) -> AdaptiveRate:
    """Workspace import: published 30/s, so it starts at its seed of 27/s."""
    family = family_of("POST", "/api/2.0/workspace/import")
    assert (family.published, family.seed) == (30, pytest.approx(27))
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


def run_paced(rate: AdaptiveRate, count: int, *, status: int = 200) -> None:
    """Send ``count`` calls through the family's bucket (fake time moves by its waits), all answered alike."""
    for _ in range(count):
        rate.acquire()
        rate.answered(status)


def test_slow_start_grows_past_the_published_figure_up_to_the_ceiling():
    """Without a 429, paced successes double the rate every quarter second, up to 8x the published figure."""
    time = FakeTime()
    rate = adaptive(time)
    run_paced(rate, 50)
    assert 30 < rate.rate < 240  # past the published 30/s within a second
    run_paced(rate, 450)
    assert rate.rate == pytest.approx(240)
    assert time.now < 4  # 500 calls: far less than the 18 s at the seed


def test_a_burst_of_saved_up_successes_is_no_evidence_for_growth():
    """Successes that arrive with no time passing (a full bucket's burst) do not grow the rate."""
    time = FakeTime()
    rate = adaptive(time)
    for _ in range(500):
        rate.answered(200)
    assert rate.rate == pytest.approx(27)


def test_a_429_after_growth_halves_the_grown_rate_and_settles_under_what_got_through():
    """A 429 at 8x halves that rate; the family climbs back to 95% of the measured throughput and stays."""
    time = FakeTime()
    rate = adaptive(time)
    run_paced(rate, 500)
    assert rate.rate == pytest.approx(240)
    run_paced(rate, 480)  # two seconds at 240/s
    rate.answered(429, retry_after=1)
    assert rate.rate == pytest.approx(120)
    assert rate.limit == pytest.approx(980 / time.now)  # what got through since the start
    assert rate.acquire() == pytest.approx(1)  # Retry-After holds the family
    run_paced(rate, 2000)  # a tenth of the target per round: back in about 5 s
    assert rate.rate == pytest.approx(min(240, rate.limit * 0.95))
    run_paced(rate, 2000)  # another 10 s or so, settled
    assert rate.rate == pytest.approx(min(240, rate.limit * 0.95))


def test_a_limit_found_below_the_seed_is_climbed_back_to_the_seed_only():
    """A 429 measured at 10 requests/s still lets the family return to its seed, no further."""
    time = FakeTime()
    rate = adaptive(time)
    run_paced(rate, 10)
    time.now += 10  # an idle stretch: 10 successes over more than two seconds
    rate.answered(429)
    assert rate.limit == pytest.approx(10 / time.now)
    assert rate.target == pytest.approx(27)
    run_paced(rate, 500)  # about 20 s: back at the seed, and not yet probing above it
    assert rate.rate == pytest.approx(27)


def test_after_a_quiet_while_at_the_limit_the_family_probes_above_it_again():
    """Settled under the limit for 30 s without a 429, the family grows again, additively."""
    time = FakeTime()
    rate = adaptive(time)
    rate.answered(429)  # at the start: the limit found is the seed itself
    while rate.rate < 27 - 1e-9:
        run_paced(rate, 1)
    run_paced(rate, 1)  # the first success at the seed starts the quiet while
    settled = time.now
    while time.now - settled < 29:
        run_paced(rate, 1)
    assert rate.rate == pytest.approx(27)
    run_paced(rate, 27 * 3)
    steps = (rate.rate - 27) / 2.7
    assert steps >= 1 - 1e-9
    assert steps == pytest.approx(round(steps))  # a tenth of the target (the seed here) at a time


def test_slow_start_steps_are_debug_events():
    """Each slow-start step is one throttle.rate_changed at debug level, reason "slow start"."""
    import structlog

    time = FakeTime()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger("debug"))
    try:
        rate = adaptive(time)
        with capture_logs() as logs:
            run_paced(rate, 60)  # past the first second's burst, paced by the bucket
    finally:
        structlog.reset_defaults()
    steps = [e for e in logs if e["event"] == "throttle.rate_changed"]
    assert steps
    assert steps[0] == {**steps[0], "old": 27, "reason": "slow start", "log_level": "debug"}
    assert all(e["new"] > e["old"] for e in steps)
