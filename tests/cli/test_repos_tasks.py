"""Repos tasks from the command line against the emulator, on a local Git repository."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from brickbook.ops.repos import provider_for
from tests.conftest import Emulator, run_cli
from tests.emulator.gitrepo import GitRepo, make_git_repo

REPOS = "/api/2.0/repos"
ADMIN = "admin@example.com"


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    return make_git_repo(tmp_path)


def ok_json(*args: str) -> Any:
    result = run_cli(*args, "-o", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def create(repo: GitRepo, *extra: str) -> dict[str, Any]:
    info: dict[str, Any] = ok_json("repos.create", str(repo.path), "--provider", "gitHub", *extra)
    return info


def test_create_clones_the_repository(workspace_env: Emulator, repo: GitRepo):
    """repos.create prints the new repo: default path, branch main, head commit."""
    info = create(repo)
    assert (info["path"], info["branch"], info["head_commit_id"]) == (
        f"/Repos/{ADMIN}/project",
        "main",
        repo.main,
    )


def test_create_with_a_path(workspace_env: Emulator, repo: GitRepo):
    """--path places the repo; the provider is accepted in any case."""
    info = ok_json("repos.create", str(repo.path), "--provider", "GITHUB", "--path", f"/Repos/{ADMIN}/x")
    assert (info["path"], info["provider"]) == (f"/Repos/{ADMIN}/x", "gitHub")


def test_create_without_a_provider_for_an_unknown_host(workspace_env: Emulator):
    """A URL whose provider cannot be inferred exits 2 asking for --provider, before any request."""
    result = run_cli("repos.create", "https://git.example.com/acme/etl.git")
    assert result.exit_code == 2 and "--provider" in result.stderr
    assert workspace_env.requests(REPOS) == []


def test_create_from_a_local_path_needs_no_provider(workspace_env: Emulator, repo: GitRepo):
    """A local repository (an absolute path) is cloned without --provider; -o json names what was created."""
    info = ok_json("repos.create", str(repo.path))
    assert (info["created"], info["path"], info["provider"]) == (
        f"/Repos/{ADMIN}/project",
        f"/Repos/{ADMIN}/project",
        "gitHub",
    )
    assert info["head_commit_id"] == repo.main


def test_create_from_a_file_url_needs_no_provider(workspace_env: Emulator, repo: GitRepo):
    """A file:// URL is a local repository too: no --provider needed."""
    info = ok_json("repos.create", f"file://{repo.path}", "--path", f"/Repos/{ADMIN}/by-url")
    assert info["created"] == f"/Repos/{ADMIN}/by-url"


@pytest.mark.parametrize(
    ("url", "provider"),
    [
        ("/srv/git/etl", "gitHub"),
        ("file:///srv/git/etl", "gitHub"),
        ("https://github.com/acme/etl.git", "gitHub"),
        ("git@github.com:acme/etl.git", "gitHub"),
        ("ssh://git@gitlab.com/acme/etl.git", "gitLab"),
        ("https://acme@dev.azure.com/acme/etl/_git/etl", "azureDevOpsServices"),
        ("https://bitbucket.org/acme/etl.git", "bitbucketCloud"),
        ("https://git.example.com/acme/etl.git", None),
        ("etl", None),
    ],
)
def test_provider_is_inferred_from_the_url(url: str, provider: str | None):
    """Well-known hosts (also in scp-like SSH URLs) and local repositories have a known provider."""
    assert provider_for(url) == provider


def test_create_refuses_a_url_with_control_characters(workspace_env: Emulator):
    """A URL holding a newline exits 2 before any request."""
    result = run_cli("repos.create", "/srv/git/a\nb")
    assert result.exit_code == 2 and "control characters" in result.stderr
    assert workspace_env.requests(REPOS) == []


def test_create_with_an_unknown_provider(workspace_env: Emulator, repo: GitRepo):
    """An unknown --provider exits 2 listing the valid ones, before any request."""
    result = run_cli("repos.create", str(repo.path), "--provider", "sourceforge")
    assert result.exit_code == 2 and "gitHub" in result.stderr
    assert workspace_env.requests(REPOS) == []


def test_create_with_a_relative_path(workspace_env: Emulator, repo: GitRepo):
    """A relative --path exits 2 before any request."""
    result = run_cli("repos.create", str(repo.path), "--provider", "gitHub", "--path", "Repos/x/y")
    assert result.exit_code == 2 and "must be absolute" in result.stderr
    assert workspace_env.requests(REPOS) == []


def test_create_from_a_remote_url_is_refused_by_the_emulator(workspace_env: Emulator):
    """The emulator has no network: a GitHub URL exits 2 with its reason (provider inferred)."""
    result = run_cli("repos.create", "https://github.com/databricks/cli.git")
    assert result.exit_code == 2
    assert "INVALID_PARAMETER_VALUE" in result.stderr and "--allow-remote-repos" in result.stderr


def test_create_at_an_existing_path_exits_5(workspace_env: Emulator, repo: GitRepo):
    """A second repo at the same path is a conflict: exit 5."""
    create(repo)
    result = run_cli("repos.create", str(repo.path), "--provider", "gitHub")
    assert result.exit_code == 5 and "RESOURCE_ALREADY_EXISTS" in result.stderr


def test_list_with_a_prefix(workspace_env: Emulator, repo: GitRepo):
    """repos.list --path-prefix shows only the repos below it."""
    create(repo)
    create(repo, "--path", f"/Repos/{ADMIN}/other")
    listed = ok_json("repos.list", "--path-prefix", f"/Repos/{ADMIN}/oth")
    assert [r["path"] for r in listed] == [f"/Repos/{ADMIN}/other"]


def test_list_text_is_a_table(workspace_env: Emulator, repo: GitRepo):
    """repos.list prints id, branch, head, path and URL."""
    create(repo)
    result = run_cli("repos.list")
    assert result.exit_code == 0
    assert result.stdout.split()[:5] == ["ID", "BRANCH", "HEAD_COMMIT_ID", "PATH", "URL"]


def test_get_by_id_and_by_path(workspace_env: Emulator, repo: GitRepo):
    """repos.get accepts the repo id or its workspace path."""
    info = create(repo)
    assert ok_json("repos.get", str(info["id"]))["path"] == info["path"]
    assert ok_json("repos.get", info["path"])["id"] == info["id"]


def test_get_of_a_folder_that_is_not_a_repo(workspace_env: Emulator):
    """A path that is not a repo exits 2 and says so."""
    result = run_cli("repos.get", "/Shared")
    assert result.exit_code == 2 and "is not a repo" in result.stderr


def test_update_to_a_branch(workspace_env: Emulator, repo: GitRepo):
    """repos.update --branch checks the branch out and prints the repo, naming what was updated."""
    info = create(repo)
    after = ok_json("repos.update", info["path"], "--branch", "feature")
    assert (after["branch"], after["head_commit_id"]) == ("feature", repo.feature)
    assert after["updated"] == info["path"]


def test_update_to_a_tag(workspace_env: Emulator, repo: GitRepo):
    """repos.update --tag leaves a detached HEAD at the tag."""
    info = create(repo)
    after = ok_json("repos.update", str(info["id"]), "--tag", "v1")
    assert after["head_commit_id"] == repo.v1 and "branch" not in after


def test_update_needs_exactly_one_of_branch_and_tag(workspace_env: Emulator, repo: GitRepo):
    """Neither or both of --branch/--tag exits 2 before any request."""
    for extra in ([], ["--branch", "main", "--tag", "v1"]):
        result = run_cli("repos.update", "123", *extra)
        assert result.exit_code == 2 and "exactly one of --branch and --tag" in result.stderr
    assert workspace_env.requests(REPOS) == []


def test_update_to_an_unknown_branch(workspace_env: Emulator, repo: GitRepo):
    """An unknown branch exits 2 with GIT_UNKNOWN_REF."""
    info = create(repo)
    result = run_cli("repos.update", str(info["id"]), "--branch", "nope")
    assert result.exit_code == 2 and "GIT_UNKNOWN_REF" in result.stderr


def test_delete_then_get_exits_4(workspace_env: Emulator, repo: GitRepo):
    """repos.delete removes the repo and -o json says which; getting it afterwards exits 4."""
    info = create(repo)
    assert ok_json("repos.delete", info["path"]) == {"deleted": info["path"], "id": info["id"]}
    result = run_cli("repos.get", str(info["id"]))
    assert result.exit_code == 4 and "RESOURCE_DOES_NOT_EXIST" in result.stderr


def test_delete_by_id_prints_its_path(workspace_env: Emulator, repo: GitRepo):
    """repos.delete ID names the repo by its path in text output too."""
    info = create(repo)
    result = run_cli("repos.delete", str(info["id"]))
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0].split() == ["deleted:", info["path"]]


def test_non_ascii_digits_are_not_a_repo_id(workspace_env: Emulator):
    """'²' passes str.isdigit() but is no repo id: it is looked up as a path (and refused), never int()."""
    result = run_cli("repos.get", "²")
    assert result.exit_code == 2 and "must be absolute" in result.stderr
