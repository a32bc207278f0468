"""invoke tasks for brickbook: the same namespace the ``brickbook`` console script serves.

Development tasks (``test``, ``lint``, ``bench``) are added here only: they make sense in the
repository alone.
"""

from __future__ import annotations

from invoke.context import Context
from invoke.tasks import Task

from brickbook.cli import build_namespace


def _test(c: Context, args: str = "") -> None:
    """Run the test suite."""
    c.run(f"python -m pytest {args}", pty=False)


def _bench(c: Context) -> None:
    """Measure request overhead, DBFS transfer throughput and peak memory against the emulator."""
    c.run("python -m benchmarks.transfers", pty=False)


def _lint(c: Context) -> None:
    """Check formatting, lint and types (ruff format, ruff check, mypy --strict)."""
    c.run("ruff format --check .")
    c.run("ruff check .")
    c.run("mypy --strict")


ns = build_namespace()
ns.add_task(Task(_test, name="test", help={"args": "Extra arguments for pytest, e.g. '-k retry -x'."}))
ns.add_task(Task(_lint, name="lint"))
ns.add_task(Task(_bench, name="bench"))
