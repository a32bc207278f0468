"""The result-aware waiter: settles, fails loudly, honours deadlines, logs state changes only."""

from __future__ import annotations

import io

import pytest
from structlog.testing import capture_logs

from brickbook.errors import RunFailed, UsageError, WaitTimeout
from brickbook.output import ProgressLine
from brickbook.waiting import Observation, PollSettings, parse_duration, wait_for
from tests.fakes import FakeTime


def script(*states: tuple[str, bool, str | None]):
    """Return an observe() that walks through ``states`` and then stays on the last."""
    queue = list(states)

    def observe() -> Observation[str]:
        state, done, failure = queue.pop(0) if len(queue) > 1 else queue[0]
        return Observation(value=state, state=state, done=done, failure=failure)

    return observe


def test_returns_value_when_done_successfully():
    """A successful end returns the last observed value."""
    time = FakeTime()
    observe = script(("PENDING", False, None), ("RUNNING", False, None), ("SUCCESS", True, None))
    assert (
        wait_for(observe, what="run 1", timeout=None, clock=time.clock, sleep=time.sleep, rng=lambda: 0.5)
        == "SUCCESS"
    )
    assert time.sleeps == [1.0, 1.5]


def test_failure_raises_run_failed_with_result():
    """An unsuccessful end raises RunFailed (exit 7) carrying the observation."""
    time = FakeTime()
    observe = script(("RUNNING", False, None), ("FAILED", True, "ended FAILED: boom"))
    with pytest.raises(RunFailed) as info:
        wait_for(observe, what="run 1", timeout=None, clock=time.clock, sleep=time.sleep)
    assert info.value.exit_code == 7
    assert info.value.message == "run 1 ended FAILED: boom"
    assert info.value.result == "FAILED"


def test_deadline_raises_wait_timeout_without_oversleeping():
    """The local deadline raises WaitTimeout (exit 8) and never sleeps past it."""
    time = FakeTime()
    with pytest.raises(WaitTimeout) as info:
        wait_for(
            script(("RUNNING", False, None)),
            what="run 1",
            timeout=10,
            clock=time.clock,
            sleep=time.sleep,
            rng=lambda: 0.5,
        )
    assert info.value.exit_code == 8
    assert "still RUNNING" in info.value.message
    assert sum(time.sleeps) == pytest.approx(10)


def test_backoff_grows_to_the_cap():
    """Polling backs off geometrically up to the cap."""
    time = FakeTime()
    states = [("RUNNING", False, None)] * 8 + [("DONE", True, None)]
    poll = PollSettings(initial_seconds=1, cap_seconds=4, factor=2, jitter=0)
    wait_for(script(*states), what="x", timeout=None, poll=poll, clock=time.clock, sleep=time.sleep)
    assert time.sleeps == [1, 2, 4, 4, 4, 4, 4, 4]


def test_one_log_event_per_state_change():
    """Repeated polls in the same state log once."""
    time = FakeTime()
    observe = script(
        *([("PENDING", False, None)] * 3 + [("RUNNING", False, None)] * 3 + [("OK", True, None)])
    )
    with capture_logs() as logs:
        wait_for(
            observe, what="run 9", timeout=None, clock=time.clock, sleep=time.sleep, context={"run_id": 9}
        )
    states = [(e["state"], e["run_id"]) for e in logs if e["event"] == "wait.state"]
    assert states == [("PENDING", 9), ("RUNNING", 9), ("OK", 9)]


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_line_only_on_a_tty():
    """The live progress line rewrites itself on a TTY and prints nothing elsewhere."""
    tty, pipe = Tty(), io.StringIO()
    for stream in (tty, pipe):
        time = FakeTime()
        observe = script(("RUNNING", False, None), ("OK", True, None))
        wait_for(
            observe,
            what="run",
            timeout=None,
            clock=time.clock,
            sleep=time.sleep,
            progress=ProgressLine(stream),
        )
    assert "\r\x1b[Krun: RUNNING" in tty.getvalue() and tty.getvalue().endswith("\n")
    assert pipe.getvalue() == ""


def test_log_lines_never_land_after_the_progress_line():
    """On a shared TTY, a state-change log line starts on a cleared line, not after the progress text."""
    from brickbook.log import configure_logging

    tty = Tty()
    configure_logging(fmt="json", stream=tty)
    time = FakeTime()
    observe = script(("PENDING", False, None), ("RUNNING", False, None), ("OK", True, None))
    wait_for(
        observe, what="run", timeout=None, clock=time.clock, sleep=time.sleep, progress=ProgressLine(tty)
    )
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
