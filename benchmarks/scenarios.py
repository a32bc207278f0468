"""The scenarios of ``invoke bench``: each runs brickbook and the official SDK against one emulator.

A scenario starts its own emulator process (so that its latency and its journal are its own), then runs
the contenders in turn, A B A B ..., for ``repeat`` rounds, so that a machine that drifts slows both
alike. Each returns a ``Result``: the contenders' samples, the request counts from the emulator's
journal, and the scenario's bound (what limits it, and the figure the goal is judged against).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.datafiles import sha256, write_file
from benchmarks.harness import BIN, TOKEN, Emulator, Sample, Side, child_env, median, run_timed, serving

__all__ = ["SIZES", "Result", "Size", "alternate"]

SDK = Path(__file__).resolve().parent / "sdk"
OURS = Path(__file__).resolve().parent / "ours"
MIB = 1024 * 1024


@dataclass(frozen=True)
class Size:
    """How big each scenario is: ``full`` for the document, ``smoke`` to keep the harness working in CI."""

    notebooks: int
    dbfs_mib: int
    runs: int
    run_seconds: int
    capacity_seconds: float
    cold_rounds: int


SIZES = {
    "full": Size(notebooks=500, dbfs_mib=256, runs=20, run_seconds=10, capacity_seconds=5.0, cold_rounds=9),
    "smoke": Size(notebooks=10, dbfs_mib=2, runs=3, run_seconds=1, capacity_seconds=0.5, cold_rounds=1),
}


@dataclass
class Result:
    """One scenario's outcome, ready to print as a table row or a few."""

    name: str
    bound: str
    goal: str
    sides: list[Side]
    notes: list[str] = field(default_factory=list)
    counted: str = "requests"  # what the journal count column counts


def _brickbook(*args: str) -> list[str]:
    return [str(BIN / "brickbook"), *args]


def _sdk(script: str, *args: str) -> list[str]:
    return [sys.executable, str(SDK / script), *args]


def alternate(
    repeat: int, sides: list[tuple[Side, Callable[[int], Sample]]], emulator: Emulator | None = None
) -> None:
    """Run every side once per round, in turn; record the samples and, with an emulator, request counts.

    The order flips every round (A B, B A, A B, ...) so that neither side always runs first, on a
    cold page cache or right after the other side's load.
    """
    for round_number in range(repeat):
        for side, run in sides if round_number % 2 == 0 else sides[::-1]:
            if emulator is not None:
                emulator.clear_journal()
            side.samples.append(run(round_number))
            if emulator is not None:
                side.requests.append(len(emulator.requests()))


def cold_start(size: Size, repeat: int, work: Path) -> Result:
    """A new process lists jobs as JSON: brickbook's console script against an SDK script."""
    with serving() as emu:
        for number in range(3):
            emu.call("POST", "/api/2.2/jobs/create", {"name": f"bench-{number}", "tasks": []})
        env = child_env(emu, work)
        ours, sdk = Side("brickbook jobs.list -o json"), Side("SDK script (jobs.list)")
        # Unmeasured runs first: the first imports compile bytecode and fill the page cache.
        for _ in range(min(size.cold_rounds, 2)):
            run_timed(_brickbook("jobs.list", "-o", "json"), env)
            run_timed(_sdk("jobs_list.py"), env)
        alternate(
            max(repeat, size.cold_rounds),
            [
                (ours, lambda _: run_timed(_brickbook("jobs.list", "-o", "json"), env)),
                (sdk, lambda _: run_timed(_sdk("jobs_list.py"), env)),
            ],
        )
    return Result(
        "cold start, `jobs.list -o json` as a new process",
        "process start + imports",
        "<= 0.15x the SDK script",
        [ours, sdk],
    )


def _notebooks(folder: Path, count: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(count):
        body = f"# Databricks notebook source\nprint('notebook {number}')\n"
        (folder / f"nb_{number:04d}.py").write_text(body)
    return folder


def import_notebooks(size: Size, repeat: int, work: Path, latency_ms: int) -> list[Result]:
    """Import N notebooks into an empty folder, then the unchanged rerun: brickbook against SDK loops."""
    source = _notebooks(work / "notebooks", size.notebooks)
    n = size.notebooks
    # With latency, the service's realistic per-endpoint limits too (the goal scenario): the SDK's
    # threads meet the same 429s as brickbook.
    realistic = ("--rate-limits", "realistic") if latency_ms else ()
    with serving(latency_ms=latency_ms, extra=realistic) as emu:
        env = child_env(emu, work)
        ours, loop, pool = Side("brickbook workspace.import-dir"), Side("SDK loop"), Side("SDK, 8 threads")
        rerun, reupload = Side("brickbook rerun, unchanged"), Side("SDK loop again (re-uploads)")

        def fresh(argv: list[str]) -> Callable[[int], Sample]:
            def run(_: int) -> Sample:
                emu.call("POST", "/_emulator/reset")  # a reset clears rate limits too: set them again
                if realistic:
                    emu.call("POST", "/_emulator/rate-limits", {"preset": "realistic"})
                emu.clear_journal()
                return run_timed(argv, env)

            return run

        dest = "/Shared/bench"
        alternate(
            repeat,
            [
                (
                    ours,
                    fresh(
                        _brickbook("workspace.import-dir", "--src", str(source), "--dest", dest, "-o", "json")
                    ),
                ),
                (loop, fresh(_sdk("import_dir.py", str(source), dest, "1"))),
                (pool, fresh(_sdk("import_dir.py", str(source), dest, "8"))),
            ],
            emu,
        )
        # The rerun: the folder as brickbook left it, nothing changed locally.
        emu.call("POST", "/_emulator/reset")
        if realistic:
            emu.call("POST", "/_emulator/rate-limits", {"preset": "realistic"})
        run_timed(_brickbook("workspace.import-dir", "--src", str(source), "--dest", dest), env)
        run_timed(_sdk("import_dir.py", str(source), dest + "-sdk", "1"), env)
        alternate(
            repeat,
            [
                (
                    rerun,
                    lambda _: run_timed(
                        _brickbook(
                            "workspace.import-dir", "--src", str(source), "--dest", dest, "-o", "json"
                        ),
                        env,
                    ),
                ),
                (reupload, lambda _: run_timed(_sdk("import_dir.py", str(source), dest + "-sdk", "1"), env)),
            ],
            emu,
        )
    bound = (
        f"{latency_ms} ms latency and the realistic per-endpoint limits"
        if latency_ms
        else "no latency; the client's rate limit"
    )
    return [
        Result(
            f"import {n} notebooks ({bound})",
            bound,
            "<= 1.2x the bound (N / the import limit), >= 1.5x faster than 8 SDK threads",
            [ours, loop, pool],
        ),
        Result(f"rerun of the import of {n}, unchanged", bound, "<= 10 requests, <= 1 s", [rerun, reupload]),
    ]


def dbfs_transfers(size: Size, repeat: int, work: Path) -> list[Result]:
    """Upload then download N MiB through DBFS's 1 MiB blocks: ``brickbook fs.cp`` against the SDK."""
    mib = size.dbfs_mib
    source = work / "dbfs-in.bin"
    expected = write_file(source, mib)
    up_ours, up_sdk = Side("brickbook fs.cp"), Side("SDK dbfs.upload")
    down_ours, down_sdk = Side("brickbook fs.cp"), Side("SDK dbfs.download")
    with serving() as emu:
        env = child_env(emu, work)

        def download(argv: list[str], target: Path) -> Sample:
            target.unlink(missing_ok=True)
            sample = run_timed(argv, env)
            if sha256(target) != expected:
                raise RuntimeError(f"{' '.join(argv)} downloaded different bytes")
            return sample

        ours_path, sdk_path = "dbfs:/bench/ours.bin", "/bench/sdk.bin"
        cp = _brickbook("fs.cp", "--overwrite", "-o", "json", "--src")
        alternate(
            repeat,
            [
                (up_ours, lambda _: run_timed([*cp, str(source), "--dest", ours_path], env)),
                (up_sdk, lambda _: run_timed(_sdk("dbfs_copy.py", "up", str(source), sdk_path), env)),
            ],
            emu,
        )
        alternate(
            repeat,
            [
                (
                    down_ours,
                    lambda _: download(
                        [*cp, ours_path, "--dest", str(work / "out-ours.bin")], work / "out-ours.bin"
                    ),
                ),
                (
                    down_sdk,
                    lambda _: download(
                        _sdk("dbfs_copy.py", "down", str(work / "out-sdk.bin"), sdk_path),
                        work / "out-sdk.bin",
                    ),
                ),
            ],
            emu,
        )
    goal = ">= 1.5x the SDK's throughput; peak RSS <= 0.8x the SDK's"
    return [
        Result(f"DBFS upload {mib} MiB", "the client's rate limit, then CPU", goal, [up_ours, up_sdk]),
        Result(f"DBFS download {mib} MiB", "the client's rate limit, then CPU", goal, [down_ours, down_sdk]),
    ]


def concurrent_runs(size: Size, repeat: int, work: Path) -> Result:
    """Trigger N short notebook runs at once and wait for all; count runs/get calls in the journal."""
    n = size.runs
    ours, sdk = (
        Side(f"brickbook, {n} triggers + one wait_for_runs"),
        Side(f"SDK, {n} x run_now_and_wait"),
    )
    delays: dict[str, list[float]] = {ours.name: [], sdk.name: []}
    gets: dict[str, list[int]] = {ours.name: [], sdk.name: []}
    lists: dict[str, list[int]] = {ours.name: [], sdk.name: []}
    with serving() as emu:
        env = child_env(emu, work)
        code = f"# Databricks notebook source\nimport time\ntime.sleep({size.run_seconds})\n"
        emu.call("POST", "/api/2.0/workspace/mkdirs", {"path": "/Shared"})
        emu.call(
            "POST",
            "/api/2.0/workspace/import",
            {
                "path": "/Shared/sleeper",
                "format": "SOURCE",
                "language": "PYTHON",
                "overwrite": True,
                "content": __import__("base64").b64encode(code.encode()).decode(),
            },
        )
        job = emu.call(
            "POST",
            "/api/2.2/jobs/create",
            {
                "name": "bench-sleeper",
                "max_concurrent_runs": n,
                "tasks": [{"task_key": "sleep", "notebook_task": {"notebook_path": "/Shared/sleeper"}}],
            },
        )
        job_id = str(job["job_id"])

        def measured(side: Side, argv: list[str]) -> Callable[[int], Sample]:
            def run(_: int) -> Sample:
                emu.clear_journal()
                sample = run_timed(argv, env)
                entries = emu.requests()
                gets[side.name].append(sum(1 for e in entries if e["path"].endswith("/jobs/runs/get")))
                lists[side.name].append(sum(1 for e in entries if e["path"].endswith("/jobs/runs/list")))
                for run_id, returned in json.loads(sample.stdout).items():
                    ended = emu.call("GET", f"/api/2.2/jobs/runs/get?run_id={run_id}")["end_time"] / 1000
                    delays[side.name].append(returned - ended)
                return sample

            return run

        alternate(
            repeat,
            [
                (ours, measured(ours, [sys.executable, str(OURS / "runs.py"), job_id, str(n)])),
                (sdk, measured(sdk, _sdk("runs.py", job_id, str(n)))),
            ],
        )
    for side in (ours, sdk):
        side.requests = gets[side.name]
    notes = [
        f"{side.name}: median delay from a run's end to its waiter returning "
        f"{median(delays[side.name]):.2f} s; runs/get calls per round {gets[side.name]}, "
        f"runs/list calls {lists[side.name]}"
        for side in (ours, sdk)
    ]
    return Result(
        f"{n} concurrent {size.run_seconds}-second notebook runs waited on",
        f"the runs' own {size.run_seconds} s",
        "fewer runs/get calls than the SDK; median end-to-return delay <= 1.5 s",
        [ours, sdk],
        notes,
        counted="runs/get calls",
    )


def capacity(size: Size, repeat: int, work: Path) -> Result:
    """Keep-alive GETs per second the emulator answers with its process held on one core."""
    load = Side("emulator, keep-alive GET /Me")
    rates: list[float] = []
    with serving(cpu=0) as emu:
        env = child_env(emu, work)
        argv = [
            "taskset",
            "-c",
            "1",
            sys.executable,
            str(OURS / "capacity.py"),
            emu.url,
            TOKEN,
            str(size.capacity_seconds),
        ]
        for _ in range(repeat):
            sample = run_timed(argv, env)
            rates.append(float(sample.stdout))
            load.samples.append(sample)
    return Result(
        "emulator capacity, keep-alive GETs on one core",
        "the emulator's CPU (one core)",
        ">= 1,000 requests/s",
        [load],
        [f"requests/s per round: {', '.join(f'{r:.0f}' for r in rates)}; median {median(rates):.0f}"],
    )
