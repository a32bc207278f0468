"""``runbook.deploy-notebook-job``: import a notebook, make sure its job matches, run it once, report.

Steps::

    notebooks in /Shared/etl match etl/               import what differs (create / update / unchanged)
    job 'etl' matches its spec                        create it, reset it only if its settings differ
    cluster C was TERMINATED before the run           (with --cluster-id) remember how it was found
    job 'etl' has run once for this key               run-now with the key's token, wait, every output
    cluster C is as the runbook found it              terminate it again if the run started it

The run step is exactly-once per key (a re-invocation reattaches to the run it started); the cluster is
put back as it was found even when the run fails. ``--dry-run`` prints what each step would change and
sends no write.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from brickbook.errors import UsageError
from brickbook.runbook import runbook

if TYPE_CHECKING:
    from brickbook.change import Change, Unknown
    from brickbook.context import Context
    from brickbook.runbook import Runbook

__all__ = ["check_options", "deploy_notebook_job", "job_settings"]

MANAGED_TAG = "brickbook-runbook"
STOPPED = ("TERMINATED", "TERMINATING")


def check_options(
    *,
    source: str,
    dest: str,
    job_name: str | None = None,
    entry: str | None = None,
    cluster_id: str | None = None,
    new_cluster: str | None = None,
    param: list[str] | None = None,
    timeout: str | None = None,
) -> dict[str, Any]:
    """Validate every option before the first request; return them normalised."""
    from brickbook.localfs import local_path
    from brickbook.options import parse_params
    from brickbook.paths import workspace_path
    from brickbook.waiting import parse_duration

    local = local_path(source)
    if not local.exists():
        raise UsageError(f"SOURCE {source!r} does not exist: name a notebook file or a folder of notebooks")
    dest = workspace_path(dest)
    if dest == "/":
        raise UsageError("DEST must be a path below /, e.g. /Shared/etl")
    if local.is_dir():
        if not entry:
            raise UsageError("SOURCE is a folder: name the notebook to run with --entry (its path in DEST)")
        entry = workspace_path(f"{dest}/{entry.strip().strip('/')}")
    elif entry:
        raise UsageError("--entry is for a folder SOURCE; a single notebook is the one that runs")
    name = (job_name if job_name is not None else PurePosixPath(dest).name).strip()
    if not name or len(name) > 4096:
        raise UsageError("--job-name must be a non-empty name of at most 4096 characters")
    if cluster_id is not None and new_cluster is not None:
        raise UsageError("give --cluster-id (an existing cluster) or --new-cluster (a spec file), not both")
    if cluster_id is not None and (not cluster_id.strip() or any(c.isspace() for c in cluster_id)):
        raise UsageError("--cluster-id must be a cluster id such as 1126-183000-abcd1234")
    cluster_spec = _cluster_spec(new_cluster) if new_cluster is not None else None
    params = parse_params(param)
    parse_duration(timeout)
    return {
        "source": str(local),
        "dest": dest,
        "job_name": name,
        "entry": entry,
        "cluster_id": cluster_id,
        "new_cluster": cluster_spec,
        "param": [f"{k}={v}" for k, v in params.items()],
        "timeout": timeout,
    }


def _cluster_spec(value: str) -> dict[str, Any]:
    from brickbook.specs import load_spec

    if value.lstrip().startswith("{"):
        return load_spec(value, None)
    return load_spec(None, value)


def job_settings(
    name: str, notebook: str, *, cluster_id: str | None, new_cluster: dict[str, Any] | None
) -> dict[str, Any]:
    """Return the job this runbook manages: one notebook task on the given compute, tagged as ours."""
    task: dict[str, Any] = {
        "task_key": "main",
        "notebook_task": {"notebook_path": notebook, "source": "WORKSPACE"},
    }
    if cluster_id is not None:
        task["existing_cluster_id"] = cluster_id
    elif new_cluster is not None:
        task["new_cluster"] = new_cluster
    return {
        "name": name,
        "tasks": [task],
        "max_concurrent_runs": 1,
        "tags": {MANAGED_TAG: "deploy-notebook-job"},
    }


def _import(ctx: Context, source: Path, dest: str, *, dry_run: bool, state_dir: Path) -> list[Change]:
    from brickbook.ops import workspace

    if source.is_dir():
        changes = workspace.plan_import_dir(ctx, source, dest, overwrite=True, state_dir=state_dir)
        return changes if dry_run else workspace.apply_import_dir(ctx, changes)
    change = workspace.plan_import_file(ctx, source, dest, overwrite=True)
    return [change if dry_run else workspace.apply_import_file(ctx, change)]


@runbook(
    name="deploy-notebook-job",
    help={
        "source": "A local notebook (.py, .sql, .scala, .r, .ipynb) or a folder of them.",
        "dest": "Where it goes in the workspace: the notebook's path, or the folder's.",
        "job_name": "The job's name (found or created by name). Default: DEST's last part.",
        "entry": "For a folder SOURCE: the notebook to run, as its path below DEST (e.g. main).",
        "cluster_id": "Run on this existing cluster; if the run starts it, it is terminated afterwards.",
        "new_cluster": "Run on a new job cluster: its spec as a JSON/YAML file or inline JSON.",
        "param": "A notebook parameter as NAME=VALUE (a widget); repeat for more.",
        "timeout": "Longest local wait for the run (90s, 20m, 2h); exit 8 after it. Default: no limit.",
    },
    check=check_options,
    positional=["source", "dest"],
    iterable=["param"],
)
def deploy_notebook_job(
    rb: Runbook,
    *,
    source: str,
    dest: str,
    job_name: str | None = None,
    entry: str | None = None,
    cluster_id: str | None = None,
    new_cluster: Any = None,
    param: list[str] | None = None,
    timeout: str | None = None,
) -> None:
    """Import a notebook, ensure its job, run it exactly once per key, report every output."""
    from brickbook.change import Unknown
    from brickbook.ops import clusters
    from brickbook.ops.runs import cancel_run, trigger_job
    from brickbook.options import parse_params
    from brickbook.waiting import parse_duration
    from runbooks.run_job import wait_and_report

    ctx = rb.ctx
    name = str(job_name)
    seconds = parse_duration(timeout)
    params = parse_params(param)
    local = Path(source)
    with rb.step(f"notebooks in {dest} match {local.name}") as step:
        if step.todo:
            step.add(*_import(ctx, local, dest, dry_run=rb.dry_run, state_dir=rb.state_dir))
            step.done(None)

    settings = job_settings(name, entry or dest, cluster_id=cluster_id, new_cluster=new_cluster)
    job_id = _ensure_job(rb, settings)

    found: str | None = None
    if cluster_id is not None:
        with rb.step(f"cluster {cluster_id}'s state before the run is recorded") as step:
            if step.todo:
                found = step.done(str(clusters.get_state(ctx, cluster_id)))
                step.note(f"found {found}", changed=False)
            else:
                found = step.result

    try:
        with rb.step(f"job {name!r} has run once for this key") as step:
            if step.todo:
                if isinstance(job_id, Unknown):
                    step.note("would trigger the job once it exists")
                    return
                run_id = step.once(
                    "run",
                    trigger=lambda token: trigger_job(
                        ctx, int(job_id), params=params, idempotency_token=token
                    ),
                    cancel=lambda run: cancel_run(ctx, int(run)),
                )
                if isinstance(run_id, Unknown):
                    step.note(f"would trigger job {job_id} once for this key")
                    return
                step.done(wait_and_report(ctx, step, int(run_id), timeout=seconds))
    finally:
        if cluster_id is not None and found is not None:
            _restore_cluster(rb, cluster_id, found)


def _ensure_job(rb: Runbook, settings: dict[str, Any]) -> int | Unknown:
    """Create the job, or reset it only if its settings differ; return its id (Unknown in a dry run)."""
    from brickbook.change import Unknown
    from brickbook.ops import jobs

    name = settings["name"]
    with rb.step(f"job {name!r} matches its spec") as step:
        if not step.todo:
            return int(step.result)
        change = jobs.plan_job(rb.ctx, settings)
        step.add(change)
        if rb.dry_run:
            existing = jobs.find_job(rb.ctx, name)
            return existing.job_id if existing else Unknown("job id, known after apply")
        return int(step.done(jobs.apply_job(rb.ctx, change)))


def _restore_cluster(rb: Runbook, cluster_id: str, found: str) -> None:
    """Terminate the cluster again if it was stopped before the run (the run started it)."""
    from brickbook.ops import clusters

    with rb.step(f"cluster {cluster_id} is as the runbook found it") as step:
        if not step.todo:
            return
        if found not in STOPPED:
            step.note(f"it was {found} before the run: left as it is", changed=False)
            step.done(None)
            return
        change = clusters.plan_terminated(rb.ctx, cluster_id)
        step.add(change)
        if not rb.dry_run:
            clusters.apply_terminated(rb.ctx, change, wait=False, timeout=None)
        step.done(None)
