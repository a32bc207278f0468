"""The row type of the hostile-input table, and the one function that runs a row.

A row is one command line as a careless user or an attacker would type it, and what must happen:
the documented exit code, one ``error:`` line saying what is wrong (matched by ``error``), no
traceback, no test credential anywhere in the output, and, when ``refused`` is true, no remote
change (no mutating request reached the emulator) and no local change (the row's scratch folder
is byte-for-byte as the setup left it). Rows are plain data; each area's rows live in
``rows_<area>.py`` beside this module and are collected by ``test_hostile.py``.

The command runs as the installed ``brickbook`` console script in a subprocess, as users run it.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.conftest import ADMIN_TOKEN, SECRET_VALUES, Emulator

BIN = Path(sys.executable).parent
READ_METHODS = {"GET", "HEAD"}
# Endpoints that read although they are POSTs or are our own plumbing, never a remote change.
READ_POSTS = ("/oidc/",)


@dataclass
class Scene:
    """What a row's setup and check see: the emulator, a scratch folder and values to substitute."""

    emulator: Emulator
    tmp: Path
    values: dict[str, str] = field(default_factory=dict)

    def api(self, method: str, path: str, json: object = None, token: str = ADMIN_TOKEN) -> Any:
        """Call the emulator's REST API directly (setup and checks must not depend on brickbook)."""
        import httpx

        response = httpx.request(
            method, f"{self.emulator.url}{path}", json=json, headers={"Authorization": f"Bearer {token}"}
        )
        response.raise_for_status()
        return response.json() if response.content else None


@dataclass
class Row:
    """One hostile or careless command line and what must happen.

    ``args`` may contain ``{tmp}``, ``{url}`` and any key a setup put in ``scene.values``; they
    are substituted with ``str.format`` (strings only; bytes arguments are passed as they are, for
    names that are not valid UTF-8).
    """

    id: str
    args: Sequence[str | bytes]
    exit_code: int
    error: str | None = None  # a regex the one ``error:`` line must match (None: no error line expected)
    refused: bool = True  # nothing local or remote may change
    setup: Callable[[Scene], None] | None = None
    check: Callable[[Scene, subprocess.CompletedProcess[bytes]], None] | None = None
    env: Mapping[str, str | None] = field(default_factory=dict)  # None removes the variable
    stdin: bytes | int | None = b""  # bytes to feed, or subprocess.DEVNULL, or None to close it
    close_stdout: bool = False
    stdout: str | None = None  # a regex stdout must match (decoded, replace errors)


def _substitute(arg: str | bytes, values: Mapping[str, str]) -> str | bytes:
    if isinstance(arg, bytes):
        return arg
    return arg.format(**values) if "{" in arg else arg


def snapshot(root: Path) -> dict[str, str]:
    """Return every entry below ``root`` with its kind, mode and content hash (links not followed)."""
    seen: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):  # undecodable names come as surrogates
        for name in [*dirnames, *filenames]:
            full = Path(dirpath) / name
            info = full.lstat()
            key = str(full.relative_to(root))
            if stat.S_ISREG(info.st_mode):
                seen[key] = f"file {oct(info.st_mode)} {hashlib.sha256(full.read_bytes()).hexdigest()}"
            elif stat.S_ISLNK(info.st_mode):
                seen[key] = f"link {full.readlink()}"
            else:
                seen[key] = stat.filemode(info.st_mode)
    return seen


def mutations(emulator: Emulator) -> list[str]:
    """Return the mutating requests in the emulator's journal (control calls excluded)."""
    return [
        f"{e['method']} {e['path']}"
        for e in emulator.requests()
        if e["method"] not in READ_METHODS
        and not str(e["path"]).startswith(("/_emulator", *READ_POSTS))
        and not _is_read_post(str(e["path"]))
    ]


def _is_read_post(path: str) -> bool:
    # POSTs that only read: SCIM Me is a GET; list endpoints are GETs; nothing else qualifies today.
    return False


def run_row(
    row: Row,
    emulator: Emulator,
    tmp: Path,
    *,
    command: Sequence[str | bytes] | None = None,
    extra_env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run one row and assert everything a row promises.

    The command is the installed ``brickbook`` console script unless ``command`` names another program
    (the runbook engine's tests run their tiny runbook as ``python -m tests.runbooks.tiny``).
    """
    scene = Scene(emulator=emulator, tmp=tmp, values={"tmp": str(tmp), "url": emulator.url})
    if row.setup is not None:
        row.setup(scene)
    before_local = snapshot(tmp)
    emulator.control("DELETE", "requests")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABRICKS_", "BRICKBOOK_", "INVOKE_"))}
    env.update(
        HOME=str(tmp.parent / "home"),
        DATABRICKS_CONFIG_FILE=str(tmp.parent / "no-such-databrickscfg"),
        DATABRICKS_HOST=emulator.url,
        DATABRICKS_TOKEN=ADMIN_TOKEN,
        BRICKBOOK_MAX_ATTEMPTS="2",
        BRICKBOOK_RETRY_TIMEOUT="5",
        BRICKBOOK_LOG_FORMAT="json",
        XDG_STATE_HOME=str(tmp.parent / "state"),
    )
    env.update(extra_env or {})
    for key, value in row.env.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value.format(**scene.values)
    program = [_bytes(part) for part in command] if command is not None else [os.fsencode(BIN / "brickbook")]
    args = [*program, *(_bytes(_substitute(a, scene.values)) for a in row.args)]
    done = _spawn(args, env, row, tmp)
    out = done.stdout.decode("utf-8", "replace")
    err = done.stderr.decode("utf-8", "replace")
    shown = f"exit {done.returncode}\n--- stdout\n{out[-3000:]}\n--- stderr\n{err[-3000:]}"
    assert done.returncode == row.exit_code, shown
    assert "Traceback" not in err and "Traceback" not in out, shown
    for secret in SECRET_VALUES:
        assert secret not in out and secret not in err, f"a test credential was printed\n{shown}"
    error_lines = [line for line in err.splitlines() if line.startswith("error:")]
    if row.error is None:
        assert not error_lines, shown
    else:
        assert len(error_lines) == 1, f"expected one error: line\n{shown}"
        assert re.search(row.error, error_lines[0]), f"error line does not match {row.error!r}\n{shown}"
        assert len(error_lines[0]) <= 400, f"the error line is {len(error_lines[0])} characters long"
    if row.stdout is not None:
        assert re.search(row.stdout, out), shown
    if row.refused:
        assert mutations(emulator) == [], shown
        assert snapshot(tmp) == before_local, f"the local scratch folder changed\n{shown}"
    if row.check is not None:
        row.check(scene, done)
    return done


def _bytes(arg: str | bytes) -> bytes:
    return arg if isinstance(arg, bytes) else os.fsencode(arg)


def _spawn(args: list[bytes], env: dict[str, str], row: Row, tmp: Path) -> subprocess.CompletedProcess[bytes]:
    stdin_closed = row.stdin is None
    kwargs: dict[str, Any] = {"env": env, "cwd": tmp, "timeout": 60, "capture_output": True}
    if isinstance(row.stdin, bytes):
        kwargs["input"] = row.stdin
    elif isinstance(row.stdin, int):
        kwargs["stdin"] = row.stdin
    if stdin_closed or row.close_stdout:
        # Close fd 0 and/or 1 in the child before exec, as `<&-` and `>&-` do in a shell.
        closing = [fd for fd, closed in ((0, stdin_closed), (1, row.close_stdout)) if closed]
        kwargs["preexec_fn"] = lambda: [os.close(fd) for fd in closing]
        if row.close_stdout:
            kwargs.pop("capture_output")
            kwargs["stderr"] = subprocess.PIPE
            done = subprocess.run(args, check=False, **kwargs)
            return subprocess.CompletedProcess(args, done.returncode, b"", done.stderr)
    return subprocess.run(args, check=False, **kwargs)
