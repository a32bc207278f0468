"""The adapter between invoke and brickbook: common options, one client, rendering and exit codes.

``@command`` turns a plain function ``fn(inv: Invocation, ...)`` into an invoke task that accepts the
options every brickbook task shares (``-o/--output``, ``--profile``, ``--log-format``, ``--debug``),
resolves configuration lazily, renders what the function returns, and turns every failure into one
line on stderr and a documented exit code. Both ``invoke X`` and ``brickbook X`` run tasks through
here, so they behave alike; this is the one place where errors become exit codes:

====  =====================================================================================
code  meaning
====  =====================================================================================
0     success
2     usage, configuration or invalid request (bad options/specs; a 400 for a bad parameter)
3     authentication or permission (401/403)
4     not found
5     conflict or invalid state (already exists, INVALID_STATE)
6     transient failures or rate limits still failing after retries
7     a remote run or statement ended unsuccessfully
8     a local wait deadline passed
9     another invocation holds the lock
130   interrupted (Ctrl-C, SIGTERM)
1     an unexpected error (a bug: rerun with --debug and report it)
====  =====================================================================================
"""

from __future__ import annotations

import functools
import inspect
import json
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Mapping
from types import FrameType
from typing import TYPE_CHECKING, Any, cast

from invoke.context import Context as InvokeContext
from invoke.exceptions import Exit
from invoke.tasks import Task

from brickbook.errors import (
    BrickbookError,
    Interrupted,
    PermissionDenied,
    TransportError,
    Unauthenticated,
    UsageError,
)

if TYPE_CHECKING:
    from brickbook.client import Client
    from brickbook.config import Config
    from brickbook.context import Context
    from brickbook.output import OutputFormat, TextRenderer

__all__ = ["RUNTIME_CONFIG_KEY", "Invocation", "command", "describe_error", "exit_code_for", "run_plain"]

# The invoke config key under which a program passes Context overrides (time, randomness) to tasks.
RUNTIME_CONFIG_KEY = "brickbook_runtime"

TRANSIENT_EXIT_CODE = TransportError.exit_code
COMMON_HELP = {
    "output": "Output format: text (readable) or json (for jq). Default: text.",
    "profile": "Profile in ~/.databrickscfg to use (overrides DATABRICKS_CONFIG_PROFILE).",
    "log-format": "Log format on stderr: console or json. Default: console on a TTY, json otherwise.",
    "debug": "Log every HTTP call and print a traceback on errors.",
}


def exit_code_for(error: BaseException) -> int:
    """Return the documented exit code for an error."""
    if isinstance(error, BrickbookError):
        return error.exit_code
    if isinstance(error, KeyboardInterrupt):
        return Interrupted.exit_code
    return 1


class Invocation:
    """What a task body gets: the parsed common options, lazily resolved config and client, a logger,
    and ``context``, the one explicit ``brickbook.context.Context`` that ops take.

    The context's time and randomness come from the invoke config key ``brickbook_runtime`` when a
    program sets it (``BrickbookProgram(runtime=...)``: tests give fake time that way), else real ones.
    """

    def __init__(self, ctx: InvokeContext, *, output: OutputFormat, profile: str | None, debug: bool) -> None:
        self.ctx = ctx
        self.output: OutputFormat = output
        self.profile = profile
        self.debug = debug
        self._config: Config | None = None
        self._client: Client | None = None
        self._context: Context | None = None
        # -o as given: json, text, or one of the task's own formats (``command(formats=...)``), which
        # the task streams itself; ``output`` is then text, for the summary and the error line.
        self.requested_output: str = output

    @property
    def runtime(self) -> Mapping[str, Any]:
        """Return the Context field overrides the program passed (clock, sleep, wall, rng), if any."""
        runtime = self.ctx.config.get(RUNTIME_CONFIG_KEY, None) if self.ctx.config else None
        return cast("Mapping[str, Any]", runtime) if isinstance(runtime, Mapping) else {}

    @property
    def context(self) -> Context:
        """Return the invocation's one Context (its client, time, progress line and logger)."""
        if self._context is None:
            from brickbook.context import Context
            from brickbook.output import ProgressLine

            self._context = Context(client=self.client, progress=ProgressLine(), **self.runtime)
        return self._context

    @property
    def config(self) -> Config:
        """Resolve configuration on first use (explicit option > environment > profile)."""
        if self._config is None:
            from brickbook.config import resolve_config

            settings = self.ctx.config.get("brickbook", None) if self.ctx.config else None
            self._config = resolve_config(
                profile=self.profile, settings=cast("Mapping[str, object] | None", settings)
            )
        return self._config

    @property
    def client(self) -> Client:
        """Return the invocation's one client, built on first use."""
        if self._client is None:
            from brickbook.client import Client

            self._client = Client(self.config)
        return self._client

    @property
    def log(self) -> Any:
        """Return a structlog logger."""
        from brickbook.log import get_logger

        return get_logger()

    def close(self) -> None:
        """Release the client's connections."""
        if self._client is not None:
            self._client.close()


def _hint(error: BrickbookError) -> str:
    """Return what to do about an error whose message does not already say it."""
    if error.hint:
        return error.hint
    if isinstance(error, Unauthenticated | PermissionDenied) and error.error_code is None:
        # The front door's "Invalid access token." / "Credential was not sent": the credentials are wrong.
        return "check the token or client credentials for this host (brickbook auth.check)"
    if error.exit_code == TRANSIENT_EXIT_CODE and error.attempts > 1:
        return "still failing after retries: try again later, or allow longer with BRICKBOOK_RETRY_TIMEOUT"
    return ""


def describe_error(error: BaseException) -> str:
    """Return the one line the user sees for a failure."""
    if isinstance(error, BrickbookError):
        hint = _hint(error)
        return f"{error}; {hint}" if hint else str(error)
    if isinstance(error, KeyboardInterrupt):
        return "interrupted"
    return f"unexpected {type(error).__name__}: {error} (rerun with --debug and report this)"


def _local_write_failure(error: Exception | KeyboardInterrupt) -> Exception | KeyboardInterrupt:
    """A full or failing local disk under stdout (or a file written directly) is the user's: exit 2."""
    from brickbook.localfs import WRITE_FAILURES

    if isinstance(error, OSError) and error.errno in WRITE_FAILURES:
        from brickbook.output import discard_stdout

        discard_stdout()  # it may be stdout that is full: the exit's own flush must not fail again
        return UsageError(f"a local write failed: {error.strerror or error} (the output or a local file)")
    return error


def _raise_interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _run(
    fn: Callable[..., Any],
    ctx: InvokeContext,
    *,
    output: str,
    profile: str | None,
    log_format: str | None,
    debug: bool,
    text: TextRenderer | None,
    kwargs: dict[str, Any],
    formats: tuple[str, ...] = (),
) -> None:
    from brickbook.log import configure_logging
    from brickbook.output import discard_stdout, error_envelope, printable, render
    from brickbook.redaction import redact

    fmt = cast("OutputFormat", output if output in ("json", "text") else "text")
    inv: Invocation | None = None
    previous_sigterm = None
    try:
        if output not in ("json", "text", *formats):
            names = ["json", "text", *formats]
            choices = ", ".join(names[:-1]) + " or " + names[-1]
            raise UsageError(f"-o/--output must be {choices}, not {output!r}")
        log_format = log_format or os.environ.get("BRICKBOOK_LOG_FORMAT") or "auto"
        if log_format not in ("auto", "console", "json"):
            raise UsageError(f"--log-format must be console or json, not {log_format!r}")
        configure_logging(fmt=log_format, level="debug" if debug else "info")  # type: ignore[arg-type]
        if threading.current_thread() is threading.main_thread():
            previous_sigterm = signal.signal(signal.SIGTERM, _raise_interrupt)
        inv = Invocation(ctx, output=fmt, profile=profile, debug=debug)
        inv.requested_output = output
        result = fn(inv, **kwargs)
        if result is not None:
            render(result, fmt, text=text)
    except (Exception, KeyboardInterrupt) as error:
        if isinstance(error, Exit | BrokenPipeError):  # a closed stdout is the console script's to handle
            raise
        error = _local_write_failure(error)
        code = exit_code_for(error)
        message = redact(describe_error(error))
        if debug:
            sys.stderr.write(redact(traceback.format_exc()))
        if fmt == "json":
            try:
                sys.stdout.write(json.dumps(error_envelope(error, code, message)) + "\n")
                sys.stdout.flush()
            except OSError:  # stdout is gone or full too: the failure, not stdout, sets the exit code
                discard_stdout()
        raise Exit(f"error: {printable(message)}", code=code) from None
    finally:
        if inv is not None:
            inv.close()
        if previous_sigterm is not None:
            signal.signal(signal.SIGTERM, previous_sigterm)


def run_plain(fn: Callable[..., Any], ctx: InvokeContext, kwargs: dict[str, Any]) -> None:
    """Run ``fn(inv, **kwargs)`` for a task that takes none of the common options (``emulator.serve``).

    Errors become exit codes exactly as for every other task; output is text and logging the default.
    """
    _run(fn, ctx, output="text", profile=None, log_format=None, debug=False, text=None, kwargs=kwargs)


class _Task(Task[Any]):
    """invoke's Task without one quirk: a dashed option whose letters are all taken as short flags.

    invoke then offers the dash itself, and ``--keep-tag`` would show (and parse) as ``--``; such an
    option gets no short flag instead.
    """

    def arg_opts(self, name: str, default: str, taken_names: set[str]) -> dict[str, Any]:
        opts: dict[str, Any] = super().arg_opts(name, default, taken_names)
        opts["names"] = [flag for flag in opts["names"] if flag != "-"]
        return opts


def command(
    *,
    help: Mapping[str, str] | None = None,
    text: TextRenderer | None = None,
    name: str | None = None,
    positional: list[str] | None = None,
    iterable: list[str] | None = None,
    formats: tuple[str, ...] = (),
) -> Callable[[Callable[..., Any]], Task[Any]]:
    """Make an invoke task of ``fn(inv, **options)`` with the common options and error handling.

    ``formats`` are -o values beyond json and text that the task renders itself (``sql.execute``: csv).
    """

    def decorate(fn: Callable[..., Any]) -> Task[Any]:
        own = list(inspect.signature(fn).parameters.values())[1:]  # drop the Invocation

        @functools.wraps(fn)
        def body(
            ctx: InvokeContext,
            *,
            output: str = "text",
            profile: str | None = None,
            log_format: str | None = None,
            debug: bool = False,
            **kwargs: Any,
        ) -> None:
            _run(
                fn,
                ctx,
                output=output,
                profile=profile,
                log_format=log_format,
                debug=debug,
                text=text,
                kwargs=kwargs,
                formats=formats,
            )

        # invoke builds options from the signature: the common ones first so -o, -p, -l and -d are
        # theirs; all keyword-only so the task's own parameters may come without defaults.
        common = [
            inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD),
            inspect.Parameter("output", inspect.Parameter.KEYWORD_ONLY, default="text"),
            inspect.Parameter("profile", inspect.Parameter.KEYWORD_ONLY, default=None),
            inspect.Parameter("log_format", inspect.Parameter.KEYWORD_ONLY, default=None),
            inspect.Parameter("debug", inspect.Parameter.KEYWORD_ONLY, default=False),
        ]
        params = common + [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own]
        body.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        del body.__wrapped__  # so inspect.signature reads __signature__, not fn's
        required = [p.name for p in own if p.default is p.empty]
        return _Task(
            body,
            name=name,
            help={**COMMON_HELP, **(help or {})},
            positional=positional if positional is not None else required,
            iterable=iterable,
        )

    return decorate
