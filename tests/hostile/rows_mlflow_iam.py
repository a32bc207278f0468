"""Rows for the MLflow, identity and object permission tasks (areas ``mlflow``, ``iam``, ``permissions``).

Bad ids, bad filters, control characters, huge values, levels a type does not have, principals the
workspace does not know, permissions that are not an object, files that cannot be read: each ends with
its documented exit code (2 bad input, 3 refused, 4 not found) and one ``error:`` line, and nothing
is written. Rows that need an object make it in their setup through the REST API as the admin.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from tests.conftest import USER_TOKEN
from tests.hostile.table import Row, Scene

ALICE = "alice@example.com"
AS_ALICE = {"DATABRICKS_TOKEN": USER_TOKEN}


def _job(scene: Scene) -> None:
    task = {"task_key": "main", "notebook_task": {"notebook_path": "/Shared/etl"}}
    created = scene.api("POST", "/api/2.2/jobs/create", {"name": "admins-job", "tasks": [task]})
    scene.values["job"] = str(created["job_id"])


def _folder(scene: Scene) -> None:
    scene.api("POST", "/api/2.0/workspace/mkdirs", {"path": "/Shared/etl"})


def _write(name: str, content: bytes) -> Callable[[Scene], None]:
    def setup(scene: Scene) -> None:
        (scene.tmp / name).write_bytes(content)

    return setup


def _folder_named(name: str) -> Callable[[Scene], None]:
    def setup(scene: Scene) -> None:
        (scene.tmp / name).mkdir()

    return setup


MANY = json.dumps(
    {
        "access_control_list": [
            {"user_name": f"u{i}@example.com", "permission_level": "CAN_VIEW"} for i in range(1001)
        ]
    }
).encode()
SET = ["permissions.set", "jobs", "1"]
# Arguments go through str.format (for {tmp}, {job}): JSON braces are doubled.

ROWS: list[Row] = [
    # -- mlflow ---------------------------------------------------------------------------------------
    Row(
        "mlflow-get-experiment-id-not-digits",
        ["mlflow.get-experiment", "--id", "12x"],
        2,
        r"^error: invalid experiment id '12x': experiment ids are digits",
    ),
    Row(
        "mlflow-get-experiment-missing",
        ["mlflow.get-experiment", "--id", "999999"],
        4,
        r"^error: RESOURCE_DOES_NOT_EXIST: No Experiment with id=999999",
    ),
    Row(
        "mlflow-create-experiment-newline",
        ["mlflow.create-experiment", "/Users/a\nb"],
        2,
        r"^error: invalid experiment name '/Users/a\\nb': give an absolute workspace path",
    ),
    Row(
        "mlflow-experiments-huge-filter",
        ["mlflow.experiments", "--filter", "x" * 5000],
        2,
        r"^error: the filter must be printable text of at most 4096 characters",
    ),
    Row(
        "mlflow-experiments-bad-filter",
        ["mlflow.experiments", "--filter", "name = 'unterminated"],
        2,
        r"^error: INVALID_PARAMETER_VALUE: Invalid clause\(s\) in filter string",
        refused=False,  # experiments/search is a POST that only reads: the table would count it a change
    ),
    Row(
        "mlflow-search-runs-zero-results",
        ["mlflow.search-runs", "--experiment-id", "1", "--max-results", "0"],
        2,
        r"^error: max results must be between 1 and",
    ),
    Row(
        "mlflow-search-runs-escape-in-order-by",
        ["mlflow.search-runs", "--experiment-id", "1", "--order-by", "metrics.rmse\x1b[31m"],
        2,
        r"^error: invalid order-by clause",
    ),
    Row(
        "mlflow-search-runs-needs-an-experiment",
        ["mlflow.search-runs"],
        2,
        r"^error: pass exactly one of --experiment-id and --experiment-name",
    ),
    # -- iam ------------------------------------------------------------------------------------------
    Row(
        "iam-users-huge-filter",
        ["iam.users", "--filter", "x" * 3000],
        2,
        r"^error: the filter is 3000 characters; at most 2000 are accepted",
    ),
    Row(
        "iam-groups-bad-operator",
        ["iam.groups", "--filter", 'displayName zz "x"'],
        2,
        r"^error: .*Invalid filter: unsupported operator 'zz'",
    ),
    Row(
        "iam-add-member-unknown-group",
        ["iam.group-add-member", "nosuchgroup", ALICE],
        4,
        r"^error: RESOURCE_DOES_NOT_EXIST: Group nosuchgroup does not exist\.; list the groups with iam",
    ),
    Row(
        "iam-add-member-unknown-principal",
        ["iam.group-add-member", "admins", "nobody@example.com"],
        4,
        r"^error: RESOURCE_DOES_NOT_EXIST: No user, service principal or group named nobody@example\.com",
    ),
    Row(
        "iam-add-member-tab-in-group",
        ["iam.group-add-member", "a\tb", ALICE],
        2,
        r"^error: a group name must be 1-256 printable characters, not 'a\\tb'",
    ),
    # -- permissions ----------------------------------------------------------------------------------
    Row(
        "permissions-unknown-type",
        ["permissions.get", "tables", "1"],
        2,
        r"^error: TYPE must be one of jobs, clusters, .* not 'tables'",
    ),
    Row(
        "permissions-job-id-not-a-number",
        ["permissions.get", "jobs", "1; DROP"],
        2,
        r"^error: ID of a job must be a number, not '1; DROP'",
    ),
    Row(
        "permissions-id-leaves-the-path",
        ["permissions.grant", "clusters", "../../jobs/1", ALICE, "CAN_MANAGE"],
        2,
        r"^error: ID of a cluster must be 1-128 ASCII letters",
    ),
    Row(
        "permissions-level-of-another-type",
        ["permissions.grant", "jobs", "1", ALICE, "CAN_RESTART"],
        2,
        r"^error: LEVEL 'CAN_RESTART' is not a permission level of a job; use one of CAN_VIEW",
    ),
    Row(
        "permissions-escape-in-principal",
        ["permissions.grant", "jobs", "1", "al\x1b[2Jice", "CAN_VIEW"],
        2,
        r"^error: PRINCIPAL must be 1-256 printable characters, not 'al\\x1b\[2Jice'",
    ),
    Row(
        "permissions-huge-principal",
        ["permissions.revoke", "jobs", "1", "group:" + "g" * 5000],
        2,
        r"^error: PRINCIPAL after group: must be 1-256 printable characters, .*\(5000 characters\)",
    ),
    Row(
        "permissions-unknown-principal",
        ["permissions.grant", "jobs", "{job}", "nobody@example.com", "CAN_VIEW"],
        4,
        r"^error: RESOURCE_DOES_NOT_EXIST: no user named 'nobody@example\.com' exists in this workspace",
        setup=_job,
    ),
    Row(
        "permissions-revoke-the-owner",
        ["permissions.revoke", "jobs", "{job}", "admin@example.com"],
        2,
        r"^error: user:admin@example\.com owns job \d+; the owner cannot be revoked",
        setup=_job,
    ),
    Row(
        "permissions-missing-job",
        ["permissions.get", "jobs", "424242"],
        4,
        r"^error: .*424242",
    ),
    Row(
        "permissions-non-admin-on-admins-job",
        ["permissions.get", "jobs", "{job}"],
        3,
        r"^error: PERMISSION_DENIED: ",
        setup=_job,
        env=AS_ALICE,
    ),
    Row(
        "permissions-path-of-the-wrong-kind",
        ["permissions.get", "notebooks", "/Shared/etl"],
        2,
        r"^error: /Shared/etl is a directory, not a notebook",
        setup=_folder,
    ),
    Row(
        "permissions-set-json-not-an-object",
        [*SET, "--json", "[1, 2]"],
        2,
        r"^error: --json: the spec must be an object",
    ),
    Row(
        "permissions-set-unknown-key",
        [*SET, "--json", '{{"acl": []}}'],
        2,
        r"^error: the permissions give 'acl'; only access_control_list is expected",
    ),
    Row(
        "permissions-set-two-principals-in-one-entry",
        [*SET, "--json", '{{"access_control_list": [{{"user_name": "a@b.c", "group_name": "x"}}]}}'],
        2,
        r"^error: access_control_list\[0\] must name exactly one of user_name, group_name",
    ),
    Row(
        "permissions-set-file-is-a-folder",
        [*SET, "--file", "{tmp}/acl.json"],
        2,
        r"^error: --file: cannot read",
        setup=_folder_named("acl.json"),
    ),
    Row(
        "permissions-set-too-many-entries",
        [*SET, "--file", "{tmp}/acl.json"],
        2,
        r"^error: access_control_list has 1001 entries; at most 1000 are accepted",
        setup=_write("acl.json", MANY),
    ),
]
