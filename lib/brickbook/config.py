"""The resolved settings for one invocation, and how they are resolved (Databricks "unified auth").

Sources, highest first: explicit arguments, the environment (``DATABRICKS_*``), then one profile of the
INI config file (``~/.databrickscfg`` or ``DATABRICKS_CONFIG_FILE``). The rules follow the official SDK:
the file is skipped when no profile is named and a host or a credential is already set; file values only
fill what is still unset; a profile does not inherit from ``[DEFAULT]``. Two deliberate differences: a
named profile with no config file is an error (the SDK ignores it silently), and only ``pat`` and
``oauth-m2m`` are supported. Every failure is one ``ConfigError`` line that never contains a secret.

This module stays cheap to import: no httpx, structlog or invoke.
"""

from __future__ import annotations

import configparser
import ipaddress
import math
import os
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from brickbook.errors import ConfigError

__all__ = ["AUTH_TYPES", "Config", "RetrySettings", "normalize_host", "resolve_config", "secrets_of"]

AuthType = Literal["pat", "oauth-m2m"]
AUTH_TYPES: tuple[AuthType, ...] = ("pat", "oauth-m2m")

DEFAULT_CONFIG_FILE = "~/.databrickscfg"
_SETTINGS_SECTION = "__settings__"
# configparser merges its default section into every other one; the SDK does not, so no section is default.
_NO_DEFAULT_SECTION = "brickbook: no default section"
# Config attributes read from the environment and the file, with their environment variables.
_ENV_VARS = {
    "host": "DATABRICKS_HOST",
    "token": "DATABRICKS_TOKEN",
    "client_id": "DATABRICKS_CLIENT_ID",
    "client_secret": "DATABRICKS_CLIENT_SECRET",
    "auth_type": "DATABRICKS_AUTH_TYPE",
}
_CREDENTIALS = ("token", "client_id", "client_secret")


@dataclass(frozen=True)
class RetrySettings:
    """Bound the retries of one API call."""

    max_attempts: int = 8  # attempt cap, the first try included
    timeout_seconds: float = (
        600.0  # total deadline for one call including retries (suits unattended cron runs)
    )
    backoff_base_seconds: float = 1.0
    backoff_cap_seconds: float = 30.0
    retry_after_cap_seconds: float = 120.0


@dataclass(frozen=True)
class Config:
    """Hold the settings of one invocation; only the chosen auth method's credentials are kept."""

    host: str  # normalised: scheme://host[:port], no trailing slash, no path
    auth_type: AuthType
    token: str | None = field(default=None, repr=False)
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    profile: str | None = None  # the profile actually used, None if the file was not read
    config_file: str | None = None  # the file actually read, None if not read
    retry: RetrySettings = RetrySettings()
    rate_limit_per_second: float = 15.0  # client-side token bucket (the Go SDK uses 15 req/s)
    max_concurrency: int = 8
    http_timeout_seconds: float = 60.0
    poll_max_seconds: float = 30.0  # waits poll from about 1 s, backing off to this


def secrets_of(config: Config) -> list[str]:
    """Return the secret strings to register for redaction (token, client secret), non-empty only."""
    return [value for value in (config.token, config.client_secret) if value]


def resolve_config(
    *,
    profile: str | None = None,
    host: str | None = None,
    token: str | None = None,
    client_id: str | None = None,
    client_secret: str | None = None,
    settings: Mapping[str, object] | None = None,
    env: Mapping[str, str] | None = None,
    home: str | None = None,
) -> Config:
    """Resolve and validate the configuration for one invocation, before any request is made.

    ``settings`` is the ``brickbook`` section of the invoke config; ``BRICKBOOK_*`` variables override it.
    ``env`` defaults to ``os.environ``; ``home`` replaces ``~`` in the config file path (for tests).
    Empty strings count as unset, as in the SDK.
    """
    env = os.environ if env is None else env
    arguments = {"host": host, "token": token, "client_id": client_id, "client_secret": client_secret}
    values = {name: value.strip() for name, value in arguments.items() if value and value.strip()}
    for name, var in _ENV_VARS.items():
        if name not in values and (value := env.get(var, "").strip()):
            values[name] = value

    requested = (profile or "").strip() or env.get("DATABRICKS_CONFIG_PROFILE", "").strip() or None
    origin = "--profile" if (profile or "").strip() else "DATABRICKS_CONFIG_PROFILE"
    file_shown = env.get("DATABRICKS_CONFIG_FILE", "").strip() or DEFAULT_CONFIG_FILE
    used_profile = used_file = None
    # The SDK rule: without a named profile, a host or credential already set means the file is not read,
    # so a profile's token is never paired with a host from elsewhere.
    if requested or not any(name in values for name in ("host", *_CREDENTIALS)):
        used_file, used_profile, from_file = _read_profile(file_shown, requested, origin, home)
        for name, value in from_file.items():
            values.setdefault(name, value)

    if "host" not in values:
        raise ConfigError(
            "no Databricks host configured: set DATABRICKS_HOST, "
            f"or add host to a profile in {file_shown} (or pass --profile)"
        )
    auth_type, credentials = _choose_auth(values, file_shown)
    defaults = Config(host="", auth_type="pat")
    return Config(
        host=normalize_host(values["host"]),
        auth_type=auth_type,
        **credentials,
        profile=used_profile,
        config_file=used_file,
        retry=RetrySettings(
            max_attempts=_whole("max_attempts", settings, env, defaults.retry.max_attempts),
            timeout_seconds=_positive("retry_timeout", settings, env, defaults.retry.timeout_seconds),
        ),
        rate_limit_per_second=_positive(
            "rate_limit", settings, env, defaults.rate_limit_per_second, "a number of requests per second"
        ),
        max_concurrency=_whole("max_concurrency", settings, env, defaults.max_concurrency),
        http_timeout_seconds=_positive("http_timeout", settings, env, defaults.http_timeout_seconds),
        poll_max_seconds=_positive("poll_max", settings, env, defaults.poll_max_seconds),
    )


def normalize_host(raw: str) -> str:
    """Return ``scheme://host[:port]`` for a workspace host, adding ``https://`` when no scheme is given.

    http is accepted only for loopback hosts (127.0.0.0/8, ``localhost``, ``[::1]``), e.g. the emulator.
    """
    text = raw.strip()
    if "://" not in text:
        text = f"https://{text}"
    parts = urllib.parse.urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ConfigError(f"unsupported scheme in host {raw.strip()!r}: use https://")
    if "@" in parts.netloc:
        # Do not echo the value: user info may hold a password.
        raise ConfigError("host must not contain user info (user@ or user:password@)")
    try:
        port = parts.port
    except ValueError:
        raise ConfigError(f"invalid port in host {raw.strip()!r}") from None
    hostname = parts.hostname or ""
    if not hostname or any(char.isspace() for char in hostname):
        raise ConfigError(f"host {raw.strip()!r} has no valid hostname")
    if parts.path.strip("/") or parts.query or parts.fragment:
        raise ConfigError(
            f"host {raw.strip()!r} must be only scheme://hostname[:port], without a path or query"
        )
    if scheme == "http" and not _is_loopback(hostname):
        raise ConfigError(f"host must use https: {raw.strip()!r} (http is allowed only for loopback hosts)")
    shown = f"[{hostname}]" if ":" in hostname else hostname
    return f"{scheme}://{shown}" if port is None else f"{scheme}://{shown}:{port}"


def _is_loopback(hostname: str) -> bool:
    if hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


def _expand(path: str, home: str | None) -> Path:
    if home is not None and (path == "~" or path.startswith("~/")):
        return Path(home, path[2:])
    return Path(path).expanduser()


def _read_profile(
    file_shown: str, requested: str | None, origin: str, home: str | None
) -> tuple[str | None, str | None, dict[str, str]]:
    """Read the chosen profile's values; return (file read, profile used, its non-empty values)."""
    path = _expand(file_shown, home)
    if not path.exists():
        if requested:
            raise ConfigError(
                f"profile {requested!r} requested ({origin}) but config file {file_shown} does not exist: "
                "create it or set DATABRICKS_CONFIG_FILE"
            )
        return None, None, {}
    parser = configparser.ConfigParser(default_section=_NO_DEFAULT_SECTION, interpolation=None)
    try:
        with path.open(encoding="utf-8") as handle:
            parser.read_file(handle, source=str(path))
    except (OSError, UnicodeDecodeError, configparser.Error) as exc:
        # First line only, and no chained cause: the parser's later lines quote file content (secrets).
        complaint = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise ConfigError(f"cannot read config file {file_shown}: {complaint}") from None

    profiles = {name: dict(parser.items(name)) for name in parser.sections() if name != _SETTINGS_SECTION}
    name = requested
    if name is None:
        name = parser.get(_SETTINGS_SECTION, "default_profile", fallback="").strip() or None
        origin = f"[{_SETTINGS_SECTION}] default_profile"
    if name is None:
        if not profiles.get("DEFAULT"):
            return str(path), None, {}
        name = "DEFAULT"
    if name == _SETTINGS_SECTION:
        raise ConfigError(f"{_SETTINGS_SECTION} is a reserved section, not a profile: choose another profile")
    if name not in profiles:
        available = ", ".join(profiles) or "none"
        raise ConfigError(
            f"profile {name!r} ({origin}) not found in {file_shown}; profiles there: {available}"
        )
    found = {key: value.strip() for key, value in profiles[name].items() if key in _ENV_VARS}
    return str(path), name, {key: value for key, value in found.items() if value}


def _choose_auth(values: Mapping[str, str], file_shown: str) -> tuple[AuthType, dict[str, str]]:
    """Pick the auth method and return its credentials, or say exactly what to set."""
    token, client_id, client_secret = (values.get(name) for name in _CREDENTIALS)
    wanted = values.get("auth_type")
    if wanted is None:
        if token and (client_id or client_secret):
            raise ConfigError(
                "more than one authorization method configured: pat and oauth-m2m; "
                "set DATABRICKS_AUTH_TYPE=pat or oauth-m2m (or remove one)"
            )
        if not (token or client_id or client_secret):
            raise ConfigError(
                "no Databricks credentials configured: set DATABRICKS_TOKEN, or DATABRICKS_CLIENT_ID and "
                f"DATABRICKS_CLIENT_SECRET (or add them to a profile in {file_shown})"
            )
        wanted = "pat" if token else "oauth-m2m"
    if wanted == "pat":
        if not token:
            raise ConfigError("auth_type is pat but no token is configured: set DATABRICKS_TOKEN")
        return "pat", {"token": token}
    if wanted == "oauth-m2m":
        if not (client_id or client_secret):
            raise ConfigError(
                "auth_type is oauth-m2m but no client credentials are configured: "
                "set DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET"
            )
        if not (client_id and client_secret):
            have, lack = ("client_id", "client_secret") if client_id else ("client_secret", "client_id")
            raise ConfigError(
                f"{have} is configured but {lack} is missing: "
                f"set {_ENV_VARS[lack]} (or add {lack} to the profile)"
            )
        return "oauth-m2m", {"client_id": client_id, "client_secret": client_secret}
    raise ConfigError(
        f"unsupported auth_type {wanted!r}: brickbook supports {' and '.join(AUTH_TYPES)}; "
        "set DATABRICKS_AUTH_TYPE to one of them"
    )


def _raw_setting(
    key: str, settings: Mapping[str, object] | None, env: Mapping[str, str]
) -> tuple[object, str]:
    """Return a runtime setting as given and where it came from (``BRICKBOOK_<KEY>`` beats ``settings``)."""
    var = f"BRICKBOOK_{key.upper()}"
    if text := env.get(var, "").strip():
        return text, var
    return (settings.get(key) if settings is not None else None), f"brickbook.{key}"


def _whole(key: str, settings: Mapping[str, object] | None, env: Mapping[str, str], default: int) -> int:
    value, source = _raw_setting(key, settings, env)
    if value is None:
        return default
    number = 0
    if isinstance(value, str):
        try:
            number = int(value.strip())
        except ValueError:
            number = 0
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    if number < 1:
        raise ConfigError(f"{source} must be a whole number >= 1, got {value!r}")
    return number


def _positive(
    key: str,
    settings: Mapping[str, object] | None,
    env: Mapping[str, str],
    default: float,
    form: str = "a number of seconds",
) -> float:
    value, source = _raw_setting(key, settings, env)
    if value is None:
        return default
    number = math.nan
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        try:
            number = float(value)
        except ValueError:
            number = math.nan
    if not (math.isfinite(number) and number > 0):
        raise ConfigError(f"{source} must be {form} > 0, got {value!r}")
    return number
