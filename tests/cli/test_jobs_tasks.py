"""Jobs tasks from the command line against the emulator: real notebook runs, loud failures, exactly-once.

Runs execute for real in the emulator; the waiter's clock and sleep are faked (no real sleeping in the
test: the waiter polls as fast as the emulator answers, while fake time decides deadlines).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Emulator, run_cli
from tests.conftest import _runtime as RUNTIME
from tests.fakes import FakeTime

RUN_NOW = "/api/2.2/jobs/run-now"
HEADER = "# Databricks notebook source\n"
CELL = "\n# COMMAND ----------\n"


def put_notebook(tmp_path: Path, remote: str, source: str) -> None:
    local = tmp_path / (remote.rsplit("/", 1)[-1] + ".py")
    local.write_text(HEADER + source)
    result = run_cli("workspace.import", str(local), remote, "--language", "PYTHON", "--overwrite")
    assert result.exit_code == 0, result.stderr


def create_job(tmp_path: Path, spec: dict[str, object]) -> int:
    path = tmp_path / "job.json"
    path.write_text(json.dumps(spec))
    result = run_cli("jobs.create", "--json", f"@{path}", "-o", "json")
    assert result.exit_code == 0, result.stderr
    return int(json.loads(result.stdout)["job_id"])


def notebook_task(key: str, path: str, **extra: object) -> dict[str, object]:
    return {
        "task_key": key,
        "notebook_task": {"notebook_path": path},
        "new_cluster": {"spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 1},
        **extra,
    }


@pytest.fixture
def jobs_env(workspace_env: Emulator, shared_time: FakeTime, tmp_path: Path) -> Iterator[Path]:
    yield tmp_path


def test_run_now_waits_and_returns_the_exit_value(jobs_env: Path):
    """run-now waits for the run and prints each task's notebook exit value."""
    put_notebook(
        jobs_env, "/Shared/ok", 'x = dbutils.widgets.get("who")' + CELL + 'dbutils.notebook.exit(f"hi {x}")'
    )
    job_id = create_job(jobs_env, {"name": "ok", "tasks": [notebook_task("main", "/Shared/ok")]})
    result = run_cli("jobs.run-now", str(job_id), "--param", "who=ops", "-o", "json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["result_state"] == "SUCCESS"
    assert summary["tasks"][0]["result"] == "hi ops"


def test_failed_run_exits_7_with_the_error(jobs_env: Path):
    """A notebook that raises makes run-now exit 7, naming the task and the exception."""
    put_notebook(jobs_env, "/Shared/bad", "1 / 0")
    job_id = create_job(jobs_env, {"name": "bad", "tasks": [notebook_task("boom", "/Shared/bad")]})
    result = run_cli("jobs.run-now", str(job_id), "-o", "json")
    assert result.exit_code == 7
    assert "boom: ZeroDivisionError" in result.stderr
    envelope = json.loads(result.stdout)
    assert envelope["exit_code"] == 7
    assert envelope["run"]["result_state"] == "FAILED"
    assert "ZeroDivisionError" in envelope["run"]["tasks"][0]["error_trace"]


def test_multi_task_output_covers_every_task(jobs_env: Path):
    """get-run-output on a multi-task run returns every task's exit value."""
    put_notebook(
        jobs_env, "/Shared/a", 'dbutils.jobs.taskValues.set("n", 41)' + CELL + 'dbutils.notebook.exit("a")'
    )
    put_notebook(
        jobs_env,
        "/Shared/b",
        'n = dbutils.jobs.taskValues.get("a", "n")' + CELL + "dbutils.notebook.exit(str(n + 1))",
    )
    tasks = [notebook_task("a", "/Shared/a"), notebook_task("b", "/Shared/b", depends_on=[{"task_key": "a"}])]
    job_id = create_job(jobs_env, {"name": "two", "tasks": tasks})
    run = json.loads(run_cli("jobs.run-now", str(job_id), "-o", "json").stdout)
    output = run_cli("jobs.get-run-output", str(run["run_id"]), "-o", "json")
    assert output.exit_code == 0, output.stderr
    results = {o["task_key"]: o["result"] for o in json.loads(output.stdout)}
    assert results == {"a": "a", "b": "42"}


def test_timeout_exits_8_and_leaves_the_run(jobs_env: Path, workspace_env: Emulator):
    """--timeout gives exit 8 and says the run keeps going."""
    put_notebook(jobs_env, "/Shared/slow", "import time\ntime.sleep(30)")
    job_id = create_job(jobs_env, {"name": "slow", "tasks": [notebook_task("t", "/Shared/slow")]})
    result = run_cli("jobs.run-now", str(job_id), "--timeout", "5m", "-o", "json")
    assert result.exit_code == 8
    envelope = json.loads(result.stdout)
    assert "still" in envelope["message"] and "keeps going" in envelope["message"]
    assert run_cli("jobs.cancel-all-runs", str(job_id)).exit_code == 0


def test_same_idempotency_token_gives_one_run(jobs_env: Path):
    """Two run-now calls with one idempotency token start a single run."""
    put_notebook(jobs_env, "/Shared/once", 'dbutils.notebook.exit("1")')
    job_id = create_job(jobs_env, {"name": "once", "tasks": [notebook_task("t", "/Shared/once")]})
    first = json.loads(
        run_cli(
            "jobs.run-now", str(job_id), "--no-wait", "--idempotency-token", "deploy-42", "-o", "json"
        ).stdout
    )
    second = json.loads(
        run_cli(
            "jobs.run-now", str(job_id), "--no-wait", "--idempotency-token", "deploy-42", "-o", "json"
        ).stdout
    )
    assert first["run_id"] == second["run_id"]


def test_lost_run_now_response_is_retried_into_one_run(jobs_env: Path, workspace_env: Emulator):
    """A run-now whose response is lost after the run started is retried and yields exactly one run."""
    put_notebook(jobs_env, "/Shared/lost", 'dbutils.notebook.exit("ok")')
    job_id = create_job(jobs_env, {"name": "lost", "tasks": [notebook_task("t", "/Shared/lost")]})
    workspace_env.fault(pattern=f"POST {RUN_NOW}", status=503, after_handler=True, retry_after="0")
    result = run_cli("jobs.run-now", str(job_id), "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert len(workspace_env.requests(RUN_NOW)) == 2
    runs = json.loads(run_cli("jobs.list-runs", "--job-id", str(job_id), "-o", "json").stdout)
    assert len(runs) == 1


def test_interrupt_cancels_the_run_it_started(
    jobs_env: Path, workspace_env: Emulator, monkeypatch: pytest.MonkeyPatch
):
    """Ctrl-C while waiting cancels the run this invocation started and exits 130."""
    put_notebook(jobs_env, "/Shared/forever", "import time\ntime.sleep(60)")
    job_id = create_job(jobs_env, {"name": "forever", "tasks": [notebook_task("t", "/Shared/forever")]})

    def interrupt(_seconds: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setitem(RUNTIME, "sleep", interrupt)
    result = run_cli("jobs.run-now", str(job_id))
    assert result.exit_code == 130
    assert "cancelled run" in result.stderr
    assert len(workspace_env.requests("/api/2.2/jobs/runs/cancel")) == 1


def test_interrupt_with_detach_leaves_the_run(
    jobs_env: Path, workspace_env: Emulator, monkeypatch: pytest.MonkeyPatch
):
    """--on-interrupt detach leaves the run going and says so."""
    put_notebook(jobs_env, "/Shared/forever2", "import time\ntime.sleep(60)")
    job_id = create_job(jobs_env, {"name": "forever2", "tasks": [notebook_task("t", "/Shared/forever2")]})

    def interrupt(_seconds: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setitem(RUNTIME, "sleep", interrupt)
    result = run_cli("jobs.run-now", str(job_id), "--on-interrupt", "detach")
    assert result.exit_code == 130
    assert "left running" in result.stderr
    assert workspace_env.requests("/api/2.2/jobs/runs/cancel") == []
    assert run_cli("jobs.cancel-all-runs", str(job_id)).exit_code == 0


def test_bad_options_exit_2_before_any_request(jobs_env: Path, workspace_env: Emulator):
    """Bad ids, params, timeouts and specs are usage errors (2) that send nothing."""
    assert run_cli("jobs.get", "abc").exit_code == 2
    assert run_cli("jobs.run-now", "1", "--param", "novalue").exit_code == 2
    spec = jobs_env / "bad.json"
    spec.write_text('{"name": "x", "tasks": [{"notebook_task": {}}]}')
    bad = run_cli("jobs.create", "--json", f"@{spec}")
    assert bad.exit_code == 2 and "task_key" in bad.stderr
    assert workspace_env.requests("/api/2.2/jobs") == []


def test_missing_job_exits_4(jobs_env: Path):
    """A job that does not exist is exit 4 (the API's 400 'does not exist' quirk)."""
    result = run_cli("jobs.get", "987654")
    assert result.exit_code == 4
    assert "does not exist" in result.stderr


def test_repair_reruns_the_failed_task(jobs_env: Path):
    """After fixing a notebook, repair-run --rerun-all-failed makes the run succeed."""
    put_notebook(jobs_env, "/Shared/flaky", "raise RuntimeError('not yet')")
    job_id = create_job(jobs_env, {"name": "flaky", "tasks": [notebook_task("t", "/Shared/flaky")]})
    failed = run_cli("jobs.run-now", str(job_id), "-o", "json")
    assert failed.exit_code == 7
    run_id = json.loads(failed.stdout)["run"]["run_id"]
    put_notebook(jobs_env, "/Shared/flaky", 'dbutils.notebook.exit("fixed")')
    repaired = run_cli("jobs.repair-run", str(run_id), "--rerun-all-failed", "-o", "json")
    assert repaired.exit_code == 0, repaired.stderr
    assert json.loads(repaired.stdout)["result_state"] == "SUCCESS"


def test_list_get_reset_and_delete(jobs_env: Path):
    """A job can be listed by name, shown, reset from a YAML spec and deleted (then it is not found)."""
    put_notebook(jobs_env, "/Shared/crud", 'dbutils.notebook.exit("x")')
    job_id = create_job(jobs_env, {"name": "Nightly", "tasks": [notebook_task("t", "/Shared/crud")]})
    listed = json.loads(run_cli("jobs.list", "--name", "nightly", "-o", "json").stdout)
    assert [j["job_id"] for j in listed] == [job_id]
    assert "Nightly" in run_cli("jobs.list").stdout
    yaml_spec = jobs_env / "job.yaml"
    yaml_spec.write_text(
        "name: Renamed\ntasks:\n  - task_key: t\n    notebook_task:\n      notebook_path: /Shared/crud\n"
    )
    assert run_cli("jobs.reset", str(job_id), "--file", str(yaml_spec)).exit_code == 0
    shown = json.loads(run_cli("jobs.get", str(job_id), "-o", "json").stdout)
    assert shown["settings"]["name"] == "Renamed"
    assert run_cli("jobs.delete", str(job_id)).exit_code == 0
    gone = run_cli("jobs.get", str(job_id))
    assert gone.exit_code == 4 and "does not exist" in gone.stderr


def test_submit_waits_and_fails_loudly(jobs_env: Path):
    """submit runs a one-time spec: success returns the output, a failure exits 7."""
    put_notebook(jobs_env, "/Shared/once-ok", 'dbutils.notebook.exit("done")')
    put_notebook(jobs_env, "/Shared/once-bad", "raise ValueError('bad input')")
    good = {"run_name": "adhoc", "tasks": [notebook_task("t", "/Shared/once-ok")]}
    ok = run_cli("jobs.submit", "--json", json.dumps(good), "-o", "json")
    assert ok.exit_code == 0, ok.stderr
    assert json.loads(ok.stdout)["tasks"][0]["result"] == "done"
    bad = {"run_name": "adhoc", "tasks": [notebook_task("t", "/Shared/once-bad")]}
    failed = run_cli("jobs.submit", "--json", json.dumps(bad))
    assert failed.exit_code == 7
    assert "ValueError: bad input" in failed.stderr


def test_get_run_list_runs_and_cancel_run(jobs_env: Path):
    """A run shows in get-run and list-runs --active-only; cancel-run --wait ends it CANCELED."""
    put_notebook(jobs_env, "/Shared/long", "import time\ntime.sleep(60)")
    job_id = create_job(jobs_env, {"name": "long", "tasks": [notebook_task("t", "/Shared/long")]})
    run_id = json.loads(run_cli("jobs.run-now", str(job_id), "--no-wait", "-o", "json").stdout)["run_id"]
    shown = json.loads(run_cli("jobs.get-run", str(run_id), "-o", "json").stdout)
    assert shown["run_id"] == run_id and shown["tasks"][0]["task_key"] == "t"
    active = json.loads(
        run_cli("jobs.list-runs", "--job-id", str(job_id), "--active-only", "-o", "json").stdout
    )
    assert [r["run_id"] for r in active] == [run_id]
    cancelled = run_cli("jobs.cancel-run", str(run_id), "--wait", "-o", "json")
    assert cancelled.exit_code == 0, cancelled.stderr
    assert json.loads(cancelled.stdout)["result_state"] == "CANCELED"
    assert str(run_id) in run_cli("jobs.list-runs", "--job-id", str(job_id)).stdout


def test_repair_run_of_one_task(jobs_env: Path):
    """repair-run --task re-runs just that task."""
    put_notebook(jobs_env, "/Shared/fix-me", "raise RuntimeError('broken')")
    job_id = create_job(jobs_env, {"name": "fix", "tasks": [notebook_task("only", "/Shared/fix-me")]})
    run_id = json.loads(run_cli("jobs.run-now", str(job_id), "-o", "json").stdout)["run"]["run_id"]
    put_notebook(jobs_env, "/Shared/fix-me", 'dbutils.notebook.exit("repaired")')
    repaired = run_cli("jobs.repair-run", str(run_id), "--task", "only", "-o", "json")
    assert repaired.exit_code == 0, repaired.stderr
    outputs = {t["task_key"]: t["result"] for t in json.loads(repaired.stdout)["tasks"] if t.get("result")}
    assert outputs == {"only": "repaired"}
    both = run_cli("jobs.repair-run", str(run_id), "--task", "only", "--rerun-all-failed")
    assert both.exit_code == 2


def test_missing_run_and_cancel_all_errors(jobs_env: Path):
    """A run that does not exist is exit 4; cancel-all-runs of a missing job is exit 4 too."""
    assert run_cli("jobs.get-run", "424242").exit_code == 4
    assert run_cli("jobs.get-run-output", "424242").exit_code == 4
    assert run_cli("jobs.cancel-all-runs", "424242").exit_code == 4


def test_get_merges_every_page_of_a_large_job(jobs_env: Path, workspace_env: Emulator):
    """jobs.get returns all 150 tasks of a job although API 2.2 pages them at 100."""
    tasks = [notebook_task(f"t{i:03}", "/Shared/none") for i in range(150)]
    job_id = create_job(jobs_env, {"name": "wide", "tasks": tasks})
    shown = json.loads(run_cli("jobs.get", str(job_id), "-o", "json").stdout)
    assert [t["task_key"] for t in shown["settings"]["tasks"]] == [f"t{i:03}" for i in range(150)]
    assert len(workspace_env.requests("/api/2.2/jobs/get")) == 2


def test_second_repair_of_a_run_works(jobs_env: Path, workspace_env: Emulator):
    """A run can be repaired again: the latest repair id is read from the run's repair history."""
    put_notebook(jobs_env, "/Shared/twice", "raise RuntimeError('still broken')")
    job_id = create_job(jobs_env, {"name": "twice", "tasks": [notebook_task("t", "/Shared/twice")]})
    run_id = json.loads(run_cli("jobs.run-now", str(job_id), "-o", "json").stdout)["run"]["run_id"]
    first = run_cli("jobs.repair-run", str(run_id), "--rerun-all-failed", "-o", "json")
    assert first.exit_code == 7, first.stderr
    put_notebook(jobs_env, "/Shared/twice", 'dbutils.notebook.exit("third time lucky")')
    second = run_cli("jobs.repair-run", str(run_id), "--rerun-all-failed", "-o", "json")
    assert second.exit_code == 0, second.stderr
    repaired = json.loads(second.stdout)
    assert (repaired["repaired"], repaired["result_state"]) == (run_id, "SUCCESS")
    history = [r for r in workspace_env.requests("/api/2.2/jobs/runs/get") if r["method"] == "GET"]
    assert any("include_history=true" in str(r["query"]) for r in history)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["jobs.run-now", "1", "--on-interrupt", "bogus"], "--on-interrupt must be cancel or detach"),
        (["jobs.run-now", "1", "--no-wait", "--on-interrupt", "bogus"], "--on-interrupt must be cancel or"),
        (["jobs.run-now", "1", "--no-wait", "--timeout", "zz"], "--timeout must be a positive duration"),
        (["jobs.run-now", "1", "--timeout", ""], "--timeout must be a positive duration"),
        (["jobs.run-now", "1", "--timeout", "0"], "--timeout must be a positive duration"),
        (["jobs.run-now", "1", "--param", "novalue"], "--param must look like key=value"),
        (["jobs.run-now", "1", "--param", "=v"], "--param must look like key=value"),
        (["jobs.run-now", "1", "--param", "a=1", "--param", "a=2"], "--param 'a' is given twice"),
        (["jobs.run-now", "1", "--idempotency-token", "x" * 65], "--idempotency-token must be 1 to 64"),
        (["jobs.run-now", "²"], "JOB_ID must be a number, not '²'"),
        (["jobs.run-now", "99999999999999999999"], "JOB_ID must be a number"),
        (["jobs.submit", "--json", "{}", "--on-interrupt", "bogus"], "--on-interrupt must be cancel or"),
        (["jobs.submit", "--json", "{}", "--no-wait", "--timeout", "-1"], "--timeout must be a positive"),
        (["jobs.cancel-run", "25", "--wait", "--timeout", "zz"], "--timeout must be a positive duration"),
        (["jobs.cancel-run", "25", "--timeout", "zz"], "--timeout must be a positive duration"),
        (["jobs.repair-run", "25", "--rerun-all-failed", "--on-interrupt", "x"], "--on-interrupt must be"),
        (["jobs.repair-run", "25", "--rerun-all-failed", "--timeout", " "], "--timeout must be a positive"),
        (["jobs.repair-run", "25", "--task", ""], "--task must name a task key"),
        (["jobs.repair-run", "25"], "pass exactly one of --rerun-all-failed and --task"),
        (["jobs.list-runs", "--job-id", ""], "--job-id must be a number, not ''"),
        (["jobs.list", "--name", ""], "--name must not be empty"),
    ],
)
def test_every_option_is_checked_before_the_first_request(
    jobs_env: Path, workspace_env: Emulator, args: list[str], message: str
):
    """A bad option is exit 2 with one line, and nothing at all is sent, whatever the other options say."""
    result = run_cli(*args)
    assert result.exit_code == 2, result.stderr
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert workspace_env.requests("/api/") == []


def test_mutations_print_one_json_value_naming_what_was_done(jobs_env: Path):
    """create, reset, delete, cancel-run and cancel-all-runs each print one JSON object under -o json."""
    put_notebook(jobs_env, "/Shared/json", "import time\ntime.sleep(60)")
    spec = {"name": "json", "tasks": [notebook_task("t", "/Shared/json")]}
    created = json.loads(run_cli("jobs.create", "--json", json.dumps(spec), "-o", "json").stdout)
    job_id = created["job_id"]
    assert created == {"created": job_id, "job_id": job_id}
    reset = run_cli("jobs.reset", str(job_id), "--json", json.dumps(spec), "-o", "json")
    assert json.loads(reset.stdout) == {"reset": job_id}
    run = json.loads(run_cli("jobs.run-now", str(job_id), "--no-wait", "-o", "json").stdout)
    assert run["triggered"] == run["run_id"]
    cancelled = run_cli("jobs.cancel-run", str(run["run_id"]), "-o", "json")
    assert json.loads(cancelled.stdout) == {"cancelled": run["run_id"]}
    all_runs = run_cli("jobs.cancel-all-runs", str(job_id), "-o", "json")
    assert json.loads(all_runs.stdout) == {"cancelled_runs_of_job": job_id}
    deleted = run_cli("jobs.delete", str(job_id), "-o", "json")
    assert json.loads(deleted.stdout) == {"deleted": job_id}
    assert run_cli("jobs.delete", str(job_id)).exit_code == 4


def test_text_output_of_a_mutation_says_what_was_done(jobs_env: Path):
    """Without -o json a mutation prints the same as key: value lines."""
    job_id = create_job(jobs_env, {"name": "text"})
    assert run_cli("jobs.delete", str(job_id)).stdout == f"deleted: {job_id}\n"


def test_yaml_date_parameter_reaches_the_job_as_text(jobs_env: Path):
    """base_parameters: {day: 2026-11-26} in YAML is stored as the string '2026-11-26'."""
    spec = jobs_env / "dated.yaml"
    spec.write_text(
        "name: dated\ntasks:\n  - task_key: t\n    notebook_task:\n      notebook_path: /Shared/x\n"
        "      base_parameters: {day: 2026-11-26, full: yes}\n"
    )
    created = run_cli("jobs.create", "--file", str(spec), "-o", "json")
    assert created.exit_code == 0, created.stderr
    shown = json.loads(run_cli("jobs.get", str(json.loads(created.stdout)["job_id"]), "-o", "json").stdout)
    assert shown["settings"]["tasks"][0]["notebook_task"]["base_parameters"] == {
        "day": "2026-11-26",
        "full": "yes",
    }


def test_lost_submit_response_is_retried_into_one_run(jobs_env: Path, workspace_env: Emulator):
    """runs/submit applied but its answer lost: the resend carries the same token, one run in all."""
    put_notebook(jobs_env, "/Shared/once-lost", 'dbutils.notebook.exit("done")')
    workspace_env.fault(
        pattern="POST /api/2.2/jobs/runs/submit", reset_connection=True, after_handler=True, times=1
    )
    spec = {"run_name": "lost-answer", "tasks": [notebook_task("t", "/Shared/once-lost")]}
    result = run_cli("jobs.submit", "--json", json.dumps(spec), "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert len(workspace_env.requests("/api/2.2/jobs/runs/submit")) == 2
    listed = run_cli("jobs.list-runs", "-o", "json")
    assert [r["run_name"] for r in json.loads(listed.stdout)].count("lost-answer") == 1


def test_wait_runs_waits_for_several_runs_and_names_each_failure(jobs_env: Path, workspace_env: Emulator):
    """wait-runs waits for all the runs named; one failed run is exit 7 naming it, with every summary."""
    put_notebook(jobs_env, "/Shared/fine", 'dbutils.notebook.exit("ok")')
    put_notebook(jobs_env, "/Shared/broken", "1 / 0")
    fine = create_job(jobs_env, {"name": "fine", "tasks": [notebook_task("t", "/Shared/fine")]})
    broken = create_job(jobs_env, {"name": "broken", "tasks": [notebook_task("boom", "/Shared/broken")]})
    started = [
        json.loads(run_cli("jobs.run-now", str(job), "--no-wait", "-o", "json").stdout)["triggered"]
        for job in (fine, fine, broken)
    ]
    ok = run_cli("jobs.wait-runs", "--run-id", str(started[0]), "--run-id", str(started[1]), "-o", "json")
    assert ok.exit_code == 0, ok.stderr
    assert [s["result_state"] for s in json.loads(ok.stdout)] == ["SUCCESS", "SUCCESS"]
    args = [a for run in started for a in ("--run-id", str(run))]
    failed = run_cli("jobs.wait-runs", *args, "-o", "json")
    assert failed.exit_code == 7
    assert f"1 of 3 runs failed: run {started[2]} ended TERMINATED FAILED" in failed.stderr
    assert "boom: ZeroDivisionError" in failed.stderr
    envelope = json.loads(failed.stdout)
    assert [r["result_state"] for r in envelope["runs"]] == ["SUCCESS", "SUCCESS", "FAILED"]


def test_wait_runs_needs_run_ids_that_are_numbers(jobs_env: Path, workspace_env: Emulator):
    """No --run-id, or one that is not a number, is exit 2 before any request."""
    none = run_cli("jobs.wait-runs")
    assert none.exit_code == 2 and "name at least one run with --run-id" in none.stderr
    bad = run_cli("jobs.wait-runs", "--run-id", "7", "--run-id", "x7")
    assert bad.exit_code == 2 and "--run-id must be a number" in bad.stderr
    assert run_cli("jobs.wait-runs", "--run-id", "7", "--timeout", "").exit_code == 2
    assert workspace_env.requests("/api/2.2/jobs") == []
