"""A 200 MB fs.cp upload and download run in constant memory (tracemalloc sees client and emulator)."""

from __future__ import annotations

import gc
import time
import tracemalloc
from pathlib import Path

import pytest

from benchmarks.datafiles import sha256, write_file
from tests.conftest import Emulator, run_cli

MB = 1024 * 1024
SIZE_MB = 200
MEMORY_BUDGET = 24 * MB  # measured: about 10 MB (two bodies or ranges in flight, the emulator's share)


@pytest.mark.slow
def test_200_mb_round_trip_in_constant_memory(
    workspace_env: Emulator, isolated_env: pytest.MonkeyPatch, tmp_path: Path
):
    """Uploading and downloading 200 MB keeps traced memory under 24 MB above the start."""
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


def test_bodies_and_answers_are_freed_without_the_cyclic_collector(
    workspace_env: Emulator, isolated_env: pytest.MonkeyPatch, tmp_path: Path
):
    """With the cyclic collector off, 32 MB up and down keep traced memory under 20 MB above the start.

    Each block's body and each range's answer must be freed by reference counting as soon as it is
    used: httpx's responses sit in a reference cycle that the client breaks, or all 32 would pile up.
    """
    isolated_env.setenv("BRICKBOOK_RATE_LIMIT", "1000")
    source, target = tmp_path / "mid.bin", tmp_path / "mid-back.bin"
    expected = write_file(source, 32)
    gc.collect()
    gc.disable()
    tracemalloc.start()
    try:
        baseline, _ = tracemalloc.get_traced_memory()
        up = run_cli("fs.cp", str(source), "dbfs:/large/mid.bin")
        down = run_cli("fs.cp", "dbfs:/large/mid.bin", str(target))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        gc.enable()
    assert up.exit_code == 0, up.stderr
    assert down.exit_code == 0, down.stderr
    assert peak - baseline < 20 * MB, f"peak {(peak - baseline) / MB:.1f} MB above start"
    assert sha256(target) == expected
