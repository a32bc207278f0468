"""What an emulator is started with: principals, persistence, latency, fault and rate-limit rules.

Everything is plain data (frozen dataclasses) so the command line, the control API and tests build the
same values. Rules validate themselves; a bad rule raises ``ValueError`` with a one-line reason.

``OPTIONS`` is the one definition of the emulator's command line: ``python -m brickbook.emulator`` (and
``brickbook-emulator``) build their argparse parser from it, and ``brickbook emulator.serve`` its invoke
options, so every entry point offers the same options, checked by the same code.
"""

from __future__ import annotations

import fnmatch
import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from brickbook.emulator.ratepresets import RATE_LIMIT_PRESETS

__all__ = [
    "OPTIONS",
    "RATE_LIMIT_PRESETS",
    "TOKEN_ENV",
    "EmulatorSettings",
    "FaultRule",
    "Option",
    "RateLimitRule",
    "RequestPattern",
    "preset_rules",
    "rate_limits_from_json",
]

TOKEN_ENV = "BRICKBOOK_EMULATOR_TOKEN"

_PATTERN_HELP = "a pattern is 'METHOD /path/glob', e.g. 'GET /api/2.0/*' or '* /oidc/v1/token'"


@dataclass(frozen=True)
class RequestPattern:
    """``METHOD /path/glob``: method or ``*``, then an fnmatch glob (``*`` crosses ``/``); no query string."""

    method: str
    path_glob: str

    @classmethod
    def parse(cls, text: str) -> RequestPattern:
        method, _, glob = text.strip().partition(" ")
        glob = glob.strip()
        if not method or not glob.startswith(("/", "*")):
            raise ValueError(f"bad pattern {text!r}: {_PATTERN_HELP}")
        return cls(method.upper(), glob)

    def matches(self, method: str, path: str) -> bool:
        return self.method in ("*", method.upper()) and fnmatch.fnmatchcase(path, self.path_glob)

    def __str__(self) -> str:
        return f"{self.method} {self.path_glob}"


def _expect(data: Mapping[str, Any], key: str, kinds: type | tuple[type, ...], default: Any) -> Any:
    value = data.get(key, default)
    # bool is an int in Python; a JSON true is never a valid count or status.
    if value is not default and (not isinstance(value, kinds) or (isinstance(value, bool) and kinds is int)):
        raise ValueError(f"{key!r} has the wrong type: {value!r}")
    return value


def _check_keys(data: Mapping[str, Any], allowed: set[str], what: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValueError(f"unknown {what} field(s): {', '.join(unknown)}")
    if "pattern" not in data:
        raise ValueError(f"a {what} needs a 'pattern': {_PATTERN_HELP}")


@dataclass(frozen=True)
class FaultRule:
    """One injected fault, modelled on the Databricks CLI testserver's ``/__testserver/fault``.

    The first ``offset`` matching requests pass untouched; then the rule fires ``times`` times
    (0 = until deleted). A fired rule waits ``latency_ms``, then answers ``status`` with ``body``, or
    drops the connection (``reset_connection``), or, with neither, lets the request through late.
    ``after_handler`` runs the real handler first (its state change is kept) and then replaces its
    response: the lost-response case. ``probability`` below 1 makes a rule fire on that share of the
    matching requests past its offset, chosen at random (the soak's "15% of requests answer 503").
    """

    pattern: str
    status: int | None = None
    body: dict[str, Any] | str | None = None
    times: int = 1
    offset: int = 0
    after_handler: bool = False
    latency_ms: int = 0
    reset_connection: bool = False
    retry_after: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    probability: float = 1.0

    def __post_init__(self) -> None:
        RequestPattern.parse(self.pattern)
        if isinstance(self.probability, bool) or not 0 < self.probability <= 1:
            raise ValueError(f"probability must be above 0 and at most 1, not {self.probability!r}")
        if self.status is not None and not 100 <= self.status <= 599:
            raise ValueError(f"status {self.status} is not an HTTP status")
        if self.times < 0 or self.offset < 0 or self.latency_ms < 0:
            raise ValueError("times, offset and latency_ms must not be negative")

    @property
    def request_pattern(self) -> RequestPattern:
        return RequestPattern.parse(self.pattern)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FaultRule:
        """Build a rule from its JSON form (control API, ``--faults``); ``retry_after`` may be an int."""
        if not isinstance(data, Mapping):
            raise ValueError("a fault rule is a JSON object")
        _check_keys(data, set(cls.__dataclass_fields__), "fault rule")
        retry_after = _expect(data, "retry_after", (str, int), None)
        headers = _expect(data, "headers", dict, {})
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items()):
            raise ValueError("'headers' maps names to string values")
        return cls(
            pattern=_expect(data, "pattern", str, ""),
            status=_expect(data, "status", int, None),
            body=_expect(data, "body", (dict, str), None),
            times=_expect(data, "times", int, 1),
            offset=_expect(data, "offset", int, 0),
            after_handler=_expect(data, "after_handler", bool, False),
            latency_ms=_expect(data, "latency_ms", int, 0),
            reset_connection=_expect(data, "reset_connection", bool, False),
            retry_after=None if retry_after is None else str(retry_after),
            headers=dict(headers),
            probability=float(_expect(data, "probability", (int, float), 1.0)),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "pattern": self.pattern,
            "status": self.status,
            "body": self.body,
            "times": self.times,
            "offset": self.offset,
            "after_handler": self.after_handler,
            "latency_ms": self.latency_ms,
            "reset_connection": self.reset_connection,
            "retry_after": self.retry_after,
            "headers": dict(self.headers),
            "probability": self.probability,
        }


@dataclass(frozen=True)
class RateLimitRule:
    """A token bucket for requests matching ``pattern``: ``requests_per_second``, ``burst`` at once."""

    pattern: str
    requests_per_second: float
    burst: int | None = None  # None: one second's worth, at least 1

    def __post_init__(self) -> None:
        RequestPattern.parse(self.pattern)
        if not (self.requests_per_second > 0 and math.isfinite(self.requests_per_second)):
            raise ValueError("requests_per_second must be a positive, finite number")
        if self.burst is not None and self.burst < 1:
            raise ValueError("burst must be at least 1")

    @property
    def request_pattern(self) -> RequestPattern:
        return RequestPattern.parse(self.pattern)

    @property
    def capacity(self) -> int:
        return self.burst if self.burst is not None else max(1, math.ceil(self.requests_per_second))

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RateLimitRule:
        if not isinstance(data, Mapping):
            raise ValueError("a rate-limit rule is a JSON object")
        _check_keys(data, {"pattern", "requests_per_second", "burst"}, "rate-limit rule")
        rps = _expect(data, "requests_per_second", (int, float), None)
        if rps is None or isinstance(rps, bool):
            raise ValueError("a rate-limit rule needs a numeric 'requests_per_second'")
        return cls(
            pattern=_expect(data, "pattern", str, ""),
            requests_per_second=float(rps),
            burst=_expect(data, "burst", int, None),
        )

    @classmethod
    def parse_cli(cls, text: str) -> RateLimitRule:
        """Parse ``--rate-limit 'METHOD /path/glob*=RPS'``."""
        pattern, sep, rps = text.rpartition("=")
        try:
            if not sep:
                raise ValueError("missing '=RPS'")
            return cls(pattern=pattern, requests_per_second=float(rps))
        except ValueError as exc:
            raise ValueError(f"bad rate limit {text!r} (want 'METHOD /path/glob=RPS'): {exc}") from exc

    def to_json(self) -> dict[str, Any]:
        return {
            "pattern": self.pattern,
            "requests_per_second": self.requests_per_second,
            "burst": self.capacity,
        }


def preset_rules(name: str) -> tuple[RateLimitRule, ...]:
    """Return the rules of a rate-limit preset (``ratepresets``): one bucket per endpoint."""
    if name not in RATE_LIMIT_PRESETS:
        raise ValueError(f"unknown rate-limit preset {name!r}: use one of {', '.join(RATE_LIMIT_PRESETS)}")
    return tuple(RateLimitRule(pattern, rps) for pattern, rps in RATE_LIMIT_PRESETS[name])


def rate_limits_from_json(data: Mapping[str, Any]) -> tuple[RateLimitRule, ...]:
    """Read a control-API rate-limit body: one rule, or ``{"preset": NAME}`` for a preset's rules."""
    if isinstance(data, Mapping) and "preset" in data:
        unknown = sorted(set(data) - {"preset"})
        if unknown:
            raise ValueError(f"a preset takes no other field: {', '.join(unknown)}")
        return preset_rules(str(data["preset"]))
    return (RateLimitRule.from_json(data),)


@dataclass(frozen=True, kw_only=True)
class EmulatorSettings:
    """How one emulator runs. Tokens and secrets stay out of ``repr``.

    ``users`` maps a non-admin user name to its token; ``oauth_clients`` maps a service principal's
    client id to its secret. ``clock`` (epoch seconds) drives token expiry, rate limits and every
    lifecycle, so tests move time instead of sleeping.
    """

    admin_token: str = field(repr=False)
    host: str = "127.0.0.1"
    port: int = 8765
    admin_user: str = "admin@example.com"
    users: Mapping[str, str] = field(default_factory=dict, repr=False)
    oauth_clients: Mapping[str, str] = field(default_factory=dict, repr=False)
    token_ttl_seconds: int = 3600
    data_dir: Path | str | None = None
    latency_ms: int = 0
    faults: tuple[FaultRule, ...] = ()
    rate_limits: tuple[RateLimitRule, ...] = ()
    clock: Callable[[], float] = field(default=time.time, repr=False, compare=False)
    workspace_id: str = "1234567890123456"
    allow_remote_repos: bool = False  # record non-local Git URLs without content instead of refusing them
    cluster_start_seconds: float = 1.0  # each cluster lifecycle step: start, restart, resize, terminate
    warehouse_start_seconds: float = 1.0  # each SQL warehouse lifecycle step: start, stop
    dbfs_delete_batch: int = 10_000  # files one DBFS recursive delete removes before a 503 PARTIAL_DELETE
    statement_chunk_rows: int = 100_000  # rows per result chunk of a SQL statement
    statement_hold_seconds: float = 0.0  # SQL statements show RUNNING this long (emulator clock) at first

    def __post_init__(self) -> None:
        if not self.admin_token:
            raise ValueError("the emulator needs an admin token")
        names = [self.admin_user, *self.users, *self.oauth_clients]
        if len(set(names)) != len(names):
            raise ValueError("principal names must be unique across the admin, users and OAuth clients")
        tokens = [self.admin_token, *self.users.values()]
        if len(set(tokens)) != len(tokens) or not all(tokens):
            raise ValueError("every principal needs its own non-empty token")
        if not self.host:
            raise ValueError("host must not be empty")
        for name, limits in _LIMITS.items():
            _check_range(name, getattr(self, name), *limits)


# Inclusive bounds of the numeric settings: every input is bounded (a TTL of 10**30 seconds would
# overflow SQLite, a latency of a year would hang every client).
_LIMITS: dict[str, tuple[float, float]] = {
    "port": (0, 65535),
    "token_ttl_seconds": (1, 10 * 365 * 86400),
    "latency_ms": (0, 600_000),
    "dbfs_delete_batch": (1, 1_000_000_000),
    "cluster_start_seconds": (0, 86400),
    "warehouse_start_seconds": (0, 86400),
    "statement_chunk_rows": (1, 1_000_000),
    "statement_hold_seconds": (0, 86400),
}


def _check_range(name: str, value: float, low: float, high: float) -> None:
    if isinstance(value, bool) or not (math.isfinite(value) and low <= value <= high):
        raise ValueError(f"{name} must be from {_number(low)} to {_number(high)}, not {value!r}")


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) else str(value)


@dataclass(frozen=True)
class Option:
    """One command-line option of the emulator, the single definition both entry points derive from.

    ``name`` is the flag without its dashes and the settings field with dashes as underscores
    (``latency-ms`` -> ``--latency-ms``, ``latency_ms``); ``kind`` says how one occurrence converts
    (``flag`` takes no value); ``repeatable`` options may be given many times; ``env`` names an
    environment variable that may stand in for the option (used to pass the token to a child process
    without putting it on its command line).
    """

    name: str
    help: str
    kind: Literal["text", "int", "float", "flag"] = "text"
    default: str | int | float | bool | None = None
    metavar: str | None = None
    repeatable: bool = False
    env: str | None = None
    choices: tuple[str, ...] = ()  # for text options: the only values accepted

    @property
    def flag(self) -> str:
        return f"--{self.name}"

    @property
    def dest(self) -> str:
        return self.name.replace("-", "_")

    def describe(self) -> str:
        """Return the help line, with the default when there is one worth showing."""
        shown = self.default not in (None, False)
        return f"{self.help} (default: {self.default})" if shown else self.help

    def convert(self, text: str) -> str | int | float:
        """Return the value of one occurrence, or raise ValueError saying what the option takes."""
        shown = _shorten(text)
        if self.kind == "text":
            if not text:
                raise ValueError(f"{self.flag} must not be empty")
            if self.choices and text not in self.choices:
                raise ValueError(f"{self.flag} must be one of {', '.join(self.choices)}, not {shown}")
            return text
        low, high = _LIMITS[self.dest]
        if self.kind == "int":
            what = f"a whole number from {_number(low)} to {_number(high)}"
            if not _INTEGER.fullmatch(text) or not low <= int(text) <= high:
                raise ValueError(f"{self.flag} must be {what}, not {shown}")
            return int(text)
        what = f"a number from {_number(low)} to {_number(high)}"
        if not _DECIMAL.fullmatch(text) or not low <= float(text) <= high:
            raise ValueError(f"{self.flag} must be {what}, not {shown}")
        return float(text)


# ASCII digits only: int() and float() would also take '٣', '1_000', 'nan' and 'inf'.
_INTEGER = re.compile(r"[+-]?[0-9]{1,20}")
_DECIMAL = re.compile(r"[+-]?([0-9]{1,20}(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]{1,3})?")


def _shorten(text: str, limit: int = 40) -> str:
    shown = repr(text)
    return shown if len(shown) <= limit else shown[: limit - 4] + "...'"


OPTIONS: tuple[Option, ...] = (
    Option("host", "address to bind (loopback only is wise)", default="127.0.0.1", metavar="ADDRESS"),
    Option("port", "port to listen on; 0 picks a free one", kind="int", default=8765, metavar="PORT"),
    Option(
        "token",
        f"the admin token (better: set {TOKEN_ENV}, which stays out of shell history)",
        metavar="TOKEN",
        env=TOKEN_ENV,
    ),
    Option("admin-user", "the admin's user name", default="admin@example.com", metavar="NAME"),
    Option("user", "a non-admin user (repeatable)", metavar="NAME=TOKEN", repeatable=True),
    Option(
        "oauth-client", "an OAuth M2M service principal (repeatable)", metavar="ID:SECRET", repeatable=True
    ),
    Option(
        "token-ttl-seconds", "lifetime of issued OAuth tokens", kind="int", default=3600, metavar="SECONDS"
    ),
    Option(
        "data-dir", "keep state in DIR/emulator.sqlite3 across restarts (default: in memory)", metavar="DIR"
    ),
    Option("latency-ms", "latency added to every request", kind="int", default=0, metavar="MS"),
    Option("faults", "fault rules: a JSON file, or an inline JSON object or list", metavar="FILE|JSON"),
    Option(
        "rate-limit",
        "a per-route rate limit, e.g. 'POST /api/2.2/jobs/*=20' (repeatable)",
        metavar="'METHOD /glob=RPS'",
        repeatable=True,
    ),
    Option(
        "rate-limits",
        "a rate-limit preset beside the --rate-limit rules: 'realistic', the service's published "
        "per-endpoint limits (DBFS and import 30/s, export 60/s, runs/get 100/s, ...)",
        metavar="PRESET",
        choices=tuple(RATE_LIMIT_PRESETS),
    ),
    Option(
        "allow-remote-repos",
        "record repos with a non-local Git URL (no network: branch and head only, no files)",
        kind="flag",
        default=False,
    ),
    Option(
        "dbfs-delete-batch",
        "files a recursive DBFS delete removes per call before answering 503 PARTIAL_DELETE",
        kind="int",
        default=10_000,
        metavar="N",
    ),
    Option(
        "cluster-start-seconds",
        "how long a cluster takes to start, restart, resize or terminate",
        kind="float",
        default=1.0,
        metavar="S",
    ),
    Option(
        "warehouse-start-seconds",
        "how long a SQL warehouse takes to start or stop",
        kind="float",
        default=1.0,
        metavar="S",
    ),
    Option(
        "statement-chunk-rows",
        "rows per chunk of a SQL statement's result",
        kind="int",
        default=100_000,
        metavar="N",
    ),
    Option(
        "statement-hold-seconds",
        "SQL statements report RUNNING this long (emulator clock) before their outcome shows",
        kind="float",
        default=0.0,
        metavar="S",
    ),
)
