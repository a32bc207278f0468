"""Hostile and careless input for the specs, jobs and clusters tasks (issue 7 rows 4, 5, 8, 13, 17, 19).

Setups create what a row needs through the emulator's REST API; runs use serverless notebook tasks,
which execute as real child processes, so a setup that needs a finished run polls for it (waiting for
a process, not for emulated time). Clusters move on the emulator's clock, which setups advance.
"""

from __future__ import annotations

import base64
import json
import subprocess
import time
from collections.abc import Callable
from typing import Any

from tests.hostile.table import Row, Scene

JOBS = "/api/2.2/jobs"
CLUSTERS = "/api/2.1/clusters"
NOTEBOOK = "/Shared/hostile/nb"
BLOCK = "import time\nwhile True:\n    time.sleep(0.02)\n"
FAIL = "raise RuntimeError('broken')\n"
CLUSTER_SPEC = {
    "cluster_name": "c",
    "spark_version": "15.4.x-scala2.12",
    "node_type_id": "i3.xlarge",
    "num_workers": 1,
}
JOB_SPEC = json.dumps(
    {"name": "adhoc", "tasks": [{"task_key": "t", "notebook_task": {"notebook_path": NOTEBOOK}}]}
)


def literal(text: str) -> str:
    """An argument taken as written: rows substitute ``{name}``, so JSON braces are doubled."""
    return text.replace("{", "{{").replace("}", "}}")


SPEC_ARG = literal(JOB_SPEC)
# Nine levels of aliases: about 1 KB that a plain YAML loader grows to 10^9 strings.
ALIAS_BOMB = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{b}: &{b} [{', '.join([f'*{a}'] * 9)}]\n" for a, b in zip("abcdefgh", "bcdefghi", strict=True)
)


# -- setups ---------------------------------------------------------------------------------------


def _write(name: str, text: str) -> Callable[[Scene], None]:
    def setup(scene: Scene) -> None:
        (scene.tmp / name).write_text(text)

    return setup


def _yaml_with(value: str) -> Callable[[Scene], None]:
    """A job spec whose notebook task has ``base_parameters.day: <value>``, as spec.yaml."""
    return _write(
        "spec.yaml",
        "name: dated\ntasks:\n  - task_key: t\n    notebook_task:\n"
        f"      notebook_path: {NOTEBOOK}\n      base_parameters:\n        day: {value}\n",
    )


def _notebook(scene: Scene, source: str) -> None:
    content = base64.b64encode(("# Databricks notebook source\n" + source).encode()).decode()
    scene.api("POST", "/api/2.0/workspace/mkdirs", {"path": NOTEBOOK.rsplit("/", 1)[0]})
    body = {"path": NOTEBOOK, "format": "SOURCE", "language": "PYTHON", "overwrite": True, "content": content}
    scene.api("POST", "/api/2.0/workspace/import", body)


def _job(scene: Scene, source: str = BLOCK) -> int:
    _notebook(scene, source)
    job_id = int(scene.api("POST", f"{JOBS}/create", json.loads(JOB_SPEC))["job_id"])
    scene.values["job_id"] = str(job_id)
    return job_id


def _run(scene: Scene, source: str = BLOCK) -> int:
    run_id = int(scene.api("POST", f"{JOBS}/run-now", {"job_id": _job(scene, source)})["run_id"])
    scene.values["run_id"] = str(run_id)
    return run_id


def _get_run(scene: Scene, run_id: int) -> dict[str, Any]:
    run: dict[str, Any] = scene.api("GET", f"{JOBS}/runs/get?run_id={run_id}&include_history=true")
    return run


def _finished(scene: Scene, run_id: int) -> dict[str, Any]:
    """Poll until the run's child process has ended (real time: it is a real process)."""
    deadline = time.monotonic() + 30
    while True:
        run = _get_run(scene, run_id)
        if run["state"]["life_cycle_state"] in ("TERMINATED", "SKIPPED", "INTERNAL_ERROR"):
            return run
        assert time.monotonic() < deadline, f"run {run_id} stuck: {run['state']}"
        time.sleep(0.02)


def with_job(scene: Scene) -> None:
    _job(scene)


def with_run(scene: Scene) -> None:
    _run(scene)


def with_failed_run(scene: Scene) -> None:
    _finished(scene, _run(scene, FAIL))


def with_repaired_run(scene: Scene) -> None:
    """A run that failed, was repaired once and failed again: the next repair needs latest_repair_id."""
    run_id = _run(scene, FAIL)
    _finished(scene, run_id)
    scene.api("POST", f"{JOBS}/runs/repair", {"run_id": run_id, "rerun_all_failed_tasks": True})
    _finished(scene, run_id)


def with_cluster(scene: Scene) -> None:
    """A RUNNING cluster (the emulator's clock moves it from PENDING)."""
    scene.values["cluster_id"] = str(scene.api("POST", f"{CLUSTERS}/create", CLUSTER_SPEC)["cluster_id"])
    scene.emulator.clock.advance(5)


# -- checks ---------------------------------------------------------------------------------------


def _printed(done: subprocess.CompletedProcess[bytes]) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(done.stdout)  # exactly one JSON value, or this fails
    return value


def says(key: str, value_of: str) -> Callable[[Scene, subprocess.CompletedProcess[bytes]], None]:
    """The row printed one JSON object whose first key is ``key``, naming ``scene.values[value_of]``."""

    def check(scene: Scene, done: subprocess.CompletedProcess[bytes]) -> None:
        first = next(iter(_printed(done).items()))
        assert first == (key, type(first[1])(scene.values[value_of])), first

    return check


def date_stayed_text(scene: Scene, done: subprocess.CompletedProcess[bytes]) -> None:
    job = scene.api("GET", f"{JOBS}/get?job_id={_printed(done)['job_id']}")
    assert job["settings"]["tasks"][0]["notebook_task"]["base_parameters"] == {"day": "2026-11-26"}


def repaired_twice(scene: Scene, done: subprocess.CompletedProcess[bytes]) -> None:
    run = _get_run(scene, int(scene.values["run_id"]))
    assert [h["type"] for h in run["repair_history"]] == ["ORIGINAL", "REPAIR", "REPAIR"]
    assert _printed(done)["repair_id"] == run["repair_history"][-1]["id"]


def job_gone(scene: Scene, done: subprocess.CompletedProcess[bytes]) -> None:
    says("deleted", "job_id")(scene, done)
    assert scene.api("GET", f"{JOBS}/list").get("jobs", []) == []


def run_cancelled(scene: Scene, done: subprocess.CompletedProcess[bytes]) -> None:
    says("cancelled", "run_id")(scene, done)
    run = _finished(scene, int(scene.values["run_id"]))
    assert run["state"]["result_state"] == "CANCELED"


def still_running(scene: Scene, done: subprocess.CompletedProcess[bytes]) -> None:
    run = _get_run(scene, int(scene.values["run_id"]))
    assert run["state"]["life_cycle_state"] in ("PENDING", "RUNNING", "QUEUED"), run["state"]


# -- rows -----------------------------------------------------------------------------------------

DAY = r"^error: spec\.yaml: tasks\[0\]\.notebook_task\.base_parameters\.day"
TIMEOUT = r"^error: --timeout must be a positive duration such as 90, 90s, 20m or 2h"
INTERRUPT = r"^error: --on-interrupt must be cancel or detach, not 'bogus'"
TOO_DEEP = r"the spec is nested deeper than 64 levels"
NOT_JSON = r"cannot be sent to the API as JSON"

ROWS = [
    # Row 4: every spec input is bounded (size, YAML aliases, nesting), for jobs and clusters alike.
    Row(
        "jobs-yaml-alias-bomb",
        ["jobs.create", "--file", "bomb.yaml"],
        2,
        r"^error: bomb\.yaml: line 2 column \d+: YAML aliases \(\*a\) are not allowed in specs",
        setup=_write("bomb.yaml", ALIAS_BOMB),
    ),
    Row(
        "jobs-yaml-alias-bomb-clusters",
        ["clusters.create", "--file", "bomb.yml"],
        2,
        r"^error: bomb\.yml: line 2 column \d+: YAML aliases",
        setup=_write("bomb.yml", ALIAS_BOMB),
    ),
    Row(
        "jobs-deep-json-file",
        ["jobs.create", "--json", "@deep.json"],
        2,
        rf"^error: deep\.json: {TOO_DEEP}",
        setup=_write("deep.json", "[" * 1_000_000),
    ),
    Row(
        "jobs-deep-json-inline",
        ["jobs.submit", "--json", literal('{"tasks": ' + "[" * 200 + "]" * 200 + "}")],
        2,
        rf"^error: --json: {TOO_DEEP} \(at tasks",
    ),
    Row(
        "jobs-deep-json-clusters",
        ["clusters.create", "--json", literal('{"spark_conf": ' + "[" * 100 + "]" * 100 + "}")],
        2,
        rf"^error: --json: {TOO_DEEP}",
    ),
    Row(
        "jobs-deep-yaml-block",
        ["jobs.create", "--file", "deep.yaml"],
        2,
        rf"^error: deep\.yaml: line 65 column \d+: {TOO_DEEP}",
        setup=_write("deep.yaml", "".join("  " * i + f"k{i}:\n" for i in range(200)) + "  " * 200 + "v: 1\n"),
    ),
    Row(
        "jobs-deep-yaml-flow",
        ["jobs.submit", "--file", "deep.yml"],
        2,
        rf"^error: deep\.yml: line 1 column 65: {TOO_DEEP}",
        setup=_write("deep.yml", "[" * 1_000_000),
    ),
    Row(
        "jobs-spec-too-large",
        ["jobs.create", "--file", "big.json"],
        2,
        r"^error: --file: big\.json is larger than 1 MiB, the most a spec may be",
        setup=_write("big.json", '{"name": "' + "x" * (2 << 20) + '"}'),
    ),
    Row(
        "jobs-spec-endless-file",
        ["jobs.create", "--json", "@/dev/zero"],
        2,
        r"^error: --json: /dev/zero is larger",
    ),
    Row(
        "jobs-spec-nan",
        ["jobs.create", "--json", literal('{"name": NaN}')],
        2,
        r"^error: --json: NaN is not a JSON number",
    ),
    Row(
        "jobs-spec-duplicate-key",
        ["jobs.create", "--json", literal('{"name": "a", "name": "b"}')],
        2,
        r"^error: --json: the key 'name' appears twice",
    ),
    # Row 8: YAML scalars stay strings where the API wants strings; what JSON cannot carry is refused.
    Row(
        "jobs-yaml-date-is-text",
        ["jobs.create", "--file", "spec.yaml", "-o", "json"],
        0,
        refused=False,
        setup=_yaml_with("2026-11-26"),
        check=date_stayed_text,
    ),
    *(
        Row(
            f"jobs-yaml-{name}",
            ["jobs.create", "--file", "spec.yaml"],
            2,
            rf"{DAY} \(line 7\): {tag} {NOT_JSON}",
            setup=_yaml_with(value),
        )
        for name, value, tag in [
            ("set", "!!set {a, b}", "!!set"),
            ("binary", "!!binary aGVsbG8=", "!!binary"),
            ("explicit-timestamp", "!!timestamp 2026-11-26", "!!timestamp"),
            (
                "python-tag",
                "!!python/object/apply:os.system ['touch pwned']",
                "!!python/object/apply:os.system",
            ),
        ]
    ),
    Row(
        "jobs-yaml-int-key",
        ["jobs.create", "--file", "spec.yaml"],
        2,
        rf"{DAY} \(line 8\): keys must be strings, not '1' \(int\); quote it",
        setup=_yaml_with("\n          1: one"),
    ),
    Row(
        "jobs-yaml-infinity",
        ["clusters.create", "--file", "c.yaml"],
        2,
        r"^error: c\.yaml: num_workers \(line 2\): \.inf cannot be sent: JSON has no infinity or NaN",
        setup=_write("c.yaml", "spark_version: 15.4.x-scala2.12\nnum_workers: .inf\n"),
    ),
    # Row 5: every option is checked before the first request, whatever the other options say.
    Row(
        "jobs-run-now-bad-interrupt",
        ["jobs.run-now", "{job_id}", "--on-interrupt", "bogus"],
        2,
        INTERRUPT,
        setup=with_job,
    ),
    Row(
        "jobs-run-now-no-wait-bad-interrupt",
        ["jobs.run-now", "{job_id}", "--no-wait", "--on-interrupt", "bogus"],
        2,
        INTERRUPT,
        setup=with_job,
    ),
    Row(
        "jobs-submit-bad-interrupt",
        ["jobs.submit", "--json", SPEC_ARG, "--on-interrupt", "bogus"],
        2,
        INTERRUPT,
    ),
    Row(
        "jobs-submit-no-wait-bad-timeout",
        ["jobs.submit", "--json", SPEC_ARG, "--no-wait", "--timeout", "soon"],
        2,
        TIMEOUT,
    ),
    Row(
        "jobs-cancel-run-wait-bad-timeout",
        ["jobs.cancel-run", "{run_id}", "--wait", "--timeout", "zz"],
        2,
        TIMEOUT,
        setup=with_run,
        check=still_running,
    ),
    Row(
        "jobs-cancel-run-no-wait-bad-timeout",
        ["jobs.cancel-run", "{run_id}", "--timeout", "zz"],
        2,
        TIMEOUT,
        setup=with_run,
        check=still_running,
    ),
    Row(
        "jobs-param-without-equals",
        ["jobs.run-now", "{job_id}", "--param", "day"],
        2,
        r"^error: --param must look like key=value, not 'day'",
        setup=with_job,
    ),
    Row(
        "jobs-param-twice",
        ["jobs.run-now", "{job_id}", "--param", "a=1", "--param", "a=2"],
        2,
        r"^error: --param 'a' is given twice",
        setup=with_job,
    ),
    Row(
        "jobs-idempotency-token-too-long",
        ["jobs.run-now", "{job_id}", "--idempotency-token", "t" * 65],
        2,
        r"^error: --idempotency-token must be 1 to 64 printable characters",
        setup=with_job,
    ),
    Row(
        "jobs-repair-bad-interrupt",
        ["jobs.repair-run", "{run_id}", "--rerun-all-failed", "--on-interrupt", "bogus"],
        2,
        INTERRUPT,
        setup=with_failed_run,
    ),
    Row(
        "jobs-repair-no-wait-bad-timeout",
        ["jobs.repair-run", "{run_id}", "--rerun-all-failed", "--no-wait", "--timeout", "-1"],
        2,
        TIMEOUT,
        setup=with_failed_run,
    ),
    Row("jobs-id-unicode-digit", ["jobs.delete", "²"], 2, r"^error: JOB_ID must be a number, not '²'"),
    Row("jobs-id-5000-digits", ["jobs.get-run", "1" * 5000], 2, r"^error: RUN_ID must be a number, not '1+…"),
    Row("jobs-id-beyond-int64", ["jobs.delete", "9" * 20], 2, r"^error: JOB_ID must be a number, not '9+'"),
    Row(
        "jobs-list-runs-empty-job-id",
        ["jobs.list-runs", "--job-id", ""],
        2,
        r"^error: --job-id must be a number",
    ),
    # Row 13: a second repair of the same run works (the latest repair id comes from include_history).
    Row(
        "jobs-second-repair",
        ["jobs.repair-run", "{run_id}", "--rerun-all-failed", "--no-wait", "-o", "json"],
        0,
        refused=False,
        setup=with_repaired_run,
        check=repaired_twice,
    ),
    # Row 17: unknown cluster states and blank, zero or negative durations are usage errors.
    Row(
        "jobs-clusters-list-bogus-state",
        ["clusters.list", "--state", "BOGUS"],
        2,
        r"^error: --state must be one of PENDING, RUNNING, RESTARTING, RESIZING, TERMINATING, TERMINATED, "
        r"ERROR, UNKNOWN, not 'BOGUS'",
    ),
    Row("jobs-wait-runs-none", ["jobs.wait-runs"], 2, r"^error: name at least one run with --run-id"),
    Row(
        "jobs-wait-runs-bad-id",
        ["jobs.wait-runs", "--run-id", "7", "--run-id", "-1"],
        2,
        r"^error: --run-id must be a number, not '-1'",
    ),
    Row("jobs-wait-runs-empty-timeout", ["jobs.wait-runs", "--run-id", "7", "--timeout", ""], 2, TIMEOUT),
    Row(
        "jobs-run-now-empty-timeout",
        ["jobs.run-now", "{job_id}", "--timeout", ""],
        2,
        TIMEOUT,
        setup=with_job,
    ),
    Row(
        "jobs-clusters-start-blank-timeout",
        ["clusters.start", "{cluster_id}", "--timeout", "  "],
        2,
        TIMEOUT,
        setup=with_cluster,
    ),
    Row(
        "jobs-clusters-start-zero-timeout",
        ["clusters.start", "{cluster_id}", "--no-wait", "--timeout", "0"],
        2,
        TIMEOUT,
        setup=with_cluster,
    ),
    Row(
        "jobs-clusters-stop-negative-timeout",
        ["clusters.stop", "{cluster_id}", "--timeout", "-5m"],
        2,
        TIMEOUT,
        setup=with_cluster,
    ),
    Row(
        "jobs-clusters-restart-empty-timeout",
        ["clusters.restart", "{cluster_id}", "--timeout", ""],
        2,
        TIMEOUT,
        setup=with_cluster,
    ),
    Row("jobs-clusters-blank-id", ["clusters.get", " "], 2, r"^error: CLUSTER_ID must be a cluster id"),
    # Row 19: with -o json every mutation prints one JSON value naming what was done.
    Row(
        "jobs-create-json",
        ["jobs.create", "--json", SPEC_ARG, "-o", "json"],
        0,
        refused=False,
        stdout=r'"created": \d+',
    ),
    Row(
        "jobs-reset-json",
        ["jobs.reset", "{job_id}", "--json", SPEC_ARG, "-o", "json"],
        0,
        refused=False,
        setup=with_job,
        check=says("reset", "job_id"),
    ),
    Row(
        "jobs-delete-json",
        ["jobs.delete", "{job_id}", "-o", "json"],
        0,
        refused=False,
        setup=with_job,
        check=job_gone,
    ),
    Row(
        "jobs-cancel-run-json",
        ["jobs.cancel-run", "{run_id}", "-o", "json"],
        0,
        refused=False,
        setup=with_run,
        check=run_cancelled,
    ),
    Row(
        "jobs-cancel-all-runs-json",
        ["jobs.cancel-all-runs", "{job_id}", "-o", "json"],
        0,
        refused=False,
        setup=with_run,
        check=says("cancelled_runs_of_job", "job_id"),
    ),
    *(
        Row(
            f"jobs-clusters-{command}-json",
            [f"clusters.{command}", "{cluster_id}", "-o", "json"],
            0,
            refused=False,
            setup=with_cluster,
            check=says(done, "cluster_id"),
        )
        for command, done in [
            ("stop", "terminated"),
            ("delete", "terminated"),
            ("restart", "restarted"),
            ("permanent-delete", "permanently_deleted"),
        ]
    ),
]
