"""Who may see and act on a job or a job run: state/access.py's rule applied to the Jobs API.

A job's creator (``creator_user_name``) is its IS_OWNER until the Permissions API writes the job's ACL
(state/permissions.py), which then holds the one IS_OWNER and every other grant; admins hold every
level. A job run is governed
by its job while the job exists; a runs/submit run, or a run whose job was deleted, belongs to the
principal that started it (the run's ``creator_user_name``). What each call needs:

- CAN_VIEW: jobs/get, runs/get, runs/get-output; jobs/list and runs/list leave out what the caller may
  not view (the real default once job access control is on: no grant, no view);
- CAN_MANAGE_RUN: run-now, runs/cancel, runs/cancel-all, runs/repair, runs/delete;
- CAN_MANAGE: update, reset, delete.

A run acts as its job's ``run_as`` principal, so starting one also needs that principal to hold
CAN_ATTACH_TO on each existing cluster a task names (else anyone could start an admin's cluster). The
checks live here rather than in state/jobs.py and state/runs.py so the Jobs routes apply one rule to
both. A runs/submit run's ``access_control_list`` is kept as the ACL of its job id the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from brickbook.emulator.state.access import JOB, Resource, may, owned, require
from brickbook.emulator.state.clusters import KIND as CLUSTER_KIND
from brickbook.emulator.state.clusters import ClustersState
from brickbook.emulator.state.identity import Principal
from brickbook.emulator.state.jobs import JOB_KIND, JobsState
from brickbook.emulator.state.permissions import ObjectAcls
from brickbook.emulator.state.runs import RunsState
from brickbook.emulator.state.store import Store

__all__ = ["JobAccess", "job_resource"]


def job_resource(job: Mapping[str, Any], acl: Mapping[str, str] | None = None) -> Resource:
    """A saved job as the permission rule sees it; ``acl``, once written, replaces the creator's grant."""
    if acl:
        return Resource(JOB, str(job["job_id"]), acl)
    return owned(JOB, job["job_id"], job["creator_user_name"], "IS_OWNER")


class JobAccess:
    """Look up a job or run for a caller, refusing (403) what the caller may not do with it."""

    def __init__(self, store: Store, jobs: JobsState, runs: RunsState, clusters: ClustersState) -> None:
        self._store = store
        self._jobs = jobs
        self._runs = runs
        self._clusters = clusters
        self.acls = ObjectAcls(store)

    def job_resource(self, job: Mapping[str, Any]) -> Resource:
        """The job with its explicit grants (the Permissions API)."""
        return job_resource(job, self.acls.levels("job", job["job_id"]))

    def job(self, caller: Principal, job_id: Any, needed: str) -> dict[str, Any]:
        """The stored job, if ``caller`` holds ``needed`` on it."""
        record = self._jobs.record(job_id)
        require(caller, self.job_resource(record), needed)
        return record

    def run(self, caller: Principal, run_id: Any, needed: str) -> dict[str, Any]:
        """The job run record for a job run or task run id, if ``caller`` holds ``needed`` on its job."""
        record = self._runs.record(run_id)
        require(caller, self.run_resource(record), needed)
        return record

    def run_resource(self, run: Mapping[str, Any]) -> Resource:
        job = None if run["run_type"] == "SUBMIT_RUN" else self._store.get(JOB_KIND, str(run["job_id"]))
        if job is not None:
            return self.job_resource(job)
        return job_resource(run, self.acls.levels("job", run["job_id"]))

    def visible_jobs(self, caller: Principal, jobs: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        return [job for job in jobs if may(caller, self.job_resource(job), "CAN_VIEW")]

    def runs_where(
        self, caller: Principal, needed: str, runs: Iterable[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """The runs on which ``caller`` holds ``needed``."""
        return [run for run in runs if may(caller, self.run_resource(run), needed)]

    def may_run(self, caller: Principal, run: Mapping[str, Any], needed: str) -> bool:
        return may(caller, self.run_resource(run), needed)

    def check_clusters(self, run_as: Principal, tasks: Iterable[Mapping[str, Any]]) -> None:
        """Refuse (403) a run whose principal may not attach to an existing cluster a task names.

        A cluster id that does not exist is left to the run, which fails that task as it always has.
        """
        for task in tasks:
            cluster_id = task.get("existing_cluster_id")
            if cluster_id and self._store.get(CLUSTER_KIND, str(cluster_id)) is not None:
                self._clusters.authorized(run_as, str(cluster_id), "CAN_ATTACH_TO")
