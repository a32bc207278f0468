"""``python -m brickbook.emulator`` / ``brickbook-emulator``: run the local workspace in the foreground.

Prints exactly one line to stdout once it accepts connections (``... listening on http://HOST:PORT``);
SIGTERM or Ctrl-C stop it with exit code 0. Usage errors print one line to stderr and exit 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from brickbook.emulator.settings import EmulatorSettings, FaultRule, RateLimitRule

__all__ = ["build_parser", "main", "settings_from_args"]

TOKEN_ENV = "BRICKBOOK_EMULATOR_TOKEN"
_PROG = "brickbook-emulator"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=_PROG, description="Run the local Databricks workspace emulator.")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port to listen on; 0 picks a free one")
    parser.add_argument(
        "--token", help=f"the admin token (better: set {TOKEN_ENV}, which stays out of history)"
    )
    parser.add_argument("--admin-user", default="admin@example.com", help="the admin's user name")
    parser.add_argument("--user", action="append", default=[], metavar="NAME=TOKEN", help="a non-admin user")
    parser.add_argument(
        "--oauth-client",
        action="append",
        default=[],
        metavar="ID:SECRET",
        help="an OAuth M2M service principal",
    )
    parser.add_argument("--token-ttl-seconds", type=int, default=3600, help="lifetime of issued OAuth tokens")
    parser.add_argument("--data-dir", help="keep state in DIR/emulator.sqlite3 across restarts")
    parser.add_argument("--latency-ms", type=int, default=0, help="latency added to every request")
    parser.add_argument("--faults", metavar="FILE|JSON", help="fault rules: a JSON file or inline JSON list")
    parser.add_argument(
        "--rate-limit",
        action="append",
        default=[],
        metavar="'METHOD /glob=RPS'",
        help="a per-route rate limit",
    )
    parser.add_argument(
        "--allow-remote-repos",
        action="store_true",
        help="record repos with a non-local Git URL (no network: branch and head only, no files)",
    )
    parser.add_argument(
        "--dbfs-delete-batch",
        type=int,
        default=10_000,
        metavar="N",
        help="files a recursive DBFS delete removes per call before answering 503 PARTIAL_DELETE",
    )
    parser.add_argument(
        "--cluster-start-seconds",
        type=float,
        default=1.0,
        metavar="S",
        help="how long a cluster takes to start, restart, resize or terminate (default: 1)",
    )
    return parser


def _pairs(values: Sequence[str], separator: str, what: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for value in values:
        name, sep, secret = value.partition(separator)
        if not (name and sep and secret):
            raise ValueError(f"{what} must look like NAME{separator}VALUE, got {name or '(empty)'!r}...")
        pairs[name] = secret
    return pairs


def _fault_rules(text: str | None) -> tuple[FaultRule, ...]:
    if text is None:
        return ()
    source = text if text.lstrip().startswith(("[", "{")) else Path(text).read_text(encoding="utf-8")
    try:
        data: Any = json.loads(source)
    except json.JSONDecodeError as exc:
        raise ValueError(f"--faults is not valid JSON: {exc}") from exc
    return tuple(FaultRule.from_json(rule) for rule in (data if isinstance(data, list) else [data]))


def settings_from_args(args: argparse.Namespace, token: str) -> EmulatorSettings:
    """Turn parsed arguments into settings; raise ValueError (or OSError for --faults FILE) on bad input."""
    return EmulatorSettings(
        host=args.host,
        port=args.port,
        admin_token=token,
        admin_user=args.admin_user,
        users=_pairs(args.user, "=", "--user"),
        oauth_clients=_pairs(args.oauth_client, ":", "--oauth-client"),
        token_ttl_seconds=args.token_ttl_seconds,
        data_dir=args.data_dir,
        latency_ms=args.latency_ms,
        faults=_fault_rules(args.faults),
        rate_limits=tuple(RateLimitRule.parse_cli(rule) for rule in args.rate_limit),
        allow_remote_repos=args.allow_remote_repos,
        cluster_start_seconds=args.cluster_start_seconds,
        dbfs_delete_batch=args.dbfs_delete_batch,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    token = args.token or os.environ.get(TOKEN_ENV)
    if not token:
        print(f"{_PROG}: an admin token is required: set {TOKEN_ENV} or pass --token", file=sys.stderr)
        return 2
    try:
        settings = settings_from_args(args, token)
    except (ValueError, OSError) as exc:
        print(f"{_PROG}: {exc}", file=sys.stderr)
        return 2
    from brickbook.emulator.server import serve_forever  # starlette and uvicorn load only to serve

    try:
        return serve_forever(settings)
    except (OSError, sqlite3.Error) as exc:
        print(f"{_PROG}: cannot start: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
