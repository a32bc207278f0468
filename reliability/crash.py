"""Crash kills: `runbook.run-job` processes SIGKILLed at seeded moments, re-invoked with the same key.

Each invocation gets its own job and key. The moment is chosen (seeded) from: before the trigger (the
job lookup held by injected latency), during the trigger before the service acts (run-now held), after
the service acted but before the answer arrived (run-now answered 503 after its handler, the client
waiting out `Retry-After`), after the trigger (the run id just recorded), while waiting (runs/get held),
while fetching the output (runs/get-output held) and while writing the journal (a temporary journal
file seen in the key's folder). Each moment is recognised from the runbook's journal or the emulator's
request journal, never by sleeping blindly. After every kill every journal is parsed; the faults are
cleared and the key re-invoked, which must complete with exactly one run of its job (the emulator's
count).
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reliability.harness import (
    Emulator,
    Figure,
    Harness,
    SuiteResult,
    count_figure,
    describe,
    notebook_job,
)

__all__ = ["NAME", "TITLE", "run"]

NAME = "crash"
TITLE = "2. Crash kills"
NOTEBOOK = '# Databricks notebook source\nimport time\ntime.sleep(1)\ndbutils.notebook.exit("survived")\n'
HOLD_MS = 4000  # how long a held request waits before the emulator handles it
RUN_NOW = "/api/2.2/jobs/run-now"
MOMENTS = (
    "before the trigger",
    "during the trigger",
    "after the service acted, before the answer",
    "after the trigger",
    "while waiting",
    "while fetching output",
    "while writing the journal",
)
# The fault that holds the process at each moment (None: nothing held).
HOLDS: dict[str, dict[str, Any] | None] = {
    "before the trigger": {"pattern": "GET /api/2.2/jobs/get", "latency_ms": HOLD_MS},
    "during the trigger": {"pattern": f"POST {RUN_NOW}", "latency_ms": HOLD_MS},
    "after the service acted, before the answer": {
        "pattern": f"POST {RUN_NOW}",
        "status": 503,
        "after_handler": True,
        "retry_after": "30",
    },
    "after the trigger": {"pattern": "GET /api/2.2/jobs/runs/get", "latency_ms": HOLD_MS, "times": 0},
    "while waiting": {
        "pattern": "GET /api/2.2/jobs/runs/get",
        "latency_ms": HOLD_MS,
        "offset": 1,
        "times": 0,
    },
    "while fetching output": {
        "pattern": "GET /api/2.2/jobs/runs/get-output",
        "latency_ms": HOLD_MS,
        "times": 0,
    },
    "while writing the journal": None,
}


def _journal(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _run_effect(path: Path) -> dict[str, Any] | None:
    journal = _journal(path)
    for step in (journal or {}).get("steps", {}).values():
        effect = (step.get("effects") or {}).get("run")
        if effect:
            return dict(effect)
    return None


def _runs(emu: Emulator, job_id: int) -> list[dict[str, Any]]:
    return list(emu.call("GET", f"/api/2.2/jobs/runs/list?job_id={job_id}&limit=25").get("runs") or [])


def _condition(moment: str, emu: Emulator, job_id: int, journal: Path) -> Callable[[], bool]:
    """The observation that says the process is at ``moment`` now."""
    folder = journal.parent

    def writing() -> bool:
        return any(p.name.startswith(".brickbook-") for p in folder.iterdir()) if folder.exists() else False

    def answered_503() -> bool:
        return any(e["path"] == RUN_NOW and e["status"] == 503 for e in emu.requests())

    def recorded() -> bool:
        effect = _run_effect(journal)
        return bool(effect and effect.get("remote_id"))

    def polled() -> bool:
        return recorded() and any(e["path"] == "/api/2.2/jobs/runs/get" for e in emu.requests())

    def ended() -> bool:
        return any((r.get("state") or {}).get("life_cycle_state") == "TERMINATED" for r in _runs(emu, job_id))

    conditions: dict[str, Callable[[], bool]] = {
        "before the trigger": lambda: _journal(journal) is not None,
        "during the trigger": lambda: bool((_run_effect(journal) or {}).get("token")),
        "after the service acted, before the answer": answered_503,
        "after the trigger": recorded,
        "while waiting": polled,
        "while fetching output": lambda: recorded() and ended(),
        "while writing the journal": writing,
    }
    return conditions[moment]


def _kill_at(
    child: subprocess.Popen[str], seen: Callable[[], bool], *, spin: bool, limit: float = 60
) -> bool:
    """SIGKILL ``child`` as soon as ``seen()`` holds; False when it ended first (the moment never came)."""
    deadline = time.monotonic() + limit
    while child.poll() is None and time.monotonic() < deadline:
        if seen():
            child.send_signal(signal.SIGKILL)
            child.wait()
            return True
        if not spin:
            time.sleep(0.005)  # a poll interval, not a guess at the moment: the condition decides
    if child.poll() is None:
        child.kill()
        child.wait()
        return True
    return False


def run(h: Harness) -> SuiteResult:
    """Kill, check every journal, re-invoke; see the module docstring."""
    count = h.size.count("crash_kills")
    rng = h.rng(NAME)
    base = h.work / NAME
    base.mkdir(parents=True, exist_ok=True)
    notebook = base / "survivor.py"
    notebook.write_text(NOTEBOOK)
    state = base / "state"
    landed: Counter[str] = Counter()
    missed: Counter[str] = Counter()
    completed = one_run = corrupt = 0
    notes: list[str] = []
    with h.emulator(NAME, extra=("--cluster-start-seconds", "0")) as emu:
        env = h.env(emu, NAME)
        emu.call("POST", "/api/2.0/workspace/mkdirs", {"path": "/Shared/crash"})
        setup = h.run_cli(["workspace.import", str(notebook), "/Shared/crash/survivor", "--overwrite"], env)
        if setup.code != 0:
            raise RuntimeError(f"crash setup failed: {setup.stderr[-500:]}")
        # Every moment at least once (in order) when the count allows, then seeded choices.
        moments = [MOMENTS[i % len(MOMENTS)] for i in range(min(count, len(MOMENTS)))]
        moments += [rng.choice(MOMENTS) for _ in range(count - len(moments))]
        for i, moment in enumerate(moments):
            job_id = notebook_job(emu, f"crash-{i}", "/Shared/crash/survivor")
            key = f"crash-{i}"
            journal = state / "run-job" / f"{key}.json"
            emu.clear_journal()
            hold = HOLDS[moment]
            if hold is not None:
                emu.call("POST", "/_emulator/faults", {"times": 1, **hold})
            args = ["runbook.run-job", str(job_id), "--key", key, "--state-dir", str(state), "-o", "json"]
            child = h.start_cli(args, env)
            killed = _kill_at(child, _condition(moment, emu, job_id, journal), spin=hold is None)
            h.finish(child, f"crash {i} ({moment}), killed")
            (landed if killed else missed)[moment] += 1
            emu.call("DELETE", "/_emulator/faults")
            for path in state.rglob("*.json"):
                if not _sound(path):
                    corrupt += 1
                    notes.append(f"kill {i} ({moment}): journal {path.name} does not parse")
            again = h.run_cli(args, env, label=f"crash {i} re-invoked")
            runs = _runs(emu, job_id)
            completed += again.code == 0
            one_run += len(runs) == 1
            if again.code != 0 or len(runs) != 1:
                last = again.stderr.strip().splitlines()[-1:] or [""]
                notes.append(
                    f"kill {i} ({moment}): re-invocation exit {again.code}, {len(runs)} runs: {last[0]}"
                )
    return SuiteResult(
        name=NAME,
        title=TITLE,
        description=describe(__doc__),
        command=h.command(NAME),
        figures=[
            count_figure("re-invocations that completed", completed, count),
            count_figure("keys with exactly one run (emulator's count)", one_run, count),
            count_figure("journals that did not parse after a kill", corrupt, 0),
            Figure("kills by moment", ", ".join(f"{m}: {landed[m]}" for m in MOMENTS if landed[m])),
            Figure(
                "moments that passed before the kill (process ended; re-invoked anyway)",
                ", ".join(f"{m}: {missed[m]}" for m in MOMENTS if missed[m]) or "none",
            ),
        ],
        notes=notes[:20],
    )


def _sound(path: Path) -> bool:
    """Whether a journal parses as the runbook engine reads it."""
    from brickbook.errors import JournalCorrupt
    from brickbook.journal import Journal

    data = _journal(path)
    if data is None:
        return False
    try:
        Journal.load(path, runbook=str(data.get("runbook")), key=str(data.get("key")), wall=time.time)
    except JournalCorrupt:
        return False
    return True
