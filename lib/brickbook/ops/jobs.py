"""Jobs by name: find one, plan making it match its settings, apply the plan (Jobs API 2.2).

Job names are not unique in a workspace, so ``find_job`` lists with the ``name`` filter of
``jobs/list`` (exact but case-insensitive on the service; brickbook keeps only the exact, case-sensitive
matches), follows every page, and refuses to guess between two jobs of one name (AmbiguousName, exit 5).

``plan_job`` compares the settings the service returns (``jobs/get``, every page of tasks merged) with
the wished-for ones, field by field, without flagging what the service fills in by itself:

- a field left out on one side matches the other side holding the service's default for it
  (``max_concurrent_runs: 1``, ``timeout_seconds: 0``, ``run_if: ALL_SUCCESS``, empty notifications,
  ``queue: {enabled: true}`` in 2.2, ... see ``SERVICE_DEFAULTS``);
- fields the service sets by its own choice (``format``, ``edit_mode``, a cluster's cloud attributes,
  ``run_as`` when the settings name nobody) count only when the settings give them;
- lists of keyed objects (``tasks`` by ``task_key``, ``job_clusters``, ``environments``, ``parameters``,
  ``depends_on``) are compared by key, not by position: the service may return them in another order.

The plan names the top-level fields that differ; its payload (``JobPlan``) holds the settings and the
job id, which ``apply_job`` needs to create the job or ``reset`` it (reset replaces every setting, so a
field dropped from the settings is dropped from the job too).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from brickbook.api import jobs
from brickbook.api.jobs import Job
from brickbook.change import Action, Change
from brickbook.errors import AmbiguousName, ApiError, ResourceDoesNotExist, TransportError, UsageError
from brickbook.retry import maybe_applied

if TYPE_CHECKING:
    from brickbook.context import Context

__all__ = [
    "SERVICE_DEFAULTS",
    "JobPlan",
    "apply_job",
    "differing_fields",
    "find_job",
    "plan_job",
    "plan_job_prune",
]

# What the service reports for a field the settings leave out, by field name at any depth.
SERVICE_DEFAULTS: Mapping[str, tuple[Any, ...]] = {
    "max_concurrent_runs": (1,),
    "timeout_seconds": (0,),
    "max_retries": (0,),
    "min_retry_interval_millis": (0,),
    "retry_on_timeout": (False,),
    "disable_auto_optimization": (False,),
    "run_if": ("ALL_SUCCESS",),
    "source": ("WORKSPACE",),
    "queue": ({"enabled": True},),
    "email_notifications": ({},),
    "webhook_notifications": ({},),
    "notification_settings": ({},),
    "health": ({},),
    "tags": ({},),
    "parameters": ([],),
    "depends_on": ([],),
    "libraries": ([],),
    "base_parameters": ({},),
    "description": ("",),
    "enable_local_disk_encryption": (False,),
}
# Fields the service fills in by its own choice: they count only when the settings give them.
_CHOSEN_BY_SERVICE = frozenset(
    {
        "format",  # the API ignores it on create and reports MULTI_TASK
        "edit_mode",
        "deployment",
        "run_as",  # the creator, unless the settings name someone (compared apart, see _run_as)
        "aws_attributes",
        "azure_attributes",
        "gcp_attributes",
        "enable_elastic_disk",
        "data_security_mode",
        "runtime_engine",
        "driver_node_type_id",
        "disk_spec",
    }
)
# Permissions travel with create but are not settings: never compared.
_NOT_SETTINGS = frozenset({"access_control_list"})
# Lists whose items are objects named by a key: compared by key, not by position.
_LIST_KEYS = ("task_key", "job_cluster_key", "environment_key", "name")
_ABSENT = object()


@dataclass(frozen=True)
class JobPlan:
    """What ``apply_job`` needs: the settings to create or reset with, and the job's id if it exists."""

    settings: dict[str, Any] = field(default_factory=dict)
    job_id: int | None = None


def find_job(ctx: Context, name: str) -> Job | None:
    """Return the one job named exactly ``name`` (with every setting), or None; two or more: AmbiguousName."""
    found = sorted(j.job_id for j in jobs.list_(ctx.client, name=name) if j.name == name)
    if not found:
        return None
    if len(found) > 1:
        ids = ", ".join(str(job_id) for job_id in found[:10]) + (", ..." if len(found) > 10 else "")
        raise AmbiguousName(
            f"{len(found)} jobs are named {name!r} (ids {ids}); a job found by name must be the only one "
            "with that name: rename or delete the others",
            ids=tuple(found),
        )
    try:
        return jobs.get(ctx.client, found[0])
    except ResourceDoesNotExist:  # deleted since it was listed
        return None


def _is_default(name: str, value: Any) -> bool:
    """Tell whether ``value`` is what the service reports for ``name`` when nothing was asked for.

    Nothing, null and empty lists and objects all mean "none" (the API often leaves empty ones out).
    """
    if value is _ABSENT or value is None or (isinstance(value, list | dict | str) and not value):
        return True
    return any(
        value == default and type(value) is type(default) for default in SERVICE_DEFAULTS.get(name, ())
    )


def _keyed(items: list[Any]) -> dict[Any, Any] | None:
    """Index a list of objects by the first key every item has (``task_key``, ...), or None."""
    if not items or not all(isinstance(item, dict) for item in items):
        return None
    for key in _LIST_KEYS:
        names = [item.get(key) for item in items]
        if all(isinstance(n, str) for n in names) and len(set(names)) == len(names):
            return dict(zip(names, items, strict=True))
    return None


def _same_list(actual: list[Any], wanted: list[Any]) -> bool:
    mine, theirs = _keyed(wanted), _keyed(actual)
    if mine is not None and theirs is not None:
        return mine.keys() == theirs.keys() and all(_same(theirs[k], mine[k]) for k in mine)
    return len(actual) == len(wanted) and all(_same(a, w) for a, w in zip(actual, wanted, strict=True))


def _same(actual: Any, wanted: Any, name: str = "") -> bool:
    """Tell whether the service's value ``actual`` holds what ``wanted`` asks for (``name``: its field)."""
    if wanted is _ABSENT or wanted is None:
        return name in _CHOSEN_BY_SERVICE or _is_default(name, actual)
    if actual is _ABSENT or actual is None:
        return _is_default(name, wanted)
    if isinstance(wanted, dict) and isinstance(actual, dict):
        return all(
            _same(actual.get(key, _ABSENT), wanted.get(key, _ABSENT), key)
            for key in set(actual) | set(wanted)
        )
    if isinstance(wanted, list) and isinstance(actual, list):
        return _same_list(actual, wanted)
    # Otherwise equal values of one type: JSON true is not 1.
    return isinstance(actual, bool) == isinstance(wanted, bool) and bool(actual == wanted)


def _run_as(job: Job, wanted: Any) -> bool:
    """Compare a ``run_as`` the settings give with the job's (``settings.run_as`` or ``run_as_user_name``)."""
    actual = job.settings.get("run_as")
    if actual is not None:
        return _same(actual, wanted, "run_as")
    names = [v for v in wanted.values() if v] if isinstance(wanted, dict) else [wanted]
    return names == [job.run_as_user_name]


def differing_fields(job: Job, settings: Mapping[str, Any]) -> list[str]:
    """Return the top-level settings whose values in ``job`` differ from ``settings``, sorted."""
    differ = []
    for name in sorted((set(job.settings) | set(settings)) - _NOT_SETTINGS):
        wanted = settings.get(name, _ABSENT)
        if name == "run_as" and wanted not in (_ABSENT, None):
            same = _run_as(job, wanted)
        else:
            same = _same(job.settings.get(name, _ABSENT), wanted, name)
        if not same:
            differ.append(name)
    return differ


def plan_job(ctx: Context, settings: Mapping[str, Any]) -> Change:
    """Plan making the job named ``settings["name"]`` match ``settings``: create, update or unchanged.

    Reads only. An update names the top-level fields that differ; a create has no job id until it is
    applied (``apply_job`` returns it). Validate ``settings`` first (``brickbook.specs.validate_job_spec``).
    """
    name = settings.get("name")
    if not isinstance(name, str) or not name:
        raise UsageError("spec: name is required to find the job by name")
    target = f"job {name!r}"
    job = find_job(ctx, name)
    if job is None:
        plan = JobPlan(settings=dict(settings))
        return Change(Action.CREATE, target, reason="no job has this name", payload=plan)
    plan = JobPlan(settings=dict(settings), job_id=job.job_id)
    differ = differing_fields(job, settings)
    if not differ:
        return Change(Action.UNCHANGED, target, reason=f"job {job.job_id} matches", payload=plan)
    return Change(Action.UPDATE, target, tuple(differ), f"job {job.job_id} differs", payload=plan)


def plan_job_prune(ctx: Context, *, tag: str, value: str, keep: Collection[str]) -> list[Change]:
    """Plan deleting the jobs tagged ``tag: value`` whose names are not in ``keep`` (jobs/list, all pages).

    For a deployment that tags the jobs it manages: only those jobs are ever candidates.
    """
    changes = []
    for job in jobs.list_(ctx.client):
        if (job.settings.get("tags") or {}).get(tag) != value or job.name in keep:
            continue
        plan = JobPlan(job_id=job.job_id)
        reason = f"tagged {tag}: {value} and no longer listed"
        changes.append(Change(Action.DELETE, f"job {job.name!r} ({job.job_id})", reason=reason, payload=plan))
    return sorted(changes, key=lambda change: change.target)


def _created(ctx: Context, settings: dict[str, Any]) -> int:
    """Create the job; if the answer is lost, find the job the request made instead of creating two.

    jobs/create takes no idempotency token, so the client never resends it. When a failure leaves it
    unknown whether the job was made (a 5xx, a dropped connection), the job list settles it: the job
    is there (take it) or not (nothing was made: send the create again, as the retry policy would).
    """
    retry = ctx.client.config.retry
    for attempt in range(1, retry.max_attempts + 1):
        try:
            return jobs.create(ctx.client, settings)
        except (TransportError, ApiError) as lost:
            if not maybe_applied(lost):
                raise  # refused, or never sent: nothing was created
            job = find_job(ctx, str(settings.get("name")))
            if job is not None:
                ctx.log.info("job.create_answer_lost", job_id=job.job_id)
                return job.job_id
            if attempt == retry.max_attempts:
                raise
            wait = min(retry.backoff_base_seconds * 2 ** (attempt - 1), retry.backoff_cap_seconds)
            ctx.log.warning("job.create_resent", attempt=attempt, wait_seconds=wait, reason=str(lost))
            ctx.sleep(wait)
    raise AssertionError("unreachable")  # the loop returns or raises


def apply_job(ctx: Context, change: Change) -> int:
    """Perform a job plan: create (``jobs/create``), reset (``jobs/reset``) or delete; return the job id.

    An unchanged plan sends nothing and returns the existing job's id.
    """
    plan = change.payload
    if not isinstance(plan, JobPlan):
        raise TypeError(f"not a job plan: {change.describe()}")
    log = ctx.log.bind(job=change.target)
    if change.action is Action.CREATE:
        job_id = _created(ctx, plan.settings)
        log.info("job.created", job_id=job_id)
        return job_id
    if plan.job_id is None:
        raise TypeError(f"a {change.action.value} plan needs the job's id: {change.describe()}")
    if change.action is Action.UPDATE:
        jobs.reset(ctx.client, plan.job_id, plan.settings)
        log.info("job.reset", job_id=plan.job_id, fields=list(change.fields))
    elif change.action is Action.DELETE:
        try:
            jobs.delete(ctx.client, plan.job_id)
        except ResourceDoesNotExist:
            log.info("job.already_deleted", job_id=plan.job_id)
        else:
            log.info("job.deleted", job_id=plan.job_id)
    return plan.job_id
