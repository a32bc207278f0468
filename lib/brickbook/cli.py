"""The ``brickbook`` console script: an invoke Program over the same namespace as ``tasks.py``.

``brickbook X`` anywhere (cron, CI) behaves like ``invoke X`` in the repository, because both run the
same tasks, and every task turns failures into exit codes in one place, ``brickbook.command`` (whose
docstring holds the exit-code table). Startup stays light (measured with ``python -X importtime``):
task modules import httpx, structlog and the API layer only when a task runs; ``main`` loads only the
task areas its command line names (``namespace_for``: ``brickbook jobs.list`` imports neither the other
areas nor the runbooks and their engine), and the parser gets contexts only for the tasks named, so
nothing of the emulator is imported unless ``emulator.serve`` is (its options come from the emulator's
stdlib-only option table).

This module is the entry point and stays free of invoke: the program itself lives in
``brickbook.program``, imported by ``main`` once it has kept two imports the console script never uses
from costing its start (``_skip_httpx_tool``, ``_mock_stand_in``). ``BrickbookProgram``, ``build_namespace``,
``namespace_for``, ``namespace`` and ``program`` remain importable from here.

The console script offers only the core options brickbook honours: ``--help/-h``, ``--version/-V``,
``--list/-l [NAMESPACE]`` with ``--list-format/-F flat|nested|json`` (for scripts), and shell completion
(``--print-completion-script bash|zsh|fish``, and ``--complete``, which that script calls). invoke's
options for running shell commands (``--dry``, ``--echo``, ``--pty``, ``--warn-only``, ``-T``,
``--prompt-for-sudo-password``, ``--hide``), its loader options (``-c``, ``-r``, ``--no-dedupe``),
``-f/--config``, ``--write-pyc`` and the top-level ``-d/--debug`` mean nothing here: they are usage errors
(exit 2), as is anything after ``--``. ``invoke`` in the repository keeps its own options.
"""

from __future__ import annotations

import errno
import importlib
import io
import os
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from brickbook.program import BrickbookProgram, build_namespace, namespace_for

__all__ = ["BrickbookProgram", "build_namespace", "main", "namespace_for"]

# What a shell reports for a program whose reader went away (128 + SIGPIPE).
BROKEN_PIPE_EXIT_CODE = 141
_FROM_PROGRAM = ("BrickbookProgram", "build_namespace", "namespace_for", "USAGE_EXIT_CODE")


def __getattr__(name: str) -> Any:
    # The program's names, and ``namespace`` (everything served) and ``program`` over it, built on first
    # use: ``main`` builds only the part its command line needs. Any other name (the import system asks
    # for ``__path__``) is answered without importing the program.
    if name not in (*_FROM_PROGRAM, "namespace", "program"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from brickbook import program as programs

    if name in _FROM_PROGRAM:
        return getattr(programs, name)
    if name == "namespace":
        globals()["namespace"] = served = programs.build_namespace()
        return served
    globals()["program"] = built = programs.program_for(__getattr__("namespace"))
    return built


class ClosedStdout(io.TextIOBase):
    """Stands in for a stdout closed before brickbook started (``>&-``): a write fails like a write to a
    pipe whose reader has gone, so a task that prints ends with 141 and one that prints nothing succeeds.
    """

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if not text:  # like a real stream, writing nothing succeeds even with no reader
            return 0
        raise BrokenPipeError(errno.EPIPE, "stdout is closed")

    def isatty(self) -> bool:
        return False


def _guard_standard_streams() -> None:
    """Give closed fds 0-2 a /dev/null so no file or socket opened later takes their number.

    Python leaves ``sys.stdin``/``sys.stdout``/``sys.stderr`` as None for a closed fd. stdin stays
    None (``secrets.put`` then says where a value can come from); stdout becomes ``ClosedStdout``;
    stderr, with nowhere to go, writes to /dev/null.
    """
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            devnull = os.open(os.devnull, os.O_RDWR)
            if devnull != fd:
                os.dup2(devnull, fd)
                os.close(devnull)
    if sys.stdout is None:
        sys.stdout = ClosedStdout()
    if sys.stderr is None:
        sys.stderr = Path(os.devnull).open("w", encoding="utf-8")  # noqa: SIM115 - lives as long as the process


def _skip_httpx_tool() -> None:
    """Keep httpx's own command-line tool from loading: this process never runs it.

    httpx's package import loads it (click and pygments, when installed, as the emulator extra installs
    click) inside a ``try/except ImportError``: about a quarter of httpx's import time. A None entry
    makes that import fall back at once. Only the console script does this, for its own process.
    """
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]  # None: "cannot be imported"


@contextmanager
def _mock_stand_in() -> Iterator[None]:
    """Import invoke inside this block without loading ``unittest.mock`` (and asyncio with it: 0.02 s).

    invoke's package import takes one name from it, ``Mock``, which only its testing aid ``MockContext``
    calls. While the block runs a stand-in is registered in the module's place; its ``Mock`` (and any
    other name) loads the real module when used. It is unregistered when the block ends, so any later
    import of ``unittest.mock`` is the ordinary one. Nothing is done if invoke or the module is loaded.
    """
    stand_in = None
    if "unittest.mock" not in sys.modules and "invoke" not in sys.modules:
        stand_in = sys.modules["unittest.mock"] = _MockStandIn("unittest.mock")
    try:
        yield
    finally:
        if stand_in is not None and sys.modules.get("unittest.mock") is stand_in:
            del sys.modules["unittest.mock"]


class _MockStandIn(types.ModuleType):
    """``unittest.mock`` while invoke is imported: see ``_mock_stand_in``."""

    @staticmethod
    def _real() -> types.ModuleType:
        stand_in = sys.modules.get("unittest.mock")
        if isinstance(stand_in, _MockStandIn):
            del sys.modules["unittest.mock"]
        real = importlib.import_module("unittest.mock")
        if isinstance(stand_in, _MockStandIn):
            vars(stand_in).update(vars(real))  # whoever holds the stand-in now holds the real names
        return real

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # the import system probing (__path__, __spec__...): not a use
            raise AttributeError(name)
        return getattr(self._real(), name)

    @staticmethod
    def Mock(*args: Any, **kwargs: Any) -> Any:
        return _MockStandIn._real().Mock(*args, **kwargs)


def main() -> None:
    """Run the brickbook command line."""
    _guard_standard_streams()
    _skip_httpx_tool()
    with _mock_stand_in():
        from brickbook.program import namespace_for, program_for

    try:
        program_for(namespace_for(sys.argv)).run()
    except BrokenPipeError:
        # The reader (e.g. `| head`) is gone: stop quietly instead of printing a traceback, and keep
        # the interpreter's final flush of stdout from failing again.
        from brickbook.output import discard_stdout

        discard_stdout()
        sys.exit(BROKEN_PIPE_EXIT_CODE)
