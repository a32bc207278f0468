"""Large test files for benchmarks and the large-transfer test: written and hashed one MiB at a time."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

__all__ = ["sha256", "write_file"]

CHUNK = 1024 * 1024


def write_file(path: Path, megabytes: int) -> str:
    """Write reproducible pseudo-random data one MB at a time (never all in memory); return its SHA-256."""
    digest = hashlib.sha256()
    chunks = random.Random(11)  # noqa: S311 - test data, not cryptography
    with path.open("wb") as handle:
        for _ in range(megabytes):
            chunk = chunks.randbytes(CHUNK)
            digest.update(chunk)
            handle.write(chunk)
    return digest.hexdigest()


def sha256(path: Path) -> str:
    """Hash a file one MB at a time."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
