"""Result-aware waiting: poll until a remote object settles, and fail loudly when it settles badly.

Peers wait 20 minutes by default and hand back a FAILED run as if it succeeded. Here there is no hidden
cap (the deadline is whatever the caller passes, ``None`` for none), an unsuccessful end raises
``RunFailed`` (exit 7) carrying the last observation, and the local deadline raises ``WaitTimeout``
(exit 8). Polling starts near 1 s and backs off with jitter to a cap; one log event per state change,
not per poll; one live progress line through the context's progress sink (on a TTY, ``output.ProgressLine``).
Time, sleep and the jitter's randomness come from the context too, so tests never sleep for real.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

from brickbook.errors import RunFailed, UsageError, WaitTimeout

if TYPE_CHECKING:
    from brickbook.context import Context

__all__ = ["Observation", "PollSettings", "parse_duration", "wait_for"]

T = TypeVar("T")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smh]?)")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600}
# A deadline longer than this is a typo (or an attempt to overflow the clock arithmetic): 366 days.
MAX_DURATION_SECONDS = 366 * 24 * 3600


def parse_duration(value: str | None, option: str = "--timeout") -> float | None:
    """Read ``90``, ``90s``, ``20m`` or ``2h`` as seconds; None (the option not given) stays None.

    An empty or blank value, zero, a negative number or anything else is a UsageError: leaving the
    option out is the one way to say "no limit", so ``--timeout ''`` from an unset shell variable
    never silently means "wait forever".
    """
    if value is None:
        return None
    shown = value if len(value) <= 40 else value[:39] + "…"
    match = _DURATION.fullmatch(value.strip())
    seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)] if match else 0.0
    if not 0 < seconds <= MAX_DURATION_SECONDS:
        raise UsageError(
            f"{option} must be a positive duration such as 90, 90s, 20m or 2h (at most 366 days), "
            f"not {shown!r}; leave it out for no limit"
        )
    return seconds


@dataclass(frozen=True)
class PollSettings:
    """How often to poll: start near ``initial_seconds``, grow by ``factor`` up to ``cap_seconds``."""

    initial_seconds: float = 1.0
    cap_seconds: float = 30.0
    factor: float = 1.5
    jitter: float = 0.2  # each sleep is scaled by a random factor in [1 - jitter, 1 + jitter]


@dataclass(frozen=True)
class Observation(Generic[T]):
    """One look at the remote object: its state, whether it settled, and how."""

    value: T
    state: str  # what changed-state logging compares, e.g. "RUNNING" or "TERMINATED SUCCESS"
    done: bool
    failure: str | None = None  # set when it settled unsuccessfully: the one-line reason
    progress: str = ""  # extra text for the progress line, e.g. "tasks 2/3"


def wait_for(
    ctx: Context,
    observe: Callable[[], Observation[T]],
    *,
    what: str,
    timeout: float | None,
    poll: PollSettings | None = None,
) -> T:
    """Poll ``observe`` until it reports done; return the value, or raise RunFailed / WaitTimeout.

    Time, randomness (the jitter), the progress line and the logger all come from ``ctx``; bind what
    identifies the object (``ctx.bind(run_id=...)``) so every ``wait.state`` event carries it. ``poll``
    defaults to backing off from about 1 s to the configured ``poll_max_seconds``.
    """
    settings = poll or PollSettings(cap_seconds=ctx.client.config.poll_max_seconds)
    progress = ctx.progress
    started = ctx.clock()
    delay = settings.initial_seconds
    last_state: str | None = None
    try:
        while True:
            seen = observe()
            elapsed = ctx.clock() - started
            if seen.state != last_state:
                progress.clear()  # the log line must not land after the half-drawn progress line
                ctx.log.info("wait.state", what=what, state=seen.state, elapsed_seconds=round(elapsed, 1))
                last_state = seen.state
            progress.update(f"{what}: {seen.state} {seen.progress}".rstrip() + f"  {elapsed:.0f}s")
            if seen.done:
                if seen.failure:
                    raise RunFailed(f"{what} {seen.failure}", result=seen.value)
                return seen.value
            if timeout is not None and elapsed >= timeout:
                raise WaitTimeout(
                    f"{what} is still {seen.state} after {elapsed:.0f}s (timeout {timeout:g}s); "
                    "it keeps going remotely: wait again or cancel it",
                    result=seen.value,
                )
            pause = delay * (1 - settings.jitter + 2 * settings.jitter * ctx.rng.random())
            if timeout is not None:
                pause = min(pause, max(0.0, timeout - elapsed))
            ctx.sleep(pause)
            delay = min(settings.cap_seconds, delay * settings.factor)
    finally:
        progress.close()
