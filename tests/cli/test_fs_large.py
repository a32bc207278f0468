"""A 200 MB fs.cp upload and download run in constant memory (tracemalloc sees client and emulator)."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import pytest

from benchmarks.datafiles import sha256, write_file
from tests.conftest import Emulator, run_cli

MB = 1024 * 1024
SIZE_MB = 200
MEMORY_BUDGET = 64 * MB


@pytest.mark.slow
def test_200_mb_round_trip_in_constant_memory(
    workspace_env: Emulator, isolated_env: pytest.MonkeyPatch, tmp_path: Path
):
    """Uploading and downloading 200 MB keeps traced memory under 64 MB above the start."""
    isolated_env.setenv("BRICKBOOK_RATE_LIMIT", "1000")  # measure memory, not the client's throttle
    source, target = tmp_path / "big.bin", tmp_path / "back.bin"
    expected = write_file(source, SIZE_MB)
    started = time.monotonic()
    tracemalloc.start()
    try:
        baseline, _ = tracemalloc.get_traced_memory()
        up = run_cli("fs.cp", str(source), "dbfs:/large/big.bin")
        down = run_cli("fs.cp", "dbfs:/large/big.bin", str(target))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert up.exit_code == 0, up.stderr
    assert down.exit_code == 0, down.stderr
    assert peak - baseline < MEMORY_BUDGET, f"peak {(peak - baseline) / MB:.1f} MB above start"
    assert sha256(target) == expected
    print(f"200 MB round trip: {time.monotonic() - started:.1f} s, peak +{(peak - baseline) / MB:.1f} MB")
