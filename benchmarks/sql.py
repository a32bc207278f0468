"""The ``sql`` scenario of ``invoke bench``: a large statement result streamed to CSV, both sides.

brickbook runs ``sql.execute ... --out x.csv -o csv`` as a new process; the SDK side is
``benchmarks/sdk/sql_csv.py`` (execute_statement, poll, the chunk loop, ``csv.writer``). Both read the
same statement from one emulator on a serverless warehouse (no start to wait for), whose results come
in the emulator's default chunks of 100,000 rows; both files are checked to hold every row. Rows per
second come from each side's median wall time; peak RSS is the side's process.
"""

from __future__ import annotations

import sys
from pathlib import Path

from benchmarks.harness import BIN, Side, child_env, median, run_timed, serving
from benchmarks.scenarios import Result, alternate

__all__ = ["ROWS", "sql_to_csv"]

ROWS = {"full": 1_000_000, "smoke": 10_000}
SDK_SCRIPT = Path(__file__).resolve().parent / "sdk" / "sql_csv.py"


def _statement(rows: int) -> str:
    # A whole number of our own goes into the text, not input: nothing to inject.
    label = "concat('customer-', CAST(id AS STRING), '-', repeat('x', 20))"
    return f"SELECT id, {label} AS label FROM range({int(rows)})"  # noqa: S608


def _count(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for _ in handle) - 1  # the header row


def sql_to_csv(rows: int, repeat: int, work: Path) -> Result:
    """Stream a ``rows``-row statement to CSV: brickbook's sql.execute against the SDK's chunk loop."""
    statement = _statement(rows)
    with serving() as emu:
        spec = {"name": "bench", "cluster_size": "2X-Small", "enable_serverless_compute": True}
        warehouse = str(emu.call("POST", "/api/2.0/sql/warehouses", spec)["id"])
        env = child_env(emu, work)
        ours_csv, sdk_csv = work / "ours.csv", work / "sdk.csv"
        ours_argv = [
            str(BIN / "brickbook"),
            "sql.execute",
            statement,
            "--warehouse-id",
            warehouse,
            "--out",
            str(ours_csv),
            "-o",
            "csv",
            "--overwrite",
        ]
        sdk_argv = [sys.executable, str(SDK_SCRIPT), warehouse, str(sdk_csv), statement]
        ours, sdk = (
            Side("brickbook sql.execute --out -o csv"),
            Side("SDK script (execute_statement + chunks)"),
        )
        alternate(
            repeat,
            [(ours, lambda _: run_timed(ours_argv, env)), (sdk, lambda _: run_timed(sdk_argv, env))],
            emu,
        )
        for path in (ours_csv, sdk_csv):
            if _count(path) != rows:
                raise RuntimeError(f"{path.name} holds {_count(path)} rows, not {rows}")
    notes = [
        f"{side.name}: {rows / side.seconds:,.0f} rows/s (median of {len(side.samples)}), "
        f"requests per round {median(side.requests):.0f}"
        for side in (ours, sdk)
        if side.seconds
    ]
    return Result(
        f"{rows:,}-row statement to CSV",
        "the emulator producing the result (DuckDB, JSON chunks of 100,000 rows)",
        ">= 1.0x the SDK's rows/s, bounded RSS",
        [ours, sdk],
        notes,
    )
