"""Workspace ops called directly with a Context on a real client: plans, applies, prune and export-dir."""

from __future__ import annotations

import base64
import dataclasses
from pathlib import Path
from typing import Any

import pytest

from brickbook.api.workspace import ImportFormat, Language
from brickbook.change import Action, Change
from brickbook.context import Context
from brickbook.errors import DestinationExists, MissingParent, UsageError
from brickbook.ops.workspace import (
    apply_import_dir,
    apply_import_file,
    apply_prune,
    import_file,
    plan_import_dir,
    plan_import_file,
    plan_prune,
    skipped,
)
from brickbook.ops.workspace_export import apply_export_dir, plan_export_dir
from tests.conftest import Emulator
from tests.ops.emulator_api import api

WS = "/api/2.0/workspace"
HEADER = b"# Databricks notebook source\n"


def remote_put(emulator: Emulator, path: str, content: bytes, *, notebook: bool = False) -> None:
    api(emulator, "POST", f"{WS}/mkdirs", {"path": str(Path(path).parent)})
    body: dict[str, Any] = {"path": path, "content": base64.b64encode(content).decode(), "overwrite": True}
    body.update({"format": "SOURCE", "language": "PYTHON"} if notebook else {"format": "AUTO"})
    api(emulator, "POST", f"{WS}/import", body)


def exported(emulator: Emulator, path: str) -> bytes:
    return base64.b64decode(
        api(emulator, "GET", f"{WS}/export", {"path": path, "format": "SOURCE"})["content"]
    )


def writes(emulator: Emulator) -> list[str]:
    """The write requests the emulator received, as 'METHOD path'."""
    return [f"{r['method']} {r['path']}" for r in emulator.requests() if r["method"] != "GET"]


def actions(changes: list[Change]) -> list[tuple[str, str]]:
    return sorted((c.target, c.action.value) for c in changes)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A notebook, a plain .py (a workspace file), a CSV in a subfolder and a hidden folder."""
    root = tmp_path / "project"
    (root / "lib").mkdir(parents=True)
    (root / ".git").mkdir()
    (root / "etl.py").write_bytes(HEADER + b"print('etl')\n")
    (root / "lib" / "helpers.py").write_bytes(b"def helper():\n    return 1\n")
    (root / "lib" / "data.csv").write_bytes(b"a,b\n1,2\n")
    (root / ".git" / "HEAD").write_bytes(b"ref: refs/heads/main\n")
    return root


def test_plan_import_dir_reads_only_and_plans_a_create_per_file(ctx: Context, emulator: Emulator, tree: Path):
    """A new tree plans create for each file (notebook extension dropped) and sends no write."""
    plan = plan_import_dir(ctx, tree, "/Shared/p", overwrite=False)
    assert actions(plan) == [
        ("/Shared/p/etl", "create"),
        ("/Shared/p/lib/data.csv", "create"),
        ("/Shared/p/lib/helpers.py", "create"),
    ]
    assert writes(emulator) == []


def test_apply_import_dir_then_plan_again_is_all_unchanged(ctx: Context, emulator: Emulator, tree: Path):
    """After apply, a second plan is all unchanged and applying it sends no import."""
    apply_import_dir(ctx, plan_import_dir(ctx, tree, "/Shared/p", overwrite=False))
    assert exported(emulator, "/Shared/p/etl") == HEADER + b"print('etl')\n"
    again = plan_import_dir(ctx, tree, "/Shared/p", overwrite=False)
    assert {c.action for c in again} == {Action.UNCHANGED}
    emulator.control("DELETE", "requests")
    assert apply_import_dir(ctx, again) == again
    assert writes(emulator) == []


def test_other_content_without_overwrite_fails_at_plan_time(ctx: Context, emulator: Emulator, tree: Path):
    """A workspace object with other content and no overwrite is DestinationExists before any write."""
    remote_put(emulator, "/Shared/p/lib/data.csv", b"other\n")
    emulator.control("DELETE", "requests")
    with pytest.raises(
        DestinationExists, match=r"/Shared/p/lib/data\.csv exists with other content"
    ) as caught:
        plan_import_dir(ctx, tree, "/Shared/p", overwrite=False)
    assert caught.value.hint is not None and "--overwrite" in caught.value.hint
    assert caught.value.error_code is None  # the plan found it; the service answered no error
    assert writes(emulator) == []


def test_overwrite_plans_an_update_and_sends_only_it(ctx: Context, emulator: Emulator, tree: Path):
    """With overwrite a changed file is an update of its content; apply sends that import alone."""
    apply_import_dir(ctx, plan_import_dir(ctx, tree, "/Shared/p", overwrite=False))
    (tree / "lib" / "data.csv").write_bytes(b"a,b\n3,4\n")
    plan = plan_import_dir(ctx, tree, "/Shared/p", overwrite=True)
    (update,) = [c for c in plan if c.changed]
    assert (update.target, update.action, update.fields) == (
        "/Shared/p/lib/data.csv",
        Action.UPDATE,
        ("content",),
    )
    emulator.control("DELETE", "requests")
    apply_import_dir(ctx, plan)
    assert writes(emulator) == [f"POST {WS}/import"]
    assert exported(emulator, "/Shared/p/lib/data.csv") == b"a,b\n3,4\n"


def test_skipped_links_come_back_as_skipped_changes(ctx: Context, tree: Path, tmp_path: Path):
    """A link out of the folder is an unchanged change that skipped() recognises, with its reason."""
    (tmp_path / "secret").write_bytes(b"root:x:0:0\n")
    (tree / "passwd").symlink_to(tmp_path / "secret")
    plan = plan_import_dir(ctx, tree, "/Shared/p", overwrite=False)
    (skip,) = [c for c in plan if skipped(c)]
    assert skip.action is Action.UNCHANGED and skip.target.endswith("passwd")
    assert skip.reason == "symbolic link to outside the source folder"
    assert not any(skipped(c) for c in plan if c is not skip)


def test_a_folder_where_a_notebook_goes_is_refused_at_plan_time(ctx: Context, emulator: Emulator, tree: Path):
    """A workspace folder at a notebook's path cannot be replaced: DestinationExists, nothing written."""
    api(emulator, "POST", f"{WS}/mkdirs", {"path": "/Shared/p/etl"})
    emulator.control("DELETE", "requests")
    with pytest.raises(DestinationExists, match="/Shared/p/etl is a directory"):
        plan_import_dir(ctx, tree, "/Shared/p", overwrite=True)
    assert writes(emulator) == []


def test_a_notebook_where_a_folder_goes_is_refused_at_plan_time(ctx: Context, emulator: Emulator, tree: Path):
    """A notebook standing where a local subfolder goes is named as the obstacle."""
    remote_put(emulator, "/Shared/p/lib", HEADER + b"x = 1\n", notebook=True)
    with pytest.raises(DestinationExists, match="/Shared/p/lib is a notebook, not a folder"):
        plan_import_dir(ctx, tree, "/Shared/p", overwrite=True)


def test_a_lost_answer_on_a_create_is_resent_once_and_settled(ctx: Context, emulator: Emulator, tree: Path):
    """Without overwrite, a create whose answer was lost is sent again; its refusal finds our content."""
    api(emulator, "POST", f"{WS}/mkdirs", {"path": "/Shared/p/lib"})  # existing folders: file by file
    plan = plan_import_dir(ctx, tree, "/Shared/p", overwrite=False)
    emulator.fault(pattern=f"POST {WS}/import", status=500, after_handler=True, retry_after=0)
    assert apply_import_dir(ctx, plan) == plan
    assert sorted(r["status"] for r in emulator.requests(f"{WS}/import")) == [200, 200, 400, 500]
    assert exported(emulator, "/Shared/p/lib/data.csv") == b"a,b\n1,2\n"


def test_a_create_taken_meanwhile_by_other_content_is_a_conflict(
    ctx: Context, emulator: Emulator, tree: Path
):
    """Content that appeared between plan and apply is not replaced without overwrite."""
    plan = plan_import_dir(ctx, tree, "/Shared/p", overwrite=False)
    remote_put(emulator, "/Shared/p/lib/data.csv", b"theirs\n")
    with pytest.raises(DestinationExists, match="created meanwhile with other content"):
        apply_import_dir(ctx, plan)
    assert exported(emulator, "/Shared/p/lib/data.csv") == b"theirs\n"


def test_plan_import_file_creates_then_finds_it_unchanged(ctx: Context, emulator: Emulator, tmp_path: Path):
    """A .py without the header becomes a notebook; planned again it is unchanged (the header is ignored)."""
    source = tmp_path / "job.py"
    source.write_bytes(b"print('job')\n")
    change = plan_import_file(ctx, source, "/Shared/new/deep/job", overwrite=False)
    assert (change.action, change.target) == (Action.CREATE, "/Shared/new/deep/job")
    assert apply_import_file(ctx, change) == change  # the missing folders are made first
    status = api(emulator, "GET", f"{WS}/get-status", {"path": "/Shared/new/deep/job"})
    assert (status["object_type"], status["language"]) == ("NOTEBOOK", "PYTHON")
    assert plan_import_file(ctx, source, "/Shared/new/deep/job", overwrite=False).action is Action.UNCHANGED


def test_plan_import_file_with_other_content(ctx: Context, emulator: Emulator, tmp_path: Path):
    """Other content is DestinationExists without overwrite and an update of its content with it."""
    source = tmp_path / "job.py"
    source.write_bytes(b"print('v2')\n")
    remote_put(emulator, "/Shared/job", HEADER + b"print('v1')\n", notebook=True)
    with pytest.raises(DestinationExists, match="/Shared/job exists with other content"):
        plan_import_file(ctx, source, "/Shared/job", overwrite=False)
    change = plan_import_file(ctx, source, "/Shared/job", overwrite=True)
    assert (change.action, change.fields) == (Action.UPDATE, ("content",))
    apply_import_file(ctx, change)
    assert exported(emulator, "/Shared/job") == HEADER + b"print('v2')\n"


def test_plan_import_file_where_a_file_of_another_kind_is(ctx: Context, emulator: Emulator, tmp_path: Path):
    """A workspace file where a notebook goes is an update of object_type; apply replaces it."""
    source = tmp_path / "job.py"
    source.write_bytes(b"print('job')\n")
    remote_put(emulator, "/Shared/job", b"print('job')\n")
    change = plan_import_file(ctx, source, "/Shared/job", overwrite=True)
    assert (change.action, change.fields) == (Action.UPDATE, ("object_type",))
    apply_import_file(ctx, change)
    assert api(emulator, "GET", f"{WS}/get-status", {"path": "/Shared/job"})["object_type"] == "NOTEBOOK"
    assert plan_import_file(ctx, source, "/Shared/job", overwrite=True).action is Action.UNCHANGED


def test_plan_import_file_to_the_root_is_refused_before_any_request(
    ctx: Context, emulator: Emulator, tmp_path: Path
):
    """The workspace root is no destination: UsageError, no request at all."""
    source = tmp_path / "job.py"
    source.write_bytes(b"print('job')\n")
    for root in ("/", "/Workspace"):
        with pytest.raises(UsageError, match="name a path below it"):
            plan_import_file(ctx, source, root, overwrite=True)
    assert emulator.requests(WS) == []


def test_import_file_into_a_missing_folder_is_missing_parent(ctx: Context):
    """The workspace.import op names the missing folder (exit 4) and how to make it."""
    with pytest.raises(MissingParent, match="the folder /Shared/a/b does not exist") as caught:
        import_file(ctx, b"x", "/Shared/a/b/x.txt", format=ImportFormat.AUTO, language=None, overwrite=False)
    assert caught.value.exit_code == 4
    assert caught.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert caught.value.hint == "create it with workspace.mkdirs /Shared/a/b"


def test_import_file_over_an_existing_object_needs_overwrite(ctx: Context, emulator: Emulator):
    """The workspace.import op refuses an existing object without overwrite, whatever its content."""
    remote_put(emulator, "/Shared/etl", HEADER + b"x\n", notebook=True)
    with pytest.raises(DestinationExists, match="/Shared/etl already exists") as caught:
        import_file(
            ctx,
            HEADER + b"x\n",
            "/Shared/etl",
            format=ImportFormat.SOURCE,
            language=Language.PYTHON,
            overwrite=False,
        )
    assert caught.value.error_code == "RESOURCE_ALREADY_EXISTS"  # the service's own answer


# -- prune ----------------------------------------------------------------------------------------------


@pytest.fixture
def managed(emulator: Emulator) -> None:
    """/Shared/p holds two notebooks, a file and an empty folder; /Shared/other a notebook."""
    remote_put(emulator, "/Shared/p/keep", HEADER + b"k\n", notebook=True)
    remote_put(emulator, "/Shared/p/sub/gone", HEADER + b"g\n", notebook=True)
    remote_put(emulator, "/Shared/p/old.csv", b"1\n")
    api(emulator, "POST", f"{WS}/mkdirs", {"path": "/Shared/p/empty"})
    remote_put(emulator, "/Shared/other/x", HEADER + b"x\n", notebook=True)


def test_plan_prune_deletes_only_unlisted_objects_below_the_root(
    ctx: Context, emulator: Emulator, managed: None
):
    """Notebooks and files not kept are planned for deletion; folders and other trees are not."""
    emulator.control("DELETE", "requests")
    plan = plan_prune(ctx, "/Shared/p", ["/Shared/p/keep", "/Shared/other/x"])
    assert actions(plan) == [("/Shared/p/old.csv", "delete"), ("/Shared/p/sub/gone", "delete")]
    assert writes(emulator) == []


def test_apply_prune_deletes_what_was_planned(ctx: Context, emulator: Emulator, managed: None):
    """Apply deletes exactly the planned objects; a second plan finds nothing to prune."""
    apply_prune(ctx, plan_prune(ctx, "/Shared/p", ["/Shared/p/keep"]))
    listed = api(emulator, "GET", f"{WS}/list", {"path": "/Shared/p"})
    assert sorted(o["path"] for o in listed["objects"]) == [
        "/Shared/p/empty",
        "/Shared/p/keep",
        "/Shared/p/sub",
    ]
    assert plan_prune(ctx, "/Shared/p", ["/Shared/p/keep"]) == []
    assert api(emulator, "GET", f"{WS}/get-status", {"path": "/Shared/other/x"})["object_type"] == "NOTEBOOK"


def test_prune_never_deletes_outside_its_root(ctx: Context, emulator: Emulator, managed: None):
    """A delete change whose target lies outside the pruned folder is refused at apply."""
    (change,) = plan_prune(ctx, "/Shared/p", ["/Shared/p/keep", "/Shared/p/sub/gone"])
    stray = dataclasses.replace(change, target="/Shared/other/x")
    with pytest.raises(UsageError, match="not below the pruned folder"):
        apply_prune(ctx, [stray])
    assert api(emulator, "GET", f"{WS}/get-status", {"path": "/Shared/other/x"})["object_type"] == "NOTEBOOK"


def test_prune_of_a_missing_root_plans_nothing_and_the_workspace_root_is_refused(ctx: Context):
    """A folder that does not exist has nothing to prune; the whole workspace is never a prune root."""
    assert plan_prune(ctx, "/Shared/nothing-here", []) == []
    for root in ("/", "/Workspace"):
        with pytest.raises(UsageError, match="cannot prune the whole workspace"):
            plan_prune(ctx, root, [])


# -- export-dir -----------------------------------------------------------------------------------------


def test_export_dir_plans_then_writes_then_is_unchanged(ctx: Context, emulator: Emulator, tmp_path: Path):
    """The plan writes nothing; apply writes notebooks with their extension; a second plan is unchanged."""
    remote_put(emulator, "/Shared/p/etl", HEADER + b"print(1)\n", notebook=True)
    remote_put(emulator, "/Shared/p/lib/data.csv", b"a\n")
    out = tmp_path / "out"
    plan = plan_export_dir(ctx, "/Shared/p", out)
    assert actions(plan) == [(str(out / "etl.py"), "create"), (str(out / "lib" / "data.csv"), "create")]
    assert not out.exists()
    apply_export_dir(ctx, plan)
    assert (out / "etl.py").read_bytes() == HEADER + b"print(1)\n"
    assert {c.action for c in plan_export_dir(ctx, "/Shared/p", out)} == {Action.UNCHANGED}


# -- the deploy record: what a rerun costs, remote edits ------------------------------------------------


def big_tree(root: Path) -> Path:
    """50 files in 3 folders: notebooks, plain .py files and CSVs."""
    for n in range(50):
        folder = root / ("", "jobs", "lib")[n % 3]
        folder.mkdir(parents=True, exist_ok=True)
        if n % 2:
            (folder / f"nb{n}.py").write_bytes(HEADER + f"print({n})\n".encode())
        else:
            (folder / f"data{n}.csv").write_bytes(f"n\n{n}\n".encode())
    return root


def sync(ctx: Context, source: Path, state: Path, *, overwrite: bool = False) -> list[Change]:
    return apply_import_dir(
        ctx, plan_import_dir(ctx, source, "/Shared/p", overwrite=overwrite, state_dir=state)
    )


def test_an_unchanged_rerun_costs_the_listing_only(ctx: Context, emulator: Emulator, tmp_path: Path):
    """A rerun over 50 unchanged files in 3 folders sends only listings (3), no export and no import."""
    source, state = big_tree(tmp_path / "src"), tmp_path / "state"
    assert {c.action for c in sync(ctx, source, state)} == {Action.CREATE}
    emulator.control("DELETE", "requests")
    again = sync(ctx, source, state)
    assert {(c.action, c.reason) for c in again} == {(Action.UNCHANGED, "as last deployed")}
    sent = [f"{r['method']} {r['path']}" for r in emulator.requests()]
    assert sent == [f"GET {WS}/list"] * 3


def test_a_remote_edit_since_the_last_deploy_is_refused_without_overwrite(
    ctx: Context, emulator: Emulator, tree: Path, tmp_path: Path
):
    """An object edited in the workspace after the deploy is named (exit 5) and nothing is written."""
    sync(ctx, tree, tmp_path / "state")
    emulator.clock.advance(1)
    remote_put(emulator, "/Shared/p/etl", HEADER + b"print('edited in the UI')\n", notebook=True)
    emulator.control("DELETE", "requests")
    with pytest.raises(
        DestinationExists, match="/Shared/p/etl changed in the workspace since the last deploy"
    ) as caught:
        sync(ctx, tree, tmp_path / "state")
    assert caught.value.exit_code == 5 and caught.value.hint == "add --overwrite to replace it"
    assert writes(emulator) == []
    assert exported(emulator, "/Shared/p/etl") == HEADER + b"print('edited in the UI')\n"


def test_a_remote_edit_is_replaced_with_overwrite_and_reported(
    ctx: Context, emulator: Emulator, tree: Path, tmp_path: Path
):
    """With overwrite the edited object is one import (no export first), its reason says why."""
    sync(ctx, tree, tmp_path / "state")
    emulator.clock.advance(1)
    remote_put(emulator, "/Shared/p/lib/data.csv", b"edited\n")
    emulator.control("DELETE", "requests")
    (update,) = [c for c in sync(ctx, tree, tmp_path / "state", overwrite=True) if c.changed]
    assert (update.target, update.reason) == (
        "/Shared/p/lib/data.csv",
        "changed in the workspace since the last deploy",
    )
    assert emulator.requests(f"{WS}/export") == [] and writes(emulator) == [f"POST {WS}/import"]
    assert exported(emulator, "/Shared/p/lib/data.csv") == b"a,b\n1,2\n"
    assert {c.action for c in sync(ctx, tree, tmp_path / "state")} == {Action.UNCHANGED}


def test_a_local_change_is_planned_from_the_record_without_an_export(
    ctx: Context, emulator: Emulator, tree: Path, tmp_path: Path
):
    """A file changed locally, untouched remotely, is an update known without downloading anything."""
    sync(ctx, tree, tmp_path / "state")
    (tree / "etl.py").write_bytes(HEADER + b"print('v2')\n")
    emulator.control("DELETE", "requests")
    plan = plan_import_dir(ctx, tree, "/Shared/p", overwrite=True, state_dir=tmp_path / "state")
    (update,) = [c for c in plan if c.changed]
    assert (update.target, update.fields, update.reason) == (
        "/Shared/p/etl",
        ("content",),
        "changed locally since the last deploy",
    )
    assert emulator.requests(f"{WS}/export") == []


def test_objects_the_record_does_not_know_are_imported_with_overwrite(
    ctx: Context, emulator: Emulator, tree: Path, tmp_path: Path
):
    """With overwrite and no record yet, an existing object is one import, never an export to compare."""
    apply_import_dir(ctx, plan_import_dir(ctx, tree, "/Shared/p", overwrite=False))  # no record kept
    emulator.control("DELETE", "requests")
    changes = sync(ctx, tree, tmp_path / "state", overwrite=True)
    assert {(c.action, c.reason) for c in changes} == {(Action.UPDATE, "not recorded as deployed")}
    assert emulator.requests(f"{WS}/export") == [] and len(writes(emulator)) == 3


def test_without_overwrite_an_unknown_identical_object_is_compared_and_then_recorded(
    ctx: Context, emulator: Emulator, tree: Path, tmp_path: Path
):
    """Without overwrite, objects the record does not know are exported once; the next rerun needs none."""
    apply_import_dir(ctx, plan_import_dir(ctx, tree, "/Shared/p", overwrite=False))  # no record kept
    emulator.control("DELETE", "requests")
    assert {c.reason for c in sync(ctx, tree, tmp_path / "state")} == {"same content"}
    assert len(emulator.requests(f"{WS}/export")) == 3
    emulator.control("DELETE", "requests")
    assert {c.reason for c in sync(ctx, tree, tmp_path / "state")} == {"as last deployed"}
    assert emulator.requests(f"{WS}/export") == []


def test_a_plan_alone_writes_no_record(ctx: Context, tree: Path, tmp_path: Path):
    """The record is written after apply only: a plan (a dry run) leaves the state dir untouched."""
    plan_import_dir(ctx, tree, "/Shared/p", overwrite=False, state_dir=tmp_path / "state")
    assert not (tmp_path / "state").exists()


def test_export_dir_rerun_downloads_only_what_changed(
    ctx: Context, emulator: Emulator, tree: Path, tmp_path: Path
):
    """A second export-dir downloads nothing; a remote edit or a local one is downloaded again."""
    apply_import_dir(ctx, plan_import_dir(ctx, tree, "/Shared/p", overwrite=False))
    out, state = tmp_path / "out", tmp_path / "state"
    apply_export_dir(ctx, plan_export_dir(ctx, "/Shared/p", out, state_dir=state))
    emulator.control("DELETE", "requests")
    again = plan_export_dir(ctx, "/Shared/p", out, state_dir=state)
    assert {(c.action, c.reason) for c in apply_export_dir(ctx, again)} == {
        (Action.UNCHANGED, "as last exported")
    }
    assert emulator.requests(f"{WS}/export") == []
    emulator.clock.advance(1)
    remote_put(emulator, "/Shared/p/lib/data.csv", b"edited\n")
    (out / "etl.py").write_bytes(b"local edit\n")
    emulator.control("DELETE", "requests")
    changed = [
        c for c in apply_export_dir(ctx, plan_export_dir(ctx, "/Shared/p", out, state_dir=state)) if c.changed
    ]
    assert sorted(Path(c.target).name for c in changed) == ["data.csv", "etl.py"]
    assert len(emulator.requests(f"{WS}/export")) == 2
    assert (out / "lib" / "data.csv").read_bytes() == b"edited\n"


def test_plan_import_dir_lists_only_the_folders_the_source_maps_to(
    ctx: Context, emulator: Emulator, tree: Path
):
    """Remote folders the local tree does not have are never listed (one list per folder it has)."""
    remote_put(emulator, "/Shared/p/archive/2019/old.txt", b"old\n")
    remote_put(emulator, "/Shared/p/lib/other.txt", b"other\n")
    emulator.control("DELETE", "requests")
    plan_import_dir(ctx, tree, "/Shared/p", overwrite=False)
    listed = sorted(str(r["query"]) for r in emulator.requests(f"{WS}/list"))
    assert listed == ["path=%2FShared%2Fp", "path=%2FShared%2Fp%2Flib"]
    assert [r["path"] for r in emulator.requests()] == [f"{WS}/list"] * 2
