"""The official databricks-sdk's Unity Catalog APIs (catalogs, schemas, tables, volumes, grants)."""

from __future__ import annotations

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import NotFound, PermissionDenied, ResourceConflict
from databricks.sdk.service.catalog import PermissionsChange, Privilege, VolumeType

from tests.emulator.harness import ADMIN, ADMIN_TOKEN, ALICE, ALICE_TOKEN, Emu
from tests.emulator.sql_harness import warehouse


@pytest.fixture
def w(sdk_env: Emu) -> WorkspaceClient:
    return WorkspaceClient(host=sdk_env.url, token=ADMIN_TOKEN)


@pytest.fixture
def alice(sdk_env: Emu) -> WorkspaceClient:
    return WorkspaceClient(host=sdk_env.url, token=ALICE_TOKEN)


def test_catalogs_and_schemas(w: WorkspaceClient):
    """catalogs.create/get/list/delete and schemas.create/get/list/delete round-trip."""
    created = w.catalogs.create("sales", comment="numbers")
    assert (created.name, created.owner) == ("sales", ADMIN)
    assert {c.name for c in w.catalogs.list()} == {"main", "sales"}
    schema = w.schemas.create("raw", "sales")
    assert schema.full_name == "sales.raw"
    assert w.schemas.get("sales.raw").catalog_name == "sales"
    assert {s.name for s in w.schemas.list("sales")} == {"default", "raw"}
    w.schemas.delete("sales.raw")
    w.catalogs.delete("sales", force=True)
    with pytest.raises(NotFound, match="Catalog 'sales' does not exist"):
        w.catalogs.get("sales")


def test_duplicate_catalog_is_a_conflict(w: WorkspaceClient):
    """A second catalog of the same name raises ResourceConflict (CATALOG_ALREADY_EXISTS)."""
    w.catalogs.create("sales")
    with pytest.raises(ResourceConflict) as caught:
        w.catalogs.create("sales")
    assert caught.value.error_code == "CATALOG_ALREADY_EXISTS"


def test_tables_list_and_get(w: WorkspaceClient, sdk_env: Emu):
    """tables.list/get reflect a table a statement created, with its columns."""
    w.statement_execution.execute_statement(
        statement="CREATE TABLE main.default.t (id BIGINT, name STRING) USING DELTA",
        warehouse_id=warehouse(sdk_env),
    )
    assert [t.full_name for t in w.tables.list("main", "default")] == ["main.default.t"]
    table = w.tables.get("main.default.t")
    assert table.data_source_format is not None and table.data_source_format.value == "DELTA"
    assert [c.name for c in table.columns or []] == ["id", "name"]
    with pytest.raises(NotFound) as caught:
        w.tables.get("main.default.nope")
    assert caught.value.error_code == "TABLE_DOES_NOT_EXIST"


def test_volumes(w: WorkspaceClient):
    """volumes.create/read/list/delete for a managed volume."""
    created = w.volumes.create("main", "default", "landing", VolumeType.MANAGED)
    assert created.full_name == "main.default.landing" and created.storage_location
    assert w.volumes.read("main.default.landing").volume_type == VolumeType.MANAGED
    assert [v.name for v in w.volumes.list("main", "default")] == ["landing"]
    w.volumes.delete("main.default.landing")
    assert list(w.volumes.list("main", "default")) == []


def test_grants_update_get_and_effective(w: WorkspaceClient, sdk_env: Emu):
    """grants.update adds privileges; get shows direct grants; get_effective adds the inherited ones."""
    w.statement_execution.execute_statement(
        statement="CREATE TABLE t AS SELECT 1 AS x", warehouse_id=warehouse(sdk_env)
    )
    w.grants.update(
        "CATALOG", "main", changes=[PermissionsChange(principal=ALICE, add=[Privilege.USE_CATALOG])]
    )
    w.grants.update(
        "table", "main.default.t", changes=[PermissionsChange(principal=ALICE, add=[Privilege.SELECT])]
    )
    direct = w.grants.get("TABLE", "main.default.t")
    assert [(a.principal, a.privileges) for a in direct.privilege_assignments or []] == [
        (ALICE, [Privilege.SELECT])
    ]
    effective = w.grants.get_effective("TABLE", "main.default.t", principal=ALICE)
    held = {
        (p.privilege, p.inherited_from_name)
        for a in effective.privilege_assignments or []
        for p in a.privileges or []
    }
    assert held == {(Privilege.SELECT, None), (Privilege.USE_CATALOG, "main")}


def test_non_admin_denied_until_granted(w: WorkspaceClient, alice: WorkspaceClient, sdk_env: Emu):
    """Alice's SELECT fails until she holds USE_CATALOG, USE_SCHEMA and SELECT; she may not grant."""
    w.statement_execution.execute_statement(
        statement="CREATE TABLE t AS SELECT 1 AS x", warehouse_id=warehouse(sdk_env)
    )
    failed = alice.statement_execution.execute_statement(
        statement="SELECT * FROM t", warehouse_id=warehouse(sdk_env)
    )
    assert failed.status and failed.status.error and "USE CATALOG" in (failed.status.error.message or "")
    with pytest.raises(PermissionDenied):
        alice.grants.update(
            "CATALOG", "main", changes=[PermissionsChange(principal=ALICE, add=[Privilege.USE_CATALOG])]
        )
    w.grants.update(
        "SCHEMA",
        "main.default",
        changes=[PermissionsChange(principal=ALICE, add=[Privilege.USE_SCHEMA, Privilege.SELECT])],
    )
    w.grants.update(
        "CATALOG", "main", changes=[PermissionsChange(principal=ALICE, add=[Privilege.USE_CATALOG])]
    )
    answer = alice.statement_execution.execute_statement(
        statement="SELECT * FROM t", warehouse_id=warehouse(sdk_env)
    )
    assert answer.result and answer.result.data_array == [["1"]]


def test_update_owner_through_the_sdk(w: WorkspaceClient):
    """catalogs.update / schemas.update / volumes.update change comment and owner."""
    w.catalogs.create("sales")
    assert w.catalogs.update("sales", comment="money").comment == "money"
    assert w.schemas.update("sales.default", owner=ALICE).owner == ALICE
    w.volumes.create("sales", "default", "files", VolumeType.MANAGED)
    assert w.volumes.update("sales.default.files", comment="drop zone").comment == "drop zone"
