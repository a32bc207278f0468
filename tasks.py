"""invoke tasks for brickbook: the same namespace the ``brickbook`` console script serves.

Development tasks (``test``, ``lint``, ``bench``, ``reliability``) are added here only: they make sense in the
repository alone.
"""

from __future__ import annotations

from invoke.context import Context
from invoke.tasks import Task

from brickbook.cli import build_namespace


def _test(c: Context, args: str = "") -> None:
    """Run the test suite."""
    c.run(f"python -m pytest {args}", pty=False)


def _bench(c: Context, size: str = "full", repeat: int = 3, latency_ms: int = 50, only: str = "") -> None:
    """Run brickbook and the official SDK side by side on the emulator; regenerate docs/benchmarks.md."""
    scenarios = " ".join(f"--only {name}" for name in only.split(",") if name)
    c.run(
        f"python -m benchmarks.run --size {size} --repeat {repeat} --latency-ms {latency_ms} {scenarios}",
        pty=False,
    )


def _reliability(c: Context, size: str = "full", only: str = "", seed: int = 20261130) -> None:
    """Run the reliability suites against the emulator; a full run regenerates docs/reliability.md."""
    suites = " ".join(f"--only {name}" for name in only.split(",") if name)
    c.run(f"python -m reliability.run --size {size} --seed {seed} {suites}", pty=False)


def _lint(c: Context) -> None:
    """Check formatting, lint and types (ruff format, ruff check, mypy --strict)."""
    c.run("ruff format --check .")
    c.run("ruff check .")
    c.run("mypy --strict")


ns = build_namespace()
ns.add_task(Task(_test, name="test", help={"args": "Extra arguments for pytest, e.g. '-k retry -x'."}))
ns.add_task(Task(_lint, name="lint"))
ns.add_task(
    Task(
        _bench,
        name="bench",
        help={
            "size": "full (500 notebooks, 256 MiB, 20 runs; docs/benchmarks.md) or smoke (CI, < 1 min).",
            "repeat": "Rounds per scenario; the document shows medians.",
            "latency-ms": "Emulator latency for the second import scenario (0 skips it).",
            "only": "Comma-separated: cold,import,import-latency,dbfs,runs,capacity,sql (default: all).",
        },
    )
)
ns.add_task(
    Task(
        _reliability,
        name="reliability",
        help={
            "size": "full (docs/reliability.md) or ci (every suite small; CI, a few minutes).",
            "only": "Comma-separated suite names, e.g. soak,crash (default: all; the leak scan always runs).",
            "seed": "Seed of every random choice (fault schedules, kill moments).",
        },
    )
)
