"""Read one profile of the Databricks config file (``~/.databrickscfg``), with the SDK's selection rules.

The profile is the one named (``--profile``, ``DATABRICKS_CONFIG_PROFILE``), else ``[__settings__]
default_profile``, else ``[DEFAULT]`` when it has keys. A profile does not inherit from ``[DEFAULT]``.
The file is read with a size bound and must be UTF-8; a parse error is reported by its first line only,
because the parser's later lines quote file content (secrets). Names and paths echoed in errors are
escaped and shortened. Split from ``brickbook.config``, which decides what the values mean.
"""

from __future__ import annotations

import configparser
from collections.abc import Collection
from pathlib import Path

from brickbook.errors import ConfigError
from brickbook.redaction import printable

__all__ = ["MAX_CONFIG_FILE_BYTES", "read_profile"]

# The config file is a few lines of INI; anything this large is the wrong file (or /dev/zero).
MAX_CONFIG_FILE_BYTES = 1024 * 1024
SETTINGS_SECTION = "__settings__"
# configparser merges its default section into every other one; the SDK does not, so no section is default.
_NO_DEFAULT_SECTION = "brickbook: no default section"
# At most this many profile names are listed when the requested one is missing.
_LISTED_PROFILES = 10


def _expand(path: str, home: str | None) -> Path:
    if home is not None and (path == "~" or path.startswith("~/")):
        return Path(home, path[2:])
    return Path(path).expanduser()


def _read_text(path: Path, file_shown: str) -> str:
    """Read the config file as UTF-8 text, at most MAX_CONFIG_FILE_BYTES of it."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_CONFIG_FILE_BYTES + 1)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigError(f"cannot read config file {file_shown}: {reason}") from None
    if len(data) > MAX_CONFIG_FILE_BYTES:
        raise ConfigError(
            f"cannot read config file {file_shown}: it is larger than {MAX_CONFIG_FILE_BYTES // 1024} KiB "
            "(is DATABRICKS_CONFIG_FILE the right file?)"
        )
    try:
        return data.decode("utf-8-sig")  # tolerate the byte-order mark some editors write
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"cannot read config file {file_shown}: it is not UTF-8 text (byte {exc.start + 1} is not)"
        ) from None


def read_profile(
    file_path: str,
    *,
    requested: str | None,
    origin: str,
    keys: Collection[str],
    home: str | None = None,
) -> tuple[str | None, str | None, dict[str, str]]:
    """Return (file read, profile used, its non-empty values among ``keys``) for the chosen profile.

    ``requested`` is the profile named by the user and ``origin`` where that name came from;
    ``home`` replaces ``~`` in the path (for tests).
    """
    file_shown = printable(file_path, 120)
    path = _expand(file_path, home)
    try:
        exists = path.exists()
    except OSError as exc:  # e.g. a name too long
        raise ConfigError(
            f"cannot read config file {file_shown}: {exc.strerror or type(exc).__name__}"
        ) from None
    if not exists:
        if requested:
            raise ConfigError(
                f"profile '{printable(requested)}' requested ({origin}) but config file {file_shown} does "
                "not exist: create it or set DATABRICKS_CONFIG_FILE"
            )
        return None, None, {}
    parser = configparser.ConfigParser(default_section=_NO_DEFAULT_SECTION, interpolation=None)
    try:
        parser.read_string(_read_text(path, file_shown), source=str(path))
    except configparser.Error as exc:
        complaint = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise ConfigError(f"cannot read config file {file_shown}: {printable(complaint, 200)}") from None

    profiles = {name: dict(parser.items(name)) for name in parser.sections() if name != SETTINGS_SECTION}
    name = requested
    if name is None:
        name = parser.get(SETTINGS_SECTION, "default_profile", fallback="").strip() or None
        origin = f"[{SETTINGS_SECTION}] default_profile"
    if name is None:
        if not profiles.get("DEFAULT"):
            return str(path), None, {}
        name = "DEFAULT"
    if name == SETTINGS_SECTION:
        raise ConfigError(f"{SETTINGS_SECTION} is a reserved section, not a profile: choose another profile")
    if name not in profiles:
        listed = [printable(p, 40) for p in list(profiles)[:_LISTED_PROFILES]]
        if len(profiles) > _LISTED_PROFILES:
            listed.append(f"and {len(profiles) - _LISTED_PROFILES} more")
        raise ConfigError(
            f"profile '{printable(name)}' ({origin}) not found in {file_shown}; "
            f"profiles there: {', '.join(listed) or 'none'}"
        )
    found = {key: value.strip() for key, value in profiles[name].items() if key in keys}
    return str(path), name, {key: value for key, value in found.items() if value}
