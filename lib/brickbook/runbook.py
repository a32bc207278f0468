"""The runbook engine: run a runbook function under its key's lock and journal, report, and ``@runbook``.

A runbook is a plain function over a ``Runbook``, reading like a checklist (see ``brickbook.step`` for
what a step does)::

    @runbook(name="run-job", help={"job_id": "The job to run."})
    def run_job(rb: Runbook, *, job_id: str) -> None:
        ctx = rb.ctx
        with rb.step(f"job {job_id} has run for this key") as step:
            if step.todo:  # False when an earlier invocation of this key finished the step
                run_id = step.once(
                    "run",
                    trigger=lambda token: trigger_job(ctx, int(job_id), params=None, idempotency_token=token),
                    cancel=lambda run_id: cancel_run(ctx, int(run_id)),
                )
                if isinstance(run_id, Unknown):  # a dry run triggers nothing
                    return
                step.run(run_id)
                step.done(summarize(wait_for_run(ctx, int(run_id), timeout=None)))

``execute`` takes the key's lock (``brickbook.lock``), loads or starts its journal (``brickbook.journal``;
``--rerun`` starts a new attempt), runs the function and returns the ``Report`` and the failure, if any.
``@runbook`` makes an invoke task of the function with the common options (through
``brickbook.command.command``) and the runbook options (``--dry-run``, ``--key``, ``--state-dir``,
``--wait-lock``, ``--rerun``, ``--on-interrupt``, ``--notify``, ``--notify-on``), all validated before the
first request; it prints the report (text, or one JSON object with ``-o json``) on success and failure
alike, and exits with the failure's code. Dry-run writes nothing: no state dir, no lock, no journal, no
side effect.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import os
import sys
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from brickbook.errors import BrickbookError, Interrupted, UsageError
from brickbook.journal import (
    Journal,
    check_state_dir,
    default_key,
    ensure_state_dir,
    resolve_state_dir,
    safe_name,
    validate_key,
)
from brickbook.lock import Lock, acquire_lock
from brickbook.report import Report, render_report_text, send_notification, validate_webhook_url

if TYPE_CHECKING:
    from invoke.tasks import Task

    from brickbook.command import Invocation
    from brickbook.context import Context
    from brickbook.step import Step

__all__ = ["RUNBOOK_HELP", "OnInterrupt", "Runbook", "execute", "runbook"]

OnInterrupt = Literal["cancel", "detach"]


class Runbook:
    """What a runbook function gets: the context, the dry-run flag, and ``step(...)``."""

    def __init__(
        self,
        ctx: Context,
        *,
        name: str,
        key: str,
        journal: Journal,
        on_interrupt: OnInterrupt,
        report: Report,
    ) -> None:
        self.ctx = ctx
        self.name = name
        self.key = key
        self.journal = journal
        self.on_interrupt = on_interrupt
        self.report = report
        self.attempt = journal.attempt
        self.writable = not ctx.dry_run
        self._seen: set[str] = set()
        self._active: Step | None = None

    @property
    def state_dir(self) -> Path:
        """Return the state dir (``--state-dir``): the journals, and what ops remember between keys."""
        return self.journal.path.parent.parent

    @property
    def dry_run(self) -> bool:
        """Tell whether this is a dry run (read only: plan, print, stop)."""
        return self.ctx.dry_run

    def step(self, name: str) -> Step:
        """Return the step named by the condition that holds after it; use it in a ``with``."""
        from brickbook.step import Step

        return Step(self, name)

    def begin(self, step: Step) -> None:
        """Enter ``step`` (called by the step): steps do not nest and names are unique."""
        if self._active is not None:
            raise ValueError(
                f"step {step.name!r} starts inside step {self._active.name!r}: steps do not nest"
            )
        if step.name in self._seen:
            raise ValueError(f"step {step.name!r} appears twice: step names must be unique in a runbook")
        self._seen.add(step.name)
        self._active = step

    def end(self, step: Step) -> None:
        """Leave ``step`` (called by the step)."""
        if self._active is step:
            self._active = None

    def save(self) -> None:
        """Write the journal (only when this invocation may write)."""
        if self.writable:
            self.journal.save()


def _start(
    ctx: Context,
    name: str,
    key: str,
    state_dir: Path,
    *,
    wait_lock: float,
    rerun: bool,
    fsync: Callable[[int], None],
) -> tuple[Journal, Lock | None]:
    folder = state_dir / safe_name(name)
    path = folder / f"{safe_name(key)}.json"
    # Check and read first, creating nothing: a bad state dir or a corrupt journal stops here.
    check_state_dir(state_dir)
    existing = Journal.load(path, runbook=name, key=key, wall=ctx.wall, fsync=fsync)
    if ctx.dry_run:  # read only: no folders, no lock, no writes
        if existing is not None and rerun:
            existing.new_attempt()
        return existing or Journal(path, runbook=name, key=key, wall=ctx.wall, fsync=fsync), None
    ensure_state_dir(state_dir)
    ensure_state_dir(folder)
    lock = acquire_lock(
        folder / f"{safe_name(key)}.lock", ctx=ctx, wait_seconds=wait_lock, runbook=name, key=key
    )
    try:
        from brickbook.localfs import temp_glob_for

        # This key's leftovers from a crash mid-write (we hold its lock); other keys' temporary files
        # in the same folder may belong to writes in progress.
        for leftover in folder.glob(temp_glob_for(path)):
            leftover.unlink(missing_ok=True)
        journal = Journal.load(path, runbook=name, key=key, wall=ctx.wall, fsync=fsync)
        if journal is None:
            journal = Journal(path, runbook=name, key=key, wall=ctx.wall, fsync=fsync)
        elif rerun:
            ctx.log.info("journal.rerun", previous_attempt=journal.attempt, previous_status=journal.status)
            journal.new_attempt()
        else:
            ctx.log.info("journal.resumed", attempt=journal.attempt, previous_status=journal.status)
        journal.status = "running"
        journal.save()
    except BaseException:
        lock.release()
        raise
    return journal, lock


def execute(
    fn: Callable[..., object],
    ctx: Context,
    *,
    name: str,
    key: str,
    options: Mapping[str, Any],
    state_dir: Path,
    wait_lock: float = 0.0,
    rerun: bool = False,
    on_interrupt: OnInterrupt = "cancel",
    fsync: Callable[[int], None] = os.fsync,
) -> tuple[Report, BaseException | None]:
    """Run ``fn(rb, **options)`` under the key's lock and journal; return the report and the failure."""
    from structlog.contextvars import bound_contextvars

    from brickbook.command import describe_error, exit_code_for

    ctx = ctx.bind(runbook=name, key=key)
    report = Report(runbook=name, key=key, started_at=ctx.wall(), dry_run=ctx.dry_run)
    started = ctx.clock()
    journal: Journal | None = None
    lock: Lock | None = None
    failure: BaseException | None = None
    report.status = "failed"  # until fn returns: also what a SystemExit out of fn leaves recorded
    with bound_contextvars(runbook=name, key=key):
        try:
            journal, lock = _start(ctx, name, key, state_dir, wait_lock=wait_lock, rerun=rerun, fsync=fsync)
            report.attempt = journal.attempt
            report.journal = str(journal.path) if lock is not None else None
            rb = Runbook(ctx, name=name, key=key, journal=journal, on_interrupt=on_interrupt, report=report)
            fn(rb, **options)
            report.status = "planned" if ctx.dry_run else "succeeded"
        except KeyboardInterrupt:  # outside any step (a step turns it into Interrupted itself)
            failure = Interrupted("interrupted")
            report.status = "interrupted"
        except Exception as error:
            failure = error
            report.status = "interrupted" if isinstance(error, Interrupted) else "failed"
        finally:
            ctx.progress.close()
            if lock is not None and journal is not None:
                journal.status = report.status
                try:
                    journal.save()
                except (BrickbookError, ValueError) as error:  # the failure already being reported wins
                    ctx.log.error("journal.save_failed", journal=str(journal.path), reason=str(error))
                lock.release()
    report.duration_seconds = ctx.clock() - started
    if failure is not None:
        # The same words as the error line on stderr (hint included), as in command()'s JSON envelope.
        report.fail(failure, exit_code_for(failure), describe_error(failure))
    ctx.log.info("runbook.finished", status=report.status, exit_code=report.exit_code, attempt=report.attempt)
    return report, failure


# -- the @runbook decorator ---------------------------------------------------------------------------

RUNBOOK_OPTIONS: dict[str, Any] = {
    "dry_run": False,
    "key": None,
    "state_dir": None,
    "wait_lock": None,
    "rerun": False,
    "on_interrupt": "cancel",
    "notify": None,
    "notify_on": None,
}
RUNBOOK_HELP = {
    "dry_run": "Read only: print the plan (what each step would create, update or delete) and exit 0.",
    "key": "Invocation key: re-invoking with the same key resumes it (done steps are skipped, started runs "
    "reattached). Default: the runbook, workspace host and arguments plus the UTC date.",
    "state_dir": "Where journals and locks are kept. Default: $XDG_STATE_HOME/brickbook or "
    "~/.local/state/brickbook.",
    "wait_lock": "When another invocation holds this key, wait up to this long (30, 30s, 5m) instead of "
    "exiting 9.",
    "rerun": "Start a new attempt under the same key (new runs), whatever earlier attempts did.",
    "on_interrupt": "On Ctrl-C/SIGTERM: cancel what this invocation started (default) or detach (leave "
    "it running; re-invoke with the same key to reattach).",
    "notify": "POST the report as JSON, with a Slack-compatible text field, to this http(s) URL.",
    "notify_on": "When to notify: failure (default) or always.",
}
_COMMON = ("output", "profile", "log_format", "debug")


def _wait_seconds(value: str | None) -> float:
    from brickbook.waiting import parse_duration

    if value is None:
        return 0.0
    if value.strip() in ("0", "0s", "0m", "0h"):
        return 0.0
    seconds = parse_duration(value, "--wait-lock")
    if seconds is None:
        raise UsageError("--wait-lock must be a duration such as 30, 30s or 5m")
    return seconds


def _invoke(
    fn: Callable[..., object],
    inv: Invocation,
    *,
    name: str,
    check: Callable[..., Mapping[str, Any]] | None,
    options: dict[str, Any],
    dry_run: bool,
    key: str | None,
    state_dir: str | None,
    wait_lock: str | None,
    rerun: bool,
    on_interrupt: str,
    notify: str | None,
    notify_on: str | None,
) -> dict[str, Any]:
    """Validate the runbook options, run it, notify, and render its report on failure too."""
    from invoke.exceptions import Exit

    from brickbook.command import describe_error
    from brickbook.output import render
    from brickbook.redaction import redact

    # Everything is checked before the state dir, the lock or the first request.
    if on_interrupt not in ("cancel", "detach"):
        raise UsageError(f"--on-interrupt must be cancel or detach, not {on_interrupt!r}")
    if notify_on is not None and notify_on not in ("failure", "always"):
        raise UsageError(f"--notify-on must be failure or always, not {notify_on!r}")
    if notify_on is not None and notify is None:
        raise UsageError("--notify-on needs --notify URL")
    url = validate_webhook_url(notify) if notify is not None else None
    wait = _wait_seconds(wait_lock)
    if key is not None:
        validate_key(key)
    state = resolve_state_dir(state_dir)
    if check is not None:
        options = dict(check(**options))
    config = inv.config
    ctx = dataclasses.replace(inv.context, dry_run=bool(dry_run))
    key = key if key is not None else default_key(name, host=config.host, options=options, wall=ctx.wall())
    report, failure = execute(
        fn,
        ctx,
        name=name,
        key=key,
        options=options,
        state_dir=state,
        wait_lock=wait,
        rerun=bool(rerun),
        on_interrupt="detach" if on_interrupt == "detach" else "cancel",
    )
    data = report.to_dict()
    if url is not None and (failure is not None or notify_on == "always"):
        send_notification(data, url, log=ctx.log)
    if failure is None:
        return data
    # The report is the result even on failure: print it, then the one error line and the exit code
    # (raising Exit directly, so that command() does not print its JSON error envelope as well).
    render(data, inv.output, text=render_report_text)
    if inv.debug:
        sys.stderr.write(redact("".join(traceback.format_exception(failure))))
    raise Exit(f"error: {redact(describe_error(failure))}", code=report.exit_code)


def runbook(
    *,
    name: str,
    help: Mapping[str, str] | None = None,
    check: Callable[..., Mapping[str, Any]] | None = None,
    positional: list[str] | None = None,
    iterable: list[str] | None = None,
    acts_only_with: str | None = None,
) -> Callable[[Callable[..., object]], Task[Any]]:
    """Make an invoke task of ``fn(rb: Runbook, **options)`` with the common and the runbook options.

    ``check(**options)`` validates the runbook's own options and returns them normalised; it runs
    before the state dir, the lock or any request, and its result also feeds the default key.
    ``acts_only_with`` names a boolean option of ``fn`` (``apply``) without which every invocation is a
    dry run, whatever ``--dry-run`` says: for runbooks whose plan should be read before anything acts.
    """
    from brickbook.command import command

    def decorate(fn: Callable[..., object]) -> Task[Any]:
        own = list(inspect.signature(fn).parameters.values())[1:]  # drop the Runbook
        clash = [p.name for p in own if p.name in RUNBOOK_OPTIONS or p.name in _COMMON]
        if clash:
            raise ValueError(f"runbook {name!r}: option(s) {clash} are reserved for every runbook")

        def body(inv: Invocation, **kwargs: Any) -> dict[str, Any]:
            settings = {option: kwargs.pop(option, default) for option, default in RUNBOOK_OPTIONS.items()}
            if acts_only_with is not None and not kwargs.get(acts_only_with):
                settings["dry_run"] = True
            return _invoke(fn, inv, name=name, check=check, options=kwargs, **settings)

        functools.update_wrapper(body, fn)
        del body.__wrapped__  # type: ignore[attr-defined]  # so command() reads __signature__
        keyword = inspect.Parameter.KEYWORD_ONLY
        params = [inspect.Parameter("inv", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
        params += [inspect.Parameter(o, keyword, default=d) for o, d in RUNBOOK_OPTIONS.items()]
        params += [p.replace(kind=keyword) for p in own]
        body.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        return command(
            help={**RUNBOOK_HELP, **(help or {})},
            text=render_report_text,
            name=name,
            positional=positional,
            iterable=iterable,
        )(body)

    return decorate
