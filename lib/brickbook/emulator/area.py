"""The hook through which an API area joins the emulator.

An area is a class built from an ``AreaContext`` (it makes its state models from the shared store and
clock, and takes what other areas share from ``context.services``) that contributes routes to the one
route table. To add one: write ``state/<area>.py`` (rules, no HTTP), ``routes/<area>.py`` (an ``Area``
whose handlers parse -> call state -> serialise), and add the class to ``AREAS`` in ``app.py``.
Areas keep their state in the store, so ``--data-dir`` persistence and the control API's reset apply
to them without further code; an area with anything outside the store (threads, files, handles)
overrides ``reset()`` and ``shutdown()``, which ``AreaBase`` provides as no-ops.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from starlette.routing import BaseRoute

from brickbook.emulator.services import Services
from brickbook.emulator.settings import EmulatorSettings
from brickbook.emulator.state.identity import Identity
from brickbook.emulator.state.store import Store

__all__ = ["Area", "AreaBase", "AreaContext", "AreaFactory"]


@dataclass(frozen=True)
class AreaContext:
    """What every area may build its state from."""

    settings: EmulatorSettings
    store: Store
    identity: Identity
    clock: Callable[[], float]
    services: Services


class Area(Protocol):
    """One API area: its routes, bound to the state it built, and its part in reset and shutdown."""

    def routes(self) -> Sequence[BaseRoute]: ...

    def reset(self) -> None:
        """Forget what the area keeps outside the store; the control API's reset just cleared the store."""

    def shutdown(self) -> None:
        """Stop the area's background work; the app is stopping and the store closes next."""


class AreaBase:
    """``reset()`` and ``shutdown()`` that do nothing, for areas whose state is all in the store."""

    def reset(self) -> None:
        return None

    def shutdown(self) -> None:
        return None


AreaFactory = Callable[[AreaContext], Area]
