"""Rate-limit presets: the service's published per-endpoint limits, as ``(pattern, requests/s)`` pairs.

Databricks "Resource limits", API rate limits (per endpoint and per workspace): DBFS 30 requests/s,
workspace import 30, export 60, jobs runs/get 100, run-now 20, jobs create 20, runs/submit 35, secrets
1,100 a minute, permissions reads 100 and writes 30, token management 40. Each pattern is one endpoint
with its own bucket (``settings.RateLimitRule``, a burst of one second's worth); endpoints without a
published figure are not limited. Plain data, so that ``settings`` can offer the names as choices.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["RATE_LIMIT_PRESETS", "REALISTIC_LIMITS"]

_DBFS_ENDPOINTS = (
    "add-block",
    "close",
    "create",
    "delete",
    "get-status",
    "list",
    "mkdirs",
    "move",
    "put",
    "read",
)

REALISTIC_LIMITS: tuple[tuple[str, float], ...] = (
    *((f"* /api/2.0/dbfs/{name}", 30.0) for name in _DBFS_ENDPOINTS),
    ("POST /api/2.0/workspace/import", 30.0),
    ("GET /api/2.0/workspace/export", 60.0),
    ("GET /api/2.*/jobs/runs/get", 100.0),
    ("POST /api/2.*/jobs/run-now", 20.0),
    ("POST /api/2.*/jobs/create", 20.0),
    ("POST /api/2.*/jobs/runs/submit", 35.0),
    ("* /api/2.0/secrets/*", 1100 / 60),  # 1,100 a minute across the secrets API
    ("GET /api/2.0/permissions/*", 100.0),
    ("PUT /api/2.0/permissions/*", 30.0),
    ("PATCH /api/2.0/permissions/*", 30.0),
    ("* /api/2.0/token-management/*", 40.0),
)

RATE_LIMIT_PRESETS: Mapping[str, tuple[tuple[str, float], ...]] = {"realistic": REALISTIC_LIMITS}
