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
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

from brickbook.errors import RunFailed, UsageError, WaitTimeout

if TYPE_CHECKING:
    from brickbook.context import Context

__all__ = ["Observation", "PollSettings", "parse_duration", "wait_for", "wait_for_all"]

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)
_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smh]?)")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600}
# Less than this left before the deadline counts as the deadline: a pause shorter than a clock's
# resolution would not move it, and the wait would poll for ever on the edge.
_SLACK_SECONDS = 0.001
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
            if timeout is not None and elapsed >= timeout - _SLACK_SECONDS:
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


def _some(items: list[str]) -> str:
    return "; ".join(items[:3]) + (f"; and {len(items) - 3} more" if len(items) > 3 else "")


def wait_for_all(
    ctx: Context,
    observe: Callable[[list[K]], Mapping[K, Observation[T]]],
    keys: Sequence[K],
    *,
    what: str,
    timeout: float | None,
    poll: PollSettings | None = None,
) -> dict[K, T]:
    """Poll many objects on one schedule until every one has settled; return the values by key.

    ``observe`` gets the keys not settled yet and answers for those it saw (one request may cover
    many of them, e.g. a listing); a key it leaves out is looked at again next time. One that settles
    badly does not stop the wait for the others: once all have settled, RunFailed (exit 7) names every
    failure, its ``result`` the values by key. The deadline raises WaitTimeout, its ``result`` the last
    values seen. The pause between polls is a tenth of the time waited so far, at least
    ``poll.initial_seconds`` (1 s) and at most ``poll.cap_seconds`` (the configured
    ``poll_max_seconds``), jittered: many objects share each request, so polling often is cheap, and
    an object that ends is seen within about a tenth of its run time.
    """
    settings = poll or PollSettings(cap_seconds=ctx.client.config.poll_max_seconds)
    progress = ctx.progress
    started = ctx.clock()
    pending = list(dict.fromkeys(keys))
    total = len(pending)
    values: dict[K, T] = {}
    states: dict[K, str] = {}
    failures: list[str] = []
    try:
        while pending:
            seen = observe(pending)
            elapsed = ctx.clock() - started
            for key, look in seen.items():
                values[key] = look.value
                if states.get(key) != look.state:
                    progress.clear()
                    ctx.log.info(
                        "wait.state",
                        what=f"{what} {key}",
                        state=look.state,
                        elapsed_seconds=round(elapsed, 1),
                    )
                    states[key] = look.state
                if look.done and look.failure:
                    failures.append(f"{key} {look.failure}")
            pending = [k for k in pending if not (k in seen and seen[k].done)]
            progress.update(f"{what}: {total - len(pending)}/{total} settled  {elapsed:.0f}s")
            if not pending:
                break
            if timeout is not None and elapsed >= timeout - _SLACK_SECONDS:
                raise WaitTimeout(
                    f"{len(pending)} of {total} {what} still going after {elapsed:.0f}s (timeout "
                    f"{timeout:g}s): {', '.join(str(k) for k in pending[:3])}"
                    f"{' ...' if len(pending) > 3 else ''}; they keep going remotely: "
                    "wait again or cancel them",
                    result=values,
                )
            pause = min(settings.cap_seconds, max(settings.initial_seconds, elapsed / 10))
            pause *= 1 - settings.jitter + 2 * settings.jitter * ctx.rng.random()
            if timeout is not None:
                pause = min(pause, max(0.0, timeout - elapsed))
            ctx.sleep(pause)
    finally:
        progress.close()
    if failures:
        raise RunFailed(f"{len(failures)} of {total} {what} failed: {_some(failures)}", result=values)
    return values
