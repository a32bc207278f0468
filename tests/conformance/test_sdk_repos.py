"""The official databricks-sdk (0.162.0) drives the emulator's Repos API unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import NotFound
from databricks.sdk.service.workspace import ObjectType

from tests.emulator.gitrepo import FEATURE_NOTEBOOK, GitRepo, make_git_repo
from tests.emulator.harness import ADMIN, ADMIN_TOKEN, Emu


@pytest.fixture
def w(sdk_env: Emu) -> WorkspaceClient:
    return WorkspaceClient(host=sdk_env.url, token=ADMIN_TOKEN)


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    return make_git_repo(tmp_path)


def test_create_get_and_list(w: WorkspaceClient, repo: GitRepo):
    """repos.create clones a local repository; get and list see it; its id is the object_id."""
    created = w.repos.create(url=str(repo.path), provider="gitHub")
    assert (created.path, created.branch, created.head_commit_id) == (
        f"/Repos/{ADMIN}/project",
        "main",
        repo.main,
    )
    assert w.repos.get(created.id).head_commit_id == repo.main
    assert [r.id for r in w.repos.list(path_prefix=f"/Repos/{ADMIN}")] == [created.id]
    info = w.workspace.get_status(created.path)
    assert (info.object_type, info.object_id) == (ObjectType.REPO, created.id)


def test_update_branch_then_tag(w: WorkspaceClient, repo: GitRepo):
    """repos.update checks out a branch (its files appear), then a tag (detached HEAD)."""
    created = w.repos.create(url=str(repo.path), provider="gitHub")
    w.repos.update(created.id, branch="feature")
    assert w.repos.get(created.id).head_commit_id == repo.feature
    assert w.workspace.download(f"{created.path}/feature").read() == FEATURE_NOTEBOOK
    w.repos.update(created.id, tag="v1")
    after = w.repos.get(created.id)
    assert (after.branch, after.head_commit_id) == (None, repo.v1)


def test_update_same_branch_pulls(w: WorkspaceClient, repo: GitRepo):
    """Updating to the current branch picks up a new upstream commit."""
    created = w.repos.create(url=str(repo.path), provider="gitHub")
    head = repo.commit("notes.txt", b"new")
    w.repos.update(created.id, branch="main")
    assert w.repos.get(created.id).head_commit_id == head


def test_delete(w: WorkspaceClient, repo: GitRepo):
    """repos.delete removes the repo and its Git folder."""
    created = w.repos.create(url=str(repo.path), provider="gitHub")
    w.repos.delete(created.id)
    with pytest.raises(NotFound):
        w.repos.get(created.id)
    with pytest.raises(NotFound):
        w.workspace.get_status(created.path)
