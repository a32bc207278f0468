"""A 200 MB fs.cp upload and download run in constant memory (tracemalloc sees client and emulator)."""

from __future__ import annotations

import hashlib
import random
import time
import tracemalloc
from pathlib import Path

import pytest

from tests.conftest import Emulator, run_cli

MB = 1024 * 1024
SIZE_MB = 200
MEMORY_BUDGET = 64 * MB


def write_file(path: Path, size_mb: int) -> str:
    """Write ``size_mb`` MB of pseudo-random bytes one MB at a time; return their SHA-256."""
    digest = hashlib.sha256()
    chunks = random.Random(11)
    with path.open("wb") as sink:
        for _ in range(size_mb):
            chunk = chunks.randbytes(MB)
            digest.update(chunk)
            sink.write(chunk)
    return digest.hexdigest()


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(MB):
            digest.update(chunk)
    return digest.hexdigest()


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
    assert file_hash(target) == expected
    print(f"200 MB round trip: {time.monotonic() - started:.1f} s, peak +{(peak - baseline) / MB:.1f} MB")
