"""The deployment file: what a valid one becomes, and one refusal per rule (exit 2, naming the field)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from brickbook.deployment import DEPLOYMENT_TAG, MAX_SECRET_BYTES, load_deployment
from brickbook.errors import UsageError
from brickbook.redaction import redact

ENV = {"ETL_DB_PASSWORD": "pw-from-the-env-0123"}
TASK = {"task_key": "main", "notebook_task": {"notebook_path": "/Shared/etl/main"}}
FULL = """\
name: etl
workspace:
  source: notebooks/
  dest: /Shared/etl
dbfs:
  - {source: conf/etl.json, dest: "dbfs:/etl/conf/etl.json"}
secrets:
  - scope: etl
    keys:
      db-password: {env: ETL_DB_PASSWORD}
      api-key: {file: secrets/api-key.txt}
repos:
  - {path: /Repos/ci/etl, branch: main}
  - {path: /Repos/ci/lib, tag: v1.2}
jobs:
  - name: etl-nightly
    file: jobs/nightly.yaml
  - name: etl-hourly
    tags: {team: data}
    tasks:
      - task_key: main
        notebook_task: {notebook_path: /Shared/etl/main}
"""


def project(root: Path, text: str = FULL, *, name: str = "deploy.yaml") -> Path:
    """Lay out a deployment's local files under ``root`` and write the deployment file; return its path."""
    (root / "notebooks").mkdir(parents=True, exist_ok=True)
    (root / "notebooks" / "main.py").write_text("# Databricks notebook source\nprint(1)\n")
    (root / "conf").mkdir(exist_ok=True)
    (root / "conf" / "etl.json").write_text('{"rows": 10}')
    (root / "secrets").mkdir(exist_ok=True)
    (root / "secrets" / "api-key.txt").write_bytes(b"key-from-a-file-4567")
    (root / "jobs").mkdir(exist_ok=True)
    (root / "jobs" / "nightly.yaml").write_text(
        "tasks:\n  - task_key: main\n    notebook_task: {notebook_path: /Shared/etl/main}\n"
    )
    path = root / name
    path.write_text(text)
    return path


def write(root: Path, data: dict[str, Any]) -> Path:
    """Write ``data`` as a JSON deployment file beside the layout of ``project``."""
    return project(root, json.dumps(data), name="deploy.json")


def refusal(path: Path, environ: dict[str, str] | None = None) -> UsageError:
    with pytest.raises(UsageError) as caught:
        load_deployment(path, environ=ENV if environ is None else environ)
    assert caught.value.exit_code == 2 and caught.value.error_code is None
    return caught.value


def minimal(**sections: Any) -> dict[str, Any]:
    return {"name": "etl", **sections}


def test_full_file_is_read_with_paths_resolved_and_values_read(tmp_path: Path):
    """Every section is read: local paths absolute, remote paths normalised, secret values read."""
    deployment = load_deployment(project(tmp_path), environ=ENV)
    assert deployment.name == "etl"
    assert deployment.workspace is not None
    assert deployment.workspace.source == (tmp_path / "notebooks").resolve()
    assert deployment.workspace.dest == "/Shared/etl"
    assert [(f.source.name, f.dest, f.shown) for f in deployment.dbfs] == [
        ("etl.json", "/etl/conf/etl.json", "dbfs:/etl/conf/etl.json")
    ]
    (scope,) = deployment.secrets
    assert scope.scope == "etl"
    assert [(k.key, k.origin, k.value) for k in scope.keys] == [
        ("db-password", "env ETL_DB_PASSWORD", b"pw-from-the-env-0123"),
        ("api-key", "file secrets/api-key.txt", b"key-from-a-file-4567"),
    ]
    assert [(r.path, r.ref) for r in deployment.repos] == [
        ("/Repos/ci/etl", "main"),
        ("/Repos/ci/lib", "tag v1.2"),
    ]
    assert [j.name for j in deployment.jobs] == ["etl-nightly", "etl-hourly"]


def test_every_job_is_tagged_with_the_deployment(tmp_path: Path):
    """Each job's settings carry brickbook-deployment: <name>, beside the tags it already had."""
    deployment = load_deployment(project(tmp_path), environ=ENV)
    assert deployment.jobs[0].settings["tags"] == {DEPLOYMENT_TAG: "etl"}
    assert deployment.jobs[1].settings["tags"] == {"team": "data", DEPLOYMENT_TAG: "etl"}
    assert deployment.tag == {DEPLOYMENT_TAG: "etl"}


def test_a_job_file_gives_the_settings_and_the_entry_its_name(tmp_path: Path):
    """{name, file} reads the job's settings from the file; the name is the entry's."""
    deployment = load_deployment(project(tmp_path), environ=ENV)
    assert deployment.jobs[0].settings == {
        "tasks": [TASK],
        "name": "etl-nightly",
        "tags": {DEPLOYMENT_TAG: "etl"},
    }


def test_secret_values_are_never_in_the_repr_and_are_redacted(tmp_path: Path):
    """Secret values stay out of reprs, and once read they are masked in anything printed."""
    deployment = load_deployment(project(tmp_path), environ=ENV)
    assert "pw-from-the-env" not in repr(deployment) and "key-from-a-file" not in repr(deployment)
    assert redact("value: pw-from-the-env-0123") == "value: ***"
    assert redact("value: key-from-a-file-4567") == "value: ***"


def test_only_a_name_is_required(tmp_path: Path):
    """A deployment of nothing but a name is valid (with --prune it removes what the name manages)."""
    deployment = load_deployment(write(tmp_path, minimal()), environ={})
    assert (deployment.workspace, deployment.dbfs, deployment.secrets, deployment.jobs) == (None, (), (), ())


def test_a_secret_file_keeps_its_bytes_exactly(tmp_path: Path):
    """A value read from a file is its bytes as they are, a trailing newline included."""
    path = write(tmp_path, minimal(secrets=[{"scope": "s", "keys": {"k": {"file": "secrets/nl.txt"}}}]))
    (tmp_path / "secrets" / "nl.txt").write_bytes(b"line\n")
    assert load_deployment(path, environ={}).secrets[0].keys[0].value == b"line\n"


# -- one refusal per rule ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, r"deploy.json: name: is required"),
        (minimal(name="etl/prod"), r"name: 'etl/prod' must be 1-64 letters"),
        (minimal(name=7), r"name: must be a non-empty string, not a number"),
        (minimal(jobz=[]), r"jobz: unknown key; expected one of name, workspace"),
        (minimal(workspace={"source": "notebooks"}), r"workspace.dest: is required"),
        (minimal(workspace={"dest": "/Shared/etl"}), r"workspace.source: is required"),
        (
            minimal(workspace={"source": "notebooks", "dest": "Shared/etl"}),
            r"workspace.dest: .*must be absolute",
        ),
        (minimal(workspace={"source": "notebooks", "dest": "/Shared/../etc"}), r"workspace.dest: .*'\.\.'"),
        (
            minimal(workspace={"source": "notebooks", "dest": "/Shared"}),
            r"workspace.dest: '/Shared' is too high",
        ),
        (minimal(workspace={"source": "notebooks", "dest": "/"}), r"workspace.dest: '/' is too high"),
        (
            minimal(workspace={"source": "notebooks", "dest": "/Shared/a\nb"}),
            r"workspace.dest: must not contain",
        ),
        (
            minimal(workspace={"source": "nope", "dest": "/Shared/etl"}),
            r"workspace.source: 'nope' is not a folder",
        ),
        (
            minimal(workspace={"source": "conf/etl.json", "dest": "/Shared/etl"}),
            r"workspace.source: .* not a folder",
        ),
        (
            minimal(workspace={"source": "../", "dest": "/Shared/etl"}),
            r"workspace.source: '../' leads outside",
        ),
        (
            minimal(workspace={"source": "/etc", "dest": "/Shared/etl"}),
            r"workspace.source: '/etc' must be relative",
        ),
        (minimal(dbfs={"source": "conf/etl.json"}), r"dbfs: must be a list, not an object"),
        (
            minimal(dbfs=[{"source": "conf/etl.json", "dest": "/etl/x"}]),
            r"dbfs\[0\].dest: '/etl/x' must start with dbfs:/",
        ),
        (minimal(dbfs=[{"source": "conf/etl.json", "dest": "dbfs:/"}]), r"dbfs\[0\].dest: must name a file"),
        (minimal(dbfs=[{"source": "conf/etl.json", "dest": "dbfs:/a/../b"}]), r"dbfs\[0\].dest: .*'\.\.'"),
        (minimal(dbfs=[{"source": "conf", "dest": "dbfs:/x"}]), r"dbfs\[0\].source: 'conf' is a folder"),
        (minimal(dbfs=[{"source": "conf/none.json", "dest": "dbfs:/x"}]), r"dbfs\[0\].source: .* is missing"),
        (
            minimal(
                dbfs=[
                    {"source": "conf/etl.json", "dest": "dbfs:/x"},
                    {"source": "conf/etl.json", "dest": "dbfs:/x/"},
                ]
            ),
            r"dbfs\[1\].dest: the DBFS path '/x' is already listed at dbfs\[0\].dest",
        ),
        (
            minimal(dbfs=[{"source": "conf/etl.json", "dest": "dbfs:/x", "mode": 1}]),
            r"dbfs\[0\].mode: unknown key",
        ),
        (minimal(secrets=[{"keys": {}}]), r"secrets\[0\].scope: is required"),
        (minimal(secrets=[{"scope": "a b"}]), r"secrets\[0\].scope: 'a b' must be 1-128 letters"),
        (
            minimal(secrets=[{"scope": "s"}, {"scope": "s"}]),
            r"secrets\[1\].scope: the scope 's' is already listed",
        ),
        (minimal(secrets=[{"scope": "s", "keys": ["k"]}]), r"secrets\[0\].keys: must be an object"),
        (
            minimal(secrets=[{"scope": "s", "keys": {"a/b": {"env": "X"}}}]),
            r"secrets\[0\].keys.a/b: a key must be",
        ),
        (
            minimal(secrets=[{"scope": "s", "keys": {"k": {"env": "A", "file": "B"}}}]),
            r"keys.k: give one of env or file",
        ),
        (
            minimal(secrets=[{"scope": "s", "keys": {"k": {"env": "1X"}}}]),
            r"keys.k.env: '1X' is not an environment",
        ),
        (
            minimal(secrets=[{"scope": "s", "keys": {"k": {"env": "UNSET_VAR"}}}]),
            r"keys.k.env: .*UNSET_VAR is not set",
        ),
        (minimal(secrets=[{"scope": "s", "keys": {"k": {"env": "EMPTY"}}}]), r"keys.k.env: .*EMPTY is empty"),
        (
            minimal(secrets=[{"scope": "s", "keys": {"k": {"file": "secrets/no.txt"}}}]),
            r"keys.k.file: .* is missing",
        ),
        (
            minimal(secrets=[{"scope": "s", "keys": {"k": {"file": "../x"}}}]),
            r"keys.k.file: '../x' leads outside",
        ),
        (minimal(repos=[{"path": "/Repos/a"}]), r"repos\[0\]: give exactly one of branch or tag"),
        (minimal(repos=[{"path": "/Repos/a", "branch": "m", "tag": "t"}]), r"repos\[0\]: give exactly one"),
        (minimal(repos=[{"path": "Repos/a", "branch": "m"}]), r"repos\[0\].path: .*must be absolute"),
        (
            minimal(repos=[{"path": "/Repos/a", "branch": "m"}, {"path": "/Repos/a/", "tag": "t"}]),
            r"repos\[1\].path: the repo '/Repos/a' is already listed",
        ),
        (minimal(jobs=[{"tasks": [TASK]}]), r"jobs\[0\].name: is required"),
        (minimal(jobs=["etl"]), r"jobs\[0\]: must be an object \(job settings\), not a string"),
        (
            minimal(jobs=[{"name": "a", "tasks": [TASK]}, {"name": "A", "tasks": [TASK]}]),
            r"jobs\[1\].name: the job name 'a'",
        ),
        (
            minimal(jobs=[{"name": "a", "tasks": [{"task_key": "t"}]}]),
            r"jobs\[0\] 'a': tasks\[0\] needs a task kind",
        ),
        (
            minimal(jobs=[{"name": "a", "timeout_seconds": -1}]),
            r"jobs\[0\] 'a': timeout_seconds must be an integer >= 0",
        ),
        (
            minimal(jobs=[{"name": "a", "file": "jobs/nightly.yaml", "timeout_seconds": 5}]),
            r"jobs\[0\].timeout_seconds: unknown",
        ),
        (
            minimal(jobs=[{"name": "a", "file": "jobs/none.yaml"}]),
            r"jobs\[0\].file: 'jobs/none.yaml' is missing",
        ),
        (minimal(jobs=[{"name": "a", "tags": ["x"]}]), r"jobs\[0\] 'a': tags: must be an object"),
        (
            minimal(jobs=[{"name": "a", "tags": {DEPLOYMENT_TAG: "other"}}]),
            r"jobs\[0\] 'a': tags.brickbook-deployment: is set by the deployment",
        ),
    ],
)
def test_a_bad_deployment_file_is_refused_naming_the_field(
    tmp_path: Path, data: dict[str, Any], message: str
):
    """Each rule refuses with exit 2 and one line naming the file and the offending field."""
    error = refusal(write(tmp_path, data), environ={**ENV, "EMPTY": ""})
    assert error.message.startswith(f"{tmp_path / 'deploy.json'}: ") or error.message.startswith(
        "deploy.json"
    )
    assert re.search(message, error.message), error.message


@pytest.mark.parametrize("value", ["hunter2-inline", 12345678, ["a"], {"value": "hunter2-inline"}, {}])
def test_an_inline_secret_value_is_refused_without_echoing_it(tmp_path: Path, value: object):
    """A value written in the file (plain, or under any key but env/file) is refused, and never shown."""
    path = write(tmp_path, minimal(secrets=[{"scope": "s", "keys": {"db-password": value}}]))
    error = refusal(path)
    assert (
        "secrets[0].keys.db-password: secret values may not be written in the deployment file"
        in error.message
    )
    assert "hunter2" not in error.message and "12345678" not in error.message


def test_a_secret_file_inside_the_imported_folder_is_refused(tmp_path: Path):
    """A secret file under workspace.source would be uploaded with the notebooks: refused."""
    path = write(
        tmp_path,
        minimal(
            workspace={"source": "notebooks", "dest": "/Shared/etl"},
            secrets=[{"scope": "s", "keys": {"k": {"file": "notebooks/main.py"}}}],
        ),
    )
    assert "secrets[0].keys.k.file: lies inside workspace.source" in refusal(path).message


def test_a_symlink_out_of_the_folder_is_refused(tmp_path: Path):
    """A local path that resolves outside the deployment file's folder (through a link) is refused."""
    root = tmp_path / "project"
    root.mkdir()
    outside = tmp_path / "outside.txt"
    outside.write_text("elsewhere")
    (root / "link.txt").symlink_to(outside)
    path = write(root, minimal(dbfs=[{"source": "link.txt", "dest": "dbfs:/x"}]))
    assert "dbfs[0].source: 'link.txt' leads outside the deployment file's folder" in refusal(path).message


def test_a_secret_larger_than_the_api_allows_is_refused(tmp_path: Path):
    """A value over 128 KiB (the Secrets API's limit) is refused before any request."""
    path = write(tmp_path, minimal(secrets=[{"scope": "s", "keys": {"k": {"file": "secrets/big"}}}]))
    (tmp_path / "secrets" / "big").write_bytes(b"x" * (MAX_SECRET_BYTES + 1))
    assert "keys.k.file: 'secrets/big' holds more than 128 KiB" in refusal(path).message


def test_an_empty_secret_file_is_refused(tmp_path: Path):
    """An empty file is a mistake, not a value."""
    path = write(tmp_path, minimal(secrets=[{"scope": "s", "keys": {"k": {"file": "secrets/empty"}}}]))
    (tmp_path / "secrets" / "empty").write_bytes(b"")
    assert "keys.k.file: 'secrets/empty' is empty" in refusal(path).message


def test_a_job_file_naming_another_job_is_refused(tmp_path: Path):
    """The entry names the job: a job file that names a different one is a mistake."""
    path = write(tmp_path, minimal(jobs=[{"name": "a", "file": "jobs/nightly.yaml"}]))
    (tmp_path / "jobs" / "nightly.yaml").write_text("name: b\ntasks: []\n")
    assert "jobs[0].file: the job file names the job 'b', the entry 'a'" in refusal(path).message


def test_a_bad_job_file_is_refused_naming_the_entry(tmp_path: Path):
    """A job file that is not valid YAML is refused, naming the entry and the file's own problem."""
    path = write(tmp_path, minimal(jobs=[{"name": "a", "file": "jobs/nightly.yaml"}]))
    (tmp_path / "jobs" / "nightly.yaml").write_text("tasks: [\n")
    message = refusal(path).message
    assert "jobs[0].file: " in message and "not valid YAML" in message


def test_the_file_itself_is_bounded_like_every_spec(tmp_path: Path):
    """The deployment file is read with the spec loader: YAML aliases are refused."""
    path = project(tmp_path, "name: &n etl\njobs:\n  - {name: *n}\n")
    assert "YAML aliases (*n) are not allowed" in refusal(path).message


def test_a_file_of_another_kind_is_refused(tmp_path: Path):
    """Only .yaml, .yml and .json files are deployment files."""
    path = project(tmp_path, "name: etl\n", name="deploy.txt")
    assert "must end in .json, .yaml or .yml" in refusal(path).message


def test_a_file_name_that_is_not_utf8_is_refused(tmp_path: Path):
    """A deployment file named with bytes that are not UTF-8 (from argv) is refused, shown escaped."""
    error = refusal(Path("deploy\udcff.yaml"))
    assert "deployment file 'deploy\\xff.yaml' is not valid UTF-8" in error.message
