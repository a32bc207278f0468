"""brickbook: runbooks for Databricks workspace operations.

Importing the package is cheap on purpose: nothing here pulls in httpx, structlog or the emulator.
"""

from __future__ import annotations

from importlib import metadata

try:
    __version__ = metadata.version("brickbook")
except metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
