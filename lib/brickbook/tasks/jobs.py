"""Jobs tasks: define jobs, trigger them exactly once, wait for results that fail loudly, fetch output."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from brickbook.command import Invocation, command
from brickbook.errors import UsageError
from brickbook.options import parse_id, parse_params, shown
from brickbook.output import render_table

if TYPE_CHECKING:
    from brickbook.ops.runs import OnInterrupt

__all__ = [
    "cancel_all_runs",
    "cancel_run",
    "create",
    "delete",
    "get",
    "get_run",
    "get_run_output",
    "list_",
    "list_runs",
    "repair_run",
    "reset",
    "run_now",
    "submit",
    "wait_runs",
]

SPEC_HELP = {
    "json": "The spec as inline JSON, or @path to a JSON file (what `jobs.get -o json` shows under "
    "settings).",
    "file": "The spec as a .json, .yaml or .yml file.",
}
WAIT_HELP = {
    "wait": "Wait for the run to finish (default); --no-wait returns once it is triggered.",
    "timeout": "Give up waiting after this long: 90, 90s, 20m or 2h (exit 8; the run keeps going). "
    "Default: no limit.",
    "on_interrupt": "On Ctrl-C/SIGTERM while waiting: cancel the run (default) or detach (leave it running).",
}


def _seconds(timeout: str | None) -> float | None:
    """Read --timeout (see ``brickbook.waiting.parse_duration``; imported late to keep startup quick)."""
    from brickbook.waiting import parse_duration

    return parse_duration(timeout, "--timeout")


def _idempotency_token(given: str | None) -> str | None:
    if given is not None and not (0 < len(given) <= 64 and given.isprintable()):
        raise UsageError("--idempotency-token must be 1 to 64 printable characters")
    return given


def _on_interrupt(value: str) -> OnInterrupt:
    if value not in ("cancel", "detach"):
        raise UsageError(f"--on-interrupt must be cancel or detach, not {shown(value)}")
    return value  # type: ignore[return-value]  # checked against the Literal's values just above


def _load_job_spec(json: str | None, file: str | None) -> dict[str, Any]:
    from brickbook.specs import load_spec, validate_job_spec

    spec = load_spec(json, file)
    validate_job_spec(spec)
    return spec


def _runs_table(rows: list[dict[str, Any]]) -> str:
    flat = [
        {
            "run_id": r.get("run_id"),
            "job_id": r.get("job_id"),
            "state": (r.get("state") or {}).get("life_cycle_state"),
            "result": (r.get("state") or {}).get("result_state"),
            "run_name": r.get("run_name"),
        }
        for r in rows
    ]
    return render_table(flat)


def _summary_text(summary: dict[str, Any]) -> str:
    head = (
        f"run {summary['run_id']}: {summary.get('life_cycle_state')} {summary.get('result_state')}".rstrip()
    )
    lines = [head, f"url: {summary.get('run_page_url')}"]
    if summary.get("tasks"):
        lines.append(
            render_table(summary["tasks"], ["task_key", "run_id", "result_state", "result", "error"])
        )
    return "\n".join(lines)


def _jobs_table(rows: list[dict[str, Any]]) -> str:
    flat = [
        {
            "job_id": r.get("job_id"),
            "name": (r.get("settings") or {}).get("name"),
            "creator_user_name": r.get("creator_user_name"),
        }
        for r in rows
    ]
    return render_table(flat)


@command(help={"name": "Only jobs with exactly this name (case-insensitive)."}, text=_jobs_table, name="list")
def list_(inv: Invocation, *, name: str | None = None) -> list[Any]:
    """List jobs."""
    from brickbook.api import jobs

    if name is not None and not name.strip():
        raise UsageError("--name must not be empty; leave it out to list every job")
    return [j.raw for j in jobs.list_(inv.client, name=name)]


@command(help={"job_id": "The job's id."})
def get(inv: Invocation, job_id: str) -> Any:
    """Show a job and its settings (every task, however many)."""
    from brickbook.api import jobs

    return jobs.get(inv.client, parse_id(job_id, "JOB_ID")).raw


@command(help=SPEC_HELP)
def create(inv: Invocation, *, json: str | None = None, file: str | None = None) -> dict[str, Any]:
    """Create a job from a JSON or YAML spec (validated before any request)."""
    from brickbook.api import jobs

    job_id = jobs.create(inv.client, _load_job_spec(json, file))
    return {"created": job_id, "job_id": job_id}


@command(help={"job_id": "The job's id.", **SPEC_HELP})
def reset(
    inv: Invocation, job_id: str, *, json: str | None = None, file: str | None = None
) -> dict[str, Any]:
    """Replace all of a job's settings with a spec."""
    from brickbook.api import jobs

    number = parse_id(job_id, "JOB_ID")
    jobs.reset(inv.client, number, _load_job_spec(json, file))
    return {"reset": number}


@command(help={"job_id": "The job's id."})
def delete(inv: Invocation, job_id: str) -> dict[str, Any]:
    """Delete a job."""
    from brickbook.api import jobs

    number = parse_id(job_id, "JOB_ID")
    jobs.delete(inv.client, number)
    return {"deleted": number}


MAX_WAITED_RUNS = 1000  # more run ids than one invocation should hold open; the API's own run cap is 2000


def _summaries_text(summaries: list[dict[str, Any]]) -> str:
    return render_table(summaries, ["run_id", "job_id", "life_cycle_state", "result_state", "run_page_url"])


@command(
    help={
        "run_id": "A run to wait for (repeatable); all are waited for on one schedule.",
        "timeout": WAIT_HELP["timeout"],
    },
    iterable=["run_id"],
    text=_summaries_text,
)
def wait_runs(inv: Invocation, *, run_id: list[str] | None = None, timeout: str | None = None) -> list[Any]:
    """Wait for several runs at once (one runs/list per poll): exit 7 naming each run that failed."""
    from brickbook.ops import runs

    given = run_id or []
    if not given:
        raise UsageError("name at least one run with --run-id")
    if len(given) > MAX_WAITED_RUNS:
        raise UsageError(f"at most {MAX_WAITED_RUNS} --run-id values, not {len(given)}")
    numbers = list(dict.fromkeys(parse_id(value, "--run-id") for value in given))
    seconds = _seconds(timeout)
    settled = runs.wait_for_runs(inv.context, numbers, timeout=seconds)
    return [runs.summarize(settled[number]) for number in numbers]


@command(
    help={
        "job_id": "The job's id.",
        "param": "A job parameter as key=value (repeatable); sent as job_parameters, or as notebook_params "
        "for jobs that declare no parameters.",
        "idempotency_token": "Token that makes the trigger exactly-once (default: one per invocation).",
        **WAIT_HELP,
    },
    iterable=["param"],
    text=_summary_text,
)
def run_now(
    inv: Invocation,
    job_id: str,
    *,
    param: list[str] | None = None,
    wait: bool = True,
    timeout: str | None = None,
    idempotency_token: str | None = None,
    on_interrupt: str = "cancel",
) -> dict[str, Any]:
    """Trigger a job exactly once and, by default, wait for it: exit 7 if it ends unsuccessfully."""
    from brickbook.ops import runs

    # Every option is checked before the first request, whether or not it matters with --no-wait.
    number = parse_id(job_id, "JOB_ID")
    params = parse_params(param)
    token = _idempotency_token(idempotency_token)
    seconds = _seconds(timeout)
    interrupt = _on_interrupt(on_interrupt)
    ctx = inv.context
    run_id = runs.trigger_job(ctx, number, params=params, idempotency_token=token)
    summary = runs.follow_run(ctx, run_id, timeout=seconds, on_interrupt=interrupt) if wait else None
    return {"triggered": run_id, **(summary or runs.summary_of(ctx, run_id))}


@command(
    help={
        "idempotency_token": "Token that makes the submit exactly-once (default: generated).",
        **SPEC_HELP,
        **WAIT_HELP,
    },
    text=_summary_text,
)
def submit(
    inv: Invocation,
    *,
    json: str | None = None,
    file: str | None = None,
    wait: bool = True,
    timeout: str | None = None,
    idempotency_token: str | None = None,
    on_interrupt: str = "cancel",
) -> dict[str, Any]:
    """Submit a one-time run from a spec and, by default, wait for it (exit 7 if it fails)."""
    from brickbook.ops import runs

    spec = _load_job_spec(json, file)
    token = _idempotency_token(idempotency_token)
    seconds = _seconds(timeout)
    interrupt = _on_interrupt(on_interrupt)
    ctx = inv.context
    run_id = runs.submit_run(ctx, spec, idempotency_token=token)
    summary = runs.follow_run(ctx, run_id, timeout=seconds, on_interrupt=interrupt) if wait else None
    return {"submitted": run_id, **(summary or runs.summary_of(ctx, run_id))}


@command(help={"run_id": "The run's id."})
def get_run(inv: Invocation, run_id: str) -> Any:
    """Show a run: state, tasks with their own run ids, times and URL."""
    from brickbook.api import jobs

    return jobs.get_run(inv.client, parse_id(run_id, "RUN_ID")).raw


@command(
    help={"run_id": "A job run (every task's output) or a task run (its output)."},
    text=lambda rows: render_table(
        rows, ["task_key", "run_id", "result_state", "truncated", "result", "error"]
    ),
)
def get_run_output(inv: Invocation, run_id: str) -> list[dict[str, Any]]:
    """Show the output of every task of a run: exit value, logs, error and trace."""
    from brickbook.api import jobs
    from brickbook.ops.runs import task_outputs

    return task_outputs(inv.context, jobs.get_run(inv.client, parse_id(run_id, "RUN_ID")))


@command(
    help={"job_id": "Only runs of this job.", "active_only": "Only runs that have not finished."},
    text=_runs_table,
)
def list_runs(inv: Invocation, *, job_id: str | None = None, active_only: bool = False) -> list[Any]:
    """List runs, newest first."""
    from brickbook.api import jobs

    job = parse_id(job_id, "--job-id") if job_id is not None else None
    return [r.raw for r in jobs.list_runs(inv.client, job_id=job, active_only=active_only)]


@command(
    help={
        "run_id": "The run to cancel.",
        "wait": "Wait until the run has stopped.",
        "timeout": WAIT_HELP["timeout"],
    }
)
def cancel_run(
    inv: Invocation, run_id: str, *, wait: bool = False, timeout: str | None = None
) -> dict[str, Any]:
    """Cancel a run (asynchronous unless --wait)."""
    from brickbook.ops import runs

    number = parse_id(run_id, "RUN_ID")
    seconds = _seconds(timeout)
    if wait:
        return {"cancelled": number, **runs.cancel_and_wait(inv.context, number, timeout=seconds)}
    runs.cancel_run(inv.context, number)
    return {"cancelled": number}


@command(help={"job_id": "The job whose active runs to cancel."})
def cancel_all_runs(inv: Invocation, job_id: str) -> dict[str, Any]:
    """Cancel every active run of a job."""
    from brickbook.api import jobs

    number = parse_id(job_id, "JOB_ID")
    jobs.cancel_all_runs(inv.client, number)
    return {"cancelled_runs_of_job": number}


@command(
    help={
        "run_id": "The finished run to repair.",
        "rerun_all_failed": "Re-run every failed task (and what depends on it).",
        "task": "A task key to re-run (repeatable).",
        **WAIT_HELP,
    },
    iterable=["task"],
    text=_summary_text,
)
def repair_run(
    inv: Invocation,
    run_id: str,
    *,
    rerun_all_failed: bool = False,
    task: list[str] | None = None,
    wait: bool = True,
    timeout: str | None = None,
    on_interrupt: str = "cancel",
) -> dict[str, Any]:
    """Re-run the failed (or chosen) tasks of a finished run and, by default, wait for it."""
    from brickbook.ops import runs

    if bool(rerun_all_failed) == bool(task):
        raise UsageError("pass exactly one of --rerun-all-failed and --task KEY")
    if any(not key.strip() for key in task or []):
        raise UsageError("--task must name a task key, not ''")
    number = parse_id(run_id, "RUN_ID")
    seconds = _seconds(timeout)
    interrupt = _on_interrupt(on_interrupt)
    ctx = inv.context
    repair_id = runs.repair(ctx, number, tasks=task or None)
    summary = runs.follow_run(ctx, number, timeout=seconds, on_interrupt=interrupt) if wait else None
    return {"repaired": number, "repair_id": repair_id, **(summary or runs.summary_of(ctx, number))}
