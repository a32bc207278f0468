"""Git folders (Repos API 2.0): real clones of local Git repositories, shown in the workspace tree.

The emulator has no network. A repo whose ``url`` is a local path or a ``file://`` URL is cloned for real
with the ``git`` CLI into a temporary directory; the checked-out files are copied into the workspace
tree below the REPO object (notebooks with their header become NOTEBOOKs without extension, the rest
FILEs), then the clone is removed. ``update`` clones again at the new branch or tag, so checking out the
same branch pulls its latest commit; the folder's content is replaced (local edits in the Git folder are
discarded, where the real service would keep or conflict on them). Any other URL is refused, unless the
emulator runs with ``allow_remote_repos``: then the repo is recorded with its branch, a made-up head
commit and no files.

Store: kind ``repo`` (``REPO_KIND``), key ``str(id)``, value ``{"path", "url", "provider", "branch"
(absent on a detached HEAD), "head_commit_id", "sparse_checkout"?, "remote_only"?}``. ``id`` is the
REPO object's workspace ``object_id``. The files live in the workspace kinds (see state/workspace.py).

Permissions are the workspace's on the Git folder's path (state/access.py): ``/Repos/<name>/...`` is
<name>'s alone. Reading needs CAN_READ, update CAN_EDIT, delete CAN_MANAGE; ``list`` shows only the repos
the caller manages, as the real service does.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from brickbook.emulator.errors import ApiError
from brickbook.emulator.state.access import may, require
from brickbook.emulator.state.identity import Principal
from brickbook.emulator.state.numbers import whole_number
from brickbook.emulator.state.paging import decode_after, encode_after
from brickbook.emulator.state.store import Store
from brickbook.emulator.state.workspace import REPO_KIND, WorkspaceState, canonical_path

__all__ = ["PAGE_SIZE", "PROVIDERS", "RepoState", "Snapshot", "checkout", "local_source"]

PROVIDERS = (
    "gitHub",
    "bitbucketCloud",
    "gitLab",
    "azureDevOpsServices",
    "gitHubEnterprise",
    "bitbucketServer",
    "gitLabEnterpriseEdition",
    "awsCodeCommit",
)
PAGE_SIZE = 20
_GIT_TIMEOUT_SECONDS = 120


@dataclass(frozen=True)
class Snapshot:
    """A checked-out commit: its files (relative POSIX path -> bytes), branch (None if detached), head."""

    files: Mapping[str, bytes]
    branch: str | None
    head_commit_id: str | None


def local_source(url: str) -> str | None:
    """The local path or ``file://`` URL git can clone without a network, or None for anything else."""
    if url.startswith("file://"):
        return url
    if url.startswith("/") and Path(url).exists():
        return url
    return None


def _git(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
    try:
        return subprocess.run(
            ["git", *args], cwd=cwd, env=env, capture_output=True, timeout=_GIT_TIMEOUT_SECONDS, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ApiError("GIT_REMOTE_ERROR", f"git could not run: {exc}", status=400) from exc


def checkout(source: str, *, ref: str | None, sparse: tuple[str, ...] = ()) -> Snapshot:
    """Clone ``source`` at ``ref`` (a branch or tag; None = the default branch) and read its files."""
    with tempfile.TemporaryDirectory(prefix="brickbook-repo-") as temp:
        target = Path(temp) / "clone"
        extra = ["--branch", ref] if ref else []
        done = _git("clone", "--quiet", *extra, "--", source, str(target))
        if done.returncode != 0:
            message = done.stderr.decode(errors="replace").strip().splitlines()
            detail = message[-1] if message else "git clone failed"
            if ref and "not found in upstream" in detail:
                raise ApiError("GIT_UNKNOWN_REF", f"Branch or tag '{ref}' does not exist.", status=400)
            raise ApiError("GIT_REMOTE_ERROR", f"Could not clone {source}: {detail}", status=400)
        head = _git("rev-parse", "--verify", "-q", "HEAD", cwd=target)
        branch = _git("symbolic-ref", "--short", "-q", "HEAD", cwd=target)
        listed = _git("ls-files", "-z", cwd=target).stdout.decode(errors="surrogateescape")
        files: dict[str, bytes] = {}
        for name in filter(None, listed.split("\0")):
            path = target / name
            if path.is_file() and not path.is_symlink() and _in_sparse(name, sparse):
                files[name] = path.read_bytes()
        return Snapshot(
            files=files,
            branch=(branch.stdout.decode().strip() or None) if branch.returncode == 0 else None,
            head_commit_id=(head.stdout.decode().strip() or None) if head.returncode == 0 else None,
        )


def _in_sparse(name: str, patterns: tuple[str, ...]) -> bool:
    """Cone-mode sparse checkout: top-level files always, others only below a listed directory."""
    if not patterns or "/" not in name:
        return True
    return any(name.startswith(p.strip("/") + "/") for p in patterns)


def _made_up_head(url: str, ref: str) -> str:
    return hashlib.sha1(f"{url}@{ref}".encode(), usedforsecurity=False).hexdigest()


class RepoState:
    """The Repos API rules on top of the workspace tree."""

    def __init__(self, store: Store, workspace: WorkspaceState, *, allow_remote: bool = False) -> None:
        self._store = store
        self._workspace = workspace
        self._allow_remote = allow_remote

    def create(
        self, caller: Principal, *, url: object, provider: object, path: object, sparse_checkout: object
    ) -> dict[str, Any]:
        """``POST /api/2.0/repos``: clone and place the Git folder; return its RepoInfo."""
        if not isinstance(url, str) or not url:
            raise ApiError("INVALID_PARAMETER_VALUE", "Missing required field: url")
        canonical_provider = self._provider(provider)
        patterns = self._patterns(sparse_checkout)
        where = self._repo_path(caller.user_name, url, path)
        require(caller, self._workspace.resource(where), "CAN_EDIT")  # before a clone, not after
        source = self._source(url)
        if self._workspace.exists(where):
            raise ApiError("RESOURCE_ALREADY_EXISTS", f"Path ({where}) already exists.")
        record: dict[str, Any] = {"path": where, "url": url, "provider": canonical_provider}
        if patterns:
            record["sparse_checkout"] = {"patterns": list(patterns)}
        if source is None:
            snapshot = Snapshot({}, "main", _made_up_head(url, "main"))
            record["remote_only"] = True
        else:
            snapshot = checkout(source, ref=None, sparse=patterns)
        with self._store.transaction():
            repo_id = self._workspace.create_repo_folder(caller, where)
            self._workspace.replace_tree(where, snapshot.files)
            self._store.put(REPO_KIND, str(repo_id), self._with(record, snapshot))
        return self.get(caller, repo_id)

    def get(self, caller: Principal, repo_id: object, needed: str = "CAN_READ") -> dict[str, Any]:
        """``GET /api/2.0/repos/{id}`` (and the RepoInfo the caller needs ``needed`` on, for the others)."""
        key = self._key(repo_id)
        record = self._store.get(REPO_KIND, key)
        if record is None:
            raise ApiError("RESOURCE_DOES_NOT_EXIST", f"Repo {key} does not exist.")
        require(caller, self._workspace.resource(record["path"]), needed)
        return self._info(int(key), record)

    def list_repos(
        self, caller: Principal, *, path_prefix: object, page_token: object
    ) -> tuple[list[dict[str, Any]], str | None]:
        """``GET /api/2.0/repos``: the caller's repos under the prefix (default ``/Repos``) by path, paged."""
        prefix = canonical_path(path_prefix) if isinstance(path_prefix, str) and path_prefix else "/"
        if prefix == "/":
            prefix = "/Repos"
        after = decode_after(page_token)
        matches = sorted(
            (record["path"], int(key), record)
            for key, record in self._store.items(REPO_KIND)
            if record["path"].startswith(prefix)
            and record["path"] > after
            and may(caller, self._workspace.resource(record["path"]), "CAN_MANAGE")
        )
        page = matches[:PAGE_SIZE]
        token = None
        if len(matches) > PAGE_SIZE:
            token = encode_after(page[-1][0])
        return [self._info(repo_id, record) for _, repo_id, record in page], token

    def update(
        self, caller: Principal, repo_id: object, *, branch: object, tag: object, sparse_checkout: object
    ) -> None:
        """``PATCH /api/2.0/repos/{id}``: check out a branch (pulling it) or a tag (detached HEAD)."""
        key = self._key(repo_id)
        current = self.get(caller, repo_id, "CAN_EDIT")
        record = self._store.get(REPO_KIND, key)
        assert record is not None
        if branch is not None and tag is not None:
            raise ApiError("INVALID_PARAMETER_VALUE", "Only one of branch and tag can be given.")
        ref = branch if branch is not None else tag
        if ref is not None and (not isinstance(ref, str) or not ref):
            raise ApiError("INVALID_PARAMETER_VALUE", "branch and tag must be non-empty strings.")
        if ref is None and sparse_checkout is None:
            raise ApiError("INVALID_PARAMETER_VALUE", "Give a branch, a tag or sparse_checkout to update.")
        if sparse_checkout is not None:
            record["sparse_checkout"] = {"patterns": list(self._patterns(sparse_checkout))}
        patterns = tuple(record.get("sparse_checkout", {}).get("patterns", ()))
        if record.get("remote_only"):
            name = ref or current.get("branch") or "main"
            snapshot = Snapshot({}, None if tag is not None else name, _made_up_head(record["url"], name))
        else:
            source = local_source(record["url"])
            if source is None:
                raise ApiError("GIT_REMOTE_ERROR", f"Cannot reach {record['url']} any more.", status=400)
            snapshot = checkout(source, ref=ref or current.get("branch"), sparse=patterns)
        with self._store.transaction():
            self._workspace.replace_tree(record["path"], snapshot.files)
            self._store.put(REPO_KIND, key, self._with(record, snapshot))

    def delete(self, caller: Principal, repo_id: object) -> None:
        """``DELETE /api/2.0/repos/{id}``: remove the Git folder and everything in it."""
        path = self.get(caller, repo_id, "CAN_MANAGE")["path"]
        self._workspace.delete(caller, path, recursive=True)

    # -- internals ------------------------------------------------------------------------------------

    def _with(self, record: dict[str, Any], snapshot: Snapshot) -> dict[str, Any]:
        updated = {k: v for k, v in record.items() if k not in ("branch", "head_commit_id")}
        if snapshot.branch is not None:
            updated["branch"] = snapshot.branch
        if snapshot.head_commit_id is not None:
            updated["head_commit_id"] = snapshot.head_commit_id
        return updated

    def _info(self, repo_id: int, record: dict[str, Any]) -> dict[str, Any]:
        return {"id": repo_id, **{k: v for k, v in record.items() if k != "remote_only"}}

    def _key(self, repo_id: object) -> str:
        number = whole_number(repo_id)
        if number is None:
            text = str(repo_id)[:100]
            raise ApiError("INVALID_PARAMETER_VALUE", f"Invalid repo id {text!r}: expected an integer.")
        return str(number)

    def _provider(self, provider: object) -> str:
        if not isinstance(provider, str) or not provider:
            raise ApiError("INVALID_PARAMETER_VALUE", "Missing required field: provider")
        for known in PROVIDERS:
            if known.lower() == provider.lower():
                return known
        raise ApiError(
            "INVALID_PARAMETER_VALUE",
            f"Invalid git provider {provider!r}: expected one of {', '.join(PROVIDERS)}.",
        )

    def _patterns(self, sparse_checkout: object) -> tuple[str, ...]:
        if sparse_checkout is None:
            return ()
        patterns = sparse_checkout.get("patterns") if isinstance(sparse_checkout, dict) else None
        if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
            raise ApiError("INVALID_PARAMETER_VALUE", "sparse_checkout.patterns must be a list of strings.")
        return tuple(patterns)

    def _repo_path(self, caller: str, url: str, path: object) -> str:
        if path is None or path == "":
            name = posixpath.basename(urlparse(url).path.rstrip("/")).removesuffix(".git") or "repo"
            return canonical_path(f"/Repos/{caller}/{name}")
        where = canonical_path(path)
        parts = where.strip("/").split("/")
        if parts[0] == "Repos" and len(parts) != 3:
            raise ApiError(
                "INVALID_PARAMETER_VALUE",
                f"Invalid repo path {where}: a repo under /Repos must be at /Repos/{{folder}}/{{repo}}.",
            )
        return where

    def _source(self, url: str) -> str | None:
        source = local_source(url)
        if source is None and not self._allow_remote:
            raise ApiError(
                "INVALID_PARAMETER_VALUE",
                f"brickbook emulator has no network access and cannot clone {url}: use a local git "
                "repository (an absolute path or a file:// URL), or start the emulator with "
                "--allow-remote-repos to record remote repos without content.",
            )
        if source is not None and source.startswith("file://"):
            local = Path(unquote(urlparse(source).path))
            if not local.exists():
                raise ApiError("GIT_REMOTE_ERROR", f"Could not clone {url}: no such repository.", status=400)
        return source
