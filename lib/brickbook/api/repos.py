"""Repos (Git folders) API 2.0 primitives (``/api/2.0/repos``): one function per endpoint.

From the Repos API reference: ``list`` pages with a query parameter named ``next_page_token`` (not
``page_token``); ``get`` reports ``branch`` (absent on a detached HEAD) and ``head_commit_id``, never
a tag; ``update`` takes a branch or a tag (a tag leaves a detached HEAD) and sending the same branch
pulls; ``create`` needs a ``provider`` from ``PROVIDERS`` (brickbook.ops.repos infers it from the URL).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from brickbook.api.model import ApiObject
from brickbook.client import Client

__all__ = ["PROVIDERS", "RepoInfo", "create", "delete", "get", "list_", "update"]

BASE = "/api/2.0/repos"
# The values ``create`` accepts for ``provider`` (the service matches them in any case).
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


@dataclass(frozen=True)
class RepoInfo(ApiObject):
    """A Git folder in the workspace."""

    id: int = 0
    path: str = ""
    url: str = ""
    provider: str = ""
    branch: str | None = None
    head_commit_id: str | None = None


def list_(client: Client, *, path_prefix: str | None = None) -> Iterator[RepoInfo]:
    """Yield every repo the caller can manage: ``GET /api/2.0/repos`` (paged by ``next_page_token``)."""
    pages = client.paginate(
        BASE, items_key="repos", query={"path_prefix": path_prefix}, token_param="next_page_token"
    )
    return (RepoInfo.from_api(r) for r in pages)


def get(client: Client, repo_id: int) -> RepoInfo:
    """Describe a repo: ``GET /api/2.0/repos/{repo_id}``."""
    return RepoInfo.from_api(client.get(f"{BASE}/{repo_id}"))


def create(client: Client, url: str, provider: str, *, path: str | None = None) -> RepoInfo:
    """Clone a remote repository into the workspace: ``POST /api/2.0/repos``."""
    body: dict[str, Any] = {"url": url, "provider": provider}
    if path:
        body["path"] = path
    return RepoInfo.from_api(client.post(BASE, body))


def update(client: Client, repo_id: int, *, branch: str | None = None, tag: str | None = None) -> None:
    """Check out a branch (pulling it) or a tag: ``PATCH /api/2.0/repos/{repo_id}``.

    Exactly one of ``branch`` and ``tag``: anything else is a ValueError before any request (the
    service takes one ref; sending one of two would drop the other without a word).
    """
    if bool(branch) == bool(tag):
        raise ValueError("give exactly one of branch and tag")
    body = {"branch": branch} if branch else {"tag": tag}
    client.request("PATCH", f"{BASE}/{repo_id}", body=body)


def delete(client: Client, repo_id: int) -> None:
    """Remove a repo from the workspace: ``DELETE /api/2.0/repos/{repo_id}``."""
    client.request("DELETE", f"{BASE}/{repo_id}")
