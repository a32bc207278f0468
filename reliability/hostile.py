"""Hostile and mistaken input: the hostile-input table of the test suite, run row by row as a suite.

Every row of ``tests/hostile/rows_*.py`` (specs, deployment files, options, paths, names, sizes,
encodings, credentials, hosts and the server's answers: HTML, empty, truncated, invalid JSON, 100 MB,
a slow loris) runs through the same checker as ``tests/hostile/test_hostile.py`` against an emulator
in this process: the documented exit code, one ``error:`` line, no traceback, no credential printed,
and for refused input no local change and no write in the emulator's request journal. The ``full``
size runs the whole table; ``ci`` a seeded sample of ``hostile_cases`` rows that still touches every
namespace. Each brickbook process runs under a ``wait4`` wrapper, so its peak memory is measured.
"""

from __future__ import annotations

import importlib
import random
import shutil
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from reliability.harness import REPO, Figure, Harness, SuiteResult, count_figure

__all__ = ["NAME", "TITLE", "namespace_of", "run", "select_rows"]

NAME = "hostile"
TITLE = "4. Hostile and mistaken input"
RSS_BOUND_MIB = 256  # far above a normal run (~40 MiB), far below reading a 100 MB answer whole
MIN_CASES = 100


def namespace_of(row: Any) -> str:
    """Return what a row exercises: a namespace, a runbook (``runbook.run-job``) or ``(program)``."""
    for arg in row.args:
        text = arg.decode(errors="replace") if isinstance(arg, bytes) else arg
        if text.startswith("-"):
            continue
        area = text if text.startswith("runbook.") else text.split(".", 1)[0]
        return area if area in namespaces() else "(program)"
    return "(program)"


def namespaces() -> set[str]:
    """Every namespace the ``brickbook`` command serves, each runbook counted on its own."""
    from brickbook.cli import namespace

    runbooks = {f"runbook.{name}" for name in namespace.collections["runbook"].tasks}
    return (set(namespace.collections) - {"runbook"}) | set(namespace.tasks) | runbooks


def select_rows(rows: list[Any], count: int, rng: random.Random) -> list[Any]:
    """Every row when ``count`` is 0 or covers the table, else a sample of ``count`` rows.

    The sample holds every server-answer row (``server-*``: the 100 MB body and the slow loris prove
    the bounds) and a row of each namespace and runbook; seeded random rows fill it up.
    """
    if count <= 0 or count >= len(rows):
        return list(rows)
    chosen = [row for row in rows if row.id.startswith("server-")]
    by_namespace: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        by_namespace[namespace_of(row)].append(row)
    covered = {namespace_of(row) for row in chosen}
    chosen += [rng.choice(group) for area, group in sorted(by_namespace.items()) if area not in covered]
    rest = [row for row in rows if row not in chosen]
    chosen += rng.sample(rest, max(0, count - len(chosen)))
    return chosen


def run(h: Harness) -> SuiteResult:
    """Run the selected rows; a failing row is a note with its id and the checker's first line."""
    sys.path.insert(0, str(REPO))  # the table lives in the tests package
    from brickbook.emulator.server import start_in_thread

    # Imported by name: the tests package is not type-checked, and must not be pulled into mypy's run.
    conftest = importlib.import_module("tests.conftest")
    test_hostile = importlib.import_module("tests.hostile.test_hostile")
    run_row = importlib.import_module("tests.hostile.table").run_row
    ADMIN_TOKEN, SECRET_VALUES, Emulator = conftest.ADMIN_TOKEN, conftest.SECRET_VALUES, conftest.Emulator

    for index, value in enumerate(SECRET_VALUES):
        h.secrets.register(value, f"test credential {index}")
    full = h.size.name == "full"
    rows = select_rows(test_hostile.ROWS, 0 if full else h.size.count("hostile_cases"), h.rng(NAME))
    work = h.work / NAME
    settings = _settings(ADMIN_TOKEN)
    running = start_in_thread(settings)
    emulator = Emulator(url=running.url, clock=settings.clock)
    failures: list[str] = []
    peaks: list[tuple[int, str]] = []
    refused = 0
    try:
        for index, row in enumerate(rows):
            case = work / str(index)
            scratch, record = case / "scratch", case / "rss"
            scratch.mkdir(parents=True)
            (case / "home").mkdir()
            emulator.control("POST", "reset")
            wrapper = [sys.executable, str(REPO / "reliability" / "rss.py"), str(record)]
            try:
                done = run_row(row, emulator, scratch, command=[*wrapper, str(_brickbook())])
                h.capture.add(f"hostile {row.id}", (done.stdout + done.stderr).decode(errors="replace"))
            except AssertionError as failed:
                failures.append(f"{row.id}: {str(failed).splitlines()[0] if str(failed) else 'failed'}")
                h.capture.add(f"hostile {row.id}", str(failed))
            except Exception as crashed:  # a setup that breaks is this row's failure, not the suite's
                failures.append(f"{row.id}: {type(crashed).__name__}: {crashed}")
            if record.exists():
                peaks.append((int(record.read_text() or 0), row.id))
            refused += bool(row.refused)
            shutil.rmtree(case, ignore_errors=True)
    finally:
        running.stop()
    covered = sorted({namespace_of(row) for row in rows} & namespaces())
    all_namespaces = sorted(namespaces())
    peak_kib, peak_row = max(peaks, default=(0, "-"))
    return SuiteResult(
        name=NAME,
        title=TITLE,
        description=(__doc__ or "").strip().split("\n\n", 1)[0].replace("\n", " "),
        command=h.command(NAME),
        figures=[
            Figure("cases run", len(rows), f">= {MIN_CASES}", len(rows) >= MIN_CASES),
            count_figure(
                "cases failing (exit code, one error line, traceback, leak, change)", len(failures), 0
            ),
            Figure("cases in the table", len(test_hostile.ROWS)),
            Figure(
                "namespaces and runbooks covered",
                f"{len(covered)} of {len(all_namespaces)}",
                "every namespace and runbook",
                covered == all_namespaces,
            ),
            Figure("refused cases checked for no local or remote change", refused),
            Figure(
                "peak RSS of one brickbook process, MiB",
                f"{peak_kib / 1024:.0f} ({peak_row})",
                f"<= {RSS_BOUND_MIB}",
                0 < peak_kib <= RSS_BOUND_MIB * 1024,
            ),
        ],
        notes=[f"namespaces: {', '.join(covered)}", *(f"failed: {f}" for f in failures[:20])],
    )


def _brickbook() -> Path:
    from reliability.harness import BIN

    return BIN / "brickbook"


def _settings(admin_token: str) -> Any:
    """The emulator settings of the test suite's session emulator (the rows expect its principals)."""
    from brickbook.emulator.settings import EmulatorSettings

    conftest = importlib.import_module("tests.conftest")
    clock = importlib.import_module("tests.fakes").FakeClock()

    return EmulatorSettings(
        host="127.0.0.1",
        port=0,
        admin_token=admin_token,
        admin_user="admin@example.com",
        users={"alice@example.com": conftest.USER_TOKEN},
        oauth_clients={conftest.CLIENT_ID: conftest.CLIENT_SECRET},
        token_ttl_seconds=3600,
        clock=clock,
    )
