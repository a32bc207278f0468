"""The deployment file of ``runbook.deploy``: its format, and its validation before any request.

A deployment file (YAML or JSON) names what one deployment manages in a workspace: ``name``, a
``workspace`` folder (``source`` -> ``dest``), ``dbfs`` files, ``secrets`` (scopes and keys whose values
come from ``{env: NAME}`` or ``{file: PATH}``), ``repos`` (a branch or a tag) and ``jobs`` (Jobs API 2.2
settings, inline or ``{name, file}``, each with optional ``permissions``). docs/deployment.md documents
the format with a full example.

Every section but ``name`` is optional. ``load_deployment`` reads the file with the spec loader (the
same bounds: 1 MiB, 64 levels, no YAML aliases) and checks everything a deploy needs before the first
request: unknown keys, names (unique within their section), workspace and DBFS paths (the rules of
``brickbook.paths``), local paths (relative to the file's folder, never leaving it, of the right kind),
job settings (the job spec validator), a job's ``permissions`` (each entry one principal and a job
permission level), and secret values, which are read here: an inline value is
refused, a missing or empty environment variable or file is named. Each problem is one ``UsageError``
(exit 2) naming the file and the field path, e.g. ``deploy.yaml: secrets[0].keys.db-password: ...``;
a secret value is never part of a message, and every value read is registered for redaction.

Every job gets the tag ``brickbook-deployment: <name>``: that tag is how ``--prune`` knows which jobs
this deployment manages.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from brickbook.api.permissions import KINDS, Grant, grants_from_list
from brickbook.errors import UsageError
from brickbook.paths import dbfs_path, has_control_characters, is_valid_utf8, printable, workspace_path
from brickbook.redaction import register_secret

__all__ = [
    "DEPLOYMENT_TAG",
    "MAX_SECRET_BYTES",
    "DbfsFile",
    "Deployment",
    "Folder",
    "JobEntry",
    "RepoRef",
    "SecretKey",
    "SecretScope",
    "load_deployment",
]

DEPLOYMENT_TAG = "brickbook-deployment"
# The Secrets API refuses values larger than 128 KB.
MAX_SECRET_BYTES = 128 * 1024
SECTIONS = ("name", "workspace", "dbfs", "secrets", "repos", "jobs")
# The deployment's name goes into a job tag and a state file name: keep it plain.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
# Secret scope and key names: letters, digits, dashes, underscores, periods and @, at most 128 (Secrets API).
_SECRET_NAME = re.compile(r"^[A-Za-z0-9._@-]{1,128}$")
_SECRET_NAME_RULE = "1-128 letters, digits, '-', '_', '.' or '@'"
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# The shallowest managed folder: pruning "/Shared" or "/Users" would sweep what others own.
_MIN_DEST_DEPTH = 2


@dataclass(frozen=True)
class Folder:
    """A local folder of notebooks and files, imported into the managed workspace folder ``dest``."""

    source: Path
    dest: str


@dataclass(frozen=True)
class DbfsFile:
    """A local file uploaded to DBFS; ``dest`` is the absolute DBFS path without the scheme."""

    source: Path
    dest: str

    @property
    def shown(self) -> str:
        """Return the DBFS path as users write it, ``dbfs:/...``."""
        return f"dbfs:{self.dest}"


@dataclass(frozen=True)
class SecretKey:
    """One secret: its key, where its value came from (``env ETL_DB_PASSWORD``), and the value."""

    key: str
    origin: str
    value: bytes = field(repr=False)


@dataclass(frozen=True)
class SecretScope:
    """A secret scope and the keys it must hold."""

    scope: str
    keys: tuple[SecretKey, ...]


@dataclass(frozen=True)
class JobEntry:
    """A job by name, with the settings it must have (the deployment tag included).

    ``permissions``: the job's direct grants, or None when the file leaves them to the workspace.
    """

    name: str
    settings: Mapping[str, Any]
    permissions: tuple[Grant, ...] | None = None


@dataclass(frozen=True)
class RepoRef:
    """A repo (by workspace path) and the branch or tag it must be on (exactly one is set)."""

    path: str
    branch: str | None = None
    tag: str | None = None

    @property
    def ref(self) -> str:
        """Return the ref as a step names it: ``main`` or ``tag v1.2``."""
        return self.branch if self.branch is not None else f"tag {self.tag}"


@dataclass(frozen=True)
class Deployment:
    """A validated deployment file, its local paths resolved and its secret values read."""

    name: str
    file: Path
    workspace: Folder | None = None
    dbfs: tuple[DbfsFile, ...] = ()
    secrets: tuple[SecretScope, ...] = ()
    repos: tuple[RepoRef, ...] = ()
    jobs: tuple[JobEntry, ...] = ()

    @property
    def tag(self) -> dict[str, str]:
        """Return the tag every job of this deployment carries."""
        return {DEPLOYMENT_TAG: self.name}


def load_deployment(file: str | Path, *, environ: Mapping[str, str] | None = None) -> Deployment:
    """Read and validate a deployment file; raise UsageError naming the file and the offending field.

    Secret values are read from ``environ`` (default ``os.environ``) and from the files named.
    """
    from brickbook.specs import load_spec

    path = Path(file)
    if not is_valid_utf8(str(path)):  # a name from argv that was not UTF-8
        raise UsageError(f"deployment file {printable(str(path))} is not valid UTF-8: rename it")
    data = load_spec(None, str(path))
    return _Reader(path, os.environ if environ is None else environ).read(data)


def _kind(value: object) -> str:
    if value is None:
        return "null"
    names = {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list"}
    return names.get(type(value), "an object")


class _Reader:
    """Validate one deployment file's data; every error names ``source`` and the field path."""

    def __init__(self, path: Path, environ: Mapping[str, str]) -> None:
        self.path = path
        self.source = printable(str(path), quoted=False)
        self.environ = environ
        # Local paths are relative to the folder holding the file, and must stay inside it.
        self.folder = path.absolute().parent.resolve()
        self.secret_files: dict[str, Path] = {}  # field path -> file, for keep_secrets_out

    def error(self, where: str, problem: str) -> UsageError:
        return UsageError(f"{self.source}: {where}: {problem}")

    # -- field helpers ----------------------------------------------------------------------------

    def mapping(self, value: object, where: str, allowed: tuple[str, ...]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.error(where, f"must be an object (key: value mapping), not {_kind(value)}")
        unknown = [key for key in value if key not in allowed]
        if unknown:
            raise self.error(
                f"{where}.{unknown[0]}" if where else unknown[0],
                f"unknown key; expected one of {', '.join(allowed)}",
            )
        return value

    def listing(self, value: object, where: str) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.error(where, f"must be a list, not {_kind(value)}")
        return value

    def text(self, data: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> str | None:
        at = f"{where}.{key}" if where else key
        value = data.get(key)
        if value is None:
            if required:
                raise self.error(at, "is required")
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.error(at, f"must be a non-empty string, not {_kind(value)}")
        if not is_valid_utf8(value) or has_control_characters(value):
            raise self.error(at, "must not contain control characters")
        return value

    def local(self, value: str, where: str, *, folder: bool) -> Path:
        """Return a local path named relative to the file, inside its folder, of the right kind."""
        if Path(value).is_absolute():
            raise self.error(where, f"{printable(value)} must be relative to the deployment file's folder")
        path = (self.folder / value).resolve()
        if not path.is_relative_to(self.folder):
            raise self.error(where, f"{printable(value)} leads outside the deployment file's folder")
        if folder and not path.is_dir():
            raise self.error(where, f"{printable(value)} is not a folder")
        if not folder and not path.is_file():
            what = "a folder" if path.is_dir() else "not a regular file" if path.exists() else "missing"
            raise self.error(where, f"{printable(value)} is {what}; a file is needed here")
        return path

    def remote(self, check: Callable[[str], str], value: str, where: str) -> str:
        try:
            return check(value)
        except UsageError as exc:
            raise self.error(where, exc.message) from exc

    def unique(self, seen: dict[str, str], value: str, where: str, what: str) -> None:
        if value in seen:
            raise self.error(where, f"{what} {printable(value)} is already listed at {seen[value]}")
        seen[value] = where

    # -- sections ---------------------------------------------------------------------------------

    def read(self, data: Mapping[str, Any]) -> Deployment:
        self.mapping(data, "", SECTIONS)
        name = self.text(data, "name", "")
        assert name is not None  # required
        if not _NAME.match(name):
            raise self.error(
                "name",
                f"{printable(name)} must be 1-64 letters, digits, '.', '_' or '-', "
                "starting with a letter or a digit",
            )
        workspace = self.workspace(data.get("workspace")) if data.get("workspace") is not None else None
        secrets = self.secrets(data.get("secrets"))
        if workspace is not None:
            self.keep_secrets_out(workspace)
        return Deployment(
            name=name,
            file=self.path,
            workspace=workspace,
            dbfs=self.dbfs(data.get("dbfs")),
            secrets=secrets,
            repos=self.repos(data.get("repos")),
            jobs=self.jobs(data.get("jobs"), name),
        )

    def workspace(self, value: object) -> Folder:
        section = self.mapping(value, "workspace", ("source", "dest"))
        source = self.local(str(self.text(section, "source", "workspace")), "workspace.source", folder=True)
        dest = self.remote(workspace_path, str(self.text(section, "dest", "workspace")), "workspace.dest")
        if len([part for part in dest.split("/") if part]) < _MIN_DEST_DEPTH:
            raise self.error(
                "workspace.dest",
                f"{printable(dest)} is too high to manage: name a folder of its own, e.g. /Shared/etl",
            )
        return Folder(source=source, dest=dest)

    def dbfs(self, value: object) -> tuple[DbfsFile, ...]:
        files: list[DbfsFile] = []
        seen: dict[str, str] = {}
        for index, item in enumerate(self.listing(value, "dbfs")):
            at = f"dbfs[{index}]"
            entry = self.mapping(item, at, ("source", "dest"))
            source = self.local(str(self.text(entry, "source", at)), f"{at}.source", folder=False)
            raw = str(self.text(entry, "dest", at))
            if not raw.strip().startswith("dbfs:/"):
                raise self.error(f"{at}.dest", f"{printable(raw)} must start with dbfs:/")
            dest = self.remote(dbfs_path, raw, f"{at}.dest")
            if dest == "/":
                raise self.error(f"{at}.dest", "must name a file, not the DBFS root")
            self.unique(seen, dest, f"{at}.dest", "the DBFS path")
            files.append(DbfsFile(source=source, dest=dest))
        return tuple(files)

    def secrets(self, value: object) -> tuple[SecretScope, ...]:
        scopes: list[SecretScope] = []
        seen: dict[str, str] = {}
        for index, item in enumerate(self.listing(value, "secrets")):
            at = f"secrets[{index}]"
            entry = self.mapping(item, at, ("scope", "keys"))
            scope = str(self.text(entry, "scope", at))
            if not _SECRET_NAME.match(scope):
                raise self.error(f"{at}.scope", f"{printable(scope)} must be {_SECRET_NAME_RULE}")
            self.unique(seen, scope, f"{at}.scope", "the scope")
            keys = entry.get("keys") or {}
            if not isinstance(keys, dict):
                raise self.error(f"{at}.keys", f"must be an object (key: value mapping), not {_kind(keys)}")
            for key in keys:
                if not _SECRET_NAME.match(key):
                    raise self.error(f"{at}.keys.{key}", f"a key must be {_SECRET_NAME_RULE}")
            values = tuple(self.secret(key, spec, f"{at}.keys.{key}") for key, spec in keys.items())
            scopes.append(SecretScope(scope=scope, keys=values))
        return tuple(scopes)

    def secret(self, key: str, spec: object, where: str) -> SecretKey:
        """Read the value of ``{env: NAME}`` or ``{file: PATH}``; never show it, nor what stands instead."""
        if not isinstance(spec, dict) or not spec or any(k not in ("env", "file") for k in spec):
            raise self.error(
                where,
                "secret values may not be written in the deployment file; "
                "give {env: VARIABLE} or {file: PATH} instead",
            )
        if len(spec) != 1:
            raise self.error(where, "give one of env or file, not both")
        if "env" in spec:
            where, name = f"{where}.env", str(self.text(spec, "env", where))
            if not _ENV_NAME.match(name):
                raise self.error(where, f"{printable(name)} is not an environment variable name")
            text = self.environ.get(name)
            if not text:
                raise self.error(
                    where, f"the environment variable {name} is {'not set' if text is None else 'empty'}"
                )
            origin, value, shown = f"env {name}", os.fsencode(text), f"{name} holds"
        else:
            where, raw = f"{where}.file", str(self.text(spec, "file", where))
            path = self.local(raw, where, folder=False)
            self.secret_files[where] = path
            try:
                with path.open("rb") as stream:
                    value = stream.read(MAX_SECRET_BYTES + 1)
            except OSError as exc:
                raise self.error(where, f"cannot read {printable(raw)}: {exc.strerror or exc}") from exc
            if not value:
                raise self.error(where, f"{printable(raw)} is empty")
            origin, shown = f"file {raw}", f"{printable(raw)} holds"
        if len(value) > MAX_SECRET_BYTES:
            raise self.error(where, f"{shown} more than 128 KiB, the most a secret may hold")
        register_secret(value)
        return SecretKey(key=key, origin=origin, value=value)

    def keep_secrets_out(self, workspace: Folder) -> None:
        """Refuse a secret file inside the folder imported into the workspace: it would be uploaded."""
        for where, path in self.secret_files.items():
            if path.is_relative_to(workspace.source):
                raise self.error(where, "lies inside workspace.source, which is imported into the workspace")

    def repos(self, value: object) -> tuple[RepoRef, ...]:
        repos: list[RepoRef] = []
        seen: dict[str, str] = {}
        for index, item in enumerate(self.listing(value, "repos")):
            at = f"repos[{index}]"
            entry = self.mapping(item, at, ("path", "branch", "tag"))
            path = self.remote(workspace_path, str(self.text(entry, "path", at)), f"{at}.path")
            branch = self.text(entry, "branch", at, required=False)
            tag = self.text(entry, "tag", at, required=False)
            if (branch is None) == (tag is None):
                raise self.error(at, "give exactly one of branch or tag")
            self.unique(seen, path, f"{at}.path", "the repo")
            repos.append(RepoRef(path=path, branch=branch, tag=tag))
        return tuple(repos)

    def jobs(self, value: object, deployment: str) -> tuple[JobEntry, ...]:
        jobs: list[JobEntry] = []
        seen: dict[str, str] = {}
        for index, item in enumerate(self.listing(value, "jobs")):
            at = f"jobs[{index}]"
            if not isinstance(item, dict):
                raise self.error(at, f"must be an object (job settings), not {_kind(item)}")
            name = str(self.text(item, "name", at))
            self.unique(seen, name.lower(), f"{at}.name", "the job name")
            entry = {key: value for key, value in item.items() if key != "permissions"}
            settings = self.job_file(entry, at, name) if "file" in entry else entry
            settings = self.job_settings(settings, f"{at} {printable(name)}", deployment)
            grants = self.job_permissions(item["permissions"], at) if "permissions" in item else None
            jobs.append(JobEntry(name=name, settings=settings, permissions=grants))
        return tuple(jobs)

    def job_file(self, entry: Mapping[str, Any], at: str, name: str) -> dict[str, Any]:
        from brickbook.specs import load_spec

        self.mapping(entry, at, ("name", "file"))
        path = self.local(str(self.text(entry, "file", at)), f"{at}.file", folder=False)
        try:
            settings = load_spec(None, str(path))
        except UsageError as exc:
            raise self.error(f"{at}.file", exc.message) from exc
        named = settings.get("name")
        if named is not None and named != name:
            raise self.error(f"{at}.file", f"the job file names the job {named!r}, the entry {name!r}")
        return {**settings, "name": name}

    def job_permissions(self, value: object, at: str) -> tuple[Grant, ...]:
        """Validate ``permissions``: a list of ``{user_name|group_name|service_principal_name,
        permission_level}`` with job levels (an empty list leaves only the owner)."""
        try:
            return tuple(grants_from_list(KINDS["jobs"], value, f"{at}.permissions"))
        except UsageError as exc:
            raise UsageError(f"{self.source}: {exc.message}") from exc

    def job_settings(self, settings: dict[str, Any], at: str, deployment: str) -> dict[str, Any]:
        tags = settings.get("tags") or {}
        if not isinstance(tags, dict):
            raise self.error(f"{at}: tags", f"must be an object (key: value mapping), not {_kind(tags)}")
        if tags.get(DEPLOYMENT_TAG, deployment) != deployment:
            raise self.error(
                f"{at}: tags.{DEPLOYMENT_TAG}",
                f"is set by the deployment (to {deployment!r}); leave it out",
            )
        settings = {**settings, "tags": {**tags, DEPLOYMENT_TAG: deployment}}
        _validate_job(settings, lambda problem: self.error(at, problem))
        return settings


def _validate_job(settings: Mapping[str, Any], error: Callable[[str], UsageError]) -> None:
    """Check job settings with the job spec validator; its "spec: FIELD ..." messages get the job's path."""
    from brickbook.specs import validate_job_spec

    try:
        validate_job_spec(settings)
    except UsageError as exc:
        raise error(exc.message.removeprefix("spec: ")) from exc
