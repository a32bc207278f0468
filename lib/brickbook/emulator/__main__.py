"""``python -m brickbook.emulator`` / ``brickbook-emulator``: run the local workspace in the foreground.

Prints exactly one line to stdout once it accepts connections (``... listening on http://HOST:PORT``);
SIGTERM or Ctrl-C stop it with exit code 0. Bad options, and a start that fails because of them (an
address in use, a data directory it cannot use), print one line ``error: ...`` to stderr and exit 2.
The options come from ``settings.OPTIONS``, which ``brickbook emulator.serve`` offers too.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sqlite3
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from brickbook.emulator.settings import (
    OPTIONS,
    TOKEN_ENV,
    EmulatorSettings,
    FaultRule,
    Option,
    RateLimitRule,
    preset_rules,
)

__all__ = ["build_parser", "main", "settings_from_args"]

_PROG = "brickbook-emulator"
USAGE_EXIT_CODE = 2
MAX_FAULTS_BYTES = 1024 * 1024  # a --faults file is a handful of rules, never a stream


class UsageProblem(Exception):
    """A bad command line: the message is the one line shown after ``error:``."""


class _Parser(argparse.ArgumentParser):
    """argparse, except that a usage error raises instead of printing the usage block and exiting."""

    def error(self, message: str) -> NoReturn:
        # "argument --port: --port must be ..." -> "--port must be ..."
        message = re.sub(r"^argument (\S+): (\1 )?", r"\1 ", message)
        raise UsageProblem(f"{message}; see {self.prog} --help")


def _converter(option: Option) -> Callable[[str], Any]:
    def convert(text: str) -> Any:
        try:
            return option.convert(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return convert


def build_parser() -> argparse.ArgumentParser:
    """Return the parser for ``settings.OPTIONS``: one argparse option per entry."""
    parser = _Parser(
        prog=_PROG, description="Run the local Databricks workspace emulator.", allow_abbrev=False
    )
    for option in OPTIONS:
        if option.kind == "flag":
            parser.add_argument(option.flag, action="store_true", help=option.describe())
            continue
        parser.add_argument(
            option.flag,
            type=_converter(option),
            action="append" if option.repeatable else "store",
            default=None if option.repeatable else option.default,
            metavar=option.metavar,
            help=option.describe(),
        )
    return parser


def _pairs(values: Sequence[str] | None, separator: str, what: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for value in values or []:
        name, sep, secret = value.partition(separator)
        if not (name and sep and secret):
            # Never echo what follows the separator: it is a token or a secret.
            raise ValueError(f"{what} must look like NAME{separator}VALUE, got {name or '(empty)'!r}...")
        if name in pairs:
            raise ValueError(f"{what} {name!r} is given twice")
        pairs[name] = secret
    return pairs


def _fault_rules(text: str | None) -> tuple[FaultRule, ...]:
    if text is None:
        return ()
    source = text if text.lstrip().startswith(("[", "{")) else _read_faults_file(text)
    try:
        data: Any = json.loads(source)
    except json.JSONDecodeError as exc:
        raise ValueError(f"--faults is not valid JSON: {exc}") from exc
    except RecursionError:
        raise ValueError("--faults is nested too deeply") from None
    rules = data if isinstance(data, list) else [data]
    try:
        return tuple(FaultRule.from_json(rule) for rule in rules)
    except ValueError as exc:
        raise ValueError(f"--faults: {exc}") from exc


def _read_faults_file(name: str) -> str:
    try:
        with Path(name).open("rb") as file:
            data = file.read(MAX_FAULTS_BYTES + 1)
    except OSError as exc:
        raise ValueError(f"--faults {name!r} is neither JSON nor a readable file: {exc.strerror}") from exc
    if len(data) > MAX_FAULTS_BYTES:
        raise ValueError(f"--faults file {name!r} is over {MAX_FAULTS_BYTES} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"--faults file {name!r} is not UTF-8 text") from exc


def settings_from_args(args: argparse.Namespace, token: str | None) -> EmulatorSettings:
    """Turn parsed arguments into settings; raise ValueError with a one-line reason on bad input.

    Every option is checked before the token, so a bad option is reported the same way whether or not
    a token was given.
    """
    users = _pairs(args.user, "=", "--user")
    oauth_clients = _pairs(args.oauth_client, ":", "--oauth-client")
    faults = _fault_rules(args.faults)
    rate_limits = tuple(RateLimitRule.parse_cli(rule) for rule in args.rate_limit or [])
    rate_limits += preset_rules(args.rate_limits) if args.rate_limits else ()
    if not token:
        raise ValueError(f"an admin token is required: set {TOKEN_ENV} or pass --token")
    return EmulatorSettings(
        host=args.host,
        port=args.port,
        admin_token=token,
        admin_user=args.admin_user,
        users=users,
        oauth_clients=oauth_clients,
        token_ttl_seconds=args.token_ttl_seconds,
        data_dir=args.data_dir,
        latency_ms=args.latency_ms,
        faults=faults,
        rate_limits=rate_limits,
        allow_remote_repos=args.allow_remote_repos,
        cluster_start_seconds=args.cluster_start_seconds,
        warehouse_start_seconds=args.warehouse_start_seconds,
        dbfs_delete_batch=args.dbfs_delete_batch,
        statement_chunk_rows=args.statement_chunk_rows,
        statement_hold_seconds=args.statement_hold_seconds,
    )


def _fail(message: str, code: int = USAGE_EXIT_CODE) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def _reason(exc: BaseException) -> str:
    """``cannot listen on HOST:PORT: Address already in use`` rather than ``[Errno 98] ...``."""
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    return str(exc)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        settings = settings_from_args(args, args.token or os.environ.get(TOKEN_ENV))
    except (UsageProblem, ValueError) as exc:
        return _fail(str(exc))
    from brickbook.emulator.server import serve_forever  # starlette and uvicorn load only to serve

    try:
        return serve_forever(settings)
    except (OSError, sqlite3.Error) as exc:
        # An address in use or not ours, a data directory that cannot hold the database: what to
        # change is an option, as for any other usage error.
        return _fail(f"cannot start: {_reason(exc)}; check --host, --port and --data-dir")
    except RuntimeError as exc:
        return _fail(str(exc), code=1)


if __name__ == "__main__":
    sys.exit(main())
