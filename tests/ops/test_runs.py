"""ops.runs against the emulator: trigger exactly once, wait loudly, outputs, repair, cancel, interrupts.

Runs execute for real in the emulator; the context's clock and sleep are fake and drag the emulator's
clock along, so nothing here sleeps for real.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from structlog.testing import capture_logs

from brickbook.context import Context
from brickbook.errors import Interrupted, ResourceDoesNotExist, RunFailed, WaitTimeout
from brickbook.ops import runs
from tests.conftest import Emulator
from tests.fakes import FakeTime
from tests.ops.emulator_api import create_job, get_run, notebook_task, posts, put_notebook, runs_of

RUN_NOW = "/api/2.2/jobs/run-now"
REPAIR = "/api/2.2/jobs/runs/repair"
GREET = ('who = dbutils.widgets.get("who")', 'dbutils.notebook.exit(f"hi {who}")')


def job(emulator: Emulator, name: str, *cells: str, **settings: object) -> int:
    put_notebook(emulator, f"/Shared/{name}", *cells)
    return create_job(emulator, {"name": name, "tasks": [notebook_task("t", f"/Shared/{name}")], **settings})


class Recorder:
    """A progress sink that keeps every line it was given."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.closed = 0

    def update(self, text: str) -> None:
        self.lines.append(text)

    def clear(self) -> None:
        pass

    def close(self) -> None:
        self.closed += 1


# -- trigger ---------------------------------------------------------------------------------------


def test_params_fill_notebook_widgets_of_a_job_without_parameters(ctx: Context, emulator: Emulator):
    """A job that declares no parameters gets key=value as notebook_params: the widget sees the value."""
    job_id = job(emulator, "greet", *GREET)
    run_id = runs.trigger_job(ctx, job_id, params={"who": "ops"}, idempotency_token=None)
    run = runs.wait_for_run(ctx, run_id, timeout=None)
    assert [o["result"] for o in runs.task_outputs(ctx, run)] == ["hi ops"]
    assert get_run(emulator, run_id)["overriding_parameters"]["notebook_params"] == {"who": "ops"}


def test_params_go_as_job_parameters_when_the_job_declares_them(ctx: Context, emulator: Emulator):
    """A job with declared parameters gets key=value as job_parameters (and the run shows the value)."""
    job_id = job(emulator, "declared", *GREET, parameters=[{"name": "who", "default": "nobody"}])
    run_id = runs.trigger_job(ctx, job_id, params={"who": "ops"}, idempotency_token=None)
    shown = get_run(emulator, run_id)
    assert {p["name"]: p["value"] for p in shown["job_parameters"]} == {"who": "ops"}
    assert "notebook_params" not in (shown.get("overriding_parameters") or {})
    run = runs.wait_for_run(ctx, run_id, timeout=None)
    assert runs.task_outputs(ctx, run)[0]["result"] == "hi ops"


def test_one_token_starts_one_run(ctx: Context, emulator: Emulator):
    """Triggering twice with one idempotency token returns the same run both times."""
    job_id = job(emulator, "once", 'dbutils.notebook.exit("1")')
    first = runs.trigger_job(ctx, job_id, params=None, idempotency_token="deploy-42")
    second = runs.trigger_job(ctx, job_id, params=None, idempotency_token="deploy-42")
    assert first == second
    assert len(runs_of(emulator, job_id)) == 1


def test_without_a_token_each_trigger_draws_a_new_one_from_the_context(ctx: Context, emulator: Emulator):
    """No token: each call draws its own from ctx.rng, so two calls start two runs."""
    job_id = job(emulator, "twice", 'dbutils.notebook.exit("1")')
    assert runs.trigger_job(ctx, job_id, params=None, idempotency_token=None) != runs.trigger_job(
        ctx, job_id, params=None, idempotency_token=None
    )
    assert len(runs_of(emulator, job_id)) == 2
    token = runs.new_idempotency_token(ctx)
    assert len(token) == 32 and int(token, 16) >= 0


def test_a_lost_run_now_answer_is_resent_into_one_run(ctx: Context, emulator: Emulator):
    """run-now whose answer is lost after the run started is resent with its token: exactly one run."""
    job_id = job(emulator, "lost", 'dbutils.notebook.exit("ok")')
    emulator.fault(pattern=f"POST {RUN_NOW}", status=503, after_handler=True, retry_after="0")
    run_id = runs.trigger_job(ctx, job_id, params=None, idempotency_token=None)
    assert len(posts(emulator, RUN_NOW)) == 2
    assert [r["run_id"] for r in runs_of(emulator, job_id)] == [run_id]


def test_trigger_of_a_missing_job_is_not_found(ctx: Context, emulator: Emulator):
    """A job that does not exist is ResourceDoesNotExist (exit 4), the API's 400 quirk."""
    with pytest.raises(ResourceDoesNotExist) as info:
        runs.trigger_job(ctx, 987654, params={"a": "b"}, idempotency_token=None)
    assert info.value.exit_code == 4 and "does not exist" in info.value.message


def test_submit_runs_a_one_time_spec(ctx: Context, emulator: Emulator):
    """submit_run starts a one-time run whose output can be read after the wait."""
    put_notebook(emulator, "/Shared/adhoc", 'dbutils.notebook.exit("done")')
    spec = {"run_name": "adhoc", "tasks": [notebook_task("t", "/Shared/adhoc")]}
    run_id = runs.submit_run(ctx, spec, idempotency_token="adhoc-1")
    assert runs.submit_run(ctx, spec, idempotency_token="adhoc-1") == run_id
    summary = runs.follow_run(ctx, run_id, timeout=None, on_interrupt="cancel")
    assert (summary["result_state"], summary["tasks"][0]["result"]) == ("SUCCESS", "done")


# -- wait ------------------------------------------------------------------------------------------


def test_a_failed_run_raises_run_failed_naming_the_task(ctx: Context, emulator: Emulator):
    """A notebook that raises makes wait_for_run raise RunFailed (exit 7) with every task's output."""
    job_id = job(emulator, "bad", "1 / 0")
    run_id = runs.trigger_job(ctx, job_id, params=None, idempotency_token=None)
    with pytest.raises(RunFailed) as info:
        runs.wait_for_run(ctx, run_id, timeout=None)
    assert info.value.exit_code == 7
    assert f"run {run_id} ended TERMINATED FAILED" in info.value.message
    assert "t: ZeroDivisionError" in info.value.message
    summary = info.value.result
    assert isinstance(summary, dict) and summary["result_state"] == "FAILED"
    assert "ZeroDivisionError" in summary["tasks"][0]["error_trace"]


def test_the_deadline_raises_wait_timeout_with_the_summary(
    ctx: Context, emulator: Emulator, fake_time: FakeTime
):
    """A run still going at the deadline raises WaitTimeout (exit 8) after exactly that much fake time."""
    job_id = job(emulator, "slow", "import time\ntime.sleep(60)")
    run_id = runs.trigger_job(ctx, job_id, params=None, idempotency_token=None)
    with pytest.raises(WaitTimeout) as info:
        runs.wait_for_run(ctx, run_id, timeout=30)
    assert info.value.exit_code == 8 and "keeps going" in info.value.message
    assert isinstance(info.value.result, dict) and info.value.result["run_id"] == run_id
    assert sum(fake_time.sleeps) == pytest.approx(30)
    runs.cancel_run(ctx, run_id)


def test_waiting_reports_progress_and_logs_state_changes(emulator: Emulator, ctx: Context):
    """The wait writes to the context's progress sink, closes it, and logs wait.state with the run id."""
    job_id = job(emulator, "watched", 'dbutils.notebook.exit("x")')
    run_id = runs.trigger_job(ctx, job_id, params=None, idempotency_token=None)
    sink = Recorder()
    with capture_logs() as logs:
        runs.wait_for_run(replace(ctx, progress=sink), run_id, timeout=None)
    assert sink.lines and all(line.startswith(f"run {run_id}: ") for line in sink.lines)
    assert sink.closed == 1
    states = [e for e in logs if e["event"] == "wait.state"]
    assert states and all(e["run_id"] == run_id for e in states)
    assert states[-1]["state"] == "TERMINATED SUCCESS"


def test_interrupt_cancels_the_run(ctx: Context, emulator: Emulator):
    """Ctrl-C while following a run cancels it and raises Interrupted (exit 130) saying so."""
    job_id = job(emulator, "forever", "import time\ntime.sleep(600)")
    run_id = runs.trigger_job(ctx, job_id, params=None, idempotency_token=None)

    def interrupt(_seconds: float) -> None:
        raise KeyboardInterrupt

    with pytest.raises(Interrupted) as info:
        runs.follow_run(replace(ctx, sleep=interrupt), run_id, timeout=None, on_interrupt="cancel")
    assert info.value.exit_code == 130 and "cancelled run" in info.value.message
    assert len(posts(emulator, "/api/2.2/jobs/runs/cancel")) == 1


def test_interrupt_with_detach_leaves_the_run(ctx: Context, emulator: Emulator):
    """With detach, Ctrl-C leaves the run going and says so."""
    job_id = job(emulator, "forever2", "import time\ntime.sleep(600)")
    run_id = runs.trigger_job(ctx, job_id, params=None, idempotency_token=None)

    def interrupt(_seconds: float) -> None:
        raise KeyboardInterrupt

    with pytest.raises(Interrupted, match="left running"):
        runs.follow_run(replace(ctx, sleep=interrupt), run_id, timeout=None, on_interrupt="detach")
    assert posts(emulator, "/api/2.2/jobs/runs/cancel") == []
    runs.cancel_run(ctx, run_id)


# -- cancel and latest -----------------------------------------------------------------------------


def test_cancel_and_wait_returns_the_cancelled_run(ctx: Context, emulator: Emulator):
    """cancel_and_wait returns the summary of a run that ended CANCELED, without raising."""
    job_id = job(emulator, "long", "import time\ntime.sleep(600)")
    run_id = runs.trigger_job(ctx, job_id, params=None, idempotency_token=None)
    summary = runs.cancel_and_wait(ctx, run_id, timeout=None)
    assert (summary["run_id"], summary["result_state"]) == (run_id, "CANCELED")


def test_latest_run_is_the_newest_or_none(ctx: Context, emulator: Emulator):
    """latest_run is None for a job never run, then the most recently started run."""
    job_id = job(emulator, "latest", 'dbutils.notebook.exit("1")')
    assert runs.latest_run(ctx, job_id) is None
    runs.trigger_job(ctx, job_id, params=None, idempotency_token=None)
    newest = runs.trigger_job(ctx, job_id, params=None, idempotency_token=None)
    found = runs.latest_run(ctx, job_id)
    assert found is not None and found.run_id == newest and found.tasks


# -- repair ----------------------------------------------------------------------------------------


def failed_run(ctx: Context, emulator: Emulator, name: str) -> int:
    job_id = job(emulator, name, "raise RuntimeError('not yet')")
    run_id = runs.trigger_job(ctx, job_id, params=None, idempotency_token=None)
    with pytest.raises(RunFailed):
        runs.wait_for_run(ctx, run_id, timeout=None)
    return run_id


def test_repair_reruns_the_failed_tasks_and_again_after_that(ctx: Context, emulator: Emulator):
    """repair reruns every failed task; a second repair names the latest one, as the API requires."""
    run_id = failed_run(ctx, emulator, "flaky")
    first = runs.repair(ctx, run_id)
    with pytest.raises(RunFailed):
        runs.wait_for_run(ctx, run_id, timeout=None)
    put_notebook(emulator, "/Shared/flaky", 'dbutils.notebook.exit("fixed")')
    second = runs.repair(ctx, run_id)
    assert second != first
    assert runs.wait_for_run(ctx, run_id, timeout=None).result_state == "SUCCESS"
    history = get_run(emulator, run_id, include_history="true")["repair_history"]
    assert [(h["type"], h["id"]) for h in history[1:]] == [("REPAIR", first), ("REPAIR", second)]


def test_repair_of_chosen_tasks(ctx: Context, emulator: Emulator):
    """repair(tasks=[...]) reruns just those tasks."""
    run_id = failed_run(ctx, emulator, "one")
    put_notebook(emulator, "/Shared/one", 'dbutils.notebook.exit("repaired")')
    runs.repair(ctx, run_id, tasks=["t"])
    run = runs.wait_for_run(ctx, run_id, timeout=None)
    assert [o["result"] for o in runs.task_outputs(ctx, run)] == ["repaired"]


def test_repair_with_a_token_finds_the_repair_already_under_way(ctx: Context, emulator: Emulator):
    """Resent with its token while the repair it started still runs, repair returns that one, sends none."""
    run_id = failed_run(ctx, emulator, "resume")
    put_notebook(emulator, "/Shared/resume", "import time\ntime.sleep(600)")
    first = runs.repair(ctx, run_id, idempotency_token="bb-key-1")
    assert runs.repair(ctx, run_id, idempotency_token="bb-key-1") == first
    assert len(posts(emulator, REPAIR)) == 1
    runs.cancel_run(ctx, run_id)


def test_repair_with_a_token_after_a_repair_that_fixed_everything(ctx: Context, emulator: Emulator):
    """Resent after its repair left nothing failed, repair returns that repair instead of failing."""
    run_id = failed_run(ctx, emulator, "healed")
    put_notebook(emulator, "/Shared/healed", 'dbutils.notebook.exit("ok")')
    first = runs.repair(ctx, run_id, idempotency_token="bb-key-2")
    runs.wait_for_run(ctx, run_id, timeout=None)
    assert runs.repair(ctx, run_id, idempotency_token="bb-key-2") == first
    assert len(posts(emulator, REPAIR)) == 1


def test_a_lost_repair_answer_is_settled_from_the_history(ctx: Context, emulator: Emulator):
    """A repair applied whose answer was lost returns the repair the history shows: exactly one repair."""
    run_id = failed_run(ctx, emulator, "lostrepair")
    emulator.fault(pattern=f"POST {REPAIR}", status=500, after_handler=True)
    repair_id = runs.repair(ctx, run_id)
    history = get_run(emulator, run_id, include_history="true")["repair_history"]
    assert [h["id"] for h in history if h["type"] == "REPAIR"] == [repair_id]


def test_repair_needs_at_least_one_task_when_tasks_are_named(ctx: Context):
    """An empty task list is a programming error, not 'every failed task'."""
    with pytest.raises(ValueError, match="at least one task key"):
        runs.repair(ctx, 1, tasks=[])
