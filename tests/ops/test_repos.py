"""Repos ops called directly with a Context on a real client, on a local Git repository."""

from __future__ import annotations

from pathlib import Path

import pytest

from brickbook.api import repos
from brickbook.api.repos import RepoInfo
from brickbook.change import Action
from brickbook.context import Context
from brickbook.errors import UsageError
from brickbook.ops.repos import apply_repo_ref, create_repo, plan_repo_ref, resolve_repo_id
from tests.conftest import Emulator
from tests.emulator.gitrepo import GitRepo, make_git_repo

REPOS = "/api/2.0/repos"


@pytest.fixture
def git(tmp_path: Path) -> GitRepo:
    return make_git_repo(tmp_path)


@pytest.fixture
def repo(ctx: Context, git: GitRepo) -> RepoInfo:
    """The local repository cloned at its default path, on main (a local path needs no provider)."""
    return create_repo(ctx, str(git.path), provider=None, path=None)


def patches(emulator: Emulator) -> int:
    return len([r for r in emulator.requests(REPOS) if r["method"] == "PATCH"])


def test_resolve_repo_id_by_id_and_by_path(ctx: Context, repo: RepoInfo):
    """A repo is named by its numeric id or by its workspace path."""
    assert resolve_repo_id(ctx, str(repo.id)) == repo.id
    assert resolve_repo_id(ctx, "/Repos/admin@example.com/project") == repo.id


def test_resolve_repo_id_of_a_folder_that_is_not_a_repo(ctx: Context):
    """A workspace path that is no repo is a UsageError naming it."""
    with pytest.raises(UsageError, match="/Shared is not a repo"):
        resolve_repo_id(ctx, "/Shared")


def test_the_branch_the_repo_is_on_is_unchanged(ctx: Context, emulator: Emulator, repo: RepoInfo):
    """Already on the branch: unchanged, and applying it sends no update (no pull)."""
    change = plan_repo_ref(ctx, "/Repos/admin@example.com/project", branch="main", tag=None)
    assert (change.action, change.target, change.reason) == (
        Action.UNCHANGED,
        "repo /Repos/admin@example.com/project",
        "on branch main",
    )
    assert apply_repo_ref(ctx, change) == change
    assert patches(emulator) == 0


def test_another_branch_is_an_update_that_apply_checks_out(
    ctx: Context, emulator: Emulator, git: GitRepo, repo: RepoInfo
):
    """Another branch plans an update of the branch; apply checks it out and names the new head."""
    change = plan_repo_ref(ctx, str(repo.id), branch="feature", tag=None)
    assert (change.action, change.fields) == (Action.UPDATE, ("branch",))
    assert patches(emulator) == 0
    done = apply_repo_ref(ctx, change)
    assert done.action is Action.UPDATE and git.feature[:12] in done.reason
    after = repos.get(ctx.client, repo.id)
    assert (after.branch, after.head_commit_id) == ("feature", git.feature)
    assert plan_repo_ref(ctx, str(repo.id), branch="feature", tag=None).action is Action.UNCHANGED


def test_a_tag_is_always_planned_and_applied_unchanged_when_already_there(
    ctx: Context, emulator: Emulator, git: GitRepo, repo: RepoInfo
):
    """The API reports no tag: a tag is an update; checked out again at the same commit it is unchanged."""
    first = plan_repo_ref(ctx, "/Repos/admin@example.com/project", branch=None, tag="v1")
    assert (first.action, first.fields) == (Action.UPDATE, ("tag",))
    assert "does not report tags" in first.reason
    assert apply_repo_ref(ctx, first).action is Action.UPDATE
    assert repos.get(ctx.client, repo.id).head_commit_id == git.v1
    second = plan_repo_ref(ctx, "/Repos/admin@example.com/project", branch=None, tag="v1")
    assert second.action is Action.UPDATE
    done = apply_repo_ref(ctx, second)
    assert (done.action, done.reason) == (Action.UNCHANGED, f"already at tag v1 ({git.v1[:12]})")


def test_exactly_one_of_branch_and_tag_before_any_request(ctx: Context, emulator: Emulator):
    """Neither or both of branch and tag is a UsageError, and nothing is asked of the service."""
    for branch, tag in ((None, None), ("main", "v1")):
        with pytest.raises(UsageError, match="exactly one of a branch and a tag"):
            plan_repo_ref(ctx, "123", branch=branch, tag=tag)
    assert emulator.requests(REPOS) == []


def test_create_repo_without_a_known_provider_is_refused_before_any_request(ctx: Context, emulator: Emulator):
    """A URL on an unknown host without a provider is a UsageError whose hint says what to pass."""
    with pytest.raises(UsageError, match="cannot tell the Git provider") as caught:
        create_repo(ctx, "https://git.example.com/acme/etl.git", provider=None, path=None)
    assert caught.value.hint is not None and "--provider" in caught.value.hint
    assert emulator.requests(REPOS) == []
