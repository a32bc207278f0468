"""Interrupts: SIGINT and SIGTERM while `runbook.run-job` waits, with `--on-interrupt cancel` and `detach`.

The signal is sent once the run is recorded in the runbook's journal and the emulator shows it running.
Required for each: exit 130; with `cancel` the run ends CANCELED in the emulator and the key's journal
records the step `cancelled`; with `detach` the run is still running when the process has exited and the
journal records the step `interrupted` (left running). A re-invocation with the same key then reports
honestly: after `cancel` it fails (not a silent success) naming the cancelled run; after `detach` it
reattaches to the same run and reports its output. Either way the job has exactly one run.
"""

from __future__ import annotations

import json
import signal
import time
from collections import Counter
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

NAME = "interrupts"
TITLE = "3. Interrupts"
NOTEBOOK = '# Databricks notebook source\nimport time\ntime.sleep(3)\ndbutils.notebook.exit("finished")\n'
SIGNALS = {"SIGINT": signal.SIGINT, "SIGTERM": signal.SIGTERM}
MODES = ("cancel", "detach")
ENDED = ("TERMINATED", "TERMINATING", "INTERNAL_ERROR", "SKIPPED")


def _runs(emu: Emulator, job_id: int) -> list[dict[str, Any]]:
    return list(emu.call("GET", f"/api/2.2/jobs/runs/list?job_id={job_id}&limit=25").get("runs") or [])


def _run_step(journal: Path) -> dict[str, Any]:
    try:
        data = json.loads(journal.read_text())
    except (OSError, ValueError):
        return {}
    for step in (data.get("steps") or {}).values():
        if (step.get("effects") or {}).get("run"):
            return dict(step)
    return {}


def _waiting(emu: Emulator, job_id: int, journal: Path) -> bool:
    effect = (_run_step(journal).get("effects") or {}).get("run") or {}
    if not effect.get("remote_id"):
        return False
    return any((r.get("state") or {}).get("life_cycle_state") == "RUNNING" for r in _runs(emu, job_id))


def _state(emu: Emulator, job_id: int, *, settle: float = 30) -> dict[str, Any]:
    """The job's one run's state once it has ended (or after ``settle`` seconds)."""
    deadline = time.monotonic() + settle
    while True:
        runs = _runs(emu, job_id)
        state = dict((runs[0].get("state") or {}) if runs else {})
        if state.get("life_cycle_state") in ENDED or time.monotonic() > deadline:
            return state
        time.sleep(0.1)  # the emulator's run ends on its own clock: poll its state


def _case(
    h: Harness, emu: Emulator, env: dict[str, str], *, state_dir: Path, key: str, sig: str, mode: str
) -> tuple[dict[str, bool], str]:
    """Interrupt one invocation and re-invoke it; return which checks held and a note when one did not."""
    job_id = notebook_job(emu, key, "/Shared/interrupts/sleeper")
    journal = state_dir / "run-job" / f"{key}.json"
    args = ["runbook.run-job", str(job_id), "--key", key, "--state-dir", str(state_dir),
            "--on-interrupt", mode, "-o", "json"]  # fmt: skip
    child = h.start_cli(args, env)
    deadline = time.monotonic() + 60
    while child.poll() is None and not _waiting(emu, job_id, journal) and time.monotonic() < deadline:
        time.sleep(0.02)  # poll the journals until the run is recorded and running
    if child.poll() is None:
        child.send_signal(SIGNALS[sig])
    done = h.finish(child, f"interrupts {key}", timeout=60)
    runs_now = _runs(emu, job_id)
    live = bool(runs_now) and (runs_now[0].get("state") or {}).get("life_cycle_state") not in ENDED
    step = _run_step(journal)
    if mode == "cancel":
        outcome_ok = _state(emu, job_id).get("result_state") == "CANCELED"
        journal_ok = step.get("status") == "cancelled"
    else:
        outcome_ok = live
        journal_ok = step.get("status") == "interrupted" and "left" in json.dumps(step.get("error"))
    again = h.run_cli(args, env, label=f"interrupts {key} re-invoked", timeout=120)
    run_id = runs_now[0]["run_id"] if runs_now else None
    if mode == "cancel":  # fails, naming the run it cancelled
        honest = again.code != 0 and f"cancelled run {run_id}" in again.stderr
    else:  # reattaches to that same run and reports its output
        report = json.loads(again.stdout) if again.stdout.strip().startswith("{") else {}
        reported = [run.get("run_id") for run in report.get("runs") or []]
        honest = again.code == 0 and reported == [run_id] and report.get("outputs") == {"main": "finished"}
    runs = len(_runs(emu, job_id))
    checks = {"exit 130": done.code == 130, "run": outcome_ok, "journal": journal_ok, "honest": honest,
              "one run": runs == 1}  # fmt: skip
    note = ""
    if not all(checks.values()):
        last = (again.stderr.strip().splitlines() or [""])[-1]
        note = (
            f"{key}: exit {done.code}, run outcome {'ok' if outcome_ok else 'WRONG'}, journal "
            f"{step.get('status')}, re-invocation exit {again.code} ({last}), {runs} runs"
        )
    return checks, note


def run(h: Harness) -> SuiteResult:
    """Signal, check, re-invoke; see the module docstring."""
    rounds = h.size.count("interrupt_rounds")
    base = h.work / NAME
    base.mkdir(parents=True, exist_ok=True)
    notebook = base / "sleeper.py"
    notebook.write_text(NOTEBOOK)
    state_dir = base / "state"
    cases = [(r, sig, mode) for r in range(rounds) for sig in SIGNALS for mode in MODES]
    passed: Counter[str] = Counter()
    notes: list[str] = []
    with h.emulator(NAME, extra=("--cluster-start-seconds", "0")) as emu:
        env = h.env(emu, NAME)
        emu.call("POST", "/api/2.0/workspace/mkdirs", {"path": "/Shared/interrupts"})
        setup = h.run_cli(
            ["workspace.import", str(notebook), "/Shared/interrupts/sleeper", "--overwrite"], env
        )
        if setup.code != 0:
            raise RuntimeError(f"interrupts setup failed: {setup.stderr[-500:]}")
        for r, sig, mode in cases:
            checks, note = _case(
                h, emu, env, state_dir=state_dir, key=f"{sig.lower()}-{mode}-{r}", sig=sig, mode=mode
            )
            for name, ok in checks.items():
                passed[name] += ok
            if note:
                notes.append(note)
    total = len(cases)
    return SuiteResult(
        name=NAME,
        title=TITLE,
        description=describe(__doc__),
        command=h.command(NAME),
        figures=[
            count_figure("interrupted invocations that exited 130", passed["exit 130"], total),
            count_figure(
                "runs cancelled (cancel) or left running (detach), emulator's state", passed["run"], total
            ),
            count_figure("journals that say which", passed["journal"], total),
            count_figure("re-invocations that report honestly", passed["honest"], total),
            count_figure("jobs with exactly one run", passed["one run"], total),
            Figure("cases", ", ".join(f"{s} x {m}" for s in SIGNALS for m in MODES) + f", {rounds} round(s)"),
        ],
        notes=notes[:20],
    )
