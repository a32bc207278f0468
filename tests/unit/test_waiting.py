"""The result-aware waiter: settles, fails loudly, honours deadlines, logs state changes only.

Everything it needs from its surroundings (time, jitter, progress line, logger) comes from a Context.
"""

from __future__ import annotations

import io
import random
from collections.abc import Iterator

import pytest
from structlog.testing import capture_logs

from brickbook.client import Client
from brickbook.config import Config
from brickbook.context import Context, ProgressSink
from brickbook.errors import RunFailed, UsageError, WaitTimeout
from brickbook.output import ProgressLine
from brickbook.waiting import Observation, PollSettings, parse_duration, wait_for, wait_for_all
from tests.conftest import ADMIN_TOKEN
from tests.fakes import FakeTime


class Midpoint(random.Random):
    """Randomness that always draws the middle: jitter scales every pause by exactly 1."""

    def random(self) -> float:
        return 0.5


@pytest.fixture
def offline() -> Iterator[Client]:
    """A client that is never called (waits here observe scripted states)."""
    client = Client(Config(host="http://127.0.0.1:9", auth_type="pat", token=ADMIN_TOKEN))
    yield client
    client.close()


def context(
    client: Client, time: FakeTime, *, rng: random.Random | None = None, progress: ProgressSink | None = None
) -> Context:
    extra = {"progress": progress} if progress is not None else {}
    return Context(client=client, clock=time.clock, sleep=time.sleep, rng=rng or random.Random(0), **extra)


def script(*states: tuple[str, bool, str | None]):
    """Return an observe() that walks through ``states`` and then stays on the last."""
    queue = list(states)

    def observe() -> Observation[str]:
        state, done, failure = queue.pop(0) if len(queue) > 1 else queue[0]
        return Observation(value=state, state=state, done=done, failure=failure)

    return observe


def test_returns_value_when_done_successfully(offline: Client):
    """A successful end returns the last observed value."""
    time = FakeTime()
    observe = script(("PENDING", False, None), ("RUNNING", False, None), ("SUCCESS", True, None))
    ctx = context(offline, time, rng=Midpoint())
    assert wait_for(ctx, observe, what="run 1", timeout=None) == "SUCCESS"
    assert time.sleeps == [1.0, 1.5]


def test_failure_raises_run_failed_with_result(offline: Client):
    """An unsuccessful end raises RunFailed (exit 7) carrying the observation."""
    time = FakeTime()
    observe = script(("RUNNING", False, None), ("FAILED", True, "ended FAILED: boom"))
    with pytest.raises(RunFailed) as info:
        wait_for(context(offline, time), observe, what="run 1", timeout=None)
    assert info.value.exit_code == 7
    assert info.value.message == "run 1 ended FAILED: boom"
    assert info.value.result == "FAILED"


def test_deadline_raises_wait_timeout_without_oversleeping(offline: Client):
    """The local deadline raises WaitTimeout (exit 8) and never sleeps past it."""
    time = FakeTime()
    with pytest.raises(WaitTimeout) as info:
        wait_for(
            context(offline, time, rng=Midpoint()), script(("RUNNING", False, None)), what="run 1", timeout=10
        )
    assert info.value.exit_code == 8
    assert "still RUNNING" in info.value.message
    assert sum(time.sleeps) == pytest.approx(10)


def test_the_deadline_is_reached_even_where_a_last_pause_would_not_move_the_clock(offline: Client):
    """A clock cannot move by a sliver of a pause: within 1 ms of the deadline is the deadline."""

    class Coarse(FakeTime):
        def sleep(self, seconds: float) -> None:  # a clock whose resolution is 1 ms
            super().sleep(seconds)
            self.now = round(self.now, 3)

    time = Coarse(start=1000.0)
    with pytest.raises(WaitTimeout):
        wait_for(context(offline, time), script(("RUNNING", False, None)), what="run 1", timeout=0.0103)
    assert len(time.sleeps) < 10


def test_backoff_grows_to_the_cap(offline: Client):
    """Polling backs off geometrically up to the cap."""
    time = FakeTime()
    states = [("RUNNING", False, None)] * 8 + [("DONE", True, None)]
    poll = PollSettings(initial_seconds=1, cap_seconds=4, factor=2, jitter=0)
    wait_for(context(offline, time), script(*states), what="x", timeout=None, poll=poll)
    assert time.sleeps == [1, 2, 4, 4, 4, 4, 4, 4]


def test_the_default_cap_is_the_configured_poll_max():
    """Without explicit settings, polling backs off to the client's configured poll_max_seconds."""
    time = FakeTime()
    states = [("RUNNING", False, None)] * 12 + [("DONE", True, None)]
    client = Client(Config(host="http://127.0.0.1:9", auth_type="pat", token=ADMIN_TOKEN, poll_max_seconds=3))
    try:
        wait_for(context(client, time, rng=Midpoint()), script(*states), what="x", timeout=None)
    finally:
        client.close()
    assert max(time.sleeps) == 3 and time.sleeps[-3:] == [3, 3, 3]


def test_jitter_comes_from_the_context(offline: Client):
    """The pause between polls is scaled by the context's randomness: a seeded rng repeats exactly."""
    runs = []
    for _ in range(2):
        time = FakeTime()
        states = [("RUNNING", False, None)] * 4 + [("DONE", True, None)]
        wait_for(context(offline, time, rng=random.Random(42)), script(*states), what="x", timeout=None)
        runs.append(time.sleeps)
    assert runs[0] == runs[1] and runs[0] != [1.0, 1.5, 2.25, 3.375]


def test_one_log_event_per_state_change(offline: Client):
    """Repeated polls in the same state log once, with the fields bound to the context's logger."""
    time = FakeTime()
    observe = script(
        *([("PENDING", False, None)] * 3 + [("RUNNING", False, None)] * 3 + [("OK", True, None)])
    )
    with capture_logs() as logs:
        wait_for(context(offline, time).bind(run_id=9), observe, what="run 9", timeout=None)
    states = [(e["state"], e["run_id"]) for e in logs if e["event"] == "wait.state"]
    assert states == [("PENDING", 9), ("RUNNING", 9), ("OK", 9)]


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_line_only_on_a_tty(offline: Client):
    """The live progress line rewrites itself on a TTY and prints nothing elsewhere."""
    tty, pipe = Tty(), io.StringIO()
    for stream in (tty, pipe):
        time = FakeTime()
        observe = script(("RUNNING", False, None), ("OK", True, None))
        wait_for(context(offline, time, progress=ProgressLine(stream)), observe, what="run", timeout=None)
    assert "\r\x1b[Krun: RUNNING" in tty.getvalue() and tty.getvalue().endswith("\n")
    assert pipe.getvalue() == ""


def test_log_lines_never_land_after_the_progress_line(offline: Client):
    """On a shared TTY, a state-change log line starts on a cleared line, not after the progress text."""
    from brickbook.log import configure_logging, get_logger

    tty = Tty()
    configure_logging(fmt="json", stream=tty)
    time = FakeTime()
    observe = script(("PENDING", False, None), ("RUNNING", False, None), ("OK", True, None))
    ctx = Context(
        client=offline, clock=time.clock, sleep=time.sleep, progress=ProgressLine(tty), log=get_logger()
    )
    wait_for(ctx, observe, what="run", timeout=None)
    for line in tty.getvalue().split("\n"):
        if "wait.state" in line:
            # What a terminal shows before the log text is whatever follows the last line clear.
            assert line.split("{", 1)[0].split("\r\x1b[K")[-1] == "", repr(line)


@pytest.mark.parametrize(
    ("text", "seconds"), [("90", 90.0), ("90s", 90.0), ("20m", 1200.0), ("2h", 7200.0), (" 1.5m ", 90.0)]
)
def test_parse_duration_reads_seconds_minutes_and_hours(text: str, seconds: float):
    """A duration is a positive number with an optional s, m or h."""
    assert parse_duration(text) == seconds


def test_parse_duration_none_means_no_limit():
    """An option that was not given (None) is the one way to say no limit."""
    assert parse_duration(None) is None


@pytest.mark.parametrize(
    "text", ["", "   ", "0", "0s", "-5", "zz", "5d", "1e3", "inf", "nan", "9" * 400, "400d"]
)
def test_parse_duration_refuses_blank_zero_negative_and_junk(text: str):
    """An empty, blank, zero, negative or unreadable duration is a usage error naming the option."""
    with pytest.raises(
        UsageError, match=r"^--wait-for must be a positive duration such as 90, 90s, 20m or 2h"
    ):
        parse_duration(text, "--wait-for")


def test_parse_duration_refuses_more_than_a_year():
    """A deadline over 366 days is a typo: refused rather than overflowing clock arithmetic."""
    assert parse_duration("8784h") == 366 * 24 * 3600
    with pytest.raises(UsageError, match="at most 366 days"):
        parse_duration("8785h")


# -- many objects on one schedule ----------------------------------------------------------------------


def ends_at(time: FakeTime, ends: dict[str, float], fail: frozenset[str] = frozenset()):
    """Return an observe() for objects that settle at the given fake times (those in ``fail`` badly)."""
    asked: list[list[str]] = []

    def observe(pending: list[str]) -> dict[str, Observation[str]]:
        asked.append(list(pending))
        return {
            key: Observation(
                value=f"{key}@{time.now:g}",
                state="DONE" if time.now >= ends[key] else "RUNNING",
                done=time.now >= ends[key],
                failure="ended FAILED" if key in fail and time.now >= ends[key] else None,
            )
            for key in pending
        }

    observe.asked = asked  # type: ignore[attr-defined]
    return observe


def test_wait_for_all_asks_only_for_what_is_pending_and_returns_each_value(offline: Client):
    """Settled objects are not asked for again; the values come back by key."""
    time = FakeTime()
    observe = ends_at(time, {"a": 2, "b": 5})
    values = wait_for_all(
        context(offline, time, rng=Midpoint()), observe, ["a", "b"], what="runs", timeout=None
    )
    assert set(values) == {"a", "b"} and values["b"] == "b@5"
    assert observe.asked[-1] == ["b"] and ["a", "b"] in observe.asked


def test_wait_for_all_pauses_a_tenth_of_the_time_waited_at_least_one_second(offline: Client):
    """About 1 s between polls at first, then a tenth of the time waited, capped (a 10 s run: within 1 s)."""
    time = FakeTime()
    settings = PollSettings(initial_seconds=1.0, cap_seconds=30.0)
    ctx = context(offline, time, rng=Midpoint())
    wait_for_all(ctx, ends_at(time, {"a": 10.3}), ["a"], what="runs", timeout=None, poll=settings)
    assert time.sleeps[:10] == [1.0] * 10 and time.now - 10.3 <= 1.0
    time = FakeTime()
    wait_for_all(
        context(offline, time, rng=Midpoint()),
        ends_at(time, {"a": 1000}),
        ["a"],
        what="runs",
        timeout=None,
        poll=settings,
    )
    assert time.sleeps[-1] == 30.0 and len(time.sleeps) < 80


def test_wait_for_all_waits_for_the_others_then_names_every_failure(offline: Client):
    """A failure does not stop the wait: RunFailed comes once all settled, naming each failed key."""
    time = FakeTime()
    observe = ends_at(time, {"a": 1, "b": 4, "c": 8}, fail=frozenset({"a", "c"}))
    with pytest.raises(RunFailed) as info:
        wait_for_all(context(offline, time), observe, ["a", "b", "c"], what="runs", timeout=None)
    assert info.value.exit_code == 7 and info.value.message.startswith("2 of 3 runs failed: a ended FAILED")
    assert set(info.value.result) == {"a", "b", "c"} and time.now >= 8


def test_wait_for_all_deadline_names_what_is_still_going(offline: Client):
    """The deadline raises WaitTimeout (exit 8) after exactly that much fake time, naming the pending keys."""
    time = FakeTime()
    with pytest.raises(WaitTimeout) as info:
        wait_for_all(
            context(offline, time), ends_at(time, {"a": 1, "b": 99}), ["a", "b"], what="runs", timeout=20
        )
    assert info.value.exit_code == 8 and "1 of 2 runs still going after 20s" in info.value.message
    assert sum(time.sleeps) == pytest.approx(20)
