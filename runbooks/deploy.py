"""``runbook.deploy``: make a workspace match a deployment file (notebooks, DBFS files, secrets, repos, jobs).

One step per resource, each naming the condition that holds after it: "notebooks in /Shared/etl match
notebooks", "dbfs:/etl/conf/etl.json matches conf/etl.json", "secret scope 'etl' holds its keys", "repo
/Repos/ci/etl is on main", "job 'etl-nightly' matches its spec" (its permissions too, when the file gives
them) and, with ``--prune``, "nothing unlisted remains". Each step plans (reads only), then applies its
changes; ``--dry-run`` stops after planning and sends no write. A second apply plans nothing but
``unchanged``.

Deploy steps converge rather than act once: each invocation re-plans every step, also under a key whose
journal says the step was done (nothing in a deploy must happen exactly once, and the workspace may have
drifted since). The key's lock still keeps two overlapping deploys of one key apart.

The Secrets API never returns values, so whether a secret is current is judged from a record that
``ops.secrets.apply_secret`` returns and the next plan compares: those records are kept per deployment
and workspace in a small JSON file in the state dir (``deploy/secrets-<name>-<host digest>.json``,
mode 0600), which survives across keys and days. Without it (a new machine) every secret is put again.

``--prune`` deletes, and only: notebooks and files below the managed workspace folder that the source
folder does not hold, and jobs tagged ``brickbook-deployment: <name>`` that the file no longer lists.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from brickbook.runbook import runbook

if TYPE_CHECKING:
    from brickbook.change import Change
    from brickbook.deployment import Deployment, Folder, JobEntry, SecretScope
    from brickbook.runbook import Runbook

__all__ = ["SecretRecords", "deploy", "secrets_state_path"]

STATE_FORMAT = "brickbook-deploy-secrets"
STATE_VERSION = 1
MAX_STATE_BYTES = 1024 * 1024


def _check(*, file: str | None, prune: bool) -> dict[str, Any]:
    """Validate the deployment file before the state dir, the lock or any request (exit 2)."""
    from brickbook.deployment import load_deployment
    from brickbook.errors import UsageError

    if file is None or not file.strip():
        raise UsageError("--file is required: the deployment file (YAML or JSON) to make the workspace match")
    load_deployment(file)
    return {"file": str(Path(file).absolute()), "prune": bool(prune)}


@runbook(
    name="deploy",
    help={
        "file": "The deployment file (YAML or JSON): notebooks, DBFS files, secrets, repos and jobs; "
        "see docs/deployment.md.",
        "prune": "Also delete notebooks and files under the managed workspace folder that the source "
        "folder no longer holds, and jobs tagged with this deployment that the file no longer lists.",
    },
    check=_check,
)
def deploy(rb: Runbook, *, file: str | None = None, prune: bool = False) -> None:
    """Make the workspace match a deployment file: plan each resource, then apply it (or only plan)."""
    from brickbook.deployment import load_deployment

    assert file is not None  # _check requires it
    deployment = load_deployment(file)
    base = Path(file).parent
    # Read first: a damaged records file stops the deploy before anything changes.
    records = SecretRecords.load(secrets_state_path(rb, deployment)) if deployment.secrets else None
    kept: list[str] | None = None
    if deployment.workspace is not None:
        kept = _notebooks(rb, deployment.workspace, base)
    for upload in deployment.dbfs:
        with rb.step(f"{upload.shown} matches {_relative(upload.source, base)}") as step:
            step.add(_dbfs_file(rb, upload.source, upload.dest))
    if records is not None:
        for scope in deployment.secrets:
            with rb.step(f"secret scope {scope.scope!r} holds its keys") as step:
                step.add(*_secret_scope(rb, scope, records))
    for repo in deployment.repos:
        with rb.step(f"repo {repo.path} is on {repo.ref}") as step:
            step.add(_repo(rb, repo.path, branch=repo.branch, tag=repo.tag))
    for job in deployment.jobs:
        with rb.step(f"job {job.name!r} matches its spec") as step:
            step.add(*_job(rb, job))
    if prune:
        with rb.step("nothing unlisted remains") as step:
            step.add(*_prune(rb, deployment, kept))


def _relative(path: Path, base: Path) -> str:
    try:
        return str(path.relative_to(base.resolve())) or "."
    except ValueError:
        return str(path)


# -- one function per kind of step: plan, then apply unless this is a dry run -------------------------


def _notebooks(rb: Runbook, folder: Folder, base: Path) -> list[str]:
    """Import the source folder into the managed folder; return the workspace paths it holds."""
    from brickbook.ops import workspace

    with rb.step(f"notebooks in {folder.dest} match {_relative(folder.source, base)}") as step:
        changes = workspace.plan_import_dir(
            rb.ctx, folder.source, folder.dest, overwrite=True, state_dir=rb.state_dir
        )
        # The workspace paths the source maps to (skipped local entries name local paths instead).
        kept = [change.target for change in changes if not workspace.skipped(change)]
        step.add(*(changes if rb.dry_run else workspace.apply_import_dir(rb.ctx, changes)))
    return kept


def _dbfs_file(rb: Runbook, source: Path, dest: str) -> Change:
    from brickbook.ops import dbfs

    change = dbfs.plan_upload(rb.ctx, source, dest)
    return change if rb.dry_run else dbfs.apply_upload(rb.ctx, change)


def _repo(rb: Runbook, path: str, *, branch: str | None, tag: str | None) -> Change:
    from brickbook.ops import repos

    change = repos.plan_repo_ref(rb.ctx, path, branch=branch, tag=tag)
    return change if rb.dry_run else repos.apply_repo_ref(rb.ctx, change)


def _job(rb: Runbook, job: JobEntry) -> list[Change]:
    """Make the job match its settings, then its direct grants when the file gives ``permissions``."""
    from brickbook.ops import jobs

    change = jobs.plan_job(rb.ctx, job.settings)
    job_id = change.payload.job_id if rb.dry_run else jobs.apply_job(rb.ctx, change)
    if job.permissions is None:  # the file leaves the job's ACL to the workspace
        return [change]
    return [change, *_job_permissions(rb, job, job_id)]


def _job_permissions(rb: Runbook, job: JobEntry, job_id: int | None) -> list[Change]:
    """Plan (and apply) the job's direct grants: one PUT when they differ, the owner kept."""
    from brickbook.api.permissions import KINDS
    from brickbook.change import Action, Change
    from brickbook.ops import permissions

    assert job.permissions is not None
    if job_id is None:  # a dry run of a job that does not exist yet
        count = len(job.permissions)
        reason = f"{count} grant{'' if count == 1 else 's'}, set once the job exists"
        return [Change(Action.CREATE, f"permissions on job {job.name!r}", reason=reason)]
    target = permissions.Target(KINDS["jobs"], str(job_id), f"job {job.name!r} ({job_id})")
    planned = permissions.plan_set(rb.ctx, target, job.permissions)
    return planned if rb.dry_run else permissions.apply_permissions(rb.ctx, planned)


def _secret_scope(rb: Runbook, scope: SecretScope, records: SecretRecords) -> list[Change]:
    """Make sure the scope exists and holds each key with its value; keep each key's record."""
    from brickbook.ops import secrets

    planned = secrets.plan_scope(rb.ctx, scope.scope)
    changes = [planned if rb.dry_run else secrets.apply_scope(rb.ctx, planned)]
    for key in scope.keys:
        name = f"{scope.scope}/{key.key}"
        # In a dry run of a new scope, plan_secret says "create: the scope does not exist yet".
        change = secrets.plan_secret(
            rb.ctx, scope.scope, key.key, key.value, deployed_digest=records.get(name)
        )
        if not rb.dry_run:
            change, record = secrets.apply_secret(rb.ctx, change)
            records.put(name, record)
        changes.append(change)
    return changes


def _prune(rb: Runbook, deployment: Deployment, kept: list[str] | None) -> list[Change]:
    """Delete what this deployment manages and no longer lists: notebooks under its folder, tagged jobs."""
    from brickbook.deployment import DEPLOYMENT_TAG
    from brickbook.ops import jobs, workspace

    changes: list[Change] = []
    if deployment.workspace is not None and kept is not None:
        planned = workspace.plan_prune(rb.ctx, deployment.workspace.dest, kept)
        changes += planned if rb.dry_run else workspace.apply_prune(rb.ctx, planned)
    keep = [job.name for job in deployment.jobs]
    for change in jobs.plan_job_prune(rb.ctx, tag=DEPLOYMENT_TAG, value=deployment.name, keep=keep):
        if not rb.dry_run:
            jobs.apply_job(rb.ctx, change)  # a job already gone counts as deleted
        changes.append(change)
    return changes


# -- the secrets' records ----------------------------------------------------------------------------


def secrets_state_path(rb: Runbook, deployment: Deployment) -> Path:
    """Return where this deployment's secret records for this workspace are kept (beside the journals)."""
    from brickbook.journal import safe_name

    host = rb.ctx.client.config.host or ""
    digest = hashlib.sha256(host.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return rb.journal.path.parent / f"secrets-{safe_name(deployment.name)}-{digest}.json"


class SecretRecords:
    """The records ``apply_secret`` returned, by ``scope/key``; written atomically after every change."""

    def __init__(self, path: Path, records: dict[str, str]) -> None:
        self.path = path
        self.records = records

    @classmethod
    def load(cls, path: Path) -> SecretRecords:
        """Read the records; none yet is an empty set, a corrupt file an error naming it."""
        from brickbook.errors import JournalCorrupt
        from brickbook.journal import CORRUPT_HINT

        try:
            with path.open("rb") as stream:
                raw = stream.read(MAX_STATE_BYTES + 1)
        except FileNotFoundError:
            return cls(path, {})
        except OSError as exc:
            raise JournalCorrupt(f"cannot read the secret records {path}: {exc.strerror}") from exc
        try:
            if len(raw) > MAX_STATE_BYTES:
                raise ValueError("larger than 1 MiB")
            data = json.loads(raw)
            if not isinstance(data, dict) or data.get("format") != STATE_FORMAT:
                raise ValueError(f"not a {STATE_FORMAT} file")
            records = data.get("records")
            if not isinstance(records, dict) or not all(isinstance(v, str) for v in records.values()):
                raise ValueError("records must map scope/key to strings")
        except ValueError as exc:
            raise JournalCorrupt(f"the secret records {path} are corrupt: {exc}").with_hint(
                CORRUPT_HINT
            ) from exc
        return cls(path, dict(records))

    def get(self, name: str) -> str | None:
        """Return the record kept for ``scope/key``, if any."""
        return self.records.get(name)

    def put(self, name: str, record: str) -> None:
        """Keep ``record`` for ``scope/key`` and write the file (mode 0600, in the private state dir)."""
        from brickbook.journal import write_atomic

        if self.records.get(name) == record:
            return
        self.records[name] = record
        data = {"format": STATE_FORMAT, "version": STATE_VERSION, "records": self.records}
        # write_atomic replaces the file durably, with mode 0600.
        write_atomic(self.path, json.dumps(data, indent=1, sort_keys=True).encode())
