"""The ``brickbook`` console script: an invoke Program over the same namespace as ``tasks.py``.

``brickbook X`` anywhere (cron, CI) behaves like ``invoke X`` in the repository, because both run the
same tasks, and every task turns failures into exit codes in one place, ``brickbook.command`` (whose
docstring holds the exit-code table). Startup stays light: task modules import httpx, structlog and
the API layer only when a task runs, and nothing here imports the emulator.
"""

from __future__ import annotations

import os
import sys

from invoke.exceptions import Exit, ParseError
from invoke.program import Program

from brickbook import __version__
from brickbook.tasks import namespace

__all__ = ["BrickbookProgram", "main", "program"]

USAGE_EXIT_CODE = 2


def _help_first(argv: list[str] | None) -> list[str]:
    """Turn ``brickbook TASK ... --help`` into ``brickbook --help TASK``.

    invoke would otherwise hand ``--help`` to a task's pending positional argument as its value.
    """
    if argv is None:
        argv = sys.argv
    for position, token in enumerate(argv[1:], start=1):
        if token in ("--help", "-h"):
            task = next((t for t in argv[1:position] if not t.startswith("-")), None)
            if task is not None:
                return [argv[0], "--help", task]
    return argv


class BrickbookProgram(Program):
    """invoke's Program, except that command-line parse errors exit 2 (usage), like every usage error."""

    def parse_core(self, argv: list[str] | None) -> None:
        try:
            super().parse_core(_help_first(argv))
        except ParseError as error:
            raise Exit(f"error: {error}", code=USAGE_EXIT_CODE) from None

    def parse_tasks(self) -> None:
        try:
            super().parse_tasks()
        except ParseError as error:
            raise Exit(f"error: {error}", code=USAGE_EXIT_CODE) from None


program = BrickbookProgram(name="brickbook", binary="brickbook", version=__version__, namespace=namespace)


# What a shell reports for a program whose reader went away (128 + SIGPIPE).
BROKEN_PIPE_EXIT_CODE = 141


def main() -> None:
    """Run the brickbook command line."""
    try:
        program.run()
    except BrokenPipeError:
        # The reader (e.g. `| head`) is gone: stop quietly instead of printing a traceback, and keep
        # the interpreter's final flush of stdout from failing again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(BROKEN_PIPE_EXIT_CODE)
