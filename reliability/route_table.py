"""The non-admin table: for each mutating route (and every control route) what a plain user is refused.

Each entry is a ``Probe`` (the admin makes an object, the user tries to change it: 403), a ``Custom``
check, or ``Open(reason)`` where any user may. A route of the emulator without an entry fails
``reliability.security`` and ``tests/emulator/test_route_security.py``: add its entry here when adding
the route.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reliability.route_checks import (
    CLUSTER_SPEC,
    PUBLIC,
    Api,
    Custom,
    Entry,
    Open,
    Probe,
    Values,
    catalog,
    cluster,
    fixed,
    job,
    notebook,
    pat,
    policy,
    pool,
    repo,
    route_methods,
    run,
    sample_path,
    schema,
    scim,
    scope,
    statement,
    statement_refused,
    table,
    volume,
    warehouse,
)

__all__ = ["non_admin_table"]


def _p(method: str, path: str, setup: Callable[[Api], Values] | None = None, /, **body: Any) -> Probe:
    """A probe whose body fields ``"{name}"`` take the setup's value of that name (typed as it is)."""
    return Probe(method, path, fixed(body) if body else None, setup)


def _jobs(version: str) -> dict[tuple[str, str], Entry]:
    base = f"/api/{version}/jobs"
    reset = {"new_settings": {"name": "taken"}}
    entries: dict[tuple[str, str], Entry] = {
        ("POST", f"{base}/create"): Open("any user may create a job; the creator owns it (IS_OWNER)"),
        ("POST", f"{base}/runs/submit"): Open("any user may submit a one-time run; the submitter owns it"),
        ("POST", f"{base}/reset"): _p("POST", f"{base}/reset", job, job_id="{job_id}", **reset),
        ("POST", f"{base}/delete"): _p("POST", f"{base}/delete", job, job_id="{job_id}"),
        ("POST", f"{base}/run-now"): _p("POST", f"{base}/run-now", job, job_id="{job_id}"),
        ("POST", f"{base}/runs/cancel"): _p("POST", f"{base}/runs/cancel", run, run_id="{run_id}"),
        ("POST", f"{base}/runs/delete"): _p("POST", f"{base}/runs/delete", run, run_id="{run_id}"),
    }
    if version != "2.0":
        entries[("POST", f"{base}/update")] = _p(
            "POST", f"{base}/update", job, job_id="{job_id}", new_settings={}
        )
        entries[("POST", f"{base}/runs/cancel-all")] = _p(
            "POST", f"{base}/runs/cancel-all", job, job_id="{job_id}"
        )
        entries[("POST", f"{base}/runs/repair")] = _p(
            "POST", f"{base}/runs/repair", run, run_id="{run_id}", rerun_all_failed_tasks=True
        )
    return entries


def _clusters(version: str) -> dict[tuple[str, str], Entry]:
    base = f"/api/{version}/clusters"
    entries: dict[tuple[str, str], Entry] = {
        ("POST", f"{base}/create"): Open(
            "any user with cluster creation may create one; the creator manages it"
        ),
        ("POST", f"{base}/events"): Open("reads only: a POST because the filters are a body"),
        ("POST", f"{base}/edit"): _p(
            "POST", f"{base}/edit", cluster, cluster_id="{cluster_id}", **CLUSTER_SPEC
        ),
        ("POST", f"{base}/resize"): _p(
            "POST", f"{base}/resize", cluster, cluster_id="{cluster_id}", num_workers=2
        ),
    }
    for action in ("start", "restart", "delete", "permanent-delete", "pin", "unpin"):
        entries[("POST", f"{base}/{action}")] = _p(
            "POST", f"{base}/{action}", cluster, cluster_id="{cluster_id}"
        )
    return entries


def _scim() -> dict[tuple[str, str], Entry]:
    base = "/api/2.0/preview/scim/v2"
    bodies = {
        "Users": {"userName": "carol@example.com"},
        "Groups": {"displayName": "admins-group"},
        "ServicePrincipals": {
            "displayName": "admins-sp",
            "applicationId": "00000000-0000-0000-0000-00000000aaaa",
        },
    }
    patch = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": []}
    entries: dict[tuple[str, str], Entry] = {}
    for kind, body in bodies.items():
        entries[("POST", f"{base}/{kind}")] = _p("POST", f"{base}/{kind}", None, **body)
        entries[("PATCH", f"{base}/{kind}/{{id}}")] = _p(
            "PATCH", f"{base}/{kind}/{{id}}", scim(kind, body), **patch
        )
        entries[("DELETE", f"{base}/{kind}/{{id}}")] = _p("DELETE", f"{base}/{kind}/{{id}}", scim(kind, body))
    groups = "/api/2.0/groups"
    entries[("POST", f"{groups}/create")] = _p("POST", f"{groups}/create", None, group_name="g2")
    entries[("POST", f"{groups}/delete")] = _p("POST", f"{groups}/delete", None, group_name="admins")
    member = {"user_name": "alice@example.com", "parent_name": "admins"}
    entries[("POST", f"{groups}/add-member")] = _p("POST", f"{groups}/add-member", None, **member)
    entries[("POST", f"{groups}/remove-member")] = _p("POST", f"{groups}/remove-member", None, **member)
    return entries


def _control(routes: list[Any]) -> dict[tuple[str, str], Entry]:
    """Every control route, whatever its method, is the admin's alone."""
    return {
        (method, template): Probe(method, sample_path(template), lambda v: {})
        for method, template in route_methods(routes)
        if template.startswith("/_emulator/")
    }


def experiment(api: Api) -> Values:
    """An experiment in the admin's home folder, with one run."""
    body = {"name": f"{ADMIN_HOME}/experiment"}
    experiment_id = api.admin("POST", f"{MLFLOW}/experiments/create", body)["experiment_id"]
    made = api.admin("POST", f"{MLFLOW}/runs/create", {"experiment_id": experiment_id})
    return {"experiment_id": experiment_id, "run_id": made["run"]["info"]["run_id"]}


def _mlflow() -> dict[tuple[str, str], Probe]:
    """What the user may not do to the admin's experiment and its run."""
    on_experiment: dict[str, dict[str, Any]] = {
        "experiments/delete": {},
        "experiments/restore": {},
        "experiments/update": {"new_name": f"{ADMIN_HOME}/renamed"},
        "experiments/set-experiment-tag": {"key": "k", "value": "v"},
        "runs/create": {},
    }
    on_run: dict[str, dict[str, Any]] = {
        "runs/update": {"status": "FINISHED"},
        "runs/delete": {},
        "runs/restore": {},
        "runs/log-metric": {"key": "m", "value": 1.0, "timestamp": 1},
        "runs/log-parameter": {"key": "p", "value": "v"},
        "runs/log-batch": {"metrics": [{"key": "m", "value": 1.0, "timestamp": 1, "step": 0}]},
        "runs/set-tag": {"key": "k", "value": "v"},
        "runs/delete-tag": {"key": "k"},
    }
    probes = {
        ("POST", f"{MLFLOW}/{name}"): _p(
            "POST", f"{MLFLOW}/{name}", experiment, experiment_id="{experiment_id}", **body
        )
        for name, body in on_experiment.items()
    }
    probes.update(
        {
            ("POST", f"{MLFLOW}/{name}"): _p(
                "POST", f"{MLFLOW}/{name}", experiment, run_id="{run_id}", **body
            )
            for name, body in on_run.items()
        }
    )
    return probes


UC = "/api/2.1/unity-catalog"
MLFLOW = "/api/2.0/mlflow"
WS = "/api/2.0/workspace"
ADMIN_HOME = "/Users/admin@example.com"
DBFS_OPEN = Open("DBFS has no object ACLs: every workspace user reads and writes the DBFS root")

STATIC: dict[tuple[str, str], Entry] = {
    # Reads that must be refused too: another user's secrets without an ACL, the admin's home, job.
    # secrets/get answers 400 to every caller outside a notebook (the real service's rule); list and
    # acls/list below show the scope's ACL refusing the user.
    ("GET", "/api/2.0/secrets/get"): Probe(
        "GET", "/api/2.0/secrets/get?scope={scope}&key=k", None, scope, (400, 403)
    ),
    ("GET", "/api/2.0/secrets/list"): Probe("GET", "/api/2.0/secrets/list?scope={scope}", None, scope),
    ("GET", "/api/2.0/secrets/acls/list"): Probe(
        "GET", "/api/2.0/secrets/acls/list?scope={scope}", None, scope
    ),
    ("GET", f"{WS}/export"): Probe("GET", f"{WS}/export?path={ADMIN_HOME}/nb", None, notebook),
    ("GET", "/api/2.2/jobs/get"): Probe("GET", "/api/2.2/jobs/get?job_id={job_id}", None, job),
    ("POST", "/oidc/v1/token"): Open(PUBLIC["/oidc/v1/token"]),
    ("POST", "/api/2.0/token/create"): Open("every user may mint a token for themselves"),
    ("POST", "/api/2.0/token/delete"): Probe(
        "POST", "/api/2.0/token/delete", fixed({"token_id": "{token_id}"}), pat, (403, 404)
    ),
    **{
        ("POST", f"/api/2.0/dbfs/{name}"): DBFS_OPEN
        for name in ("put", "create", "add-block", "close", "delete", "mkdirs", "move")
    },
    ("PUT", "/api/2.0/fs/files{path:path}"): _p(
        "PUT", "/api/2.0/fs/files/Volumes/main/default/vol/f", volume
    ),
    ("DELETE", "/api/2.0/fs/files{path:path}"): _p(
        "DELETE", "/api/2.0/fs/files/Volumes/main/default/vol/f", volume
    ),
    ("PUT", "/api/2.0/fs/directories{path:path}"): _p(
        "PUT", "/api/2.0/fs/directories/Volumes/main/default/vol/d", volume
    ),
    ("DELETE", "/api/2.0/fs/directories{path:path}"): _p(
        "DELETE", "/api/2.0/fs/directories/Volumes/main/default/vol/d", volume
    ),
    ("POST", f"{WS}/import"): _p(
        "POST", f"{WS}/import", None, path=f"{ADMIN_HOME}/x", content="cHJpbnQoMSk=", language="PYTHON"
    ),
    ("POST", f"{WS}/mkdirs"): _p("POST", f"{WS}/mkdirs", None, path=f"{ADMIN_HOME}/d"),
    ("POST", f"{WS}/delete"): _p("POST", f"{WS}/delete", notebook, path=f"{ADMIN_HOME}/nb"),
    ("POST", "/api/2.0/repos"): _p(
        "POST",
        "/api/2.0/repos",
        None,
        url="https://example.com/r.git",
        provider="gitHub",
        path="/Repos/admin@example.com/r",
    ),
    ("PATCH", "/api/2.0/repos/{repo_id}"): _p("PATCH", "/api/2.0/repos/{repo_id}", repo, branch="dev"),
    ("DELETE", "/api/2.0/repos/{repo_id}"): _p("DELETE", "/api/2.0/repos/{repo_id}", repo),
    ("POST", "/api/2.0/instance-pools/create"): _p(
        "POST", "/api/2.0/instance-pools/create", None, instance_pool_name="q", node_type_id="i3.xlarge"
    ),
    ("POST", "/api/2.0/instance-pools/edit"): _p(
        "POST",
        "/api/2.0/instance-pools/edit",
        pool,
        instance_pool_id="{instance_pool_id}",
        instance_pool_name="q",
        node_type_id="i3.xlarge",
    ),
    ("POST", "/api/2.0/instance-pools/delete"): _p(
        "POST", "/api/2.0/instance-pools/delete", pool, instance_pool_id="{instance_pool_id}"
    ),
    ("POST", "/api/2.0/policies/clusters/create"): _p(
        "POST", "/api/2.0/policies/clusters/create", None, name="q", definition="{}"
    ),
    ("POST", "/api/2.0/policies/clusters/edit"): _p(
        "POST", "/api/2.0/policies/clusters/edit", policy, policy_id="{policy_id}", name="q", definition="{}"
    ),
    ("POST", "/api/2.0/policies/clusters/delete"): _p(
        "POST", "/api/2.0/policies/clusters/delete", policy, policy_id="{policy_id}"
    ),
    ("POST", "/api/2.0/secrets/scopes/create"): Open(
        "any user may create a secret scope; the creator holds MANAGE on it"
    ),
    ("POST", "/api/2.0/secrets/scopes/delete"): _p(
        "POST", "/api/2.0/secrets/scopes/delete", scope, scope="{scope}"
    ),
    ("POST", "/api/2.0/secrets/put"): _p(
        "POST", "/api/2.0/secrets/put", scope, scope="{scope}", key="k2", string_value="x"
    ),
    ("POST", "/api/2.0/secrets/delete"): _p(
        "POST", "/api/2.0/secrets/delete", scope, scope="{scope}", key="k"
    ),
    ("POST", "/api/2.0/secrets/acls/put"): _p(
        "POST",
        "/api/2.0/secrets/acls/put",
        scope,
        scope="{scope}",
        principal="alice@example.com",
        permission="MANAGE",
    ),
    ("POST", "/api/2.0/secrets/acls/delete"): _p(
        "POST", "/api/2.0/secrets/acls/delete", scope, scope="{scope}", principal="admin@example.com"
    ),
    ("POST", "/api/2.0/sql/warehouses"): Open(
        "any user with SQL access may create a warehouse; the creator owns it"
    ),
    ("DELETE", "/api/2.0/sql/warehouses/{id}"): _p("DELETE", "/api/2.0/sql/warehouses/{id}", warehouse),
    ("POST", "/api/2.0/sql/warehouses/{id}/edit"): _p(
        "POST", "/api/2.0/sql/warehouses/{id}/edit", warehouse, name="mine"
    ),
    ("POST", "/api/2.0/sql/warehouses/{id}/start"): _p(
        "POST", "/api/2.0/sql/warehouses/{id}/start", warehouse
    ),
    ("POST", "/api/2.0/sql/warehouses/{id}/stop"): _p("POST", "/api/2.0/sql/warehouses/{id}/stop", warehouse),
    ("PUT", "/api/2.0/permissions/warehouses/{id}"): _p(
        "PUT", "/api/2.0/permissions/warehouses/{id}", warehouse, access_control_list=[]
    ),
    ("PATCH", "/api/2.0/permissions/warehouses/{id}"): _p(
        "PATCH",
        "/api/2.0/permissions/warehouses/{id}",
        warehouse,
        access_control_list=[{"user_name": "alice@example.com", "permission_level": "CAN_MANAGE"}],
    ),
    ("POST", "/api/2.0/sql/statements"): Custom(statement_refused),
    # A statement is visible to its caller alone: another user's is 404, as if it did not exist.
    ("POST", "/api/2.0/sql/statements/{statement_id}/cancel"): Probe(
        "POST", "/api/2.0/sql/statements/{statement_id}/cancel", None, statement, (403, 404)
    ),
    ("POST", f"{UC}/catalogs"): _p("POST", f"{UC}/catalogs", None, name="mine"),
    ("DELETE", f"{UC}/catalogs/{{name}}"): _p("DELETE", f"{UC}/catalogs/admins", catalog),
    ("PATCH", f"{UC}/catalogs/{{name}}"): _p("PATCH", f"{UC}/catalogs/admins", catalog, comment="mine"),
    ("POST", f"{UC}/schemas"): _p("POST", f"{UC}/schemas", None, name="mine", catalog_name="main"),
    ("DELETE", f"{UC}/schemas/{{full_name}}"): _p("DELETE", f"{UC}/schemas/main.admins", schema),
    ("PATCH", f"{UC}/schemas/{{full_name}}"): _p(
        "PATCH", f"{UC}/schemas/main.admins", schema, comment="mine"
    ),
    ("DELETE", f"{UC}/tables/{{full_name}}"): _p("DELETE", f"{UC}/tables/main.default.t", table),
    ("POST", f"{UC}/volumes"): _p(
        "POST",
        f"{UC}/volumes",
        None,
        catalog_name="main",
        schema_name="default",
        name="mine",
        volume_type="MANAGED",
    ),
    ("DELETE", f"{UC}/volumes/{{name}}"): _p("DELETE", f"{UC}/volumes/main.default.vol", volume),
    ("PATCH", f"{UC}/volumes/{{name}}"): _p(
        "PATCH", f"{UC}/volumes/main.default.vol", volume, comment="mine"
    ),
    ("PATCH", f"{UC}/permissions/{{securable_type}}/{{full_name}}"): _p(
        "PATCH",
        f"{UC}/permissions/catalog/main",
        None,
        changes=[{"principal": "alice@example.com", "add": ["USE_CATALOG"]}],
    ),
    ("POST", "/api/2.0/mlflow/experiments/create"): Open(
        "any user may create an experiment; the creator manages it"
    ),
    ("POST", "/api/2.0/mlflow/experiments/search"): Open("reads only: a POST because the filter is a body"),
    ("POST", "/api/2.0/mlflow/runs/search"): Open("reads only: a POST because the filter is a body"),
    **_mlflow(),
    **{
        (method, "/api/{rest:path}"): Open("the catch-all: 501 NOT_IMPLEMENTED after auth, changes nothing")
        for method in ("DELETE", "OPTIONS", "PATCH", "POST", "PUT")
    },
    **{
        (method, "/{rest:path}"): Open("the catch-all: 404 ENDPOINT_NOT_FOUND after auth, changes nothing")
        for method in ("DELETE", "OPTIONS", "PATCH", "POST", "PUT")
    },
}


# The Permissions API, command execution and libraries (kept apart only for reading; an entry counts
# once the emulator serves its route).
SIBLINGS: dict[tuple[str, str], Entry] = {
    **{
        (method, "/api/2.0/permissions/{type}/{id}"): _p(
            method,
            "/api/2.0/permissions/jobs/{job_id}",
            job,
            access_control_list=[{"user_name": "alice@example.com", "permission_level": "CAN_MANAGE"}],
        )
        for method in ("PUT", "PATCH")
    },
    ("POST", "/api/1.2/contexts/create"): _p(
        "POST", "/api/1.2/contexts/create", cluster, clusterId="{cluster_id}", language="python"
    ),
    ("POST", "/api/1.2/contexts/destroy"): _p(
        "POST", "/api/1.2/contexts/destroy", cluster, clusterId="{cluster_id}", contextId="1"
    ),
    ("POST", "/api/1.2/commands/execute"): _p(
        "POST",
        "/api/1.2/commands/execute",
        cluster,
        clusterId="{cluster_id}",
        contextId="1",
        language="python",
        command="print(1)",
    ),
    ("POST", "/api/1.2/commands/cancel"): _p(
        "POST", "/api/1.2/commands/cancel", cluster, clusterId="{cluster_id}", contextId="1", commandId="1"
    ),
    **{
        ("POST", f"/api/2.0/libraries/{action}"): _p(
            "POST",
            f"/api/2.0/libraries/{action}",
            cluster,
            cluster_id="{cluster_id}",
            libraries=[{"pypi": {"package": "six"}}],
        )
        for action in ("install", "uninstall")
    },
}


def non_admin_table(routes: list[Any]) -> dict[tuple[str, str], Entry]:
    """The table for this route table: static entries, jobs and clusters per version, SCIM, control."""
    served = set(route_methods(routes))
    table: dict[tuple[str, str], Entry] = {**STATIC, **_scim(), **_control(routes)}
    table.update({key: entry for key, entry in SIBLINGS.items() if key in served})
    for version in ("2.0", "2.1", "2.2"):
        table.update(_jobs(version))
    for version in ("2.0", "2.1"):
        table.update(_clusters(version))
    return table
