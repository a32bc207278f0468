"""Repos (Git folders) API primitives (``/api/2.0/repos``): one function per endpoint.

Facts §5: ``list`` pages with a query parameter named ``next_page_token`` (not ``page_token``);
``update`` takes a branch or a tag (a tag leaves a detached HEAD); sending the same branch pulls;
``create`` needs a ``provider`` from ``PROVIDERS`` (any case), which ``provider_for`` infers from the URL.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from brickbook.api.model import ApiObject
from brickbook.client import Client
from brickbook.errors import UsageError

__all__ = [
    "LOCAL_PROVIDER",
    "PROVIDERS",
    "RepoInfo",
    "canonical_provider",
    "create",
    "delete",
    "get",
    "list_",
    "provider_for",
    "update",
]

BASE = "/api/2.0/repos"
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


@dataclass(frozen=True)
class RepoInfo(ApiObject):
    """A Git folder in the workspace."""

    id: int = 0
    path: str = ""
    url: str = ""
    provider: str = ""
    branch: str | None = None
    head_commit_id: str | None = None


def canonical_provider(name: str) -> str:
    """Return the API spelling of a provider given in any case, or raise UsageError listing them."""
    for known in PROVIDERS:
        if known.lower() == name.lower():
            return known
    raise UsageError(f"unknown Git provider {name!r}: use one of {', '.join(PROVIDERS)}")


def provider_for(url: str) -> str | None:
    """Infer the provider of a Git URL: a well-known host, or a local repository; None if unknown."""
    if url.startswith("/") or url.lower().startswith("file://"):
        return LOCAL_PROVIDER
    scp = _SCP_LIKE.match(url)
    host = scp.group(1) if scp else urlparse(url).hostname or ""
    host = host.lower()
    for known, provider in PROVIDER_BY_HOST.items():
        if host == known or host.endswith("." + known):
            return provider
    return None


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
    """Check out a branch (pulling it) or a tag: ``PATCH /api/2.0/repos/{repo_id}``."""
    body = {"branch": branch} if branch else {"tag": tag}
    client.request("PATCH", f"{BASE}/{repo_id}", body=body)


def delete(client: Client, repo_id: int) -> None:
    """Remove a repo from the workspace: ``DELETE /api/2.0/repos/{repo_id}``."""
    client.request("DELETE", f"{BASE}/{repo_id}")
