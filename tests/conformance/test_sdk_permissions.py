"""The official databricks-sdk's Permissions API (and the per-service permission calls) against the emulator.

A secret ACL granted to a group reaching its members is proved in test_sdk_iam.py.
"""

from __future__ import annotations

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import InvalidParameterValue, NotFound, PermissionDenied
from databricks.sdk.service.iam import AccessControlRequest, ComplexValue, PermissionLevel
from databricks.sdk.service.jobs import JobAccessControlRequest, JobPermissionLevel, NotebookTask, Task

from tests.emulator.harness import ADMIN, ADMIN_TOKEN, ALICE, ALICE_TOKEN, Emu


@pytest.fixture
def w(sdk_env: Emu) -> WorkspaceClient:
    return WorkspaceClient(host=sdk_env.url, token=ADMIN_TOKEN)


@pytest.fixture
def alice(sdk_env: Emu) -> WorkspaceClient:
    return WorkspaceClient(host=sdk_env.url, token=ALICE_TOKEN)


def new_job(w: WorkspaceClient) -> str:
    task = Task(task_key="t", notebook_task=NotebookTask(notebook_path="/Shared/nb"))
    job_id = w.jobs.create(name="nightly", tasks=[task]).job_id
    assert job_id is not None
    return str(job_id)


def levels(permissions: object, name: str) -> list[str | None]:
    """The levels ``name`` holds in an SDK ObjectPermissions-like answer."""
    for entry in getattr(permissions, "access_control_list", None) or []:
        if name in (entry.user_name, entry.group_name, entry.service_principal_name):
            return [
                p.permission_level.value if p.permission_level else None for p in entry.all_permissions or []
            ]
    return []


def test_get_set_update_on_a_job(w: WorkspaceClient) -> None:
    """permissions.update adds alice; permissions.set replaces with the owner only; get reads both back."""
    job_id = new_job(w)
    got = w.permissions.get("jobs", job_id)
    assert got.object_id == f"/jobs/{job_id}"
    assert levels(got, ADMIN) == ["IS_OWNER"]
    updated = w.permissions.update(
        "jobs",
        job_id,
        access_control_list=[
            AccessControlRequest(user_name=ALICE, permission_level=PermissionLevel.CAN_VIEW)
        ],
    )
    assert levels(updated, ALICE) == ["CAN_VIEW"]
    owner_only = [AccessControlRequest(user_name=ADMIN, permission_level=PermissionLevel.IS_OWNER)]
    assert levels(w.permissions.set("jobs", job_id, access_control_list=owner_only), ALICE) == []
    assert levels(w.permissions.get("jobs", job_id), ALICE) == []


def test_jobs_permission_calls_use_the_same_routes(w: WorkspaceClient) -> None:
    """jobs.update_permissions and jobs.get_permissions see the same ACL."""
    job_id = new_job(w)
    request = JobAccessControlRequest(user_name=ALICE, permission_level=JobPermissionLevel.CAN_MANAGE_RUN)
    w.jobs.update_permissions(job_id, access_control_list=[request])
    assert levels(w.jobs.get_permissions(job_id), ALICE) == ["CAN_MANAGE_RUN"]


def test_get_set_update_on_a_folder(w: WorkspaceClient) -> None:
    """A folder's ACL takes workspace levels; the admins group shows CAN_MANAGE inherited."""
    w.workspace.mkdirs("/Shared/team")
    folder_id = str(w.workspace.get_status("/Shared/team").object_id)
    grant = [AccessControlRequest(user_name=ALICE, permission_level=PermissionLevel.CAN_EDIT)]
    assert levels(w.permissions.update("directories", folder_id, access_control_list=grant), ALICE) == [
        "CAN_EDIT"
    ]
    got = w.permissions.get("directories", folder_id)
    assert got.object_id == f"/directories/{folder_id}"
    admins = next(e for e in got.access_control_list or [] if e.group_name == "admins")
    assert admins.all_permissions and admins.all_permissions[0].inherited is True
    assert levels(w.permissions.set("directories", folder_id, access_control_list=[]), ALICE) == []


def test_permission_levels(w: WorkspaceClient) -> None:
    """get_permission_levels lists a job's four levels, weakest first."""
    job_id = new_job(w)
    found = w.permissions.get_permission_levels("jobs", job_id).permission_levels or []
    assert [d.permission_level.value for d in found if d.permission_level] == [
        "CAN_VIEW",
        "CAN_MANAGE_RUN",
        "CAN_MANAGE",
        "IS_OWNER",
    ]


def test_errors_map_to_sdk_errors(w: WorkspaceClient) -> None:
    """An unknown job is NotFound; an unknown user and a job without an owner are InvalidParameterValue."""
    with pytest.raises(NotFound, match="does not exist"):
        w.permissions.get("jobs", "424242")
    job_id = new_job(w)
    ghost = [AccessControlRequest(user_name="ghost@example.com", permission_level=PermissionLevel.CAN_VIEW)]
    with pytest.raises(InvalidParameterValue, match=r"ghost@example\.com"):
        w.permissions.update("jobs", job_id, access_control_list=ghost)
    with pytest.raises(InvalidParameterValue, match="exactly one owner"):
        w.permissions.set("jobs", job_id, access_control_list=[])


def test_a_non_admin_is_refused_until_granted(w: WorkspaceClient, alice: WorkspaceClient) -> None:
    """alice's client may not read the admin's job until she holds CAN_VIEW on it."""
    job_id = new_job(w)
    with pytest.raises(PermissionDenied):
        alice.jobs.get(int(job_id))
    grant = [AccessControlRequest(user_name=ALICE, permission_level=PermissionLevel.CAN_VIEW)]
    w.permissions.update("jobs", job_id, access_control_list=grant)
    assert alice.jobs.get(int(job_id)).job_id == int(job_id)


def test_a_non_admin_is_refused_until_their_group_is_granted(
    w: WorkspaceClient, alice: WorkspaceClient
) -> None:
    """A CAN_READ to a group alice is in opens the admin's home folder to her client."""
    home = f"/Users/{ADMIN}"
    with pytest.raises(PermissionDenied):
        list(alice.workspace.list(home))
    alice_id = next(iter(w.users.list(filter=f'userName eq "{ALICE}"'))).id
    w.groups.create(display_name="readers", members=[ComplexValue(value=alice_id)])
    grant = [AccessControlRequest(group_name="readers", permission_level=PermissionLevel.CAN_READ)]
    w.permissions.update(
        "directories", str(w.workspace.get_status(home).object_id), access_control_list=grant
    )
    assert list(alice.workspace.list(home)) == []
