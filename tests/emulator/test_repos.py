"""Repos (Git folders) in the emulator: real clones of local repositories, shown in the workspace tree."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from brickbook.emulator.server import start_in_thread
from tests.emulator.gitrepo import FEATURE_NOTEBOOK, NOTEBOOK, GitRepo, make_git_repo
from tests.emulator.harness import ADMIN, Emu, FakeClock, make_settings

REPOS = "/api/2.0/repos"
WS = "/api/2.0/workspace"


@pytest.fixture(scope="module")
def shared_repo(tmp_path_factory: pytest.TempPathFactory) -> GitRepo:
    """One repository for the tests that do not change it."""
    return make_git_repo(tmp_path_factory.mktemp("git"))


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    """A fresh repository for tests that commit to it."""
    return make_git_repo(tmp_path)


def create(emu: Emu, url: str, **fields: Any) -> httpx.Response:
    return emu.post(REPOS, json={"url": url, "provider": "gitHub", **fields})


def status(emu: Emu, path: str) -> httpx.Response:
    return emu.get(f"{WS}/get-status", params={"path": path})


def download(emu: Emu, path: str) -> bytes:
    return emu.get(f"{WS}/export", params={"path": path, "direct_download": "true"}).content


def assert_error(response: httpx.Response, status_code: int, code: str, fragment: str) -> None:
    assert response.status_code == status_code, response.text
    assert response.json()["error_code"] == code
    assert fragment in response.json()["message"]


def test_create_clones_at_the_default_branch(emu: Emu, shared_repo: GitRepo):
    """Creating from a local path checks out main at its head commit."""
    info = create(emu, str(shared_repo.path)).json()
    assert (info["branch"], info["head_commit_id"]) == ("main", shared_repo.main)
    assert (info["url"], info["provider"]) == (str(shared_repo.path), "gitHub")


def test_default_path_is_under_the_callers_repos_folder(emu: Emu, shared_repo: GitRepo):
    """Without a path the repo lands at /Repos/<caller>/<repo name>."""
    info = create(emu, str(shared_repo.path)).json()
    assert info["path"] == f"/Repos/{ADMIN}/project"


def test_repo_id_is_the_workspace_object_id(emu: Emu, shared_repo: GitRepo):
    """The repo id equals the REPO object's object_id; a REPO carries no directory_info."""
    info = create(emu, str(shared_repo.path)).json()
    obj = status(emu, info["path"]).json()
    assert (obj["object_type"], obj["object_id"]) == ("REPO", info["id"])
    assert "directory_info" not in obj


def test_files_appear_as_notebooks_files_and_directories(emu: Emu, shared_repo: GitRepo):
    """A source file with the header is a NOTEBOOK without extension; others are FILEs; folders DIRECTORYs."""
    path = create(emu, str(shared_repo.path)).json()["path"]
    objects = emu.get(f"{WS}/list", params={"path": path}).json()["objects"]
    kinds = {o["path"].rsplit("/", 1)[1]: o["object_type"] for o in objects}
    assert kinds == {"etl": "NOTEBOOK", "README.md": "FILE", "lib": "DIRECTORY"}
    assert download(emu, f"{path}/etl") == NOTEBOOK
    assert status(emu, f"{path}/lib/helpers.py").json()["object_type"] == "FILE"


def test_missing_repos_folder_is_404(emu: Emu, shared_repo: GitRepo):
    """/Repos/{folder} must exist, as on the real service (only principals' folders exist at first)."""
    response = create(emu, str(shared_repo.path), path="/Repos/team/project")
    assert_error(response, 404, "RESOURCE_DOES_NOT_EXIST", "/Repos/team")


def test_file_url_clones_too(emu: Emu, shared_repo: GitRepo):
    """A file:// URL is cloned like a path."""
    info = create(emu, shared_repo.path.as_uri(), path=f"/Repos/{ADMIN}/by-url").json()
    assert info["head_commit_id"] == shared_repo.main


def test_update_to_a_branch_switches_the_files(emu: Emu, shared_repo: GitRepo):
    """Checking out 'feature' brings its commit and its extra notebook."""
    info = create(emu, str(shared_repo.path)).json()
    assert emu.request("PATCH", f"{REPOS}/{info['id']}", json={"branch": "feature"}).json() == {}
    after = emu.get(f"{REPOS}/{info['id']}").json()
    assert (after["branch"], after["head_commit_id"]) == ("feature", shared_repo.feature)
    assert download(emu, f"{info['path']}/feature") == FEATURE_NOTEBOOK


def test_update_to_the_same_branch_pulls(emu: Emu, repo: GitRepo):
    """Sending the current branch again picks up a new upstream commit."""
    info = create(emu, str(repo.path)).json()
    head = repo.commit("new.txt", b"new")
    emu.request("PATCH", f"{REPOS}/{info['id']}", json={"branch": "main"})
    assert emu.get(f"{REPOS}/{info['id']}").json()["head_commit_id"] == head
    assert download(emu, f"{info['path']}/new.txt") == b"new"


def test_update_to_a_tag_detaches_head(emu: Emu, shared_repo: GitRepo):
    """A tag checks out its commit with a detached HEAD: no branch in the answer."""
    info = create(emu, str(shared_repo.path)).json()
    emu.request("PATCH", f"{REPOS}/{info['id']}", json={"tag": "v1"})
    after = emu.get(f"{REPOS}/{info['id']}").json()
    assert after["head_commit_id"] == shared_repo.v1 and "branch" not in after


def test_update_to_an_unknown_branch_is_refused(emu: Emu, shared_repo: GitRepo):
    """A branch the remote does not have is 400 GIT_UNKNOWN_REF and changes nothing."""
    info = create(emu, str(shared_repo.path)).json()
    response = emu.request("PATCH", f"{REPOS}/{info['id']}", json={"branch": "nope"})
    assert_error(response, 400, "GIT_UNKNOWN_REF", "nope")
    assert emu.get(f"{REPOS}/{info['id']}").json()["branch"] == "main"


def test_update_needs_a_branch_or_tag(emu: Emu, shared_repo: GitRepo):
    """An update with neither branch, tag nor sparse_checkout is 400 INVALID_PARAMETER_VALUE."""
    info = create(emu, str(shared_repo.path)).json()
    response = emu.request("PATCH", f"{REPOS}/{info['id']}", json={})
    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "branch")


def test_remote_url_is_refused_without_network(emu: Emu):
    """A URL that is not local is refused with a clear reason."""
    response = create(emu, "https://github.com/databricks/cli.git")
    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "--allow-remote-repos")


def test_remote_url_is_recorded_when_allowed():
    """With allow_remote_repos, a remote repo is recorded on main with a head and no files."""
    with start_in_thread(make_settings(FakeClock(), allow_remote_repos=True)) as running:
        emu = Emu(url=running.url, clock=FakeClock())
        info = create(emu, "https://github.com/databricks/cli.git").json()
        assert info["path"] == f"/Repos/{ADMIN}/cli" and info["branch"] == "main"
        assert len(info["head_commit_id"]) == 40
        assert emu.get(f"{WS}/list", params={"path": info["path"]}).json() == {}
        emu.close()


def test_missing_provider_is_invalid(emu: Emu, shared_repo: GitRepo):
    """provider is required."""
    response = emu.post(REPOS, json={"url": str(shared_repo.path)})
    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "provider")


def test_provider_is_case_insensitive(emu: Emu, shared_repo: GitRepo):
    """'github' is accepted and answered in the API's spelling."""
    info = emu.post(REPOS, json={"url": str(shared_repo.path), "provider": "github"}).json()
    assert info["provider"] == "gitHub"


def test_repos_path_must_have_three_parts(emu: Emu, shared_repo: GitRepo):
    """Under /Repos a path must be /Repos/{folder}/{name}."""
    response = create(emu, str(shared_repo.path), path=f"/Repos/{ADMIN}/a/b")
    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "/Repos/{folder}/{repo}")


def test_existing_path_is_refused(emu: Emu, shared_repo: GitRepo):
    """A second repo at the same path is 400 RESOURCE_ALREADY_EXISTS."""
    create(emu, str(shared_repo.path))
    assert_error(create(emu, str(shared_repo.path)), 400, "RESOURCE_ALREADY_EXISTS", "/Repos/")


def test_list_filters_by_prefix(emu: Emu, shared_repo: GitRepo):
    """path_prefix keeps only the repos below it; no prefix means /Repos."""
    emu.post(f"{WS}/mkdirs", json={"path": "/Repos/team"})
    create(emu, str(shared_repo.path))
    create(emu, str(shared_repo.path), path="/Repos/team/project")
    listed = emu.get(REPOS, params={"path_prefix": "/Repos/team"}).json()["repos"]
    assert [r["path"] for r in listed] == ["/Repos/team/project"]
    assert len(emu.get(REPOS).json()["repos"]) == 2


def test_empty_list_leaves_repos_out(emu: Emu):
    """With no repos the answer is {}."""
    assert emu.get(REPOS).json() == {}


def test_list_pages_with_next_page_token(emu: Emu, shared_repo: GitRepo):
    """More than a page of repos comes back in pages linked by the next_page_token query parameter."""
    for n in range(21):
        assert create(emu, str(shared_repo.path), path=f"/Repos/{ADMIN}/p{n:02}").status_code == 200
    first = emu.get(REPOS).json()
    second = emu.get(REPOS, params={"next_page_token": first["next_page_token"]}).json()
    assert len(first["repos"]) == 20 and len(second["repos"]) == 1
    assert "next_page_token" not in second


def test_delete_removes_the_git_folder(emu: Emu, shared_repo: GitRepo):
    """Deleting a repo removes it and its files from the workspace."""
    info = create(emu, str(shared_repo.path)).json()
    assert emu.request("DELETE", f"{REPOS}/{info['id']}").json() == {}
    assert status(emu, info["path"]).status_code == 404
    assert_error(emu.get(f"{REPOS}/{info['id']}"), 404, "RESOURCE_DOES_NOT_EXIST", str(info["id"]))


def test_workspace_delete_of_a_repo_forgets_it(emu: Emu, shared_repo: GitRepo):
    """A recursive workspace delete of the Git folder also removes the repo."""
    info = create(emu, str(shared_repo.path)).json()
    emu.post(f"{WS}/delete", json={"path": info["path"], "recursive": True})
    assert emu.get(f"{REPOS}/{info['id']}").status_code == 404


def test_non_numeric_repo_id_is_invalid(emu: Emu):
    """A repo id that is not an integer is 400 INVALID_PARAMETER_VALUE."""
    assert_error(emu.get(f"{REPOS}/abc"), 400, "INVALID_PARAMETER_VALUE", "abc")


def test_sparse_checkout_keeps_listed_directories_only(emu: Emu, shared_repo: GitRepo):
    """With sparse_checkout patterns, only top-level files and the listed directories are checked out."""
    info = create(emu, str(shared_repo.path), sparse_checkout={"patterns": ["docs"]}).json()
    assert info["sparse_checkout"] == {"patterns": ["docs"]}
    assert status(emu, f"{info['path']}/lib").status_code == 404
    assert status(emu, f"{info['path']}/etl").status_code == 200


def test_repos_survive_a_restart(tmp_path: Path, shared_repo: GitRepo):
    """With a data dir, a repo and its files are there after a restart."""
    data_dir, clock = tmp_path / "data", FakeClock()
    settings = make_settings(clock, data_dir=data_dir)
    with start_in_thread(settings) as running:
        emu = Emu(url=running.url, clock=clock)
        info = create(emu, str(shared_repo.path)).json()
        emu.close()
    with start_in_thread(settings) as running:
        emu = Emu(url=running.url, clock=clock)
        assert emu.get(f"{REPOS}/{info['id']}").json()["head_commit_id"] == shared_repo.main
        assert download(emu, f"{info['path']}/etl") == NOTEBOOK
        emu.close()
