"""The resolved settings for one invocation, and how they are resolved (Databricks "unified auth").

Sources, highest first: explicit arguments, the environment (``DATABRICKS_*``), then one profile of the
INI config file (``~/.databrickscfg`` or ``DATABRICKS_CONFIG_FILE``). The rules follow the official SDK:
the file is skipped when no profile is named and a host or a credential is already set; file values only
fill what is still unset; a profile does not inherit from ``[DEFAULT]``. Two deliberate differences: a
named profile with no config file is an error (the SDK ignores it silently), and only ``pat`` and
``oauth-m2m`` are supported. Every failure is one ``ConfigError`` line that never contains a secret.

Credentials are registered for redaction as soon as they are read, and a credential that cannot travel
in an HTTP header (a control character such as CR or LF, or a non-ASCII character) is refused here,
naming the setting and where it came from, never its value. Values that are echoed (hosts, profile
names, paths) are escaped and shortened so that an error stays one readable line. The config file is
read with a size bound.

This module stays cheap to import: no httpx, structlog or invoke.
"""

from __future__ import annotations

import math
import os
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from brickbook.errors import ConfigError
from brickbook.redaction import printable, register_basic_auth, register_secret

__all__ = ["AUTH_TYPES", "Config", "RetrySettings", "normalize_host", "resolve_config", "secrets_of"]

AuthType = Literal["pat", "oauth-m2m"]
AUTH_TYPES: tuple[AuthType, ...] = ("pat", "oauth-m2m")

DEFAULT_CONFIG_FILE = "~/.databrickscfg"
# Config attributes read from the environment and the file, with their environment variables.
_ENV_VARS = {
    "host": "DATABRICKS_HOST",
    "token": "DATABRICKS_TOKEN",
    "client_id": "DATABRICKS_CLIENT_ID",
    "client_secret": "DATABRICKS_CLIENT_SECRET",
    "auth_type": "DATABRICKS_AUTH_TYPE",
    "warehouse_id": "DATABRICKS_WAREHOUSE_ID",  # the SQL warehouse statements go to by default
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
    # None: adaptive per-endpoint-family limits (brickbook.throttle); a number pins one fixed rate for all
    rate_limit_per_second: float | None = None
    max_concurrency: int = 8
    http_timeout_seconds: float = 60.0
    poll_max_seconds: float = 30.0  # waits poll from about 1 s, backing off to this
    # The SQL warehouse statements go to when none is named: DATABRICKS_WAREHOUSE_ID, the profile's
    # warehouse_id, then the invoke config's brickbook.warehouse_id.
    warehouse_id: str | None = None

    def __post_init__(self) -> None:
        # A Config built directly (library use) gets the same header check as a resolved one.
        for name in _CREDENTIALS:
            value = getattr(self, name)
            if value:
                _check_sendable(name, value, f"Config.{name}")


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
    _refuse_settings_credentials(settings)
    arguments = {"host": host, "token": token, "client_id": client_id, "client_secret": client_secret}
    values = {name: value.strip() for name, value in arguments.items() if value and value.strip()}
    sources = {name: f"the {name} argument" for name in values}
    for name, var in _ENV_VARS.items():
        if name not in values and (value := env.get(var, "").strip()):
            values[name] = value
            sources[name] = var

    requested = (profile or "").strip() or env.get("DATABRICKS_CONFIG_PROFILE", "").strip() or None
    origin = "--profile" if (profile or "").strip() else "DATABRICKS_CONFIG_PROFILE"
    file_path = env.get("DATABRICKS_CONFIG_FILE", "").strip() or DEFAULT_CONFIG_FILE
    file_shown = printable(file_path, 120)
    if requested is not None and not requested.isprintable():
        raise ConfigError(
            f"the profile name '{printable(requested)}' from {origin} contains a control character "
            "(a line break?): give the name of a section of the config file"
        )
    used_profile = used_file = None
    # The SDK rule: without a named profile, a host or credential already set means the file is not read,
    # so a profile's token is never paired with a host from elsewhere.
    if requested or not any(name in values for name in ("host", *_CREDENTIALS)):
        from brickbook.profiles import read_profile  # configparser: only when the file is read

        used_file, used_profile, from_file = read_profile(
            file_path, requested=requested, origin=origin, keys=_ENV_VARS, home=home
        )
        for name, value in from_file.items():
            if name not in values:
                values[name] = value
                sources[name] = f"profile [{printable(used_profile or '')}] of {file_shown}"

    _register_credentials(values)
    for name in (*_CREDENTIALS, "host"):
        if name in values:
            _check_sendable(name, values[name], sources[name])
    if "host" not in values:
        raise ConfigError(
            "no Databricks host configured: set DATABRICKS_HOST, "
            f"or add host to a profile in {file_shown} (or pass --profile)"
        )
    auth_type, credentials = _choose_auth(values, file_shown)
    defaults = Config(host="", auth_type="pat")
    return Config(
        host=normalize_host(values["host"], source=sources["host"]),
        auth_type=auth_type,
        **credentials,
        profile=used_profile,
        config_file=used_file,
        retry=RetrySettings(
            max_attempts=_whole("max_attempts", settings, env, defaults.retry.max_attempts),
            timeout_seconds=_positive("retry_timeout", settings, env, defaults.retry.timeout_seconds),
        ),
        rate_limit_per_second=_optional_positive(
            "rate_limit", settings, env, "a number of requests per second"
        ),
        max_concurrency=_whole("max_concurrency", settings, env, defaults.max_concurrency),
        http_timeout_seconds=_positive("http_timeout", settings, env, defaults.http_timeout_seconds),
        poll_max_seconds=_positive("poll_max", settings, env, defaults.poll_max_seconds),
        warehouse_id=values.get("warehouse_id") or _warehouse_setting(settings),
    )


def normalize_host(raw: str, *, source: str = "host") -> str:
    """Return ``scheme://host[:port]`` for a workspace host, adding ``https://`` when no scheme is given.

    http is accepted only for loopback hosts (127.0.0.0/8, ``localhost``, ``[::1]``), e.g. the emulator.
    ``source`` names where the value came from (``DATABRICKS_HOST``, a profile) in error messages.
    """
    text = raw.strip()
    # Checked before parsing: urlsplit silently deletes tabs and line breaks anywhere in a URL.
    _check_sendable("host", text, source)
    if "://" not in text:
        text = f"https://{text}"
    parts = urllib.parse.urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ConfigError(f"unsupported scheme in host '{printable(raw.strip())}' ({source}): use https://")
    if "@" in parts.netloc:
        # Do not echo the value: user info may hold a password.
        raise ConfigError(f"host must not contain user info (user@ or user:password@) ({source})")
    try:
        port = parts.port
    except ValueError:
        raise ConfigError(f"invalid port in host '{printable(parts.netloc)}' ({source})") from None
    hostname = parts.hostname or ""
    if not hostname or any(char.isspace() for char in hostname):
        raise ConfigError(f"host '{printable(raw.strip())}' has no valid hostname ({source})")
    if parts.path.strip("/") or parts.query or parts.fragment:
        # Only scheme and host are echoed: a query string may carry a token.
        raise ConfigError(
            f"host '{printable(f'{scheme}://{parts.netloc}/...')}' ({source}) must be only "
            "scheme://hostname[:port], without a path or query"
        )
    if scheme == "http" and not _is_loopback(hostname):
        raise ConfigError(
            f"host must use https: '{printable(raw.strip())}' ({source}; "
            "http is allowed only for loopback hosts)"
        )
    shown = f"[{hostname}]" if ":" in hostname else hostname
    return f"{scheme}://{shown}" if port is None else f"{scheme}://{shown}:{port}"


def is_loopback_host(host: str) -> bool:
    """Tell whether a normalised host URL (``scheme://host[:port]``) points at this machine."""
    return _is_loopback(urllib.parse.urlsplit(host).hostname or "")


def _unprintable(value: str) -> str | None:
    """Say what in ``value`` cannot go in an HTTP header (or on one line), or None if nothing."""
    for char in value:
        if char in "\r\n":
            return "a line break (CR or LF)"
        if not char.isascii():
            return f"a non-ASCII character (U+{ord(char):04X})"
        if ord(char) < 0x20 or ord(char) == 0x7F:
            return f"a control character (U+{ord(char):04X})"
    return None


def _check_sendable(name: str, value: str, source: str) -> None:
    """Refuse a host or credential that cannot travel in an HTTP request, without echoing it."""
    complaint = _unprintable(value)
    if complaint is None and name == "client_id" and ":" in value:
        complaint = "a colon, which HTTP Basic authentication cannot carry in a client id"
    if complaint is None:
        return
    if name == "host":
        what = "use the ASCII (xn--) form of the host name" if "non-ASCII" in complaint else "set it again"
        raise ConfigError(f"the host from {source} contains {complaint}: {what}")
    raise ConfigError(
        f"the {name} from {source} contains {complaint}, which cannot be sent in an HTTP header: "
        "set it again without it (the value is not shown)"
    )


def _register_credentials(values: Mapping[str, str]) -> None:
    """Register every credential read, used or not, before anything could print it."""
    register_secret(values.get("token"))
    if secret := values.get("client_secret"):
        register_basic_auth(values.get("client_id", ""), secret)


_SETTINGS_NOT_READ = ("host", "token", "client_id", "client_secret", "auth_type", "profile")


def _refuse_settings_credentials(settings: Mapping[str, object] | None) -> None:
    """Refuse the host and credentials in the invoke config: they would be silently ignored there.

    invoke.yaml files are often committed with the project, so credentials do not belong in them; the
    value is registered for redaction and never echoed.
    """
    for key in _SETTINGS_NOT_READ:
        value = settings.get(key) if settings is not None else None
        if value is None:
            continue
        if isinstance(value, str) and key not in ("host", "auth_type", "profile"):
            register_secret(value.strip())
        where = f"DATABRICKS_{key.upper()}" if key != "profile" else "--profile or DATABRICKS_CONFIG_PROFILE"
        raise ConfigError(
            f"brickbook.{key} in the invoke config (invoke.yaml) is not "
            f"read: set {where} or use a {DEFAULT_CONFIG_FILE} profile, and remove it from the invoke config"
        )


def _is_loopback(hostname: str) -> bool:
    if hostname in ("localhost", "127.0.0.1", "::1"):
        return True
    import ipaddress  # the usual names above are answered without it

    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


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
        f"unsupported auth_type '{printable(wanted)}': brickbook supports {' and '.join(AUTH_TYPES)}; "
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
        raise ConfigError(f"{source} must be a whole number >= 1, got {printable(repr(value))}")
    return number


def _optional_positive(
    key: str, settings: Mapping[str, object] | None, env: Mapping[str, str], form: str
) -> float | None:
    """Return a positive number when the setting is given, None when it is not."""
    if _raw_setting(key, settings, env)[0] is None:
        return None
    return _positive(key, settings, env, math.nan, form)


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
        raise ConfigError(f"{source} must be {form} > 0, got {printable(repr(value))}")
    return number


def _warehouse_setting(settings: Mapping[str, object] | None) -> str | None:
    """Return ``brickbook.warehouse_id`` from the invoke config (a string, or absent)."""
    value = settings.get("warehouse_id") if settings is not None else None
    if value is None:
        return None
    if not isinstance(value, str | int) or isinstance(value, bool) or not str(value).strip():
        raise ConfigError(f"brickbook.warehouse_id must be a warehouse id, got {printable(repr(value))}")
    return str(value).strip()
