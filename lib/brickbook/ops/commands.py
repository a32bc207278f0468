"""Run code on a running cluster through the Command Execution API 1.2, start to finish.

``run_command`` creates an execution context, waits until it runs, executes one command, waits for
its answer and always destroys the context again (on success, failure, timeout and Ctrl-C alike), so
no REPL is left behind on the cluster. One deadline covers all of the waiting (``None``: none); when
it passes the command is cancelled and WaitTimeout (exit 8) raised.

A command that raised is *Finished* with an ``error`` result on the wire; here it raises RunFailed
(exit 7) whose message is the error's one-line summary (the REPL's HTML markup removed) and whose
``result`` is the ``CommandResult``, ``cause`` (the traceback) included. Cancelled or Error commands
raise RunFailed too.

``read_code`` and ``check_language`` are the checks before any request (like ``ops.sql.read_statement``,
they name the options the code comes from).
"""

from __future__ import annotations

import contextlib
import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from brickbook.api import commands
from brickbook.api.commands import CommandStatus
from brickbook.errors import ApiError, RunFailed, TransportError, UsageError, WaitTimeout
from brickbook.options import shown
from brickbook.waiting import Observation, wait_for

if TYPE_CHECKING:
    from brickbook.context import Context

__all__ = [
    "LANGUAGES",
    "MAX_CODE_BYTES",
    "CommandResult",
    "check_language",
    "plain",
    "read_code",
    "run_command",
]

MAX_CODE_BYTES = 1024 * 1024
LANGUAGES = ("python", "sql", "scala", "r")

_TAG = re.compile(r"<[^>]*>")
_ANSI = re.compile(r"(\x9B|\x1B\[)[0-?]*[ -/]*[@-~]")


def plain(text: str, *, markup: bool = True) -> str:
    """Text the REPL coloured for a browser as plain text: ANSI colours and (``markup``) HTML tags removed.

    A summary is HTML (``<span class='ansi-red-fg'>ValueError</span>: ...``); a cause is a traceback
    whose ``<module>`` must stay, so it loses its colours only.
    """
    text = _ANSI.sub("", text)
    return html.unescape(_TAG.sub("", text)) if markup else text


@dataclass(frozen=True)
class CommandResult:
    """A command's end: its status and results, as plain values."""

    cluster_id: str
    command_id: str
    status: str
    result_type: str
    data: Any = None
    summary: str = ""
    cause: str = ""
    truncated: bool = False
    schema: tuple[Mapping[str, Any], ...] = ()

    @classmethod
    def from_status(cls, cluster_id: str, seen: CommandStatus) -> CommandResult:
        results = seen.results
        schema = results.get("schema")
        return cls(
            cluster_id=cluster_id,
            command_id=seen.command_id,
            status=seen.status,
            result_type=seen.result_type,
            data=results.get("data"),
            summary=plain(str(results.get("summary") or "")),
            cause=plain(str(results.get("cause") or ""), markup=False),
            truncated=bool(results.get("truncated")),
            schema=tuple(c for c in schema if isinstance(c, Mapping)) if isinstance(schema, list) else (),
        )

    @property
    def failed(self) -> bool:
        return self.status != "Finished" or self.result_type == "error"

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "cluster_id": self.cluster_id,
            "command_id": self.command_id,
            "status": self.status,
            "result_type": self.result_type,
            "data": self.data,
        }
        if self.truncated:
            out["truncated"] = True
        if self.schema:
            out["columns"] = [str(c.get("name", "")) for c in self.schema]
        if self.summary or self.cause:
            out["summary"], out["cause"] = self.summary, self.cause
        return out


def read_code(command: str | None, file: str | None) -> str:
    """The code given inline or in a file (exactly one): UTF-8 text, not blank, no NUL, at most 1 MiB."""
    from pathlib import Path

    if (command is None) == (file is None):
        raise UsageError("give the code to run with --command CODE or --file PATH (exactly one)")
    if file is not None:
        try:
            with Path(file).open("rb") as stream:
                raw = stream.read(MAX_CODE_BYTES + 1)
            command = raw.decode("utf-8")
        except OSError as error:
            raise UsageError(f"--file: cannot read {shown(file)}: {error.strerror or error}") from None
        except UnicodeDecodeError:
            raise UsageError(f"--file: {shown(file)} is not UTF-8 text") from None
    assert command is not None  # one of the two is set: checked above
    if len(command.encode("utf-8", "surrogatepass")) > MAX_CODE_BYTES:
        raise UsageError("the code is larger than 1 MiB")
    if not command.strip() or "\x00" in command:
        raise UsageError("the code is empty" if not command.strip() else "the code contains a NUL character")
    return command


def check_language(value: str) -> str:
    """A command language the API knows, lower case (any case given)."""
    language = value.strip().lower()
    if language not in LANGUAGES:
        raise UsageError(f"--language must be one of {', '.join(LANGUAGES)}, not {shown(value)}")
    return language


def _observe_context(ctx: Context, cluster_id: str, context_id: str) -> Observation[str]:
    status = commands.context_status(ctx.client, cluster_id, context_id)
    failure = "could not start (status Error)" if status == "Error" else None
    return Observation(status, state=status, done=status == "Running" or failure is not None, failure=failure)


def _observe_command(
    ctx: Context, cluster_id: str, context_id: str, command_id: str
) -> Observation[CommandStatus]:
    seen = commands.command_status(ctx.client, cluster_id, context_id, command_id)
    return Observation(seen, state=seen.status, done=seen.done)


def _left(ctx: Context, started: float, timeout: float | None) -> float | None:
    return None if timeout is None else max(0.0, timeout - (ctx.clock() - started))


def run_command(
    ctx: Context, cluster_id: str, command: str, *, language: str = "python", timeout: float | None = None
) -> CommandResult:
    """Run ``command`` in a fresh context on the cluster; return its result (else RunFailed, WaitTimeout)."""
    bound = ctx.bind(cluster_id=cluster_id)
    started = ctx.clock()
    context_id = commands.create_context(ctx.client, cluster_id, language)
    bound.log.info("command.context_created", context_id=context_id, language=language)
    try:
        wait_for(
            bound,
            lambda: _observe_context(ctx, cluster_id, context_id),
            what=f"execution context on cluster {cluster_id}",
            timeout=_left(ctx, started, timeout),
        )
        command_id = commands.execute(ctx.client, cluster_id, context_id, language, command)
        try:
            seen = wait_for(
                bound.bind(command_id=command_id),
                lambda: _observe_command(ctx, cluster_id, context_id, command_id),
                what=f"command on cluster {cluster_id}",
                timeout=_left(ctx, started, timeout),
            )
        except WaitTimeout:
            with contextlib.suppress(ApiError, TransportError):  # the context's end stops it anyway
                commands.cancel(ctx.client, cluster_id, context_id, command_id)
            raise
    finally:
        try:
            commands.destroy_context(ctx.client, cluster_id, context_id)
        except (ApiError, TransportError) as exc:  # the cluster may have gone, taking the context along
            bound.log.warning("command.context_not_destroyed", context_id=context_id, error=str(exc))
    result = CommandResult.from_status(cluster_id, seen)
    bound.log.info(
        "command.finished", command_id=command_id, status=result.status, result_type=result.result_type
    )
    if result.status == "Finished" and result.result_type == "error":
        summary = result.summary.strip().splitlines()[-1] if result.summary.strip() else "an error"
        raise RunFailed(f"command on cluster {cluster_id} failed: {summary}", result=result)
    if result.failed:
        reason = result.summary.strip() or "no message"
        raise RunFailed(f"command on cluster {cluster_id} ended {result.status}: {reason}", result=result)
    return result
