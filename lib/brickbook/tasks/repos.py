"""Repos tasks: list, get, create, update (switch branch or tag), delete.

Mutations print what they did: ``{"created": PATH, ...the repo}``, ``{"updated": PATH, ...}``,
``{"deleted": PATH, "id": ID}``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from brickbook.command import Invocation, command
from brickbook.errors import UsageError
from brickbook.output import render_table

if TYPE_CHECKING:
    from brickbook.client import Client

__all__ = ["create", "delete", "get", "list_", "update"]


def _repos_table(rows: list[dict[str, Any]]) -> str:
    return render_table(rows, ["id", "branch", "head_commit_id", "path", "url"])


def resolve_repo_id(client: Client, repo: str) -> int:
    """Accept a numeric repo id or the repo's workspace path."""
    if repo.isascii() and repo.isdigit():  # not '²' or '١٢', which isdigit() also accepts
        return int(repo)
    from brickbook.api import workspace
    from brickbook.api.workspace import ObjectType
    from brickbook.paths import workspace_path

    info = workspace.get_status(client, workspace_path(repo))
    if info.object_type != ObjectType.REPO or info.object_id is None:
        raise UsageError(f"{repo} is not a repo (it is a {info.object_type}): pass a repo id or path")
    return info.object_id


@command(help={"path_prefix": "Only repos under this workspace path."}, text=_repos_table, name="list")
def list_(inv: Invocation, *, path_prefix: str | None = None) -> list[Any]:
    """List the repos you can manage."""
    from brickbook.api import repos
    from brickbook.paths import workspace_path

    prefix = workspace_path(path_prefix) if path_prefix else None
    return [r.raw for r in repos.list_(inv.client, path_prefix=prefix)]


@command(help={"repo": "Repo id or workspace path."})
def get(inv: Invocation, repo: str) -> Any:
    """Show a repo: path, URL, branch and head commit."""
    from brickbook.api import repos

    return repos.get(inv.client, resolve_repo_id(inv.client, repo)).raw


@command(
    help={
        "url": "Git URL to clone.",
        "provider": "Git provider (gitHub, gitLab, bitbucketCloud, ...). Default: inferred from the URL "
        "(well-known hosts; none needed for a local repository: an absolute path or file:// URL).",
        "path": "Workspace path, e.g. /Repos/me@example.com/project. Default: chosen by the service.",
    }
)
def create(
    inv: Invocation, url: str, *, provider: str | None = None, path: str | None = None
) -> dict[str, Any]:
    """Clone a Git repository into the workspace."""
    from brickbook.api import repos
    from brickbook.paths import workspace_path

    if not url.strip() or not url.isprintable():
        raise UsageError(f"the Git URL {url!r} is empty or holds control characters")
    chosen = repos.canonical_provider(provider) if provider else repos.provider_for(url)
    if chosen is None:
        raise UsageError(f"cannot tell the Git provider of {url!r}: pass --provider (e.g. gitHub, gitLab)")
    info = repos.create(inv.client, url, chosen, path=workspace_path(path) if path else None)
    return {"created": info.path, **info.raw}


@command(
    help={
        "repo": "Repo id or workspace path.",
        "branch": "Branch to check out (the same branch pulls its latest commit).",
        "tag": "Tag to check out (detached HEAD).",
    }
)
def update(
    inv: Invocation, repo: str, *, branch: str | None = None, tag: str | None = None
) -> dict[str, Any]:
    """Switch a repo to a branch or tag."""
    from brickbook.api import repos

    if bool(branch) == bool(tag):
        raise UsageError("pass exactly one of --branch and --tag")
    repo_id = resolve_repo_id(inv.client, repo)
    repos.update(inv.client, repo_id, branch=branch, tag=tag)
    info = repos.get(inv.client, repo_id)
    return {"updated": info.path, **info.raw}


@command(help={"repo": "Repo id or workspace path."})
def delete(inv: Invocation, repo: str) -> dict[str, Any]:
    """Remove a repo from the workspace."""
    from brickbook.api import repos

    # Read it first: what was deleted is named by its path, whichever of id or path was given.
    info = repos.get(inv.client, resolve_repo_id(inv.client, repo))
    repos.delete(inv.client, info.id)
    return {"deleted": info.path, "id": info.id}
