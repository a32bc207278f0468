"""``runbook.run-job``: the cron runbook. Trigger a job exactly once per key, wait, print its outputs.

Steps::

    job 'nightly' exists                        -> the job id (by id, or by exact name)
    job 'nightly' has run once for this key     -> run-now with the key's token, wait, every task's output

A re-invocation with the same key (cron fired twice, or a crash) reattaches to the run already started
instead of starting another; a run that ended unsuccessfully exits 7, and stays failed for the key
(``--rerun`` starts a new attempt). ``--repair`` reruns only the failed tasks of the key's failed run:
each repair is made exactly once too, because the service refuses a repair based on an outdated
``latest_repair_id`` and the runbook records the one it based its repair on before sending it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from brickbook.errors import UsageError
from brickbook.runbook import runbook

if TYPE_CHECKING:
    from brickbook.context import Context
    from brickbook.runbook import Runbook
    from brickbook.step import Step

__all__ = ["check_options", "resolve_job", "run_job", "wait_and_report"]

RUN_EFFECT = "run"


def check_options(
    *, job: str, param: list[str] | None = None, timeout: str | None = None, repair: bool = False
) -> dict[str, Any]:
    """Validate the options before anything else; return them normalised (also the default key's input)."""
    from brickbook.options import parse_params
    from brickbook.waiting import parse_duration

    name = job.strip()
    if not name:
        raise UsageError("JOB must be a job id or a job name, not empty")
    params = parse_params(param or [])
    parse_duration(timeout)  # refused here, before any request, when malformed
    return {
        "job": name,
        "param": [f"{k}={v}" for k, v in params.items()],
        "timeout": timeout,
        "repair": repair,
    }


def resolve_job(ctx: Context, job: str) -> int:
    """Return the id of the job named by id or by exact name (NotFound, exit 4, when there is none)."""
    from brickbook.api import jobs
    from brickbook.errors import ResourceDoesNotExist
    from brickbook.ops.jobs import find_job
    from brickbook.options import parse_id

    if job.isascii() and job.isdigit():
        return jobs.get(ctx.client, parse_id(job, "JOB")).job_id
    found = find_job(ctx, job)
    if found is None:
        raise ResourceDoesNotExist(f"no job is named {job!r}", http_status=404).with_hint(
            "check the name with: brickbook jobs.list --name NAME"
        )
    return found.job_id


def wait_and_report(ctx: Context, step: Step, run_id: int, *, timeout: float | None) -> dict[str, Any]:
    """Wait for a run this step owns and record its URL and every task's output in the report."""
    from brickbook.errors import RunFailed
    from brickbook.ops.runs import summarize, task_outputs, wait_for_run

    step.run(run_id)
    try:
        run = wait_for_run(ctx, run_id, timeout=timeout)
    except RunFailed as failed:
        summary = failed.result if isinstance(failed.result, dict) else {}
        step.run(run_id, url=summary.get("run_page_url"), result_state=summary.get("result_state"))
        for task in summary.get("tasks") or []:
            step.output(str(task.get("task_key")), task.get("error") or task.get("result"))
        raise
    outputs = task_outputs(ctx, run)
    step.run(run_id, url=run.run_page_url, result_state=str(run.result_state or ""))
    for output in outputs:
        step.output(str(output["task_key"]), output.get("result"))
    return summarize(run, outputs)


def _failed_run(rb: Runbook, step_name: str) -> int | None:
    """Return the run id the key's run step recorded, when that step ended failed."""
    record = rb.journal.steps.get(step_name)
    effect = record.effects.get(RUN_EFFECT) if record is not None else None
    if record is None or record.status != "failed" or effect is None or effect.remote_id is None:
        return None
    return int(effect.remote_id)


def _repair_steps(rb: Runbook, run_id: int, timeout: float | None) -> None:
    from brickbook.api import jobs
    from brickbook.change import Unknown
    from brickbook.ops.runs import latest_repair_id, repair

    ctx = rb.ctx
    number, status = _last_repair(rb, run_id)
    if status == "failed":  # the run failed again after that repair: this is a new one
        number += 1
    # Record what the repair is based on before sending it: if its answer is lost, a re-invocation
    # finds a newer repair than this base in the run's history and takes it instead of repairing twice.
    with rb.step(f"run {run_id} repair {number} is based on its latest repair") as step:
        base = step.result if not step.todo else step.done(latest_repair_id(_history(ctx, run_id)))

    def trigger(_token: str) -> int:
        latest = latest_repair_id(_history(ctx, run_id))
        if latest is not None and latest != base:
            ctx.log.info("repair.reattached", run_id=run_id, repair_id=latest)
            return latest
        return repair(ctx, run_id)

    with rb.step(_repair_step(run_id, number)) as step:
        if step.todo:
            repair_id = step.once(
                "repair", trigger=trigger, cancel=lambda _id: jobs.cancel_run(ctx.client, run_id)
            )
            if isinstance(repair_id, Unknown):
                step.note(f"would rerun the failed tasks of run {run_id}")
                return
            step.done(wait_and_report(ctx, step, run_id, timeout=timeout))


def _repair_step(run_id: int, number: int) -> str:
    return f"run {run_id} repair {number}: its failed tasks have rerun"


def _last_repair(rb: Runbook, run_id: int) -> tuple[int, str | None]:
    """Return the number of the key's latest repair of ``run_id`` and how its step ended (1, None: none)."""
    number = 1
    while _repair_step(run_id, number + 1) in rb.journal.steps:
        number += 1
    record = rb.journal.steps.get(_repair_step(run_id, number))
    return number, record.status if record is not None else None


def _history(ctx: Context, run_id: int) -> Any:
    from brickbook.api import jobs

    return jobs.get_run(ctx.client, run_id, include_history=True)


@runbook(
    name="run-job",
    help={
        "job": "The job: its id, or its exact name.",
        "param": "A job or notebook parameter as NAME=VALUE; repeat for more.",
        "timeout": "Longest local wait (90s, 20m, 2h); the run keeps going after it (exit 8). "
        "Default: no limit.",
        "repair": "Rerun only the failed tasks of this key's failed run, instead of triggering the job.",
    },
    check=check_options,
    positional=["job"],
    iterable=["param"],
)
def run_job(
    rb: Runbook, *, job: str, param: list[str] | None = None, timeout: str | None = None, repair: bool = False
) -> None:
    """Trigger a job exactly once per key, wait for it and print every task's output (exit 7 if it fails)."""
    from brickbook.change import Unknown
    from brickbook.ops.runs import cancel_run, trigger_job
    from brickbook.options import parse_params
    from brickbook.waiting import parse_duration

    ctx = rb.ctx
    seconds = parse_duration(timeout)
    params = parse_params(param or [])
    with rb.step(f"job {job!r} exists") as step:
        job_id = int(step.result) if not step.todo else step.done(resolve_job(ctx, job))
    run_step = f"job {job_id} has run once for this key"
    failed = _failed_run(rb, run_step)
    if failed is not None and not repair and _last_repair(rb, failed)[1] == "done":
        _repair_steps(rb, failed, seconds)  # repaired since: report that (its steps are all done)
        return
    if repair:
        if failed is None:
            raise UsageError(f"--repair: this key has no failed run of job {job_id} to repair").with_hint(
                "run it first without --repair, or pass the --key of the failed invocation"
            )
        _repair_steps(rb, failed, seconds)
        return
    with rb.step(run_step) as step:
        if step.todo:
            run_id = step.once(
                RUN_EFFECT,
                trigger=lambda token: trigger_job(ctx, job_id, params=params, idempotency_token=token),
                cancel=lambda run: cancel_run(ctx, int(run)),
            )
            if isinstance(run_id, Unknown):
                step.note(f"would trigger job {job_id} once for this key")
                return
            step.done(wait_and_report(ctx, step, int(run_id), timeout=seconds))
