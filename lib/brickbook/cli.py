"""The ``brickbook`` console script: an invoke Program over the same namespace as ``tasks.py``.

``brickbook X`` anywhere (cron, CI) behaves like ``invoke X`` in the repository, because both run the
same tasks, and every task turns failures into exit codes in one place, ``brickbook.command`` (whose
docstring holds the exit-code table). Startup stays light: task modules import httpx, structlog and
the API layer only when a task runs, and nothing here imports the emulator.
"""

from __future__ import annotations

from invoke.exceptions import Exit, ParseError
from invoke.program import Program

from brickbook import __version__
from brickbook.tasks import namespace

__all__ = ["BrickbookProgram", "main", "program"]

USAGE_EXIT_CODE = 2


class BrickbookProgram(Program):
    """invoke's Program, except that command-line parse errors exit 2 (usage), like every usage error."""

    def parse_core(self, argv: list[str] | None) -> None:
        try:
            super().parse_core(argv)
        except ParseError as error:
            raise Exit(f"error: {error}", code=USAGE_EXIT_CODE) from None

    def parse_tasks(self) -> None:
        try:
            super().parse_tasks()
        except ParseError as error:
            raise Exit(f"error: {error}", code=USAGE_EXIT_CODE) from None


program = BrickbookProgram(name="brickbook", binary="brickbook", version=__version__, namespace=namespace)


def main() -> None:
    """Run the brickbook command line."""
    program.run()
