"""The one explicit context that ops and runbooks take: client, time, randomness, progress, log, dry-run.

Everything an operation needs from its surroundings travels in one frozen value, passed explicitly (as
tenacity passes its policies and structlog its processors), never through globals or class attributes:
tests build a context with fake time and a seeded ``random.Random`` and nothing sleeps for real.

- ``clock`` is monotonic time (durations, deadlines); ``wall`` is epoch time (journals and reports).
- ``progress`` is a sink for one live status line. The TTY implementation is ``output.ProgressLine``;
  ``NULL_PROGRESS`` shows nothing. Ops write to the sink and never import presentation code.
- ``log`` is a bound structlog logger; ``bind(**fields)`` returns a copy whose logger carries more context.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

from brickbook.log import get_logger

if TYPE_CHECKING:
    from structlog.typing import FilteringBoundLogger

    from brickbook.client import Client

__all__ = ["NULL_PROGRESS", "Context", "NullProgress", "ProgressSink"]


class ProgressSink(Protocol):
    """Where a live status line goes: ``update`` replaces it, ``clear`` blanks it, ``close`` ends it."""

    def update(self, text: str) -> None: ...

    def clear(self) -> None: ...

    def close(self) -> None: ...


class NullProgress:
    """A progress sink that shows nothing (not a terminal, JSON logs, tests)."""

    def update(self, text: str) -> None:
        """Show nothing."""

    def clear(self) -> None:
        """Show nothing."""

    def close(self) -> None:
        """Show nothing."""


NULL_PROGRESS: ProgressSink = NullProgress()


def _default_logger() -> FilteringBoundLogger:
    logger: FilteringBoundLogger = get_logger()
    return logger


@dataclass(frozen=True)
class Context:
    """What an op or a runbook step runs with; build one per invocation and pass it down."""

    client: Client
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)
    progress: ProgressSink = NULL_PROGRESS
    log: FilteringBoundLogger = field(default_factory=_default_logger)
    dry_run: bool = False
    wall: Callable[[], float] = time.time

    def bind(self, **fields: Any) -> Context:
        """Return a copy whose logger carries ``fields`` in every event."""
        return replace(self, log=self.log.bind(**fields))
