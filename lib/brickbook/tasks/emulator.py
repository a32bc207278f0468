"""Tasks for the local workspace emulator: ``emulator.serve``.

The library never imports the emulator's server: this task starts it as its own process
(``python -m brickbook.emulator``), replacing the current one so signals reach it directly. Its options
are the emulator's own, read from ``brickbook.emulator.settings.OPTIONS`` (a stdlib-only table) when
invoke builds its parser, so ``brickbook emulator.serve``, ``python -m brickbook.emulator`` and
``brickbook-emulator`` offer the same options and the emulator checks them all in one place. That read
is the one import of the emulator package from the library, deliberately: a second copy of the option
list is what let the two drift apart. The common options (-o, -p, -l, -d) mean nothing here and are
not offered.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from typing import TYPE_CHECKING, Any

from invoke.context import Context
from invoke.parser.argument import Argument
from invoke.tasks import Task

from brickbook.command import Invocation, run_plain
from brickbook.errors import UsageError

if TYPE_CHECKING:
    from brickbook.emulator.settings import Option

__all__ = ["serve"]


def _argument(option: Option) -> Argument:
    """The invoke form of one emulator option: values stay text, the emulator converts and checks them."""
    kind: type = bool if option.kind == "flag" else list if option.repeatable else str
    default: Any = False if option.kind == "flag" else [] if option.repeatable else None
    # attr_name only where it differs: invoke aliases it to the name, and a self-alias never resolves.
    attr_name = option.dest if option.dest != option.name else None
    # invoke shows every value as STRING: the help line names the expected form instead.
    shown = f"{option.metavar}: {option.describe()}" if option.metavar else option.describe()
    return Argument(names=(option.name,), attr_name=attr_name, kind=kind, default=default, help=shown)


class ServeTask(Task[Any]):
    """A task whose options come from the emulator's option table instead of a function signature."""

    def get_arguments(self, ignore_unknown_help: bool | None = None) -> list[Argument]:
        from brickbook.emulator.settings import OPTIONS

        return [_argument(option) for option in OPTIONS]


def _exec_emulator(inv: Invocation, **options: Any) -> None:
    if importlib.util.find_spec("starlette") is None or importlib.util.find_spec("uvicorn") is None:
        raise UsageError("the emulator needs its extra: pip install 'brickbook[emulator]'")
    from brickbook.emulator.settings import OPTIONS

    argv = [sys.executable, "-m", "brickbook.emulator"]
    env = dict(os.environ)
    for option in OPTIONS:
        value = options.get(option.dest)
        if option.kind == "flag":
            argv += [option.flag] if value else []
        elif option.repeatable:
            argv += [f"{option.flag}={item}" for item in value or []]  # '=': a value may start with '-'
        elif value is not None and option.env and value:
            env[option.env] = value  # the token goes by environment, out of the process list
        elif value is not None:
            argv.append(f"{option.flag}={value}")
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:  # None: closed before we started (`invoke emulator.serve >&-`)
            stream.flush()
    os.execve(sys.executable, argv, env)  # noqa: S606 - argv is built above, no shell


def _serve(ctx: Context, **options: Any) -> None:
    """Run the local workspace emulator in the foreground until Ctrl-C.

    The options are the emulator's (python -m brickbook.emulator --help); bad values exit 2 with one line.
    """
    run_plain(_exec_emulator, ctx, options)


serve = ServeTask(_serve, name="serve", positional=[])
