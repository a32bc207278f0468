"""The per-key lock: one holder at a time, a dead holder's lock taken over, waiting on fake time."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from brickbook.context import Context
from brickbook.errors import LockHeld
from brickbook.lock import acquire_lock
from tests.fakes import FakeTime

HOLDER = """
import sys
from pathlib import Path
from brickbook.client import Client
from brickbook.config import Config
from brickbook.context import Context
from brickbook.lock import acquire_lock
ctx = Context(client=Client(Config(host="http://127.0.0.1:9", auth_type="pat", token="unused-token")))
acquire_lock(Path(sys.argv[1]), ctx=ctx, wait_seconds=0, runbook="rb", key="k")
print("locked", flush=True)
sys.stdin.readline()
"""


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the lock at tmp_path/k.lock until it is killed."""
    with subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path / "k.lock")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as child:
        try:
            assert child.stdout is not None and child.stdout.readline().strip() == "locked"
            yield child
        finally:
            child.kill()
            child.wait()


def take(path: Path, ctx: Context, wait: float = 0.0) -> object:
    return acquire_lock(path, ctx=ctx, wait_seconds=wait, runbook="rb", key="k")


def test_lock_records_pid_host_and_start(tmp_path: Path, offline_ctx: Context):
    """The lock file names its holder: pid, host and start time."""
    import os

    lock = acquire_lock(tmp_path / "k.lock", ctx=offline_ctx, wait_seconds=0, runbook="rb", key="k")
    holder = json.loads((tmp_path / "k.lock").read_text())
    assert holder["pid"] == os.getpid() and holder["host"] and holder["started_at"].endswith("+00:00")
    lock.release()
    assert (tmp_path / "k.lock").read_text() == ""


def test_second_holder_gets_lock_held_at_once(tmp_path: Path, offline_ctx: Context, fake_time: FakeTime):
    """While one invocation holds the key, another gets LockHeld (exit 9) without waiting."""
    first = acquire_lock(tmp_path / "k.lock", ctx=offline_ctx, wait_seconds=0, runbook="rb", key="k")
    with pytest.raises(LockHeld) as caught:
        take(tmp_path / "k.lock", offline_ctx)
    assert caught.value.exit_code == 9
    assert "runbook 'rb' key 'k' is locked by pid" in caught.value.message
    assert caught.value.hint is not None and "--wait-lock" in caught.value.hint
    assert fake_time.sleeps == []
    first.release()


def test_released_lock_is_taken_without_a_takeover(tmp_path: Path, offline_ctx: Context):
    """After a clean release the next invocation takes the lock and logs no takeover."""
    acquire_lock(tmp_path / "k.lock", ctx=offline_ctx, wait_seconds=0, runbook="rb", key="k").release()
    with capture_logs() as logs:
        acquire_lock(tmp_path / "k.lock", ctx=offline_ctx, wait_seconds=0, runbook="rb", key="k").release()
    assert not [e for e in logs if e["event"] == "lock.taken_over"]


def test_live_holder_in_another_process_is_named(tmp_path: Path, offline_ctx: Context, holder):
    """A lock held by a live process is refused, naming that process's pid."""
    with pytest.raises(LockHeld, match=f"pid {holder.pid} on "):
        take(tmp_path / "k.lock", offline_ctx)


def test_lock_of_a_killed_process_is_taken_over_and_logged(tmp_path: Path, offline_ctx: Context, holder):
    """A holder killed with SIGKILL leaves its lock free: the next taker logs lock.taken_over."""
    holder.kill()
    holder.wait()
    with capture_logs() as logs:
        lock = acquire_lock(tmp_path / "k.lock", ctx=offline_ctx, wait_seconds=0, runbook="rb", key="k")
    taken = [e for e in logs if e["event"] == "lock.taken_over"]
    assert len(taken) == 1 and taken[0]["previous_pid"] == holder.pid
    lock.release()


def test_wait_lock_gives_up_after_the_wait_on_fake_time(
    tmp_path: Path, offline_ctx: Context, fake_time: FakeTime
):
    """--wait-lock polls with the context's sleep and raises LockHeld once the wait has passed."""
    first = acquire_lock(tmp_path / "k.lock", ctx=offline_ctx, wait_seconds=0, runbook="rb", key="k")
    with pytest.raises(LockHeld, match="after waiting 5s"):
        take(tmp_path / "k.lock", offline_ctx, wait=5)
    assert sum(fake_time.sleeps) == pytest.approx(5)
    first.release()


def test_wait_lock_takes_the_lock_when_the_holder_finishes(
    tmp_path: Path, offline_ctx: Context, fake_time: FakeTime
):
    """A waiter gets the lock as soon as the holder releases it, within the wait."""
    first = acquire_lock(tmp_path / "k.lock", ctx=offline_ctx, wait_seconds=0, runbook="rb", key="k")
    fake_time.on_sleep.append(lambda: fake_time.now >= 1003 and first.release())
    lock = acquire_lock(tmp_path / "k.lock", ctx=offline_ctx, wait_seconds=60, runbook="rb", key="k")
    assert fake_time.now == pytest.approx(1003)
    lock.release()
