"""Repos (Git folders) API primitives (``brickbook.api.repos``) against the emulator over loopback HTTP.

The emulator has no network: it clones local Git repositories (a path or a ``file://`` URL) for real.
"""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest

from brickbook.api import repos
from brickbook.client import Client
from brickbook.errors import (
    BadRequest,
    InvalidParameterValue,
    ResourceAlreadyExists,
    ResourceDoesNotExist,
)
from tests.conftest import Emulator
from tests.emulator.gitrepo import GitRepo, make_git_repo

BASE = "/api/2.0/repos"
HOME = "/Repos/admin@example.com"
EMULATOR_PAGE_SIZE = 20  # what the emulator's repos/list answers per page


@pytest.fixture(scope="module")
def origin(tmp_path_factory: pytest.TempPathFactory) -> GitRepo:
    """A local repository: main (tag v1 on its first commit) and feature; the tests only read it."""
    return make_git_repo(tmp_path_factory.mktemp("git"))


def test_create_returns_the_typed_git_folder(client: Client, origin: GitRepo):
    """create clones the repository and returns a RepoInfo on main at its head commit."""
    info = repos.create(client, str(origin.path), "gitHub", path=f"{HOME}/etl")
    assert (info.path, info.url, info.provider) == (f"{HOME}/etl", str(origin.path), "gitHub")
    assert (info.branch, info.head_commit_id) == ("main", origin.main)
    assert isinstance(info.id, int) and info.id > 0


def test_create_without_path_uses_the_repository_name(client: Client, origin: GitRepo):
    """Without a path the Git folder lands in the caller's /Repos folder under the repository's name."""
    info = repos.create(client, f"file://{origin.path}", "gitHub")
    assert info.path == f"{HOME}/{origin.path.name}"


def test_create_at_an_existing_path_is_resource_already_exists(client: Client, origin: GitRepo):
    """A second Git folder at one path is the legacy 400 RESOURCE_ALREADY_EXISTS (ResourceAlreadyExists)."""
    repos.create(client, str(origin.path), "gitHub", path=f"{HOME}/etl")
    with pytest.raises(ResourceAlreadyExists) as info:
        repos.create(client, str(origin.path), "gitHub", path=f"{HOME}/etl")
    assert (info.value.http_status, info.value.error_code) == (400, "RESOURCE_ALREADY_EXISTS")
    assert f"({HOME}/etl) already exists" in info.value.message


def test_create_with_an_unknown_provider_is_invalid_parameter_value(client: Client, origin: GitRepo):
    """A provider outside the API's list is refused by the service with INVALID_PARAMETER_VALUE."""
    with pytest.raises(InvalidParameterValue) as info:
        repos.create(client, str(origin.path), "gitTea")
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "Invalid git provider 'gitTea'" in info.value.message


def test_get_describes_the_git_folder(client: Client, origin: GitRepo):
    """get by id returns the same RepoInfo that create returned."""
    created = repos.create(client, str(origin.path), "gitHub", path=f"{HOME}/etl")
    assert repos.get(client, created.id) == created


def test_get_of_a_missing_repo_is_resource_does_not_exist(client: Client):
    """get of an unknown id is 404 RESOURCE_DOES_NOT_EXIST (ResourceDoesNotExist)."""
    with pytest.raises(ResourceDoesNotExist) as info:
        repos.get(client, 424242)
    assert (info.value.http_status, info.value.error_code) == (404, "RESOURCE_DOES_NOT_EXIST")
    assert "Repo 424242 does not exist" in info.value.message


def test_update_to_a_branch_checks_out_its_head(client: Client, emulator: Emulator, origin: GitRepo):
    """update(branch=...) is a PATCH that leaves the Git folder on that branch's head."""
    created = repos.create(client, str(origin.path), "gitHub", path=f"{HOME}/etl")
    repos.update(client, created.id, branch="feature")
    info = repos.get(client, created.id)
    assert (info.branch, info.head_commit_id) == ("feature", origin.feature)
    assert [r["method"] for r in emulator.requests(f"{BASE}/{created.id}")] == ["PATCH", "GET"]


def test_update_to_a_tag_leaves_a_detached_head(client: Client, origin: GitRepo):
    """update(tag=...) checks out the tagged commit with no branch."""
    created = repos.create(client, str(origin.path), "gitHub", path=f"{HOME}/etl")
    repos.update(client, created.id, tag="v1")
    info = repos.get(client, created.id)
    assert (info.branch, info.head_commit_id) == (None, origin.v1)


def test_update_with_both_a_branch_and_a_tag_sends_nothing(
    client: Client, emulator: Emulator, origin: GitRepo
):
    """update with both a branch and a tag is refused before any request, like resize's two sizes."""
    created = repos.create(client, str(origin.path), "gitHub", path=f"{HOME}/etl")
    with pytest.raises(ValueError, match="branch"):
        repos.update(client, created.id, branch="feature", tag="v1")
    assert [r["method"] for r in emulator.requests(f"{BASE}/{created.id}")] == []


def test_update_to_an_unknown_ref_is_a_bad_request(client: Client, origin: GitRepo):
    """An unknown branch is 400 GIT_UNKNOWN_REF: a BadRequest, not a missing repo ("does not exist")."""
    created = repos.create(client, str(origin.path), "gitHub", path=f"{HOME}/etl")
    with pytest.raises(BadRequest) as info:
        repos.update(client, created.id, branch="nope")
    assert not isinstance(info.value, ResourceDoesNotExist)
    assert info.value.error_code == "GIT_UNKNOWN_REF"
    assert "'nope' does not exist" in info.value.message


def test_delete_removes_the_git_folder(client: Client, origin: GitRepo):
    """After delete, get of the repo raises ResourceDoesNotExist."""
    created = repos.create(client, str(origin.path), "gitHub", path=f"{HOME}/etl")
    repos.delete(client, created.id)
    with pytest.raises(ResourceDoesNotExist, match="does not exist"):
        repos.get(client, created.id)


def test_delete_of_a_missing_repo_is_resource_does_not_exist(client: Client):
    """DELETE of an unknown id is 404 RESOURCE_DOES_NOT_EXIST (ResourceDoesNotExist)."""
    with pytest.raises(ResourceDoesNotExist) as info:
        repos.delete(client, 424242)
    assert info.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert "424242" in info.value.message


def test_list_of_no_repos_yields_nothing(client: Client):
    """repos/list leaves out ``repos`` when there are none, and list_ yields nothing."""
    assert list(repos.list_(client)) == []


def test_list_pages_with_the_next_page_token_parameter(client: Client, emulator: Emulator, origin: GitRepo):
    """Past one page, list_ sends the token back as next_page_token (not page_token) and yields every repo."""
    paths = [f"{HOME}/r{i:02}" for i in range(EMULATOR_PAGE_SIZE + 1)]
    for path in paths:
        repos.create(client, str(origin.path), "gitHub", path=path)
    assert [info.path for info in repos.list_(client)] == paths
    sent = [parse_qs(str(r["query"])) for r in emulator.requests(BASE) if r["method"] == "GET"]
    assert len(sent) == 2 and sent[1]["next_page_token"] and "page_token" not in sent[1]


def test_list_filters_by_path_prefix(client: Client, emulator: Emulator, origin: GitRepo):
    """path_prefix travels in the query string and only Git folders under it are listed."""
    repos.create(client, str(origin.path), "gitHub", path=f"{HOME}/team a&b")
    repos.create(client, str(origin.path), "gitHub", path=f"{HOME}/other")
    listed = [info.path for info in repos.list_(client, path_prefix=f"{HOME}/team a")]
    assert listed == [f"{HOME}/team a&b"]
    query = next(r["query"] for r in emulator.requests(BASE) if r["method"] == "GET")
    assert parse_qs(str(query))["path_prefix"] == [f"{HOME}/team a"]


def test_list_shows_only_what_the_caller_manages(client: Client, alice: Client, origin: GitRepo):
    """A plain user's listing leaves out the admin's Git folders."""
    repos.create(client, str(origin.path), "gitHub", path=f"{HOME}/etl")
    mine = repos.create(alice, str(origin.path), "gitHub", path="/Repos/alice@example.com/etl")
    assert [info.id for info in repos.list_(alice)] == [mine.id]
