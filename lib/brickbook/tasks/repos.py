"""Repos tasks: list, get, create, update (switch branch or tag), delete.

Mutations print what they did: ``{"created": PATH, ...the repo}``, ``{"updated": PATH, ...}``,
``{"deleted": PATH, "id": ID}``.
"""

from __future__ import annotations

from typing import Any

from brickbook.command import Invocation, command
from brickbook.errors import UsageError
from brickbook.output import render_table

__all__ = ["create", "delete", "get", "list_", "update"]


def _repos_table(rows: list[dict[str, Any]]) -> str:
    return render_table(rows, ["id", "branch", "head_commit_id", "path", "url"])


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
    from brickbook.ops.repos import resolve_repo_id

    return repos.get(inv.client, resolve_repo_id(inv.context, repo)).raw


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
    from brickbook.ops.repos import create_repo, provider_for

    if provider is None and url.isprintable() and provider_for(url) is None:
        raise UsageError(f"cannot tell the Git provider of {url!r}: pass --provider (e.g. gitHub, gitLab)")
    info = create_repo(inv.context, url, provider=provider, path=path)
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
    """Switch a repo to a branch or tag (the same branch pulls its latest commit)."""
    from brickbook.ops.repos import update_repo

    if bool(branch) == bool(tag):
        raise UsageError("pass exactly one of --branch and --tag")
    info = update_repo(inv.context, repo, branch=branch, tag=tag)
    return {"updated": info.path, **info.raw}


@command(help={"repo": "Repo id or workspace path."})
def delete(inv: Invocation, repo: str) -> dict[str, Any]:
    """Remove a repo from the workspace."""
    from brickbook.ops.repos import delete_repo

    info = delete_repo(inv.context, repo)
    return {"deleted": info.path, "id": info.id}
