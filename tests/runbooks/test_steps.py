"""Step, once, resume and interrupt semantics of the engine, on fake time with no remote calls."""

from __future__ import annotations

import json
import os
import stat
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from brickbook.change import Change, Unknown
from brickbook.context import Context
from brickbook.errors import BrickbookError, Interrupted, JournalCorrupt, RunFailed, TemporarilyUnavailable
from brickbook.runbook import Runbook, execute
from tests.fakes import FakeTime


def run(fn: Any, ctx: Context, state_dir: Path, **kwargs: Any) -> tuple[Any, BaseException | None]:
    options = kwargs.pop("options", {})
    return execute(fn, ctx, name="rb", key="k", options=options, state_dir=state_dir, **kwargs)


def journal_of(state_dir: Path) -> dict[str, Any]:
    return json.loads((state_dir / "rb" / "k.json").read_text())


def test_done_step_is_skipped_and_returns_its_result(offline_ctx: Context, state_dir: Path):
    """A step done by an earlier invocation of the key is skipped; step.result is what it recorded."""
    calls: list[str] = []
    seen: list[Any] = []

    def book(rb: Runbook) -> None:
        with rb.step("thing exists") as step:
            if step.todo:
                calls.append("made")
                step.done({"id": 42})
        seen.append(step.result)

    first, _ = run(book, offline_ctx, state_dir)
    second, error = run(book, offline_ctx, state_dir)
    assert error is None and calls == ["made"] and seen == [{"id": 42}, {"id": 42}]
    assert [s.outcome for s in first.steps] == ["unchanged"]
    assert [(s.outcome, s.reason) for s in second.steps] == [("skipped", "done in an earlier invocation")]


def test_each_step_logs_one_finished_event_with_its_context(offline_ctx: Context, state_dir: Path):
    """Every step logs exactly one step.finished with outcome, reason and duration, bound to rb/key/step."""

    def book(rb: Runbook) -> None:
        with rb.step("a is in place") as step:
            step.add(Change("create", "thing 'a'", reason="missing"))
        with rb.step("b is in place") as step:
            step.add(Change("unchanged", "thing 'b'"))

    with capture_logs() as logs:
        run(book, offline_ctx, state_dir)
    finished = [e for e in logs if e["event"] == "step.finished"]
    assert [(e["step"], e["outcome"]) for e in finished] == [
        ("a is in place", "changed"),
        ("b is in place", "unchanged"),
    ]
    assert all(e["runbook"] == "rb" and e["key"] == "k" and "duration_seconds" in e for e in finished)
    assert finished[0]["reason"] == "create thing 'a': missing"


def test_step_duration_is_measured_on_the_context_clock(
    offline_ctx: Context, state_dir: Path, fake_time: FakeTime
):
    """A step that takes 12 fake seconds reports 12 seconds."""

    def book(rb: Runbook) -> None:
        with rb.step("slow thing done"):
            fake_time.sleep(12)

    report, _ = run(book, offline_ctx, state_dir)
    assert report.steps[0].duration_seconds == pytest.approx(12)
    assert report.to_dict()["duration_seconds"] == pytest.approx(12)


def test_token_is_on_disk_before_the_trigger_and_the_id_after(offline_ctx: Context, state_dir: Path):
    """once() fsyncs the journal holding the token before calling trigger, then records the id."""
    events: list[str] = []

    def fsync(fd: int) -> None:
        events.append("fsync-dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync-file")
        os.fsync(fd)

    def trigger(token: str) -> int:
        effect = journal_of(state_dir)["steps"]["job has run"]["effects"]["run"]
        assert effect == {"token": token, "remote_id": None, "cancelled": False}
        events.append("trigger")
        return 7001

    def book(rb: Runbook) -> None:
        with rb.step("job has run") as step:
            step.once("run", trigger=trigger)

    _, error = run(book, offline_ctx, state_dir, fsync=fsync)
    assert error is None
    at = events.index("trigger")
    assert events[at - 2 : at] == ["fsync-file", "fsync-dir"]
    assert events[at + 1 : at + 3] == ["fsync-file", "fsync-dir"]
    assert journal_of(state_dir)["steps"]["job has run"]["effects"]["run"]["remote_id"] == 7001


def test_token_without_id_is_resent_and_id_is_reattached(offline_ctx: Context, state_dir: Path):
    """After a failure before the id came back, the trigger runs again with the same token; then never."""
    tokens: list[str] = []
    reattached: list[object] = []

    def trigger(token: str) -> int:
        tokens.append(token)
        if len(tokens) == 1:
            raise TemporarilyUnavailable("lost", http_status=503)
        return 7001

    def book(rb: Runbook) -> None:
        with rb.step("job has run") as step:
            step.once("run", trigger=trigger, reattach=reattached.append)

    _, error = run(book, offline_ctx, state_dir)
    assert isinstance(error, TemporarilyUnavailable)
    _, error = run(book, offline_ctx, state_dir)
    assert error is None and len(tokens) == 2 and tokens[0] == tokens[1]
    journal = journal_of(state_dir)
    journal["steps"]["job has run"]["status"] = "started"  # as if killed while waiting
    (state_dir / "rb" / "k.json").write_text(json.dumps(journal))
    _, error = run(book, offline_ctx, state_dir)
    assert error is None and len(tokens) == 2 and reattached == [7001]


def test_rerun_uses_a_new_token(offline_ctx: Context, state_dir: Path):
    """--rerun starts attempt 2, whose side effects get a new token."""
    tokens: list[str] = []

    def book(rb: Runbook) -> None:
        with rb.step("job has run") as step:
            step.once("run", trigger=lambda token: tokens.append(token) or len(tokens))

    run(book, offline_ctx, state_dir)
    report, _ = run(book, offline_ctx, state_dir, rerun=True)
    assert report.attempt == 2 and len(tokens) == 2 and tokens[0] != tokens[1]


def test_remote_failure_is_reported_again_until_rerun(offline_ctx: Context, state_dir: Path):
    """A step that failed with RunFailed fails again on re-invocation, naming --rerun, without rerunning."""
    calls: list[int] = []

    def book(rb: Runbook) -> None:
        with rb.step("job succeeded"):
            calls.append(1)
            raise RunFailed("run 9 ended TERMINATED FAILED")

    run(book, offline_ctx, state_dir)
    report, error = run(book, offline_ctx, state_dir)
    assert isinstance(error, RunFailed) and error.exit_code == 7 and calls == [1]
    assert "failed in an earlier invocation" in error.message and "run 9 ended" in error.message
    assert error.hint is not None and "--rerun" in error.hint
    assert report.steps[0].outcome == "failed" and report.status == "failed"


def test_transient_failure_is_retried_on_reinvocation(offline_ctx: Context, state_dir: Path):
    """A step that failed for a transient reason runs again when the key is re-invoked."""
    calls: list[int] = []

    def book(rb: Runbook) -> None:
        with rb.step("thing done") as step:
            calls.append(1)
            if len(calls) == 1:
                raise TemporarilyUnavailable("busy", http_status=503)
            step.done("ok")

    _, first = run(book, offline_ctx, state_dir)
    _, second = run(book, offline_ctx, state_dir)
    assert isinstance(first, TemporarilyUnavailable) and second is None and calls == [1, 1]


def test_interrupt_cancels_what_the_step_started(offline_ctx: Context, state_dir: Path):
    """Ctrl-C in a step cancels its once() effects, records it, and raises Interrupted (130)."""
    cancelled: list[object] = []

    def book(rb: Runbook) -> None:
        with rb.step("job has run") as step:
            step.once("run", trigger=lambda _token: 7001, cancel=cancelled.append)
            raise KeyboardInterrupt

    report, error = run(book, offline_ctx, state_dir)
    assert isinstance(error, Interrupted) and error.exit_code == 130
    assert error.message == "interrupted: cancelled run 7001" and cancelled == [7001]
    journal = journal_of(state_dir)
    assert journal["status"] == "interrupted"
    assert journal["steps"]["job has run"]["status"] == "cancelled"
    assert journal["steps"]["job has run"]["effects"]["run"]["cancelled"] is True
    assert report.status == "interrupted" and report.exit_code == 130
    _, again = run(book, offline_ctx, state_dir)
    assert isinstance(again, RunFailed) and "cancelled by an interrupt" in again.message


def test_detach_leaves_it_and_the_next_invocation_reattaches(offline_ctx: Context, state_dir: Path):
    """With on_interrupt=detach nothing is cancelled; re-invoking reattaches to the recorded id."""
    cancelled: list[object] = []
    triggered: list[str] = []
    interrupts = [True, False]  # the first invocation is interrupted, the second is not

    def book(rb: Runbook) -> None:
        with rb.step("job has run") as step:
            run_id = step.once("run", trigger=lambda t: triggered.append(t) or 7001, cancel=cancelled.append)
            if interrupts.pop(0):
                raise KeyboardInterrupt
            step.done(run_id)

    _, error = run(book, offline_ctx, state_dir, on_interrupt="detach")
    assert isinstance(error, Interrupted) and "left run 7001 running" in error.message
    assert journal_of(state_dir)["steps"]["job has run"]["status"] == "interrupted"
    report, error = run(book, offline_ctx, state_dir)
    assert error is None and cancelled == [] and len(triggered) == 1
    assert report.steps[0].reason == "reattached to run 7001"


def test_interrupt_between_steps_is_recorded(offline_ctx: Context, state_dir: Path):
    """Ctrl-C outside any step ends the invocation with Interrupted and an interrupted journal."""

    def book(rb: Runbook) -> None:
        with rb.step("first"):
            pass
        raise KeyboardInterrupt

    _, error = run(book, offline_ctx, state_dir)
    assert isinstance(error, Interrupted)
    assert journal_of(state_dir)["status"] == "interrupted"


def test_dry_run_plans_writes_nothing_and_ids_are_unknown(offline_ctx: Context, state_dir: Path):
    """In dry-run once() sends nothing and returns Unknown; steps are planned; no file is written."""
    seen: list[object] = []

    def book(rb: Runbook) -> None:
        with rb.step("job exists") as step:
            step.add(Change("create", "job 'nightly'", reason="missing"))
            step.done(Unknown("job id, known after apply"))
        with rb.step("job has run") as step:
            seen.append(step.once("run", trigger=lambda _t: pytest.fail("triggered in dry-run")))
        with rb.step("folder is in place") as step:
            step.add(Change("unchanged", "/Shared/x"))

    report, error = run(book, replace(offline_ctx, dry_run=True), state_dir)
    assert error is None and report.status == "planned" and report.exit_code == 0
    assert [s.outcome for s in report.steps] == ["planned", "planned", "unchanged"]
    assert seen == [Unknown("run id, known after apply")]
    assert not state_dir.exists()


def test_dry_run_reports_a_corrupt_journal(offline_ctx: Context, state_dir: Path):
    """A dry run reads the key's journal too, and a corrupt one is an error, not ignored."""
    (state_dir / "rb").mkdir(parents=True)
    (state_dir / "rb" / "k.json").write_text("{")
    _, error = run(lambda rb: None, replace(offline_ctx, dry_run=True), state_dir)
    assert isinstance(error, JournalCorrupt)
    assert (state_dir / "rb" / "k.json").read_text() == "{"


def test_step_names_must_be_unique(offline_ctx: Context, state_dir: Path):
    """Two steps with one name are a bug in the runbook (exit 1), caught at the second."""

    def book(rb: Runbook) -> None:
        for _ in range(2):
            with rb.step("same"):
                pass

    report, error = run(book, offline_ctx, state_dir)
    assert isinstance(error, ValueError) and report.exit_code == 1


def test_report_json_shape(offline_ctx: Context, state_dir: Path):
    """The report is one JSON object with the documented keys, steps, runs and outputs."""

    def book(rb: Runbook) -> None:
        with rb.step("job has run") as step:
            run_id = step.once("run", trigger=lambda _t: 7001)
            step.run(run_id, url="https://h/#job/1/run/7001")
            step.output("main", "hi")
            step.add(Change("update", "job 'nightly'", ("timeout_seconds",), "settings differ"))

    report, _ = run(book, offline_ctx, state_dir)
    data = json.loads(json.dumps(report.to_dict()))
    assert list(data) == [
        "runbook", "key", "attempt", "status", "exit_code", "dry_run", "started_at", "duration_seconds",
        "steps", "runs", "outputs", "error", "journal",
    ]  # fmt: skip
    assert data["status"] == "succeeded" and data["error"] is None
    assert data["journal"] == str(state_dir / "rb" / "k.json")
    change = {
        "action": "update",
        "target": "job 'nightly'",
        "fields": ["timeout_seconds"],
        "reason": "settings differ",
    }
    assert data["steps"] == [
        {"name": "job has run", "outcome": "changed", "reason": "started run 7001", "duration_seconds": 0,
         "changes": [change]}
    ]  # fmt: skip
    assert data["runs"] == [{"step": "job has run", "run_id": 7001, "url": "https://h/#job/1/run/7001"}]
    assert data["outputs"] == {"main": "hi"}


def test_failed_report_carries_the_error(offline_ctx: Context, state_dir: Path):
    """A failure fills error with type, message, exit code and error code."""

    def book(rb: Runbook) -> None:
        with rb.step("job succeeded"):
            raise RunFailed("run 9 ended TERMINATED FAILED")

    report, _ = run(book, offline_ctx, state_dir)
    assert report.to_dict()["error"] == {
        "type": "RunFailed",
        "message": "run 9 ended TERMINATED FAILED",
        "exit_code": 7,
        "error_code": None,
    }


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


def test_any_mangled_journal_field_is_a_typed_error_never_a_crash(offline_ctx: Context, state_dir: Path):
    """Every field of a journal set to a wrong type resumes cleanly or fails with a brickbook error."""

    def book(rb: Runbook) -> None:
        with rb.step("a has run") as step:
            if step.todo:
                run_id = step.once("run", trigger=lambda _t: 7001)
                step.run(run_id, url="https://h/#job/1/run/7001")
                step.output("main", "hi")
                step.add(Change("update", "job 'a'", ("tags",), "differs"))
                step.done({"run_id": run_id})
        with rb.step("b is in place") as step:
            raise RunFailed("run 2 ended FAILED")

    run(book, offline_ctx, state_dir)
    path = state_dir / "rb" / "k.json"
    good = json.loads(path.read_text())
    bad_values: list[Any] = [None, True, -1, 1.5, "x", [], {}, [[]], {"a": 1}]
    checked = 0
    for where in _paths(good):
        for bad in bad_values:
            doc = json.loads(json.dumps(good))
            holder = doc
            for part in where[:-1]:
                holder = holder[part]
            holder[where[-1]] = bad
            path.write_text(json.dumps(doc))
            _, error = run(
                book, offline_ctx, state_dir, fsync=lambda _fd: None
            )  # durability is not under test
            assert error is None or isinstance(error, BrickbookError), (where, bad, repr(error))
            checked += 1
    assert checked > 300


def test_journal_that_cannot_be_written_stops_before_the_trigger(offline_ctx: Context, state_dir: Path):
    """A full disk when the token is written is a usage error (exit 2) and the trigger is never called."""
    from brickbook.errors import UsageError

    writes: list[int] = []

    def fsync(fd: int) -> None:
        writes.append(fd)
        if len(writes) > 4:  # the journal's and the step's first writes succeed; the token's fails
            raise OSError(28, "No space left on device")

    def book(rb: Runbook) -> None:
        with rb.step("job has run") as step:
            step.once("run", trigger=lambda _t: pytest.fail("triggered without the token on disk"))

    _, error = run(book, offline_ctx, state_dir, fsync=fsync)
    assert isinstance(error, UsageError) and error.exit_code == 2
    assert "cannot write journal" in error.message and "No space left" in error.message


def test_starting_a_key_removes_its_own_leftovers_but_not_another_keys_write(
    offline_ctx: Context, state_dir: Path
):
    """Two keys share a folder: a start sweeps its key's crashed temp file, never another key's in flight."""
    from brickbook.localfs import temp_glob_for

    folder = state_dir / "rb"
    folder.mkdir(parents=True)
    mine = folder / temp_glob_for(folder / "k.json").replace("*", "dead")
    theirs = folder / temp_glob_for(folder / "other.json").replace("*", "live")
    mine.write_text("{")
    theirs.write_text("{")
    _, error = run(lambda rb: None, offline_ctx, state_dir)
    assert error is None
    assert not mine.exists() and theirs.exists()


def test_an_interrupt_while_the_run_id_is_saved_still_cancels_the_run(offline_ctx: Context, state_dir: Path):
    """Ctrl-C landing in the journal write that records the run id cancels that run (the id is known)."""
    cancelled: list[object] = []
    armed: list[bool] = []

    def fsync(fd: int) -> None:
        if armed:
            armed.clear()
            raise KeyboardInterrupt
        os.fsync(fd)

    def trigger(_token: str) -> int:
        armed.append(True)
        return 7002

    def book(rb: Runbook) -> None:
        with rb.step("job has run") as step:
            step.once("run", trigger=trigger, cancel=cancelled.append)

    _, error = run(book, offline_ctx, state_dir, fsync=fsync)
    assert isinstance(error, Interrupted) and error.message == "interrupted: cancelled run 7002"
    assert cancelled == [7002]
    assert journal_of(state_dir)["steps"]["job has run"]["status"] == "cancelled"
