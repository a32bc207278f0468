"""Hostile and careless input for the runbooks: deployment files and the cluster janitor's options.

Deployment files are written into the scratch folder by each row's setup; links and FIFOs stay inside
it (a link may point out, which is the point of the row). A refused row changes nothing: no request
that writes, and the scratch folder exactly as the setup left it.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from typing import Any

from tests.hostile.table import Row, Scene

Done = subprocess.CompletedProcess[bytes]
INLINE = "hunter2-inline-value"
NOTEBOOK = "# Databricks notebook source\nprint('etl')\n"
ALIAS_BOMB = 'name: etl\na: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{b}: &{b} [{', '.join([f'*{a}'] * 9)}]\n" for a, b in zip("abcdefgh", "bcdefghi", strict=True)
)


def deployment(data: dict[str, Any] | str, *, name: str = "deploy.yaml") -> Callable[[Scene], None]:
    """A setup writing a deployment file (a dict as JSON, which is YAML too) beside a notebooks folder."""

    def setup(scene: Scene) -> None:
        (scene.tmp / "notebooks").mkdir()
        (scene.tmp / "notebooks" / "main.py").write_text(NOTEBOOK)
        text = data if isinstance(data, str) else json.dumps(data)
        (scene.tmp / name).write_text(text)

    return setup


def with_secret_file(kind: str) -> Callable[[Scene], None]:
    """A deployment whose secret comes from ``secrets/k``: a link out of the folder, 200 KB, or a FIFO."""
    base = deployment({"name": "etl", "secrets": [{"scope": "etl", "keys": {"k": {"file": "secrets/k"}}}]})

    def setup(scene: Scene) -> None:
        base(scene)
        (scene.tmp / "secrets").mkdir()
        if kind == "link-out":
            (scene.tmp / "secrets" / "k").symlink_to("/etc/passwd")
        elif kind == "huge":
            (scene.tmp / "secrets" / "k").write_bytes(b"x" * (200 * 1024))
        else:
            os.mkfifo(scene.tmp / "secrets" / "k")

    return setup


def nothing_printed(value: str) -> Callable[[Scene, Done], None]:
    def check(_scene: Scene, done: Done) -> None:
        assert value.encode() not in done.stdout + done.stderr

    return check


def no_job_created(scene: Scene, _done: Done) -> None:
    assert not (scene.api("GET", "/api/2.2/jobs/list").get("jobs") or [])


DEPLOY = ["runbook.deploy", "--file", "deploy.yaml"]
FULL = {
    "name": "etl",
    "workspace": {"source": "notebooks", "dest": "/Shared/hostile-etl"},
    "jobs": [
        {"name": "etl-nightly", "tasks": [{"task_key": "t", "notebook_task": {"notebook_path": "/Shared/x"}}]}
    ],
}

ROWS = [
    Row(
        "runbooks-deploy-inline-secret-value",
        DEPLOY,
        2,
        r"secrets\[0\]\.keys\.db-password: secret values may not be written in the deployment file",
        setup=deployment({"name": "etl", "secrets": [{"scope": "etl", "keys": {"db-password": INLINE}}]}),
        check=nothing_printed(INLINE),
    ),
    Row(
        "runbooks-deploy-missing-env-var",
        DEPLOY,
        2,
        r"keys\.k\.env: the environment variable ETL_NOT_SET is not set",
        setup=deployment(
            {"name": "etl", "secrets": [{"scope": "etl", "keys": {"k": {"env": "ETL_NOT_SET"}}}]}
        ),
    ),
    Row(
        "runbooks-deploy-huge-secret-file",  # the Secrets API's limit, checked before any request
        DEPLOY,
        2,
        r"keys\.k\.file: 'secrets/k' holds more than 128 KiB",
        setup=with_secret_file("huge"),
    ),
    Row(
        "runbooks-deploy-secret-file-links-out",
        DEPLOY,
        2,
        r"keys\.k\.file: 'secrets/k' leads outside the deployment file's folder",
        setup=with_secret_file("link-out"),
    ),
    Row(
        "runbooks-deploy-secret-file-is-a-fifo",  # must not block reading a pipe nobody writes
        DEPLOY,
        2,
        r"keys\.k\.file: 'secrets/k' is not a regular file",
        setup=with_secret_file("fifo"),
    ),
    Row(
        "runbooks-deploy-source-climbs-out",
        DEPLOY,
        2,
        r"workspace\.source: '\.\./\.\./' leads outside",
        setup=deployment({"name": "etl", "workspace": {"source": "../../", "dest": "/Shared/etl"}}),
    ),
    Row(
        "runbooks-deploy-manages-the-workspace-root",
        DEPLOY,
        2,
        r"workspace\.dest: '/' is too high to manage",
        setup=deployment({"name": "etl", "workspace": {"source": "notebooks", "dest": "/"}}),
    ),
    Row(
        "runbooks-deploy-control-characters-in-a-job-name",
        DEPLOY,
        2,
        r"jobs\[0\]\.name: must not contain control characters",
        setup=deployment({"name": "etl", "jobs": [{"name": "etl\x1b[31m\nnightly", "tasks": []}]}),
        check=no_job_created,
    ),
    Row(
        "runbooks-deploy-yaml-alias-bomb",
        DEPLOY,
        2,
        r"YAML aliases \(\*a\) are not allowed",
        setup=deployment(ALIAS_BOMB),
    ),
    Row(
        "runbooks-deploy-file-is-dev-zero",
        ["runbook.deploy", "--file", "zero.yaml"],
        2,
        r"zero\.yaml is larger than 1 MiB",
        setup=lambda scene: (scene.tmp / "zero.yaml").symlink_to("/dev/zero"),
    ),
    Row(
        "runbooks-deploy-file-name-not-utf8",
        ["runbook.deploy", "--file", b"deploy\xff.yaml"],
        2,
        r"deployment file 'deploy\\xff\.yaml' is not valid UTF-8",
    ),
    Row(
        "runbooks-deploy-dry-run-writes-nothing",
        [*DEPLOY, "--dry-run"],
        0,
        None,
        setup=deployment(FULL),
        check=no_job_created,
        stdout=r"job 'etl-nightly' matches its spec",
    ),
    Row(
        "runbooks-janitor-without-a-limit",
        ["runbook.cluster-janitor", "--apply"],
        2,
        r"give --max-running or --max-idle",
    ),
    Row(
        "runbooks-janitor-empty-duration",  # an unset shell variable must not mean "no limit"
        ["runbook.cluster-janitor", "--max-idle", "", "--apply"],
        2,
        r"--max-idle must be a positive duration",
    ),
    Row(
        "runbooks-janitor-tag-with-a-newline",
        ["runbook.cluster-janitor", "--max-idle", "2h", "--tag", "team=da\nta", "--apply"],
        2,
        r"--tag 'team=da\\nta' contains a control character",
    ),
    Row(
        "runbooks-janitor-tag-without-a-value",
        ["runbook.cluster-janitor", "--max-idle", "2h", "--tag", "team", "--apply"],
        2,
        r"--tag must be KEY=VALUE",
    ),
]
