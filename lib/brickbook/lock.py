"""The lock that keeps two invocations of one runbook key apart: ``<state dir>/<runbook>/<key>.lock``.

It is ``fcntl.flock`` on the lock file, not an ``O_EXCL`` file: the kernel releases it when its holder
dies, even by SIGKILL, so liveness never has to be guessed from a pid (which may have been reused). The
file records the holder's pid, host and start time for messages; a lock whose file still names a
holder but is free was left by a process that died, and taking it over is logged (``lock.taken_over``).
The file is emptied, not deleted, on release: deleting it would let a waiter lock the unlinked file
while a newcomer locks a new one. flock works on local file systems (Linux and macOS); keep the state
dir on a local disk.
"""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import json
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from brickbook.errors import LockHeld, UsageError

if TYPE_CHECKING:
    from brickbook.context import Context

__all__ = ["Lock", "acquire_lock"]

LOCK_POLL_SECONDS = 1.0


@dataclass
class Lock:
    """A held lock; ``release`` empties the file and unlocks it."""

    path: Path
    fd: int

    def release(self) -> None:
        """Give the lock up (idempotent)."""
        if self.fd < 0:
            return
        try:
            os.ftruncate(self.fd, 0)
        finally:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = -1


def _holder(fd: int) -> dict[str, Any]:
    try:
        raw = os.pread(fd, 4096, 0)
        data = json.loads(raw.decode("utf-8")) if raw.strip() else {}
    except (OSError, ValueError):
        return {"unreadable": True}
    return data if isinstance(data, dict) else {"unreadable": True}


def _describe_holder(holder: Mapping[str, Any]) -> str:
    if not holder.get("pid"):
        return "another invocation"
    return f"pid {holder.get('pid')} on {holder.get('host')} since {holder.get('started_at')}"


def acquire_lock(path: Path, *, ctx: Context, wait_seconds: float, runbook: str, key: str) -> Lock:
    """Take the lock at ``path`` at once, or polling for up to ``wait_seconds`` (ctx clock and sleep).

    Raises LockHeld (exit 9) naming the holder when it stays taken.
    """
    deadline: float | None = None
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
        except OSError as exc:
            raise UsageError(f"cannot open lock file {path}: {exc.strerror}; check --state-dir") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = _holder(fd)
            os.close(fd)
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise UsageError(
                    f"cannot lock {path}: {exc.strerror}; keep --state-dir on a local disk"
                ) from None
            now = ctx.clock()
            if deadline is None:
                deadline = now + wait_seconds
                if wait_seconds > 0:
                    ctx.log.info("lock.waiting", holder=_describe_holder(holder), wait_seconds=wait_seconds)
            if now >= deadline:
                waited = f" after waiting {wait_seconds:g}s" if wait_seconds > 0 else ""
                raise LockHeld(
                    f"runbook {runbook!r} key {key!r} is locked by {_describe_holder(holder)}{waited}"
                ).with_hint("let it finish, or wait for it with --wait-lock SECONDS") from None
            ctx.sleep(min(LOCK_POLL_SECONDS, deadline - now))
            continue
        previous = _holder(fd)
        if previous:
            ctx.log.warning(
                "lock.taken_over",
                lock=str(path),
                previous_pid=previous.get("pid"),
                previous_host=previous.get("host"),
                previous_started_at=previous.get("started_at"),
            )
        mine = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started_at": dt.datetime.fromtimestamp(ctx.wall(), dt.UTC).isoformat(timespec="seconds"),
            "runbook": runbook,
            "key": key,
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(mine).encode(), 0)
        os.fsync(fd)
        return Lock(path, fd)
