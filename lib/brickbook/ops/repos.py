"""Repos (Git folders) operations: name a repo by id or path, infer its Git provider, put it on a ref.

``plan_repo_ref`` / ``apply_repo_ref`` make a repo sit on a branch or a tag. The Repos API's ``get``
reports the checked-out ``branch`` (absent on a detached HEAD) and ``head_commit_id``, never a tag, and
nothing resolves a tag to its commit without checking it out. So a branch is ``unchanged`` when the
repo is already on it (no pull: ``repos.update`` pulls), and a tag is always planned as an ``update``;
applying it checks the tag out and then compares the head: a repo that was already detached at that
very commit comes back ``unchanged``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlparse

from brickbook.api import repos, workspace
from brickbook.api.repos import PROVIDERS, RepoInfo
from brickbook.api.workspace import ObjectType
from brickbook.change import Action, Change
from brickbook.context import Context
from brickbook.errors import UsageError
from brickbook.paths import printable, workspace_path

__all__ = [
    "LOCAL_PROVIDER",
    "apply_repo_ref",
    "canonical_provider",
    "create_repo",
    "delete_repo",
    "plan_repo_ref",
    "provider_for",
    "resolve_repo_id",
    "update_repo",
]

# Hosts whose provider is known, as the Databricks CLI infers them.
PROVIDER_BY_HOST = {
    "github.com": "gitHub",
    "gitlab.com": "gitLab",
    "bitbucket.org": "bitbucketCloud",
    "dev.azure.com": "azureDevOpsServices",
}
# A local repository (an absolute path or a file:// URL) has no hosting provider, but the API requires
# one from its list; it is only a label there, and the emulator, which clones such repositories, takes
# any listed value. gitHub is the API's first and most generic value.
LOCAL_PROVIDER = "gitHub"
_SCP_LIKE = re.compile(r"^[^/@:]+@([^/:]+):")  # git@github.com:acme/etl.git


def canonical_provider(name: str) -> str:
    """Return the API spelling of a provider given in any case, or raise UsageError listing them."""
    for known in PROVIDERS:
        if known.lower() == name.lower():
            return known
    raise UsageError(f"unknown Git provider {printable(name)}: use one of {', '.join(PROVIDERS)}")


def provider_for(url: str) -> str | None:
    """Infer the provider of a Git URL: a well-known host, or a local repository; None if unknown."""
    if url.startswith("/") or url.lower().startswith("file://"):
        return LOCAL_PROVIDER
    scp = _SCP_LIKE.match(url)
    host = (scp.group(1) if scp else urlparse(url).hostname or "").lower()
    for known, provider in PROVIDER_BY_HOST.items():
        if host == known or host.endswith("." + known):
            return provider
    return None


def resolve_repo_id(ctx: Context, repo: str) -> int:
    """Return the id of a repo named by its numeric id or its workspace path (its ``object_id``)."""
    if repo.isascii() and repo.isdigit():  # not '²' or '١٢', which isdigit() also accepts
        return int(repo)
    info = workspace.get_status(ctx.client, workspace_path(repo))
    if info.object_type != ObjectType.REPO or info.object_id is None:
        raise UsageError(f"{repo} is not a repo (it is a {info.object_type})").with_hint(
            "name a repo by its id or its workspace path"
        )
    return info.object_id


def create_repo(ctx: Context, url: str, *, provider: str | None, path: str | None) -> RepoInfo:
    """Clone a Git repository into the workspace; the provider is inferred from the URL when not given."""
    if not url.strip() or not url.isprintable():
        raise UsageError(f"the Git URL {url!r} is empty or holds control characters")
    chosen = canonical_provider(provider) if provider else provider_for(url)
    if chosen is None:
        raise UsageError(f"cannot tell the Git provider of {url!r}").with_hint(
            "pass --provider (e.g. gitHub, gitLab)"
        )
    return repos.create(ctx.client, url, chosen, path=workspace_path(path) if path else None)


def update_repo(ctx: Context, repo: str, *, branch: str | None, tag: str | None) -> RepoInfo:
    """Check out a branch (pulling it, even when already on it) or a tag; return the repo afterwards."""
    _check_ref(branch, tag)
    repo_id = resolve_repo_id(ctx, repo)
    repos.update(ctx.client, repo_id, branch=branch, tag=tag)
    return repos.get(ctx.client, repo_id)


def delete_repo(ctx: Context, repo: str) -> RepoInfo:
    """Remove a repo from the workspace; return what it was (read first, so it is named by its path)."""
    info = repos.get(ctx.client, resolve_repo_id(ctx, repo))
    repos.delete(ctx.client, info.id)
    return info


def _check_ref(branch: str | None, tag: str | None) -> None:
    if bool(branch) == bool(tag):
        raise UsageError("give exactly one of a branch and a tag").with_hint("pass --branch or --tag")


@dataclass(frozen=True)
class _Ref:
    """What applying a ref change needs (a Change payload)."""

    repo_id: int
    branch: str | None
    tag: str | None
    before: RepoInfo


def plan_repo_ref(ctx: Context, repo: str, *, branch: str | None, tag: str | None) -> Change:
    """Plan putting a repo on ``branch`` or ``tag`` (exactly one): update or unchanged (reads only)."""
    _check_ref(branch, tag)
    repo_id = resolve_repo_id(ctx, repo)
    info = repos.get(ctx.client, repo_id)
    target = f"repo {info.path}"
    payload = _Ref(repo_id, branch, tag, info)
    where = f"branch {info.branch}" if info.branch else f"a detached HEAD at {_short(info.head_commit_id)}"
    if branch:
        if info.branch == branch:
            return Change(Action.UNCHANGED, target, reason=f"on branch {branch}", payload=payload)
        return Change(Action.UPDATE, target, ("branch",), f"on {where}, not branch {branch}", payload)
    return Change(Action.UPDATE, target, ("tag",), f"on {where}; the API does not report tags", payload)


def apply_repo_ref(ctx: Context, change: Change) -> Change:
    """Check out the ref of a change planned by ``plan_repo_ref``; return what it did.

    A tag checkout that leaves a repo detached at the commit it was already detached at is returned as
    ``unchanged``; any other checkout as an ``update`` naming the new head.
    """
    ref = change.payload
    if not change.changed or not isinstance(ref, _Ref):
        return change
    repos.update(ctx.client, ref.repo_id, branch=ref.branch, tag=ref.tag)
    after = repos.get(ctx.client, ref.repo_id)
    name = f"branch {ref.branch}" if ref.branch else f"tag {ref.tag}"
    was_there = ref.before.branch is None and after.branch is None
    if ref.tag and was_there and after.head_commit_id == ref.before.head_commit_id:
        reason = f"already at {name} ({_short(after.head_commit_id)})"
        return Change(Action.UNCHANGED, change.target, reason=reason, payload=ref)
    reason = f"now on {name} at {_short(after.head_commit_id)}"
    return Change(Action.UPDATE, change.target, change.fields, reason, payload=ref)


def _short(commit: str | None) -> str:
    return commit[:12] if commit else "an unknown commit"
