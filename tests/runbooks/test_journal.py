"""The journal's file handling: atomic durable writes, loud corruption, safe names, keys and tokens."""

from __future__ import annotations

import datetime as dt
import json
import stat
from pathlib import Path

import pytest

from brickbook.errors import JournalCorrupt, LocalWriteFailed, UsageError
from brickbook.journal import (
    MAX_JOURNAL_BYTES,
    Effect,
    Journal,
    StepRecord,
    default_key,
    ensure_state_dir,
    idempotency_token,
    resolve_state_dir,
    safe_name,
    validate_key,
    write_atomic,
)

NOON = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC).timestamp()


def wall() -> float:
    return NOON


def new_journal(tmp_path: Path) -> Journal:
    return Journal(tmp_path / "k.json", runbook="rb", key="k", wall=wall)


def test_journal_round_trips_steps_and_effects(tmp_path: Path):
    """What a journal saves, a fresh load reads back: attempt, status, steps, effects and results."""
    journal = new_journal(tmp_path)
    record = StepRecord(status="done", started_at=NOON, result={"job_id": 7}, outputs={"main": "hi"})
    record.effects["run"] = Effect(token="bb-1", remote_id=7001)
    journal.steps["job has run"] = record
    journal.save()
    loaded = Journal.load(tmp_path / "k.json", runbook="rb", key="k", wall=wall)
    assert loaded is not None
    assert loaded.attempt == 1 and loaded.status == "running"
    step = loaded.steps["job has run"]
    assert step.result == {"job_id": 7} and step.outputs == {"main": "hi"}
    assert step.effects["run"] == Effect(token="bb-1", remote_id=7001)


def test_missing_journal_loads_as_none(tmp_path: Path):
    """A key never run before has no journal, which is not an error."""
    assert Journal.load(tmp_path / "none.json", runbook="rb", key="k", wall=wall) is None


def test_write_is_fsynced_then_renamed_then_the_folder_fsynced(tmp_path: Path):
    """The data is fsynced before the rename and the folder after it, so a crash keeps old or new."""
    target = tmp_path / "j.json"
    target.write_text("old")
    events: list[str] = []

    def fsync(fd: int) -> None:
        import os

        kind = "dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file"
        events.append(f"{kind}:{target.read_text()}")

    write_atomic(target, b"new", fsync=fsync)
    assert events == ["file:old", "dir:new"]
    assert target.read_text() == "new"


def test_failed_write_leaves_the_old_journal_and_no_temp_file(tmp_path: Path):
    """A write that fails midway (a full disk) keeps the previous journal intact and cleans up."""
    target = tmp_path / "j.json"
    target.write_text("old")

    def fsync(_fd: int) -> None:
        raise OSError(28, "No space left on device")

    with pytest.raises(LocalWriteFailed, match=r"cannot write .*j\.json.*: No space left on device"):
        write_atomic(target, b"new", fsync=fsync)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["j.json"]


@pytest.mark.parametrize(
    ("content", "detail"),
    [
        (b"{not json", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b"[]", "not a JSON object"),
        (b'{"format": "brickbook-journal", "version": 99}', "version is not 1"),
        (b'{"format": "brickbook-journal", "version": true}', "version is not 1"),
        (b'{"format": "brickbook-journal", "version": 1, "runbook": "other", "key": "k"}', "another runbook"),
        (b"[" * 100_000, "nested too deeply"),
    ],
)
def test_corrupt_journal_is_an_error_naming_the_file(tmp_path: Path, content: bytes, detail: str):
    """A journal that cannot be trusted raises JournalCorrupt (exit 2) naming the file, never ignored."""
    path = tmp_path / "k.json"
    path.write_bytes(content)
    with pytest.raises(JournalCorrupt) as caught:
        Journal.load(path, runbook="rb", key="k", wall=wall)
    assert caught.value.exit_code == 2
    assert str(path) in caught.value.message and detail in caught.value.message
    assert caught.value.hint is not None and "move the file aside" in caught.value.hint


def test_bad_step_status_is_corrupt(tmp_path: Path):
    """A step with a status this version never writes makes the journal corrupt, naming the step."""
    journal = new_journal(tmp_path)
    journal.steps["s"] = StepRecord(status="done", started_at=NOON)
    journal.save()
    doc = json.loads((tmp_path / "k.json").read_text())
    doc["steps"]["s"]["status"] = "maybe"
    (tmp_path / "k.json").write_text(json.dumps(doc))
    with pytest.raises(JournalCorrupt, match=r"steps\['s'\].status"):
        Journal.load(tmp_path / "k.json", runbook="rb", key="k", wall=wall)


def test_oversized_journal_is_refused(tmp_path: Path):
    """A journal over 1 MiB is refused before it is parsed."""
    path = tmp_path / "k.json"
    path.write_bytes(b" " * (MAX_JOURNAL_BYTES + 1))
    with pytest.raises(JournalCorrupt, match="larger than 1024 KiB"):
        Journal.load(path, runbook="rb", key="k", wall=wall)


def test_unreadable_journal_is_an_error(tmp_path: Path):
    """A journal path that cannot be read (here a directory) is JournalCorrupt naming it."""
    (tmp_path / "k.json").mkdir()
    with pytest.raises(JournalCorrupt, match="cannot read journal"):
        Journal.load(tmp_path / "k.json", runbook="rb", key="k", wall=wall)


def test_rerun_starts_a_new_attempt_with_no_steps(tmp_path: Path):
    """new_attempt bumps the attempt, forgets the steps and keeps a short history."""
    journal = new_journal(tmp_path)
    journal.status = "failed"
    journal.steps["s"] = StepRecord(status="failed", started_at=NOON)
    journal.new_attempt()
    assert journal.attempt == 2 and journal.steps == {} and journal.status == "running"
    assert journal.history == [{"attempt": 1, "status": "failed"}]


def test_oversized_result_is_a_bug_not_a_silent_truncation(tmp_path: Path):
    """Saving a journal over the limit raises instead of writing it."""
    journal = new_journal(tmp_path)
    journal.steps["s"] = StepRecord(status="done", started_at=NOON, result="x" * MAX_JOURNAL_BYTES)
    with pytest.raises(ValueError, match="record smaller step results"):
        journal.save()
    assert not (tmp_path / "k.json").exists()


@pytest.mark.parametrize(
    ("key", "expected"),
    [("nightly-2026-11-26", "nightly-2026-11-26"), ("run_job.v2", "run_job.v2")],
)
def test_plain_keys_are_their_own_file_names(key: str, expected: str):
    """Short keys of letters, digits, dot, dash and underscore are used as they are."""
    assert safe_name(key) == expected


@pytest.mark.parametrize("key", ["../../etc/passwd", "a/b", ".hidden", "x" * 81, "sp ace", "ünï", "-", ""])
def test_unsafe_keys_become_safe_distinct_names(key: str):
    """Keys with separators, dots first, odd characters or great length get a cleaned name + hash."""
    name = safe_name(key)
    assert "/" not in name and not name.startswith(".") and 0 < len(name) <= 80
    assert name != safe_name(key + "!")


@pytest.mark.parametrize(
    ("key", "message"),
    [("", "must not be empty"), ("  ", "must not be empty"), ("a\nb", "control"), ("k" * 201, "at most 200")],
)
def test_bad_keys_are_usage_errors(key: str, message: str):
    """--key refuses blank keys, control characters and keys over 200 characters."""
    with pytest.raises(UsageError, match=message):
        validate_key(key)


def test_default_key_is_stable_for_a_day_and_the_same_arguments():
    """Same runbook, host, arguments and UTC day: same key; another day or argument: another key."""
    key = default_key("run-job", host="https://h", options={"job": "1", "x": None}, wall=NOON)
    assert key.startswith("run-job-2026-11-26-")
    assert key == default_key("run-job", host="https://h", options={"job": "1"}, wall=NOON + 3600)
    assert key != default_key("run-job", host="https://h", options={"job": "2"}, wall=NOON)
    assert key != default_key("run-job", host="https://other", options={"job": "1"}, wall=NOON)
    assert key != default_key("run-job", host="https://h", options={"job": "1"}, wall=NOON + 86400)


def test_default_key_does_not_reveal_arguments():
    """Arguments appear in the key only as a digest (they may be secrets)."""
    key = default_key("rb", host="https://h", options={"password": "hunter2-secret"}, wall=NOON)
    assert "hunter2" not in key


def test_tokens_are_deterministic_bounded_and_per_attempt():
    """The same runbook/key/step/attempt gives the same token (<= 64 chars); another attempt another."""
    token = idempotency_token("rb", "k" * 200, "s" * 500, 1, "run")
    assert token == idempotency_token("rb", "k" * 200, "s" * 500, 1, "run")
    assert len(token) <= 64
    assert token != idempotency_token("rb", "k" * 200, "s" * 500, 2, "run")
    assert idempotency_token("rb", "k", "a/b", 1, "c") != idempotency_token("rb", "k", "a", 1, "b/c")


def test_state_dir_follows_xdg_then_home():
    """--state-dir wins; then an absolute XDG_STATE_HOME; a relative one is ignored as the spec says."""
    assert resolve_state_dir("/x/y", {}) == Path("/x/y")
    assert resolve_state_dir(None, {"XDG_STATE_HOME": "/st", "HOME": "/h"}) == Path("/st/brickbook")
    assert resolve_state_dir(None, {"XDG_STATE_HOME": "rel", "HOME": "/h"}) == Path(
        "/h/.local/state/brickbook"
    )


def test_state_dir_is_created_private(tmp_path: Path):
    """The state dir is created (with missing parents) with mode 0700."""
    target = tmp_path / "a" / "b"
    ensure_state_dir(target)
    assert stat.S_IMODE(target.stat().st_mode) == 0o700


def test_state_dir_that_is_a_file_is_a_usage_error(tmp_path: Path):
    """A --state-dir naming a file is refused with a message naming it."""
    (tmp_path / "f").write_text("")
    with pytest.raises(UsageError, match="is not a directory"):
        ensure_state_dir(tmp_path / "f")
