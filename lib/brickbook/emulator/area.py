"""The hook through which an API area joins the emulator.

An area is a class built from an ``AreaContext`` (it makes its state models from the shared store and
clock) that contributes routes to the one route table. To add one: write ``state/<area>.py`` (rules,
no HTTP), ``routes/<area>.py`` (an ``Area`` whose handlers parse -> call state -> serialise), and add
the class to ``AREAS`` in ``app.py``. Areas keep all their state in the store, so ``--data-dir``
persistence and the control API's reset apply to them without further code.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from starlette.routing import BaseRoute

from brickbook.emulator.settings import EmulatorSettings
from brickbook.emulator.state.identity import Identity
from brickbook.emulator.state.store import Store

__all__ = ["Area", "AreaContext", "AreaFactory"]


@dataclass(frozen=True)
class AreaContext:
    """What every area may build its state from."""

    settings: EmulatorSettings
    store: Store
    identity: Identity
    clock: Callable[[], float]


class Area(Protocol):
    """One API area: its routes, bound to the state it built.

    An area with background work may also define ``shutdown()``; the app calls it when it stops,
    before the store closes.
    """

    def routes(self) -> Sequence[BaseRoute]: ...


AreaFactory = Callable[[AreaContext], Area]
