"""ops.runs.wait_for_runs: many runs waited on one schedule, few runs/get calls, failures named.

Notebooks run as real child processes of the emulator; the context's sleep is fake (it drags the
emulator's clock along), so the poll schedule itself is tested in tests/unit/test_waiting.py.
"""

from __future__ import annotations

import pytest
from structlog.testing import capture_logs

from brickbook.context import Context
from brickbook.errors import RunFailed, WaitTimeout
from brickbook.ops import runs
from tests.conftest import Emulator
from tests.fakes import FakeTime
from tests.ops.emulator_api import create_job, notebook_task, put_notebook

RUNS = "/api/2.2/jobs/runs"


def sleeper(emulator: Emulator, name: str, seconds: float, *, fail: bool = False) -> int:
    cells = [f"import time\ntime.sleep({seconds})", *(["1 / 0"] if fail else [])]
    put_notebook(emulator, f"/Shared/{name}", *cells)
    return create_job(
        emulator,
        {"name": name, "max_concurrent_runs": 20, "tasks": [notebook_task("t", f"/Shared/{name}")]},
    )


def trigger(ctx: Context, job_id: int, count: int) -> list[int]:
    return [runs.trigger_job(ctx, job_id, params=None, idempotency_token=None) for _ in range(count)]


def calls(emulator: Emulator, endpoint: str) -> int:
    return len(emulator.requests(f"{RUNS}/{endpoint}"))


def test_many_runs_cost_one_listing_per_poll_and_one_get_each(
    ctx: Context, emulator: Emulator, fake_time: FakeTime
):
    """Six runs: one runs/list per poll for all, one runs/get per run once it has left the list."""
    run_ids = trigger(ctx, sleeper(emulator, "nap", 0.2), 6)
    emulator.control("DELETE", "requests")
    done = runs.wait_for_runs(ctx, run_ids, timeout=None)
    assert sorted(done) == sorted(run_ids)
    assert {str(r.result_state) for r in done.values()} == {"SUCCESS"}
    assert calls(emulator, "get") == 6
    assert calls(emulator, "list") == len(fake_time.sleeps) + 1


def test_a_failed_run_is_named_after_all_have_settled(ctx: Context, emulator: Emulator):
    """One failing run among three: the others are waited for, RunFailed names it with its task error."""
    good = trigger(ctx, sleeper(emulator, "fine", 0.5), 2)
    (bad,) = trigger(ctx, sleeper(emulator, "broken", 0, fail=True), 1)
    with pytest.raises(RunFailed) as info:
        runs.wait_for_runs(ctx, [*good, bad], timeout=None)
    assert info.value.exit_code == 7
    assert f"1 of 3 runs failed: run {bad} ended TERMINATED FAILED" in info.value.message
    assert "t: ZeroDivisionError" in info.value.message
    summaries = {s["run_id"]: s for s in info.value.result}
    assert {summaries[i]["result_state"] for i in good} == {"SUCCESS"}
    assert summaries[bad]["result_state"] == "FAILED" and summaries[bad]["tasks"][0]["error"]


def test_the_deadline_raises_wait_timeout_naming_the_runs_still_going(
    ctx: Context, emulator: Emulator, fake_time: FakeTime
):
    """At the deadline WaitTimeout (exit 8) says how many still run; the summaries are attached."""
    run_ids = trigger(ctx, sleeper(emulator, "slow", 600), 3)
    with pytest.raises(WaitTimeout) as info:
        runs.wait_for_runs(ctx, run_ids, timeout=30)
    assert info.value.exit_code == 8 and "3 of 3 runs still going" in info.value.message
    assert sorted(s["run_id"] for s in info.value.result) == sorted(run_ids)
    assert sum(fake_time.sleeps) == pytest.approx(30)
    for run_id in run_ids:
        runs.cancel_run(ctx, run_id)


def test_one_run_is_polled_with_runs_get_and_state_changes_are_logged(ctx: Context, emulator: Emulator):
    """A single run needs no listing; each run's state changes are logged once, not every poll."""
    run_ids = trigger(ctx, sleeper(emulator, "one", 0.2), 1)
    emulator.control("DELETE", "requests")
    with capture_logs() as logs:
        runs.wait_for_runs(ctx, run_ids, timeout=None)
    assert calls(emulator, "list") == 0 and calls(emulator, "get") >= 2
    states = [e["state"] for e in logs if e["event"] == "wait.state"]
    assert states[-1] == "TERMINATED SUCCESS" and len(states) == len(set(states))
