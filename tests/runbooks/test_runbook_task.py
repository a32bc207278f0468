"""A runbook as a task, against the emulator over loopback: exactly once, resume, interrupts, report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Emulator
from tests.conftest import _runtime as RUNTIME
from tests.fakes import FakeTime
from tests.runbooks.conftest import create_job, put_notebook, runs_of
from tests.runbooks.tiny import run_tiny

RUN_NOW = "/api/2.2/jobs/run-now"
CANCEL = "/api/2.2/jobs/runs/cancel"
QUICK = 'dbutils.notebook.exit("hi")'
FOREVER = "import time\ntime.sleep(60)"


@pytest.fixture
def env(workspace_env: Emulator, shared_time: FakeTime, tmp_path: Path) -> Emulator:
    return workspace_env


def tiny(state: Path, *args: str, key: str = "k") -> tuple[int, dict[str, object] | None, str]:
    """Run tiny-run with -o json; return the exit code, the JSON printed (if any) and stderr."""
    result = run_tiny("tiny-run", *args, "--key", key, "--state-dir", str(state), "-o", "json")
    data = json.loads(result.stdout) if result.stdout.strip() else None
    return result.exit_code, data, result.stderr


def interrupt_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the next wait's first pause a Ctrl-C."""

    def interrupt(_seconds: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setitem(RUNTIME, "sleep", interrupt)


def test_run_reports_steps_run_url_and_outputs(env: Emulator, tmp_path: Path):
    """A run exits 0 with one JSON report: its steps, the run with its URL and the notebook's output."""
    job_id = create_job(env, "ok", QUICK)
    code, report, stderr = tiny(tmp_path, str(job_id))
    assert code == 0, stderr
    assert report is not None and report["status"] == "succeeded" and report["exit_code"] == 0
    steps = report["steps"]
    assert [s["outcome"] for s in steps] == ["unchanged", "changed"]  # type: ignore[index]
    run_id = runs_of(env, job_id)[0]["run_id"]
    assert steps[1]["reason"] == f"started run {run_id}"  # type: ignore[index]
    url = f"{env.url}/#job/{job_id}/run/{run_id}"
    assert report["runs"] == [
        {"step": f"job {job_id} has run once for this key", "run_id": run_id, "url": url}
    ]
    assert report["outputs"] == {"main": "hi"}


def test_same_key_again_skips_every_step_and_starts_nothing(env: Emulator, tmp_path: Path):
    """Re-invoking a finished key reports every step skipped, with the run and outputs, and no new run."""
    job_id = create_job(env, "again", QUICK)
    assert tiny(tmp_path, str(job_id))[0] == 0
    code, report, _ = tiny(tmp_path, str(job_id))
    assert code == 0 and report is not None
    assert [s["outcome"] for s in report["steps"]] == ["skipped", "skipped"]  # type: ignore[index]
    assert report["outputs"] == {"main": "hi"} and len(report["runs"]) == 1  # type: ignore[arg-type]
    assert len(env.requests(RUN_NOW)) == 1 and len(runs_of(env, job_id)) == 1


def test_another_key_runs_again(env: Emulator, tmp_path: Path):
    """A new key is a new invocation: a second run."""
    job_id = create_job(env, "two-keys", QUICK)
    assert tiny(tmp_path, str(job_id), key="monday")[0] == 0
    assert tiny(tmp_path, str(job_id), key="tuesday")[0] == 0
    assert len(runs_of(env, job_id)) == 2


def test_lost_run_now_response_is_retried_into_one_run(env: Emulator, tmp_path: Path):
    """run-now's response lost after the run started: the retry reuses the token, one run in all."""
    job_id = create_job(env, "lost", QUICK)
    env.fault(pattern=f"POST {RUN_NOW}", reset_connection=True, after_handler=True, times=1)
    code, _, stderr = tiny(tmp_path, str(job_id))
    assert code == 0, stderr
    assert len(env.requests(RUN_NOW)) == 2 and len(runs_of(env, job_id)) == 1


def test_given_up_trigger_is_resent_with_the_same_token_on_reinvocation(
    env: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """An invocation that gives up on lost responses (exit 6) is re-invoked and finds the one run."""
    monkeypatch.setenv("BRICKBOOK_MAX_ATTEMPTS", "2")
    job_id = create_job(env, "given-up", QUICK)
    env.fault(pattern=f"POST {RUN_NOW}", status=503, after_handler=True, retry_after="0", times=2)
    code, report, stderr = tiny(tmp_path, str(job_id))
    assert code == 6, stderr
    assert report is not None and report["status"] == "failed"
    assert len(runs_of(env, job_id)) == 1  # the first lost request did start it
    code, report, stderr = tiny(tmp_path, str(job_id))
    assert code == 0, stderr
    assert len(env.requests(RUN_NOW)) == 3 and len(runs_of(env, job_id)) == 1


def test_interrupt_cancels_the_run_and_reinvocation_reports_it(
    env: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shared_time: FakeTime
):
    """Ctrl-C cancels the run (exit 130); the same key then exits 7 naming --rerun; --rerun runs anew."""
    job_id = create_job(env, "stopped", FOREVER)
    interrupt_waits(monkeypatch)
    code, report, stderr = tiny(tmp_path, str(job_id))
    run_id = runs_of(env, job_id)[0]["run_id"]
    assert code == 130 and f"error: interrupted: cancelled run {run_id}" in stderr
    assert report is not None and report["status"] == "interrupted"
    assert len(env.requests(CANCEL)) == 1
    monkeypatch.setitem(RUNTIME, "sleep", shared_time.sleep)
    code, report, stderr = tiny(tmp_path, str(job_id))
    assert code == 7 and "cancelled by an interrupt" in stderr and "--rerun" in stderr
    assert len(env.requests(RUN_NOW)) == 1
    put_notebook(env, "/Shared/stopped", QUICK)
    code, report, stderr = tiny(tmp_path, str(job_id), "--rerun")
    assert code == 0, stderr
    assert report is not None and report["attempt"] == 2 and len(runs_of(env, job_id)) == 2


def test_detached_run_is_reattached_by_the_next_invocation(
    env: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shared_time: FakeTime
):
    """--on-interrupt detach leaves the run; re-invoking the key waits for that run, not a new one."""
    job_id = create_job(env, "detached", QUICK)
    interrupt_waits(monkeypatch)
    code, _, stderr = tiny(tmp_path, str(job_id), "--on-interrupt", "detach")
    assert code == 130 and "re-invoke with the same key to reattach" in stderr
    assert env.requests(CANCEL) == []
    monkeypatch.setitem(RUNTIME, "sleep", shared_time.sleep)
    code, report, stderr = tiny(tmp_path, str(job_id))
    assert code == 0, stderr
    assert report is not None and report["steps"][1]["reason"].startswith("reattached to run")  # type: ignore[index]
    assert len(env.requests(RUN_NOW)) == 1 and len(runs_of(env, job_id)) == 1


def test_failed_run_exits_7_again_until_rerun(env: Emulator, tmp_path: Path):
    """A failed run exits 7; re-invoking the key exits 7 again without starting another run."""
    job_id = create_job(env, "fails", "1 / 0")
    code, report, stderr = tiny(tmp_path, str(job_id))
    assert code == 7 and "ZeroDivisionError" in stderr
    assert report is not None and report["error"]["exit_code"] == 7  # type: ignore[index]
    code, _, stderr = tiny(tmp_path, str(job_id))
    assert code == 7 and "failed in an earlier invocation" in stderr and "--rerun" in stderr
    assert len(env.requests(RUN_NOW)) == 1


def test_dry_run_sends_no_write_and_writes_no_file(env: Emulator, tmp_path: Path):
    """--dry-run reads only: every step planned, no mutating request, no state dir."""
    job_id = create_job(env, "planned", QUICK)
    env.control("DELETE", "requests")
    code, report, stderr = tiny(tmp_path / "state", str(job_id), "--dry-run")
    assert code == 0, stderr
    assert report is not None and report["status"] == "planned" and report["journal"] is None
    assert [s["outcome"] for s in report["steps"]] == ["planned", "planned"]  # type: ignore[index]
    assert [e for e in env.requests() if e["method"] != "GET"] == []
    assert not (tmp_path / "state").exists()


def test_held_key_exits_9_before_any_request(env: Emulator, tmp_path: Path, offline_ctx: object):
    """While another invocation holds the key, a second one exits 9 at once and sends nothing."""
    from brickbook.lock import acquire_lock

    job_id = create_job(env, "held", QUICK)
    (tmp_path / "tiny-run").mkdir()
    lock = acquire_lock(
        tmp_path / "tiny-run" / "k.lock", ctx=offline_ctx, wait_seconds=0, runbook="tiny-run", key="k"
    )  # type: ignore[arg-type]
    env.control("DELETE", "requests")
    try:
        code, report, stderr = tiny(tmp_path, str(job_id))
    finally:
        lock.release()
    assert code == 9 and "error: runbook 'tiny-run' key 'k' is locked by pid" in stderr
    assert report is not None and report["status"] == "failed" and report["exit_code"] == 9
    assert [e for e in env.requests() if not str(e["path"]).startswith("/_emulator")] == []


def test_corrupt_journal_exits_2_naming_it_and_keeps_it(env: Emulator, tmp_path: Path):
    """A corrupt journal is exit 2 naming the file; the file is left as it was and nothing is sent."""
    job_id = create_job(env, "corrupt", QUICK)
    (tmp_path / "tiny-run").mkdir()
    journal = tmp_path / "tiny-run" / "k.json"
    journal.write_text('{"format": "brickbook-journal", "version": 1, "runbook": "tiny-run"')
    env.control("DELETE", "requests")
    code, _, stderr = tiny(tmp_path, str(job_id))
    assert code == 2 and f"error: journal {journal} is corrupt" in stderr and "move the file aside" in stderr
    assert journal.read_text().endswith('"tiny-run"')
    assert [e for e in env.requests() if not str(e["path"]).startswith("/_emulator")] == []


def test_text_report_is_a_readable_summary(env: Emulator, tmp_path: Path):
    """Without -o json the report is a few lines: the head, one line per step, runs and outputs."""
    job_id = create_job(env, "text", QUICK)
    result = run_tiny("tiny-run", str(job_id), "--key", "k", "--state-dir", str(tmp_path))
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("tiny-run (key k, attempt 1): succeeded in ")
    assert lines[1].split()[:4] == ["unchanged", "job", str(job_id), "exists"]
    assert lines[2].split()[0] == "changed" and "started run" in lines[2]
    assert lines[3:5] == ["runs:", lines[4]] and "#job/" in lines[4]
    assert lines[5:] == ["outputs:", "  main: hi"]


def test_default_key_and_state_dir(env: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Without --key and --state-dir the journal is under ~/.local/state/brickbook, keyed by day and args."""
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    job_id = create_job(env, "defaults", QUICK)
    result = run_tiny("tiny-run", str(job_id), "-o", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["key"].startswith("tiny-run-20")
    folder = tmp_path / ".local" / "state" / "brickbook" / "tiny-run"
    assert report["journal"] == str(folder / f"{report['key']}.json")
    assert run_tiny("tiny-run", str(job_id), "-o", "json").exit_code == 0
    assert len(runs_of(env, job_id)) == 1


def test_key_with_path_separators_stays_in_the_state_dir(env: Emulator, tmp_path: Path):
    """A key like ../../x names a file inside the state dir, never outside it."""
    job_id = create_job(env, "escape", QUICK)
    code, report, stderr = tiny(tmp_path / "state", str(job_id), key="../../escape")
    assert code == 0, stderr
    assert report is not None and report["key"] == "../../escape"
    journal = Path(str(report["journal"]))
    assert journal.parent == tmp_path / "state" / "tiny-run" and journal.name.startswith("escape-")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state"]
