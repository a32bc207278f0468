"""Configuration resolution: precedence, profiles, validation, host normalisation and runtime settings."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from brickbook.config import Config, RetrySettings, normalize_host, resolve_config, secrets_of
from brickbook.errors import ConfigError, UsageError

TOKEN = "dapi-unit-token-3c2b1a09f8e7d6c5"
FILE_TOKEN = "dapi-file-token-8e7d6c5b4a392817"
CLIENT_ID = "sp-unit-client"
CLIENT_SECRET = "dose-unit-secret-0a1b2c3d4e5f"
HOST = "https://adb-1.7.azuredatabricks.net"
FILE_HOST = "https://dbc-file.cloud.databricks.com"


def write_cfg(home: Path, text: str, name: str = ".databrickscfg") -> Path:
    path = home / name
    path.write_text(text, encoding="utf-8")
    return path


def resolve(home: Path, env: dict[str, str] | None = None, **kwargs: Any) -> Config:
    """Resolve with an explicit environment and home, never the real ones."""
    return resolve_config(env=env or {}, home=str(home), **kwargs)


PROFILES = f"""
[DEFAULT]
host = {FILE_HOST}
token = {FILE_TOKEN}

[dev]
host = https://dev.cloud.databricks.com
token = dapi-dev-token

[sp]
host = https://sp.cloud.databricks.com
client_id = sp-file-client
client_secret = sp-file-secret
"""


# --- sources and precedence ---------------------------------------------------------------------------


def test_env_only_pat(tmp_path: Path) -> None:
    """DATABRICKS_HOST and DATABRICKS_TOKEN alone give a PAT config without reading any file."""
    config = resolve(tmp_path, {"DATABRICKS_HOST": HOST, "DATABRICKS_TOKEN": TOKEN})
    assert (config.host, config.auth_type, config.token) == (HOST, "pat", TOKEN)
    assert (config.profile, config.config_file) == (None, None)


def test_env_only_oauth(tmp_path: Path) -> None:
    """Client id and secret in the environment give an OAuth M2M config."""
    env = {
        "DATABRICKS_HOST": HOST,
        "DATABRICKS_CLIENT_ID": CLIENT_ID,
        "DATABRICKS_CLIENT_SECRET": CLIENT_SECRET,
    }
    config = resolve(tmp_path, env)
    assert (config.auth_type, config.client_id, config.client_secret, config.token) == (
        "oauth-m2m",
        CLIENT_ID,
        CLIENT_SECRET,
        None,
    )


def test_argument_beats_env(tmp_path: Path) -> None:
    """An explicit host argument wins over DATABRICKS_HOST."""
    env = {"DATABRICKS_HOST": "https://env.cloud.databricks.com", "DATABRICKS_TOKEN": TOKEN}
    assert resolve(tmp_path, env, host=HOST).host == HOST


def test_env_beats_file(tmp_path: Path) -> None:
    """With a named profile, an environment value wins over the profile's value for the same key."""
    write_cfg(tmp_path, PROFILES)
    config = resolve(tmp_path, {"DATABRICKS_TOKEN": TOKEN}, profile="dev")
    assert (config.host, config.token) == ("https://dev.cloud.databricks.com", TOKEN)


def test_empty_env_values_count_as_unset(tmp_path: Path) -> None:
    """An empty DATABRICKS_TOKEN does not shadow the profile's token (as in the SDK)."""
    write_cfg(tmp_path, PROFILES)
    config = resolve(tmp_path, {"DATABRICKS_TOKEN": "", "DATABRICKS_HOST": ""})
    assert (config.host, config.token) == (FILE_HOST, FILE_TOKEN)


def test_file_skipped_when_env_has_host(tmp_path: Path) -> None:
    """Without a named profile, a host from the environment means the file's token is not used."""
    write_cfg(tmp_path, PROFILES)
    with pytest.raises(ConfigError, match="no Databricks credentials configured"):
        resolve(tmp_path, {"DATABRICKS_HOST": HOST})


def test_file_skipped_when_env_has_credentials(tmp_path: Path) -> None:
    """Without a named profile, a token from the environment means the file's host is not used."""
    write_cfg(tmp_path, PROFILES)
    with pytest.raises(ConfigError, match="no Databricks host configured"):
        resolve(tmp_path, {"DATABRICKS_TOKEN": TOKEN})


def test_file_skipped_records_no_profile(tmp_path: Path) -> None:
    """When the file is skipped, the config names neither a profile nor a file."""
    write_cfg(tmp_path, PROFILES)
    config = resolve(tmp_path, {"DATABRICKS_HOST": HOST, "DATABRICKS_TOKEN": TOKEN})
    assert (config.profile, config.config_file) == (None, None)


# --- profiles -----------------------------------------------------------------------------------------


def test_named_profile_via_argument(tmp_path: Path) -> None:
    """The profile argument selects that section and is recorded with the file read."""
    path = write_cfg(tmp_path, PROFILES)
    config = resolve(tmp_path, profile="sp")
    assert (config.host, config.auth_type, config.client_id) == (
        "https://sp.cloud.databricks.com",
        "oauth-m2m",
        "sp-file-client",
    )
    assert (config.profile, config.config_file) == ("sp", str(path))


def test_named_profile_via_env(tmp_path: Path) -> None:
    """DATABRICKS_CONFIG_PROFILE selects the profile when no argument is given."""
    write_cfg(tmp_path, PROFILES)
    config = resolve(tmp_path, {"DATABRICKS_CONFIG_PROFILE": "dev"})
    assert (config.profile, config.token) == ("dev", "dapi-dev-token")


def test_profile_argument_beats_env(tmp_path: Path) -> None:
    """The profile argument wins over DATABRICKS_CONFIG_PROFILE."""
    write_cfg(tmp_path, PROFILES)
    assert resolve(tmp_path, {"DATABRICKS_CONFIG_PROFILE": "dev"}, profile="sp").profile == "sp"


def test_config_file_from_env(tmp_path: Path) -> None:
    """DATABRICKS_CONFIG_FILE replaces the default path."""
    path = write_cfg(tmp_path, PROFILES, name="other.cfg")
    config = resolve(tmp_path, {"DATABRICKS_CONFIG_FILE": str(path)}, profile="dev")
    assert config.config_file == str(path)


def test_settings_default_profile(tmp_path: Path) -> None:
    """Without a named profile, [__settings__] default_profile chooses it (over DEFAULT)."""
    write_cfg(tmp_path, PROFILES + "\n[__settings__]\ndefault_profile = dev\n")
    assert resolve(tmp_path).profile == "dev"


def test_settings_default_profile_missing(tmp_path: Path) -> None:
    """A default_profile naming a missing section is an error that says where the name came from."""
    write_cfg(tmp_path, PROFILES + "\n[__settings__]\ndefault_profile = gone\n")
    with pytest.raises(ConfigError, match=r"'gone' \(\[__settings__\] default_profile\) not found"):
        resolve(tmp_path)


def test_settings_section_is_not_a_profile(tmp_path: Path) -> None:
    """Naming the reserved __settings__ section as a profile is rejected."""
    write_cfg(tmp_path, PROFILES + "\n[__settings__]\ndefault_profile = dev\n")
    with pytest.raises(ConfigError, match="reserved section"):
        resolve(tmp_path, profile="__settings__")


def test_default_fallback(tmp_path: Path) -> None:
    """With no profile named anywhere, [DEFAULT] is used when it has keys."""
    write_cfg(tmp_path, PROFILES)
    config = resolve(tmp_path)
    assert (config.profile, config.host, config.token) == ("DEFAULT", FILE_HOST, FILE_TOKEN)


def test_no_default_section_means_no_file_values(tmp_path: Path) -> None:
    """A file without DEFAULT or default_profile contributes nothing, and that is not a profile error."""
    write_cfg(tmp_path, "[dev]\nhost = https://dev.cloud.databricks.com\ntoken = x\n")
    with pytest.raises(ConfigError, match="no Databricks host configured"):
        resolve(tmp_path)


def test_missing_default_file_without_profile_is_fine(tmp_path: Path) -> None:
    """No config file and no named profile: the file is simply not read."""
    with pytest.raises(ConfigError, match="no Databricks host configured"):
        resolve(tmp_path)


def test_missing_named_profile_lists_available(tmp_path: Path) -> None:
    """A named profile that does not exist is an error naming it, the file and the existing profiles."""
    write_cfg(tmp_path, PROFILES)
    with pytest.raises(ConfigError) as caught:
        resolve(tmp_path, profile="prod")
    message = str(caught.value)
    assert "'prod' (--profile) not found in ~/.databrickscfg" in message
    assert "profiles there: DEFAULT, dev, sp" in message


def test_missing_file_with_named_profile(tmp_path: Path) -> None:
    """A named profile with no config file says the file is missing."""
    with pytest.raises(ConfigError, match=r"'dev' requested \(DATABRICKS_CONFIG_PROFILE\).*does not exist"):
        resolve(tmp_path, {"DATABRICKS_CONFIG_PROFILE": "dev"})


def test_profile_does_not_inherit_default(tmp_path: Path) -> None:
    """A profile without a token does not pick up DEFAULT's token."""
    write_cfg(tmp_path, PROFILES + "\n[hostonly]\nhost = https://h.cloud.databricks.com\n")
    with pytest.raises(ConfigError, match="no Databricks credentials configured"):
        resolve(tmp_path, profile="hostonly")


def test_file_values_are_not_interpolated(tmp_path: Path) -> None:
    """A '%' in a secret is read literally, not as configparser interpolation."""
    write_cfg(tmp_path, "[DEFAULT]\nhost = h.cloud.databricks.com\ntoken = dapi%(x)s%\n")
    assert resolve(tmp_path).token == "dapi%(x)s%"


def test_malformed_ini(tmp_path: Path) -> None:
    """A file that is not INI is a ConfigError naming the file and the parser's first line only."""
    write_cfg(tmp_path, f"token = {FILE_TOKEN}\n[DEFAULT]\n")
    with pytest.raises(ConfigError) as caught:
        resolve(tmp_path)
    message = str(caught.value)
    assert message.startswith("cannot read config file ~/.databrickscfg: File contains no section headers")
    assert "\n" not in message
    assert FILE_TOKEN not in message
    assert caught.value.__cause__ is None


def test_unparsable_line_does_not_leak(tmp_path: Path) -> None:
    """A parsing error quoting a secret-bearing line reports only its first line."""
    write_cfg(tmp_path, f"[DEFAULT]\nhost = h\n{FILE_TOKEN}\n")
    with pytest.raises(ConfigError, match="cannot read config file") as caught:
        resolve(tmp_path)
    assert FILE_TOKEN not in str(caught.value)


def test_unreadable_file(tmp_path: Path) -> None:
    """A config path that cannot be read (a directory here) is a ConfigError naming it."""
    (tmp_path / "cfgdir").mkdir()
    with pytest.raises(ConfigError, match=r"cannot read config file .*cfgdir"):
        resolve(tmp_path, {"DATABRICKS_CONFIG_FILE": str(tmp_path / "cfgdir")}, profile="dev")


# --- validation of host and credentials ----------------------------------------------------------------


def test_no_host(tmp_path: Path) -> None:
    """No host anywhere: the error says to set DATABRICKS_HOST or add host to a profile."""
    with pytest.raises(ConfigError) as caught:
        resolve(tmp_path, {"DATABRICKS_TOKEN": TOKEN})
    assert str(caught.value) == (
        "no Databricks host configured: set DATABRICKS_HOST, "
        "or add host to a profile in ~/.databrickscfg (or pass --profile)"
    )


def test_no_credentials(tmp_path: Path) -> None:
    """A host without credentials: the error names both ways to authenticate."""
    with pytest.raises(
        ConfigError, match="set DATABRICKS_TOKEN, or DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET"
    ):
        resolve(tmp_path, {"DATABRICKS_HOST": HOST})


def test_config_error_is_a_usage_error(tmp_path: Path) -> None:
    """ConfigError is a UsageError, so the CLI maps it to the usage exit code."""
    with pytest.raises(UsageError):
        resolve(tmp_path)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {"DATABRICKS_CLIENT_ID": CLIENT_ID},
            "client_id is configured but client_secret is missing: set DATABRICKS_CLIENT_SECRET",
        ),
        (
            {"DATABRICKS_CLIENT_SECRET": CLIENT_SECRET},
            "client_secret is configured but client_id is missing: set DATABRICKS_CLIENT_ID",
        ),
    ],
)
def test_partial_client_credentials(tmp_path: Path, env: dict[str, str], expected: str) -> None:
    """Half of a client credential pair is an error naming the missing half."""
    with pytest.raises(ConfigError, match=expected):
        resolve(tmp_path, {"DATABRICKS_HOST": HOST, **env})


def test_ambiguous_credentials(tmp_path: Path) -> None:
    """A token plus client credentials without auth_type is an error saying how to choose."""
    env = {
        "DATABRICKS_HOST": HOST,
        "DATABRICKS_TOKEN": TOKEN,
        "DATABRICKS_CLIENT_ID": CLIENT_ID,
        "DATABRICKS_CLIENT_SECRET": CLIENT_SECRET,
    }
    with pytest.raises(ConfigError) as caught:
        resolve(tmp_path, env)
    assert str(caught.value) == (
        "more than one authorization method configured: pat and oauth-m2m; "
        "set DATABRICKS_AUTH_TYPE=pat or oauth-m2m (or remove one)"
    )


@pytest.mark.parametrize("auth_type", ["pat", "oauth-m2m"])
def test_auth_type_resolves_ambiguity(tmp_path: Path, auth_type: str) -> None:
    """DATABRICKS_AUTH_TYPE picks one method and only its credentials are kept."""
    env = {
        "DATABRICKS_HOST": HOST,
        "DATABRICKS_TOKEN": TOKEN,
        "DATABRICKS_CLIENT_ID": CLIENT_ID,
        "DATABRICKS_CLIENT_SECRET": CLIENT_SECRET,
        "DATABRICKS_AUTH_TYPE": auth_type,
    }
    config = resolve(tmp_path, env)
    assert config.auth_type == auth_type
    assert (config.token is None) == (auth_type == "oauth-m2m")
    assert (config.client_secret is None) == (auth_type == "pat")


def test_auth_type_from_profile(tmp_path: Path) -> None:
    """auth_type is read from the profile like any other key."""
    write_cfg(
        tmp_path,
        f"[both]\nhost = {FILE_HOST}\ntoken = t\nclient_id = c\nclient_secret = s\nauth_type = pat\n",
    )
    assert resolve(tmp_path, profile="both").auth_type == "pat"


def test_unsupported_auth_type(tmp_path: Path) -> None:
    """An auth_type other than pat or oauth-m2m is an error listing the supported ones."""
    env = {"DATABRICKS_HOST": HOST, "DATABRICKS_TOKEN": TOKEN, "DATABRICKS_AUTH_TYPE": "azure-cli"}
    with pytest.raises(
        ConfigError, match="unsupported auth_type 'azure-cli': brickbook supports pat and oauth-m2m"
    ):
        resolve(tmp_path, env)


def test_auth_type_pat_without_token(tmp_path: Path) -> None:
    """auth_type=pat with only client credentials is an error asking for a token."""
    env = {
        "DATABRICKS_HOST": HOST,
        "DATABRICKS_CLIENT_ID": CLIENT_ID,
        "DATABRICKS_CLIENT_SECRET": CLIENT_SECRET,
        "DATABRICKS_AUTH_TYPE": "pat",
    }
    with pytest.raises(
        ConfigError, match="auth_type is pat but no token is configured: set DATABRICKS_TOKEN"
    ):
        resolve(tmp_path, env)


def test_auth_type_oauth_without_client(tmp_path: Path) -> None:
    """auth_type=oauth-m2m with only a token is an error asking for client credentials."""
    env = {"DATABRICKS_HOST": HOST, "DATABRICKS_TOKEN": TOKEN, "DATABRICKS_AUTH_TYPE": "oauth-m2m"}
    with pytest.raises(ConfigError, match="set DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET"):
        resolve(tmp_path, env)


def test_invalid_host_from_env_is_rejected(tmp_path: Path) -> None:
    """A resolved host goes through normalisation, so an http public host fails before any request."""
    with pytest.raises(ConfigError, match="host must use https"):
        resolve(tmp_path, {"DATABRICKS_HOST": "http://example.com", "DATABRICKS_TOKEN": TOKEN})


# --- host normalisation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("adb-1.7.azuredatabricks.net", "https://adb-1.7.azuredatabricks.net"),
        ("https://adb-1.7.azuredatabricks.net/", "https://adb-1.7.azuredatabricks.net"),
        ("  https://adb-1.7.azuredatabricks.net//  ", "https://adb-1.7.azuredatabricks.net"),
        ("HTTPS://ADB-1.Azuredatabricks.NET", "https://adb-1.azuredatabricks.net"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://127.5.5.5", "http://127.5.5.5"),
        ("http://localhost:5000/", "http://localhost:5000"),
        ("http://[::1]:8443", "http://[::1]:8443"),
        ("https://example.com:8443", "https://example.com:8443"),
        ("localhost:8080", "https://localhost:8080"),
    ],
)
def test_normalize_host_accepts(raw: str, expected: str) -> None:
    """Valid hosts normalise to scheme://host[:port]."""
    assert normalize_host(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("http://example.com", "host must use https"),
        ("http://10.0.0.1", "host must use https"),
        ("https://example.com/o/123", "without a path or query"),
        ("https://example.com/?o=123", "without a path or query"),
        ("ftp://example.com", "unsupported scheme"),
        ("https://", "has no valid hostname"),
        ("", "has no valid hostname"),
        ("https://example.com:notaport", "invalid port"),
    ],
)
def test_normalize_host_rejects(raw: str, message: str) -> None:
    """Invalid hosts raise a ConfigError saying what is wrong."""
    with pytest.raises(ConfigError, match=message):
        normalize_host(raw)


def test_normalize_host_user_info_not_echoed() -> None:
    """A host carrying user:password is rejected without echoing the password."""
    with pytest.raises(ConfigError, match="user info") as caught:
        normalize_host(f"https://me:{CLIENT_SECRET}@example.com")
    assert CLIENT_SECRET not in str(caught.value)


# --- runtime settings ----------------------------------------------------------------------------------

BASE_ENV = {"DATABRICKS_HOST": HOST, "DATABRICKS_TOKEN": TOKEN}


def test_runtime_defaults(tmp_path: Path) -> None:
    """Without settings or BRICKBOOK_* variables, the documented defaults apply."""
    config = resolve(tmp_path, BASE_ENV)
    assert config.retry == RetrySettings()
    assert (config.retry.max_attempts, config.retry.timeout_seconds) == (8, 600.0)
    assert (config.rate_limit_per_second, config.max_concurrency, config.http_timeout_seconds) == (
        None,  # no fixed rate: adaptive per-family limits (brickbook.throttle)
        8,
        60.0,
    )


def test_runtime_settings_from_mapping(tmp_path: Path) -> None:
    """The invoke `brickbook` section sets retries, rate limit, concurrency and HTTP timeout."""
    settings = {
        "max_attempts": 3,
        "retry_timeout": 30,
        "rate_limit": 2.5,
        "max_concurrency": 2,
        "http_timeout": "5",
    }
    config = resolve(tmp_path, BASE_ENV, settings=settings)
    assert (config.retry.max_attempts, config.retry.timeout_seconds) == (3, 30.0)
    assert (config.rate_limit_per_second, config.max_concurrency, config.http_timeout_seconds) == (
        2.5,
        2,
        5.0,
    )


def test_runtime_env_beats_mapping(tmp_path: Path) -> None:
    """BRICKBOOK_* variables override the invoke settings."""
    env = {
        **BASE_ENV,
        "BRICKBOOK_MAX_ATTEMPTS": "5",
        "BRICKBOOK_RETRY_TIMEOUT": "90",
        "BRICKBOOK_RATE_LIMIT": "1",
        "BRICKBOOK_MAX_CONCURRENCY": "4",
        "BRICKBOOK_HTTP_TIMEOUT": "0.5",
    }
    settings = {
        "max_attempts": 3,
        "retry_timeout": 30,
        "rate_limit": 2.5,
        "max_concurrency": 2,
        "http_timeout": 5,
    }
    config = resolve(tmp_path, env, settings=settings)
    assert (config.retry.max_attempts, config.retry.timeout_seconds) == (5, 90.0)
    assert (config.rate_limit_per_second, config.max_concurrency, config.http_timeout_seconds) == (
        1.0,
        4,
        0.5,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"BRICKBOOK_MAX_ATTEMPTS": "abc"}, "BRICKBOOK_MAX_ATTEMPTS must be a whole number >= 1, got 'abc'"),
        ({"BRICKBOOK_MAX_ATTEMPTS": "0"}, "BRICKBOOK_MAX_ATTEMPTS must be a whole number >= 1, got '0'"),
        ({"BRICKBOOK_MAX_CONCURRENCY": "2.5"}, "BRICKBOOK_MAX_CONCURRENCY must be a whole number >= 1"),
        (
            {"BRICKBOOK_RETRY_TIMEOUT": "0"},
            "BRICKBOOK_RETRY_TIMEOUT must be a number of seconds > 0, got '0'",
        ),
        ({"BRICKBOOK_HTTP_TIMEOUT": "-1"}, "BRICKBOOK_HTTP_TIMEOUT must be a number of seconds > 0"),
        ({"BRICKBOOK_HTTP_TIMEOUT": "inf"}, "BRICKBOOK_HTTP_TIMEOUT must be a number of seconds > 0"),
        (
            {"BRICKBOOK_RATE_LIMIT": "fast"},
            "BRICKBOOK_RATE_LIMIT must be a number of requests per second > 0",
        ),
    ],
)
def test_runtime_bad_env_values(tmp_path: Path, env: dict[str, str], message: str) -> None:
    """A bad BRICKBOOK_* value is an error naming the variable and the expected form."""
    with pytest.raises(ConfigError, match=message):
        resolve(tmp_path, {**BASE_ENV, **env})


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"max_attempts": True}, "brickbook.max_attempts must be a whole number >= 1, got True"),
        ({"max_concurrency": 1.5}, "brickbook.max_concurrency must be a whole number >= 1, got 1.5"),
        ({"rate_limit": 0}, "brickbook.rate_limit must be a number of requests per second > 0, got 0"),
        ({"retry_timeout": [1]}, r"brickbook.retry_timeout must be a number of seconds > 0, got \[1\]"),
    ],
)
def test_runtime_bad_setting_values(tmp_path: Path, settings: dict[str, object], message: str) -> None:
    """A bad invoke setting is an error naming the brickbook.<key> and the expected form."""
    with pytest.raises(ConfigError, match=message):
        resolve(tmp_path, BASE_ENV, settings=settings)


# --- secrets -------------------------------------------------------------------------------------------


def test_repr_hides_secrets(tmp_path: Path) -> None:
    """repr(Config) shows neither the token nor the client secret."""
    pat = resolve(tmp_path, BASE_ENV)
    oauth = resolve(
        tmp_path,
        {
            "DATABRICKS_HOST": HOST,
            "DATABRICKS_CLIENT_ID": CLIENT_ID,
            "DATABRICKS_CLIENT_SECRET": CLIENT_SECRET,
        },
    )
    assert TOKEN not in repr(pat)
    assert CLIENT_SECRET not in repr(oauth)
    assert CLIENT_ID in repr(oauth)


@pytest.mark.parametrize(
    "env",
    [
        {"DATABRICKS_TOKEN": TOKEN, "DATABRICKS_CLIENT_SECRET": CLIENT_SECRET},
        {
            "DATABRICKS_TOKEN": TOKEN,
            "DATABRICKS_CLIENT_ID": CLIENT_ID,
            "DATABRICKS_CLIENT_SECRET": CLIENT_SECRET,
        },
        {"DATABRICKS_HOST": HOST, "DATABRICKS_CLIENT_SECRET": CLIENT_SECRET},
        {"DATABRICKS_HOST": HOST, "DATABRICKS_TOKEN": TOKEN, "DATABRICKS_AUTH_TYPE": "oauth-m2m"},
        {"DATABRICKS_HOST": HOST, "DATABRICKS_CLIENT_SECRET": CLIENT_SECRET, "DATABRICKS_AUTH_TYPE": "pat"},
        {"DATABRICKS_HOST": HOST, "DATABRICKS_TOKEN": TOKEN, "DATABRICKS_AUTH_TYPE": "bogus"},
        {"DATABRICKS_HOST": "http://example.com", "DATABRICKS_TOKEN": TOKEN},
        {**BASE_ENV, "BRICKBOOK_MAX_ATTEMPTS": "x"},
    ],
)
def test_error_messages_never_contain_secrets(tmp_path: Path, env: dict[str, str]) -> None:
    """No configuration error message contains the token or the client secret."""
    with pytest.raises(ConfigError) as caught:
        resolve(tmp_path, env)
    assert TOKEN not in str(caught.value)
    assert CLIENT_SECRET not in str(caught.value)


def test_secrets_of_pat(tmp_path: Path) -> None:
    """secrets_of returns the token for a PAT config."""
    assert secrets_of(resolve(tmp_path, BASE_ENV)) == [TOKEN]


def test_secrets_of_oauth(tmp_path: Path) -> None:
    """secrets_of returns the client secret (not the id) for an OAuth config."""
    env = {
        "DATABRICKS_HOST": HOST,
        "DATABRICKS_CLIENT_ID": CLIENT_ID,
        "DATABRICKS_CLIENT_SECRET": CLIENT_SECRET,
    }
    assert secrets_of(resolve(tmp_path, env)) == [CLIENT_SECRET]


def test_secrets_of_skips_empty() -> None:
    """secrets_of leaves out empty values."""
    assert secrets_of(Config(host=HOST, auth_type="pat", token="")) == []


def test_poll_max_from_env_and_settings():
    """BRICKBOOK_POLL_MAX (or brickbook.poll_max) caps the pause between polls; bad values are refused."""
    env = {"DATABRICKS_HOST": "https://x.cloud.databricks.com", "DATABRICKS_TOKEN": "dapi-abcdef123456"}
    assert resolve_config(env=env).poll_max_seconds == 30.0
    assert resolve_config(env=env, settings={"poll_max": 5}).poll_max_seconds == 5.0
    assert (
        resolve_config(env={**env, "BRICKBOOK_POLL_MAX": "12"}, settings={"poll_max": 5}).poll_max_seconds
        == 12.0
    )
    with pytest.raises(ConfigError, match="BRICKBOOK_POLL_MAX"):
        resolve_config(env={**env, "BRICKBOOK_POLL_MAX": "-1"})


# --- credentials and values that cannot travel in a request (issue 7, row 2) ---------------------------

UNSENDABLE = [
    ("dapi-line\nbreak-0a1b", "a line break"),
    ("dapi-carriage\rreturn-0a1b", "a line break"),
    ("dapi-control\x01char-0a1b", "a control character (U+0001)"),
    ("dapi-tab\tinside-0a1b", "a control character (U+0009)"),
    ("dapi-delete\x7fchar-0a1b", "a control character (U+007F)"),
    ("dapi-non-ascii-é-0a1b", "a non-ASCII character (U+00E9)"),
    ("dapi-line-sep\u2028-0a1b", "a non-ASCII character (U+2028)"),
]


CREDENTIAL_VARIABLES = [
    ("DATABRICKS_TOKEN", "token", {}),
    ("DATABRICKS_CLIENT_SECRET", "client_secret", {"DATABRICKS_CLIENT_ID": CLIENT_ID}),
    ("DATABRICKS_CLIENT_ID", "client_id", {"DATABRICKS_CLIENT_SECRET": CLIENT_SECRET}),
]


@pytest.mark.parametrize(("value", "complaint"), UNSENDABLE)
@pytest.mark.parametrize("setting", CREDENTIAL_VARIABLES, ids=[v[0] for v in CREDENTIAL_VARIABLES])
def test_unsendable_credential_from_env(
    tmp_path: Path, setting: tuple[str, str, dict[str, str]], value: str, complaint: str
) -> None:
    """A credential that cannot go in a header is refused, naming the setting and variable, not the value."""
    variable, name, extra = setting
    env = {"DATABRICKS_HOST": HOST, variable: value, **extra}
    with pytest.raises(ConfigError) as caught:
        resolve(tmp_path, env)
    message = str(caught.value)
    assert message.startswith(f"the {name} from {variable} contains {complaint}")
    assert "cannot be sent in an HTTP header" in message
    assert caught.value.exit_code == 2
    for part in value.split():
        assert part not in message
    assert "0a1b" not in message


def test_unsendable_token_in_profile_names_profile_and_file(tmp_path: Path) -> None:
    """A multi-line token in a profile (an INI continuation line) names the key, profile and file."""
    write_cfg(tmp_path, f"[dev]\nhost = {HOST}\ntoken = dapi-first-half\n  second-half-0a1b\n")
    with pytest.raises(ConfigError) as caught:
        resolve(tmp_path, profile="dev")
    message = str(caught.value)
    assert message.startswith("the token from profile [dev] of ~/.databrickscfg contains a line")
    assert "dapi-first-half" not in message
    assert "second-half" not in message


def test_unsendable_token_argument(tmp_path: Path) -> None:
    """A token passed as an argument is checked like any other source."""
    with pytest.raises(ConfigError, match="the token from the token argument contains a line break"):
        resolve(tmp_path, {"DATABRICKS_HOST": HOST}, token="dapi-arg\nument-0a1b")


def test_unused_unsendable_credential_is_refused_too(tmp_path: Path) -> None:
    """A broken token is refused even when auth_type picks OAuth: the configuration is malformed."""
    env = {
        "DATABRICKS_HOST": HOST,
        "DATABRICKS_TOKEN": "dapi\nbroken",
        "DATABRICKS_CLIENT_ID": CLIENT_ID,
        "DATABRICKS_CLIENT_SECRET": CLIENT_SECRET,
        "DATABRICKS_AUTH_TYPE": "oauth-m2m",
    }
    with pytest.raises(ConfigError, match="DATABRICKS_TOKEN contains a line break"):
        resolve(tmp_path, env)


def test_client_id_with_a_colon_is_refused(tmp_path: Path) -> None:
    """A colon in the client id would split the Basic credential in the wrong place."""
    env = {"DATABRICKS_HOST": HOST, "DATABRICKS_CLIENT_ID": "sp:x", "DATABRICKS_CLIENT_SECRET": CLIENT_SECRET}
    with pytest.raises(ConfigError, match="client_id from DATABRICKS_CLIENT_ID contains a colon"):
        resolve(tmp_path, env)


def test_config_built_directly_is_checked_too() -> None:
    """A Config built by library code gets the same header check."""
    with pytest.raises(ConfigError, match=r"the token from Config\.token contains a line break"):
        Config(host=HOST, auth_type="pat", token="dapi\nx")


def test_credentials_are_registered_for_redaction_when_resolved(tmp_path: Path) -> None:
    """Every credential read is masked from the moment it is resolved, even one refused as malformed."""
    from brickbook.redaction import redact

    bad = "dapi-registered-early\nx"
    with pytest.raises(ConfigError):
        resolve(tmp_path, {"DATABRICKS_HOST": HOST, "DATABRICKS_TOKEN": bad})
    assert "dapi-registered-early" not in redact(repr(f"Bearer {bad}".encode()))
    resolve(tmp_path, {"DATABRICKS_HOST": HOST, "DATABRICKS_TOKEN": "dapi-resolved-token-66"})
    assert redact("x dapi-resolved-token-66") == "x ***"


@pytest.mark.parametrize("key", ["token", "client_secret", "client_id", "host", "auth_type", "profile"])
def test_invoke_config_credentials_are_refused(tmp_path: Path, key: str) -> None:
    """The invoke config is not a source of host or credentials: a value there is refused, not echoed."""
    value = "dapi-invoke-yaml\nsecret"
    with pytest.raises(ConfigError) as caught:
        resolve(tmp_path, BASE_ENV, settings={key: value})
    message = str(caught.value)
    assert message.startswith(f"brickbook.{key} in the invoke config")
    assert "dapi-invoke-yaml" not in message


@pytest.mark.parametrize(
    ("raw", "complaint"),
    [
        ("https://adb-1.7.azure\ndatabricks.net", "a line break"),
        ("https://adb-1.7\t.azuredatabricks.net", "a control character (U+0009)"),
        ("https://ädb.example.com", "a non-ASCII character (U+00E4): use the ASCII (xn--) form"),
    ],
)
def test_host_with_unsendable_characters(tmp_path: Path, raw: str, complaint: str) -> None:
    """Control characters in a host are refused before parsing (urlsplit would silently drop them)."""
    with pytest.raises(ConfigError, match=re.escape(f"the host from DATABRICKS_HOST contains {complaint}")):
        resolve(tmp_path, {"DATABRICKS_HOST": raw, "DATABRICKS_TOKEN": TOKEN})


def test_host_echo_is_escaped_and_short(tmp_path: Path) -> None:
    """A host echoed in an error has no raw control characters and stays short."""
    with pytest.raises(ConfigError) as caught:
        normalize_host("ftp://" + "x" * 500)
    assert len(str(caught.value)) < 200


def test_host_query_is_not_echoed() -> None:
    """A host with a query string is refused without echoing the query (it may carry a token)."""
    with pytest.raises(ConfigError, match="without a path or query") as caught:
        normalize_host("https://example.com/?token=dapi-in-a-query")
    assert "dapi-in-a-query" not in str(caught.value)


@pytest.mark.parametrize("name", ["dev\nprod", "dev\x1b[2J", "dev\x00"])
def test_profile_name_with_control_characters(tmp_path: Path, name: str) -> None:
    """A profile name with a control character is refused with the name escaped on one line."""
    write_cfg(tmp_path, PROFILES)
    with pytest.raises(ConfigError, match=r"the profile name .* from --profile contains a control") as caught:
        resolve(tmp_path, profile=name)
    assert "\n" not in str(caught.value)
    assert "\x1b" not in str(caught.value)


def test_profile_name_from_env_with_newline(tmp_path: Path) -> None:
    """DATABRICKS_CONFIG_PROFILE with a line break names the variable."""
    write_cfg(tmp_path, PROFILES)
    with pytest.raises(ConfigError, match="from DATABRICKS_CONFIG_PROFILE contains a control"):
        resolve(tmp_path, {"DATABRICKS_CONFIG_PROFILE": "dev\nx"})


def test_missing_profile_listing_is_escaped_and_bounded(tmp_path: Path) -> None:
    """The list of available profiles escapes odd section names and is capped."""
    sections = "".join(f"[p{i}\x1b]\nhost = h\n" for i in range(30))
    write_cfg(tmp_path, sections)
    with pytest.raises(ConfigError, match="and 20 more") as caught:
        resolve(tmp_path, profile="nope")
    assert "\x1b" not in str(caught.value)


# --- the config file itself: bounded, UTF-8, a file ----------------------------------------------------


def test_huge_config_file_is_refused(tmp_path: Path) -> None:
    """A config file over 1 MiB is refused without reading it all."""
    write_cfg(tmp_path, "[DEFAULT]\n" + "# padding\n" * 120_000)
    with pytest.raises(ConfigError, match=r"larger than 1024 KiB"):
        resolve(tmp_path)


def test_endless_config_file_is_refused(tmp_path: Path) -> None:
    """DATABRICKS_CONFIG_FILE=/dev/zero ends in a bounded read and a clear error, not a hang."""
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero here")
    with pytest.raises(ConfigError, match="larger than"):
        resolve(tmp_path, {"DATABRICKS_CONFIG_FILE": "/dev/zero"}, profile="dev")


def test_binary_config_file_is_refused(tmp_path: Path) -> None:
    """A config file that is not UTF-8 is refused, naming the file and the byte."""
    (tmp_path / ".databrickscfg").write_bytes(b"[DEFAULT]\nhost = h\x00\xff\xfe\n")
    with pytest.raises(ConfigError, match=r"~/.databrickscfg: it is not UTF-8 text \(byte 20"):
        resolve(tmp_path)


def test_config_file_with_byte_order_mark(tmp_path: Path) -> None:
    """A UTF-8 byte-order mark written by some editors is tolerated."""
    (tmp_path / ".databrickscfg").write_bytes(
        "\ufeff[DEFAULT]\nhost = h.cloud.databricks.com\ntoken = dapi-bom-token\n".encode()
    )
    assert resolve(tmp_path).token == "dapi-bom-token"


def test_config_file_path_too_long(tmp_path: Path) -> None:
    """A config path too long for the system is a one-line error, not an OSError traceback."""
    with pytest.raises(ConfigError, match="cannot read config file") as caught:
        resolve(tmp_path, {"DATABRICKS_CONFIG_FILE": str(tmp_path / ("x" * 5000))}, profile="dev")
    assert len(str(caught.value)) < 300


def test_config_file_path_with_newline_is_escaped(tmp_path: Path) -> None:
    """A DATABRICKS_CONFIG_FILE path with a line break is echoed escaped, on one line."""
    with pytest.raises(ConfigError) as caught:
        resolve(tmp_path, {"DATABRICKS_CONFIG_FILE": str(tmp_path / "a\nb")}, profile="dev")
    assert "\n" not in str(caught.value)
    assert "a\\nb" in str(caught.value)


def test_unreadable_config_file(tmp_path: Path) -> None:
    """A config file without read permission names the file and the reason."""
    import os

    if os.geteuid() == 0:
        pytest.skip("root reads any file")
    path = write_cfg(tmp_path, PROFILES)
    path.chmod(0)
    with pytest.raises(ConfigError, match=r"cannot read config file ~/.databrickscfg: Permission denied"):
        resolve(tmp_path, profile="dev")


def test_long_runtime_setting_is_echoed_short(tmp_path: Path) -> None:
    """A huge bad BRICKBOOK_* value is echoed shortened and escaped."""
    with pytest.raises(ConfigError, match="BRICKBOOK_MAX_ATTEMPTS") as caught:
        resolve(tmp_path, {**BASE_ENV, "BRICKBOOK_MAX_ATTEMPTS": "x\n" * 1000})
    assert len(str(caught.value)) < 200
    assert "\n" not in str(caught.value)
