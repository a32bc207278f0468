"""One step of a runbook: a condition that holds after it, timed, logged once, journalled, resumable.

Use it as a context manager (``with rb.step("job 'nightly' matches the spec") as step:``):

- the step is timed with the context clock, binds ``step`` (beside ``runbook`` and ``key``) into every log
  line made during it, logs exactly one ``step.finished`` (outcome changed / unchanged / planned /
  failed / skipped, reason, duration) and is recorded in the key's journal;
- ``step.todo`` is False when an earlier invocation of the key finished the step: the body should then
  only read ``step.result`` (what ``step.done(value)`` recorded), and the step is reported ``skipped``;
- ``step.once(name, trigger=..., cancel=...)`` runs a side effect exactly once per key and attempt (the
  token is on disk before ``trigger(token)`` is called; the id is recorded after);
- Ctrl-C or SIGTERM inside the step runs its cleanups (``cancel`` of its ``once`` effects and
  ``on_interrupt`` callbacks) unless the runbook runs with ``--on-interrupt detach``, records it, and
  raises ``Interrupted`` (exit 130). Cleanups belong to the step: trigger and wait in the same step.
- A step recorded as failed because its remote work failed (exit 7), or cancelled by an interrupt, fails
  again on re-invocation with a hint naming ``--rerun``; any other recorded failure is retried.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from structlog.contextvars import bind_contextvars, reset_contextvars

from brickbook.change import Action, Change, Unknown
from brickbook.errors import BrickbookError, Interrupted, RunFailed
from brickbook.journal import Effect, StepRecord, idempotency_token
from brickbook.redaction import redact
from brickbook.report import StepReport

if TYPE_CHECKING:
    from brickbook.context import Context
    from brickbook.journal import Journal
    from brickbook.report import Report

__all__ = ["RemoteId", "Step"]

RemoteId = int | str
T = TypeVar("T")
RERUN_HINT = "add --rerun to start a new attempt under the same key"
MAX_MESSAGE = 300


def _error_record(error: BaseException) -> dict[str, Any]:
    return {
        "type": type(error).__name__,
        "exit_code": error.exit_code if isinstance(error, BrickbookError) else 1,
        "message": redact(str(error)),
        "error_code": error.error_code if isinstance(error, BrickbookError) else None,
    }


def _sticky(record: StepRecord) -> bool:
    """Tell whether a recorded step ended for good: its remote work failed or was cancelled."""
    if record.status == "cancelled":
        return True
    return record.status == "failed" and (record.error or {}).get("exit_code") == RunFailed.exit_code


class Runbook(Protocol):
    """What a step needs from the runbook it belongs to (``brickbook.runbook.Runbook`` is one)."""

    ctx: Context
    name: str
    key: str
    attempt: int
    journal: Journal
    report: Report
    writable: bool

    @property
    def on_interrupt(self) -> str: ...

    def begin(self, step: Step) -> None: ...

    def end(self, step: Step) -> None: ...

    def save(self) -> None: ...


class Step:
    """One step of a runbook: a condition that holds after it; use it as a context manager."""

    def __init__(self, rb: Runbook, name: str) -> None:
        self.name = name
        self.ctx = rb.ctx.bind(step=name)
        self.todo = True
        self.result: Any = None
        self._rb = rb
        self._touched = False
        self._changes: list[Change] = []
        self._runs: list[dict[str, Any]] = []
        self._outputs: dict[str, Any] = {}
        self._reason: str | None = None
        self._changed: bool | None = None
        self._cleanups: list[tuple[str, Callable[[], object], Effect | None]] = []
        self._record: StepRecord | None = None
        self._started = 0.0
        self._log_tokens: Mapping[str, Any] = {}

    # -- what a runbook calls inside a step --------------------------------------------------------

    def done(self, value: T) -> T:
        """Record the step's result (JSON-serialisable; a later invocation gets it as ``step.result``)."""
        if self._rb.writable:
            try:
                json.dumps(value, allow_nan=False)
            except (TypeError, ValueError) as exc:
                raise TypeError(
                    f"the result of step {self.name!r} must be JSON-serialisable: {exc}"
                ) from None
        self._touched = True
        self.result = value
        return value

    def add(self, *changes: Change) -> None:
        """Attach planned or applied changes; the outcome is ``changed`` when any of them does something."""
        self._touched = True
        self._changes.extend(changes)

    def note(self, reason: str, *, changed: bool | None = None) -> None:
        """Say why the step did what it did; ``changed`` overrides the outcome the changes imply."""
        self._touched = True
        self._reason = reason
        if changed is not None:
            self._changed = changed

    def run(self, run_id: RemoteId, *, url: str | None = None, **fields: Any) -> None:
        """Name a run this step started or reattached to, for the report (with its page URL)."""
        self._runs = [r for r in self._runs if r["run_id"] != run_id]
        self._runs.append({"step": self.name, "run_id": run_id, "url": url, **fields})

    def output(self, name: str, value: Any) -> None:
        """Record an output (e.g. a task's notebook exit value) for the report."""
        self._outputs[name] = value

    def on_interrupt(self, what: str, cleanup: Callable[[], object]) -> None:
        """Register ``cleanup`` (described as ``what``) to run if this step is interrupted."""
        self._cleanups.append((what, cleanup, None))

    def once(
        self,
        name: str,
        *,
        trigger: Callable[[str], RemoteId],
        cancel: Callable[[RemoteId], object] | None = None,
        reattach: Callable[[RemoteId], object] | None = None,
    ) -> RemoteId | Unknown:
        """Run a side effect exactly once per key and attempt; return its remote id (a run id).

        ``trigger(token)`` must pass ``token`` as the request's idempotency token. ``cancel(id)`` undoes it
        on an interrupt; ``reattach(id)`` is called instead of ``trigger`` when an earlier invocation
        already recorded the id. In dry-run nothing is sent and the id is ``Unknown``.
        """
        self._touched = True
        record = self._record
        effect = record.effects.get(name) if record is not None else None
        log = self.ctx.log.bind(effect=name)
        if not self._rb.writable:
            if effect is not None and effect.remote_id is not None:
                return effect.remote_id
            self._changed = True
            self._reason = self._reason or f"would {name}"
            return Unknown(f"{name} id, known after apply")
        assert record is not None  # a writable step always has a record (see __enter__)
        if effect is not None and effect.remote_id is not None:
            remote_id = effect.remote_id
            self._cancel_on_interrupt(name, remote_id, cancel, effect)
            log.info("once.reattached", remote_id=remote_id)
            if reattach is not None:
                reattach(remote_id)
            self._reason = self._reason or f"reattached to {name} {remote_id}"
        else:
            resent = effect is not None
            if effect is None:
                token = idempotency_token(self._rb.name, self._rb.key, self.name, self._rb.attempt, name)
                effect = record.effects[name] = Effect(token=token)
                self._rb.save()  # the token is on disk before the request leaves
            log.info("once.trigger", resent=resent)
            remote_id = trigger(effect.token)
            if isinstance(remote_id, bool) or not isinstance(remote_id, int | str):
                raise TypeError(f"trigger of {name!r} must return a run id (int or str), not {remote_id!r}")
            effect.remote_id = remote_id
            # Cancellable from the moment the id is known: an interrupt while the id is being saved (or
            # logged) must still cancel what was started, not leave it running unmentioned.
            self._cancel_on_interrupt(name, remote_id, cancel, effect)
            self._rb.save()
            log.info("once.triggered", remote_id=remote_id)
            self._changed = True
            self._reason = self._reason or f"started {name} {remote_id}"
        return remote_id

    def _cancel_on_interrupt(
        self, name: str, remote_id: RemoteId, cancel: Callable[[RemoteId], object] | None, effect: Effect
    ) -> None:
        if cancel is not None:
            self._cleanups.append((f"{name} {remote_id}", lambda: cancel(remote_id), effect))

    # -- the context manager -----------------------------------------------------------------------

    def __enter__(self) -> Step:
        self._rb.begin(self)
        self._log_tokens = bind_contextvars(step=self.name)
        try:
            self._start()
        except BaseException:
            self._leave()
            raise
        return self

    def _start(self) -> None:
        rb = self._rb
        self._started = rb.ctx.clock()
        rb.ctx.progress.update(self.name)
        record = rb.journal.steps.get(self.name)
        if record is not None and record.status == "done":
            self.todo, self.result = False, record.result
            self._runs, self._outputs = list(record.runs), dict(record.outputs)
            self._record = record
            return
        if record is not None and _sticky(record):
            error = record.error or {}
            what = "was cancelled by an interrupt" if record.status == "cancelled" else "failed"
            earlier = str(error.get("message", ""))
            self._runs = list(record.runs)
            self._finish("failed", f"{what} in an earlier invocation: {earlier}")
            # The earlier message may be long (a run's error); keep the one error line readable.
            prefix = f"step {self.name!r} {what} in an earlier invocation (attempt {rb.attempt})"
            room = max(80, MAX_MESSAGE - len(prefix))
            message = f"{prefix}: {earlier if len(earlier) <= room else earlier[: room - 1] + '…'}"
            raise RunFailed(message, result=error).with_hint(RERUN_HINT)
        if record is None:
            record = StepRecord(status="started", started_at=rb.ctx.wall())
        if rb.writable:
            record.status, record.error = "started", None
            rb.journal.steps[self.name] = record
            rb.save()
        self._record = record

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if exc is None:
                if not self.todo and not self._touched:
                    self._finish("skipped", "done in an earlier invocation")
                else:
                    self._complete()
                return
            if isinstance(exc, KeyboardInterrupt | Interrupted):
                raise self._interrupted(exc) from None
            self._store("failed", error=_error_record(exc))
            reason = str(exc) if isinstance(exc, BrickbookError) else f"{type(exc).__name__}: {exc}"
            self._finish("failed", redact(reason))
            return
        finally:
            self._leave()

    def _outcome(self) -> str:
        changed = self._changed
        if changed is None:
            changed = any(c.changed for c in self._changes) if self._changes else None
        if self._rb.ctx.dry_run:
            return "unchanged" if changed is False else "planned"
        return "changed" if changed else "unchanged"

    def _default_reason(self) -> str:
        moving = [c for c in self._changes if c.changed]
        if moving:
            return "; ".join(c.describe() for c in moving[:3]) + (" …" if len(moving) > 3 else "")
        if self._changes:
            return "already as wanted"
        return ""

    def _complete(self) -> None:
        outcome = self._outcome()
        reason = self._reason if self._reason is not None else self._default_reason()
        self._store("done", outcome=outcome, reason=reason)
        self._finish(outcome, reason)

    def _interrupted(self, exc: BaseException) -> Interrupted:
        rb = self._rb
        pending = [what for what, _cleanup, _effect in self._cleanups]
        cancelled: list[str] = []
        if rb.on_interrupt == "detach":
            message = (
                f"interrupted: left {', '.join(pending)} running; re-invoke with the same key to reattach"
                if pending
                else "interrupted"
            )
        else:
            failed: list[str] = []
            for what, cleanup, effect in reversed(self._cleanups):
                try:
                    cleanup()
                except KeyboardInterrupt:  # a second Ctrl-C: stop cleaning up
                    self.ctx.log.warning("cleanup.interrupted", what=what)
                    failed.append(what)
                    break
                except Exception as error:
                    self.ctx.log.error("cleanup.failed", what=what, reason=redact(str(error)))
                    failed.append(what)
                else:
                    self.ctx.log.warning("cleanup.done", what=what)
                    cancelled.append(what)
                    if effect is not None:
                        effect.cancelled = True
            parts = [f"cancelled {', '.join(cancelled)}"] if cancelled else []
            parts += [f"could not cancel {', '.join(failed)}"] if failed else []
            message = "interrupted" + (f": {'; '.join(parts)}" if parts else "")
        if isinstance(exc, Interrupted) and not pending:
            message = exc.message
        status = "cancelled" if cancelled else "interrupted"
        self._store(status, error={**_error_record(Interrupted(message)), "interrupt": status})
        self._finish("failed", message)
        return Interrupted(message)

    def _store(self, status: str, *, outcome: str | None = None, reason: str = "", error: Any = None) -> None:
        rb = self._rb
        record = self._record
        if not rb.writable or record is None:
            return
        record.status, record.error = status, error
        record.finished_at = rb.ctx.wall()
        record.duration_seconds = round(rb.ctx.clock() - self._started, 3)
        record.outcome, record.reason = outcome, reason
        record.runs, record.outputs = self._runs, self._outputs
        record.changes = [c.to_dict() for c in self._changes]
        if status == "done":
            record.result = self.result
        rb.save()

    def _finish(self, outcome: str, reason: str) -> None:
        rb = self._rb
        duration = rb.ctx.clock() - self._started
        rb.ctx.progress.clear()
        level = self.ctx.log.error if outcome == "failed" else self.ctx.log.info
        level(
            "step.finished",
            outcome=outcome,
            reason=reason,
            duration_seconds=round(duration, 3),
            changes=sum(1 for c in self._changes if c.action is not Action.UNCHANGED),
            attempt=rb.attempt,
        )
        changes = [] if outcome == "skipped" else list(self._changes)
        rb.report.steps.append(StepReport(self.name, outcome, reason, duration, changes))
        rb.report.runs += self._runs
        rb.report.outputs.update(self._outputs)

    def _leave(self) -> None:
        if self._log_tokens:
            reset_contextvars(**self._log_tokens)
            self._log_tokens = {}
        self._rb.end(self)
