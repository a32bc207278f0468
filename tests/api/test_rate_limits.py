"""The client's adaptive rate limits against the emulator's limits, over real loopback HTTP.

The client's sleeps move the emulator's clock along (``FakeTime(follow=...)``): the two token buckets
run on the same fake time, and nothing sleeps for real.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from structlog.testing import capture_logs

from brickbook.client import Client
from brickbook.config import resolve_config
from brickbook.throttle import AdaptiveRates, PinnedRate
from tests.api.test_wire import make_client, pat_config
from tests.conftest import ADMIN_TOKEN, Emulator
from tests.fakes import FakeTime

MKDIRS = "/api/2.0/dbfs/mkdirs"
STATUS = "/api/2.0/dbfs/get-status"
IMPORT = "/api/2.0/workspace/import"
EXPORT = "/api/2.0/workspace/export"
NOTEBOOK = "/Users/admin@example.com/burst"


@pytest.fixture
def realistic(emulator: Emulator) -> Iterator[Emulator]:
    """The session emulator with the realistic preset in force (the fixture resets it afterwards)."""
    assert emulator.control("POST", "rate-limits", {"preset": "realistic"}).status_code == 200
    yield emulator
    emulator.control("DELETE", "rate-limits")


def statuses(emulator: Emulator, path: str) -> list[object]:
    return [entry["status"] for entry in emulator.requests(path)]


def test_a_burst_of_200_imports_and_exports_overshoots_once_and_is_never_slower(realistic: Emulator):
    """200 POSTs and 200 GETs as fast as the client allows all succeed: probing above the published
    figure costs the import family one 429, and the whole burst is still paced no slower than the seed."""
    time = FakeTime(follow=realistic.clock)
    with make_client(pat_config(realistic.url), time) as client:
        client.post("/api/2.0/workspace/mkdirs", {"path": NOTEBOOK})
        for i in range(200):
            body = {"path": f"{NOTEBOOK}/nb{i % 20}", "format": "SOURCE", "language": "PYTHON"}
            client.post(IMPORT, {**body, "content": "cHJpbnQoMSk=", "overwrite": True})
            client.get(EXPORT, {"path": f"{NOTEBOOK}/nb{i % 20}"})
    imports = statuses(realistic, IMPORT)
    assert imports.count(200) == 200
    assert imports.count(429) <= 1  # slow start finds the limit once, then settles under it
    assert statuses(realistic, EXPORT) == [200] * 200
    assert sum(time.sleeps) <= 200 / 27  # never slower than the import family's seed


def test_a_service_stricter_than_the_table_slows_the_family_down(emulator: Emulator):
    """Against a 5 requests/s limit, 200 POSTs all succeed: 429s halve the family's rate until few remain."""
    rule = {"pattern": f"POST {MKDIRS}", "requests_per_second": 5}
    assert emulator.control("POST", "rate-limits", rule).status_code == 200
    time = FakeTime(follow=emulator.clock)
    with make_client(pat_config(emulator.url), time) as client, capture_logs() as logs:
        for i in range(200):
            client.post(MKDIRS, {"path": f"/burst/d{i}"})
        rates = client.throttle.rates
        assert isinstance(rates, AdaptiveRates)
        assert rates.current()["dbfs.write"] < 27
    seen = statuses(emulator, MKDIRS)
    assert seen.count(200) == 200
    # About one 429 per climb back up; a client pinned at 27/s meets one for every 5 requests (39 here).
    assert 0 < seen.count(429) <= 20
    changes = [e for e in logs if e["event"] == "throttle.rate_changed"]
    assert changes[0] == {**changes[0], "family": "dbfs.write", "old": 27, "new": 13.5, "reason": "429"}


def test_the_family_recovers_once_the_service_allows_more(emulator: Emulator):
    """After the stricter limit is lifted, sustained success brings the rate back to its seed (27/s)."""
    rule = {"pattern": f"POST {MKDIRS}", "requests_per_second": 2}
    assert emulator.control("POST", "rate-limits", rule).status_code == 200
    time = FakeTime(follow=emulator.clock)
    with make_client(pat_config(emulator.url), time) as client:
        for i in range(20):
            client.post(MKDIRS, {"path": f"/slow/d{i}"})
        rates = client.throttle.rates
        assert isinstance(rates, AdaptiveRates)
        assert rates.current()["dbfs.write"] < 27 / 2  # at least one halving stuck
        emulator.control("DELETE", "rate-limits")
        for i in range(300):
            client.post(MKDIRS, {"path": f"/fast/d{i}"})
        assert rates.current()["dbfs.write"] == pytest.approx(27)


def test_other_families_keep_their_rate(emulator: Emulator):
    """429s on DBFS writes leave DBFS reads at their published rate."""
    emulator.control("POST", "rate-limits", {"pattern": f"POST {MKDIRS}", "requests_per_second": 1})
    time = FakeTime(follow=emulator.clock)
    with make_client(pat_config(emulator.url), time) as client:
        for i in range(5):
            client.post(MKDIRS, {"path": f"/apart/d{i}"})
        client.get(STATUS, {"path": "/apart"})
        rates = client.throttle.rates
        assert isinstance(rates, AdaptiveRates)
        assert rates.current()["dbfs.read"] == pytest.approx(27)
        assert rates.current()["dbfs.write"] < 27


def test_explicit_rate_limit_pins_one_rate_for_every_family(emulator: Emulator):
    """BRICKBOOK_RATE_LIMIT pins a fixed rate shared by all calls, and 429s do not change it."""
    env = {"DATABRICKS_HOST": emulator.url, "DATABRICKS_TOKEN": ADMIN_TOKEN, "BRICKBOOK_RATE_LIMIT": "2"}
    config = resolve_config(env=env)
    emulator.fault(pattern=f"GET {STATUS}", status=429, retry_after="1", times=1)
    time = FakeTime(follow=emulator.clock)
    with Client(config, clock=time.clock, sleep=time.sleep, rng=lambda: 1.0) as client:
        rates = client.throttle.rates
        assert isinstance(rates, PinnedRate)
        client.post(MKDIRS, {"path": "/pinned"})
        client.get(STATUS, {"path": "/pinned"})  # 429, waited out, then answered
        client.get("/api/2.0/workspace/get-status", {"path": "/"})
        client.post(MKDIRS, {"path": "/pinned/a"})
        assert rates.bucket.rate == 2
    # The bucket holds 2 tokens, shared by every family: the Retry-After second refills it, so only
    # the fourth call after it waits half a second.
    assert time.sleeps == [1.0, pytest.approx(0.5)]


def test_a_service_without_a_limit_lets_the_family_grow_past_the_published_figure(emulator: Emulator):
    """With no limit in force, 400 DBFS writes meet no 429 and slow start lifts the family to its ceiling."""
    time = FakeTime(follow=emulator.clock)
    with make_client(pat_config(emulator.url), time) as client, capture_logs() as logs:
        for i in range(400):
            client.post(MKDIRS, {"path": f"/open/d{i}"})
        rates = client.throttle.rates
        assert isinstance(rates, AdaptiveRates)
        assert rates.current()["dbfs.write"] == pytest.approx(240)  # 8 x the published 30/s
    assert statuses(emulator, MKDIRS) == [200] * 400
    # 400 calls in far less than the 400 / 27 = 15 s that the seed alone would take.
    assert sum(time.sleeps) < 4
    # Slow start's steps are debug events: at the default level a large transfer logs none of them.
    assert [e for e in logs if e["event"] == "throttle.rate_changed"] == []


def test_a_limit_above_the_published_figure_is_found_and_used(emulator: Emulator):
    """Against a 60 requests/s limit, 900 calls run at nearly 60/s, not at the seed's 27, for a few 429s."""
    rule = {"pattern": f"POST {MKDIRS}", "requests_per_second": 60}
    assert emulator.control("POST", "rate-limits", rule).status_code == 200
    time = FakeTime(follow=emulator.clock)
    with make_client(pat_config(emulator.url), time) as client:
        for i in range(900):
            client.post(MKDIRS, {"path": f"/roomy/d{i}"})
        rates = client.throttle.rates
        assert isinstance(rates, AdaptiveRates)
        assert rates.current()["dbfs.write"] > 27
    seen = statuses(emulator, MKDIRS)
    assert seen.count(200) == 900
    assert seen.count(429) <= 3  # one per measurement of the limit, each closer than the last
    assert sum(time.sleeps) <= 900 / 55  # 429 pauses included; at the seed it would take 33 s
