"""Unity Catalog over HTTP: catalogs, schemas, tables, volumes, grants, inheritance and enforcement."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from brickbook.emulator.errors import ApiError
from brickbook.emulator.sql.service import SqlService
from brickbook.emulator.state.identity import Principal
from brickbook.emulator.state.store import Store
from tests.emulator.harness import ADMIN, ADMIN_TOKEN, ALICE, ALICE_TOKEN, Emu
from tests.emulator.sql_harness import AnyWarehouse, run
from tests.fakes import FakeClock

UC = "/api/2.1/unity-catalog"


def sql(emu: Emu, statement: str, token: str = ADMIN_TOKEN) -> dict[str, Any]:
    return run(emu, statement, token)


def grant(emu: Emu, kind: str, name: str, *privileges: str, principal: str = ALICE) -> None:
    change = {"principal": principal, "add": list(privileges)}
    response = emu.request("PATCH", f"{UC}/permissions/{kind}/{name}", json={"changes": [change]})
    assert response.status_code == 200, response.text


def test_every_catalog_has_a_default_schema(emu: Emu):
    """A fresh emulator has the main catalog with a default schema; a new catalog gets one too."""
    assert [c["name"] for c in emu.get(f"{UC}/catalogs").json()["catalogs"]] == ["main"]
    created = emu.post(f"{UC}/catalogs", json={"name": "sales"}).json()
    assert created["name"] == "sales"
    schemas = emu.get(f"{UC}/schemas", params={"catalog_name": "main"}).json()["schemas"]
    assert [s["full_name"] for s in schemas] == ["main.default"]
    schemas = emu.get(f"{UC}/schemas", params={"catalog_name": "sales"}).json()["schemas"]
    assert [s["full_name"] for s in schemas] == ["sales.default"]


def test_catalog_crud_and_errors(emu: Emu):
    """Create, get, duplicate (409 CATALOG_ALREADY_EXISTS), delete, then 404 CATALOG_DOES_NOT_EXIST."""
    created = emu.post(f"{UC}/catalogs", json={"name": "Sales", "comment": "c"}).json()
    assert (created["name"], created["owner"], created["comment"]) == ("sales", ADMIN, "c")
    duplicate = emu.post(f"{UC}/catalogs", json={"name": "sales"})
    assert (duplicate.status_code, duplicate.json()["error_code"]) == (409, "CATALOG_ALREADY_EXISTS")
    assert emu.request("DELETE", f"{UC}/catalogs/sales").status_code == 200
    missing = emu.get(f"{UC}/catalogs/sales")
    assert (missing.status_code, missing.json()["error_code"]) == (404, "CATALOG_DOES_NOT_EXIST")
    assert "Catalog 'sales' does not exist" in missing.json()["message"]


def test_non_admin_cannot_create_a_catalog(emu: Emu):
    """Creating a catalog needs metastore admin: 403 PERMISSION_DENIED."""
    response = emu.post(f"{UC}/catalogs", json={"name": "mine"}, token=ALICE_TOKEN)
    assert (response.status_code, response.json()["error_code"]) == (403, "PERMISSION_DENIED")


def test_schema_crud_and_not_empty(emu: Emu):
    """Schemas: create, duplicate, a non-empty delete refused without force, then gone."""
    emu.post(f"{UC}/schemas", json={"catalog_name": "main", "name": "etl"})
    duplicate = emu.post(f"{UC}/schemas", json={"catalog_name": "main", "name": "etl"})
    assert (duplicate.status_code, duplicate.json()["error_code"]) == (409, "SCHEMA_ALREADY_EXISTS")
    sql(emu, "CREATE TABLE main.etl.t (x INT)")
    refused = emu.request("DELETE", f"{UC}/schemas/main.etl")
    assert (refused.status_code, refused.json()["error_code"]) == (400, "SCHEMA_NOT_EMPTY")
    assert emu.request("DELETE", f"{UC}/schemas/main.etl", params={"force": "true"}).status_code == 200
    missing = emu.get(f"{UC}/schemas/main.etl")
    assert (missing.status_code, missing.json()["error_code"]) == (404, "SCHEMA_DOES_NOT_EXIST")


def test_schema_in_missing_catalog(emu: Emu):
    """A schema in a catalog that does not exist is 404 CATALOG_DOES_NOT_EXIST."""
    response = emu.post(f"{UC}/schemas", json={"catalog_name": "nope", "name": "s"})
    assert (response.status_code, response.json()["error_code"]) == (404, "CATALOG_DOES_NOT_EXIST")


def test_tables_reflect_statements(emu: Emu):
    """A table created by a statement is listed with its columns, DELTA and MANAGED; dropping removes it."""
    sql(emu, "CREATE TABLE orders (id BIGINT, amount DECIMAL(10,2), note STRING) USING DELTA")
    tables = emu.get(f"{UC}/tables", params={"catalog_name": "main", "schema_name": "default"}).json()[
        "tables"
    ]
    assert [(t["full_name"], t["table_type"], t["data_source_format"]) for t in tables] == [
        ("main.default.orders", "MANAGED", "DELTA")
    ]
    table = emu.get(f"{UC}/tables/main.default.orders").json()
    assert [(c["name"], c["type_name"]) for c in table["columns"]] == [
        ("id", "LONG"),
        ("amount", "DECIMAL"),
        ("note", "STRING"),
    ]
    assert table["owner"] == ADMIN
    sql(emu, "DROP TABLE orders")
    missing = emu.get(f"{UC}/tables/main.default.orders")
    assert (missing.status_code, missing.json()["error_code"]) == (404, "TABLE_DOES_NOT_EXIST")


def test_volume_crud(emu: Emu):
    """A managed volume: create with a storage location, get, list, delete."""
    body = {"catalog_name": "main", "schema_name": "default", "name": "landing", "volume_type": "MANAGED"}
    created = emu.post(f"{UC}/volumes", json=body).json()
    assert created["full_name"] == "main.default.landing" and created["storage_location"]
    assert emu.get(f"{UC}/volumes/main.default.landing").json()["volume_type"] == "MANAGED"
    listed = emu.get(f"{UC}/volumes", params={"catalog_name": "main", "schema_name": "default"}).json()
    assert [v["name"] for v in listed["volumes"]] == ["landing"]
    assert emu.request("DELETE", f"{UC}/volumes/main.default.landing").status_code == 200
    assert emu.get(f"{UC}/volumes/main.default.landing").status_code == 404


def test_external_volume_is_refused(emu: Emu):
    """Only MANAGED volumes exist here: EXTERNAL is INVALID_PARAMETER_VALUE."""
    body = {"catalog_name": "main", "schema_name": "default", "name": "x", "volume_type": "EXTERNAL"}
    response = emu.post(f"{UC}/volumes", json=body)
    assert (response.status_code, response.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE")


def test_permissions_update_and_get_case_insensitive(emu: Emu):
    """PATCH adds and removes; GET answers the direct grants whatever the type's case."""
    grant(emu, "CATALOG", "main", "USE_CATALOG", "BROWSE")
    change = {"principal": ALICE, "remove": ["BROWSE"]}
    patched = emu.request("PATCH", f"{UC}/permissions/catalog/main", json={"changes": [change]}).json()
    assert patched["privilege_assignments"] == [{"principal": ALICE, "privileges": ["USE_CATALOG"]}]
    got = emu.get(f"{UC}/permissions/Catalog/main").json()
    assert got == patched


def test_unknown_privilege_is_refused(emu: Emu):
    """A privilege that does not apply to the securable is INVALID_PARAMETER_VALUE; nothing changes."""
    changes = [{"principal": ALICE, "add": ["USE_SCHEMA"]}, {"principal": ALICE, "add": ["SELECT", "FLY"]}]
    response = emu.request("PATCH", f"{UC}/permissions/table/main.default.t", json={"changes": changes})
    assert response.status_code == 404  # the table does not exist yet
    sql(emu, "CREATE TABLE t (x INT)")
    response = emu.request("PATCH", f"{UC}/permissions/table/main.default.t", json={"changes": changes})
    assert (response.status_code, response.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    assert emu.get(f"{UC}/permissions/table/main.default.t").json() == {}


def test_effective_permissions_inherit_from_catalog_and_schema(emu: Emu):
    """Effective permissions on a table include catalog and schema grants, marked with their source."""
    sql(emu, "CREATE TABLE t (x INT)")
    grant(emu, "catalog", "main", "USE_CATALOG")
    grant(emu, "schema", "main.default", "USE_SCHEMA", "SELECT")
    answer = emu.get(f"{UC}/effective-permissions/table/main.default.t", params={"principal": ALICE}).json()
    privileges = answer["privilege_assignments"][0]["privileges"]
    assert {
        (p["privilege"], p.get("inherited_from_type"), p.get("inherited_from_name")) for p in privileges
    } == {
        ("USE_SCHEMA", "SCHEMA", "main.default"),
        ("SELECT", "SCHEMA", "main.default"),
        ("USE_CATALOG", "CATALOG", "main"),
    }


def test_non_admin_denied_then_granted_select(emu: Emu):
    """Alice cannot read a table until she holds USE_CATALOG, USE_SCHEMA and SELECT."""
    sql(emu, "CREATE TABLE t AS SELECT 1 AS x")
    denied = sql(emu, "SELECT * FROM t", ALICE_TOKEN)["status"]
    assert denied["state"] == "FAILED" and denied["error"]["error_code"] == "PERMISSION_DENIED"
    assert "User does not have USE CATALOG on Catalog 'main'" in denied["error"]["message"]
    grant(emu, "catalog", "main", "USE_CATALOG")
    grant(emu, "schema", "main.default", "USE_SCHEMA")
    denied = sql(emu, "SELECT * FROM t", ALICE_TOKEN)["status"]
    assert "User does not have SELECT on Table 'main.default.t'" in denied["error"]["message"]
    grant(emu, "table", "main.default.t", "SELECT")
    assert sql(emu, "SELECT * FROM t", ALICE_TOKEN)["result"]["data_array"] == [["1"]]
    refused = sql(emu, "INSERT INTO t VALUES (2)", ALICE_TOKEN)["status"]
    assert "User does not have MODIFY on Table 'main.default.t'" in refused["error"]["message"]
    grant(emu, "table", "main.default.t", "MODIFY")
    assert sql(emu, "INSERT INTO t VALUES (2)", ALICE_TOKEN)["status"]["state"] == "SUCCEEDED"


def test_creator_owns_what_it_creates(emu: Emu):
    """With CREATE_TABLE on the schema Alice creates a table she owns, reads and may grant on."""
    grant(emu, "catalog", "main", "USE_CATALOG")
    grant(emu, "schema", "main.default", "USE_SCHEMA", "CREATE_TABLE")
    assert sql(emu, "CREATE TABLE mine AS SELECT 5 AS v", ALICE_TOKEN)["status"]["state"] == "SUCCEEDED"
    assert emu.get(f"{UC}/tables/main.default.mine").json()["owner"] == ALICE
    assert sql(emu, "SELECT v FROM mine", ALICE_TOKEN)["result"]["data_array"] == [["5"]]
    change = {"changes": [{"principal": "users", "add": ["SELECT"]}]}
    response = emu.request(
        "PATCH", f"{UC}/permissions/table/main.default.mine", json=change, token=ALICE_TOKEN
    )
    assert response.status_code == 200


def test_non_owner_cannot_grant(emu: Emu):
    """Granting on a securable needs ownership or MANAGE: 403 PERMISSION_DENIED."""
    change = {"changes": [{"principal": ALICE, "add": ["USE_CATALOG"]}]}
    response = emu.request("PATCH", f"{UC}/permissions/catalog/main", json=change, token=ALICE_TOKEN)
    assert (response.status_code, response.json()["error_code"]) == (403, "PERMISSION_DENIED")


def test_lists_show_a_non_admin_what_they_may_use(emu: Emu):
    """Alice sees no catalog until she holds a privilege on one."""
    assert emu.get(f"{UC}/catalogs", token=ALICE_TOKEN).json() == {}
    grant(emu, "catalog", "main", "USE_CATALOG")
    assert [c["name"] for c in emu.get(f"{UC}/catalogs", token=ALICE_TOKEN).json()["catalogs"]] == ["main"]


def test_require_volume_checks_existence_and_privileges(tmp_path: Path):
    """require_volume: NOT_FOUND for a missing volume, PERMISSION_DENIED until READ/WRITE_VOLUME."""
    service = SqlService(Store(), FakeClock(), data_dir=tmp_path, admin=ADMIN, gate=AnyWarehouse())
    admin, alice = Principal(ADMIN, is_admin=True), Principal(ALICE, is_admin=False)
    with pytest.raises(ApiError) as missing:
        service.require_volume(admin, "main", "default", "files", write=False)
    assert missing.value.code == "NOT_FOUND"
    body = {"catalog_name": "main", "schema_name": "default", "name": "files", "volume_type": "MANAGED"}
    service.catalogs.create_volume(admin, body)
    assert (
        service.volume_root("main", "default", "files") == tmp_path / "volumes" / "main" / "default" / "files"
    )
    assert service.volume_root("main", "default", "files").is_dir()
    with pytest.raises(ApiError) as denied:
        service.require_volume(alice, "main", "default", "files", write=False)
    assert (denied.value.code, denied.value.status) == ("PERMISSION_DENIED", 403)
    privileges = service.catalogs.privileges
    privileges.update(
        "CATALOG", "main", [{"principal": ALICE, "add": ["USE_CATALOG", "USE_SCHEMA", "READ_VOLUME"]}]
    )
    service.require_volume(alice, "main", "default", "files", write=False)
    with pytest.raises(ApiError, match=r"User does not have WRITE VOLUME on Volume 'main\.default\.files'"):
        service.require_volume(alice, "main", "default", "files", write=True)
    service.shutdown()


def test_data_persists_under_the_data_dir(tmp_path: Path):
    """Tables, catalogs and grants survive a restart on the same data dir."""
    from brickbook.emulator.state.store import Store as FileStore

    store = FileStore(tmp_path)
    first = SqlService(store, FakeClock(), data_dir=tmp_path, admin=ADMIN, gate=AnyWarehouse())
    admin = Principal(ADMIN, is_admin=True)
    first.catalogs.create_catalog(admin, "sales")
    first.run_sql(admin, "CREATE SCHEMA sales.raw; CREATE TABLE sales.raw.t AS SELECT 3 AS x")
    first.shutdown()
    store.close()
    store = FileStore(tmp_path)
    second = SqlService(store, FakeClock(), data_dir=tmp_path, admin=ADMIN, gate=AnyWarehouse())
    statement, _, _ = second.run_sql(admin, "SELECT x FROM sales.raw.t")
    assert statement.result is not None and statement.result.chunk(statement.statement_id, 0)[
        "data_array"
    ] == [["3"]]
    assert second.catalogs.table("sales.raw.t")["owner"] == ADMIN
    second.shutdown()
    store.close()


@pytest.mark.parametrize("max_results", ["1", "149", "-1", "x"])
def test_permissions_page_size_below_150_is_refused(emu: Emu, max_results: str):
    """Permissions lists take max_results 0 or at least 150, as the service documents."""
    response = emu.get(f"{UC}/permissions/catalog/main", params={"max_results": max_results})
    assert (response.status_code, response.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    assert emu.get(f"{UC}/permissions/catalog/main", params={"max_results": "150"}).status_code == 200


def test_unknown_securable_type_is_refused(emu: Emu):
    """A securable type the emulator does not keep is INVALID_PARAMETER_VALUE naming the ones it does."""
    response = emu.get(f"{UC}/permissions/share/x")
    assert (response.status_code, response.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    assert "catalog, schema, table, volume" in response.json()["message"]


def test_replacing_another_users_table_needs_ownership(emu: Emu):
    """CREATE OR REPLACE of a table someone else owns is refused even with CREATE_TABLE."""
    sql(emu, "CREATE TABLE theirs AS SELECT 1 AS x")
    grant(emu, "catalog", "main", "USE_CATALOG")
    grant(emu, "schema", "main.default", "USE_SCHEMA", "CREATE_TABLE")
    refused = sql(emu, "CREATE OR REPLACE TABLE theirs AS SELECT 2 AS x", ALICE_TOKEN)["status"]
    assert "User is not an owner of Table 'main.default.theirs'" in refused["error"]["message"]
    assert (
        sql(emu, "CREATE OR REPLACE TABLE mine AS SELECT 2 AS x", ALICE_TOKEN)["status"]["state"]
        == "SUCCEEDED"
    )


def test_getting_a_table_needs_privileges(emu: Emu):
    """A non-admin's GET of a table is 403 until the path to it is usable and a privilege is held."""
    sql(emu, "CREATE TABLE t AS SELECT 1 AS x")
    denied = emu.get(f"{UC}/tables/main.default.t", token=ALICE_TOKEN)
    assert (denied.status_code, denied.json()["error_code"]) == (403, "PERMISSION_DENIED")
    assert "User does not have USE CATALOG on Catalog 'main'" in denied.json()["message"]
    grant(emu, "catalog", "main", "USE_CATALOG")
    grant(emu, "schema", "main.default", "USE_SCHEMA")
    assert emu.get(f"{UC}/tables/main.default.t", token=ALICE_TOKEN).json()["full_name"] == "main.default.t"
    missing = emu.get(f"{UC}/tables/main.default.nope", token=ALICE_TOKEN)
    assert missing.json()["error_code"] == "TABLE_DOES_NOT_EXIST"


def test_update_comment_and_owner(emu: Emu):
    """PATCH changes a schema's comment and owner; the new owner may grant on it; others may not update."""
    emu.post(f"{UC}/schemas", json={"catalog_name": "main", "name": "etl"})
    denied = emu.request("PATCH", f"{UC}/schemas/main.etl", json={"comment": "x"}, token=ALICE_TOKEN)
    assert (denied.status_code, denied.json()["error_code"]) == (403, "PERMISSION_DENIED")
    updated = emu.request(
        "PATCH", f"{UC}/schemas/main.etl", json={"comment": "raw data", "owner": ALICE}
    ).json()
    assert (updated["comment"], updated["owner"]) == ("raw data", ALICE)
    change = {"changes": [{"principal": "users", "add": ["USE_SCHEMA"]}]}
    granted = emu.request("PATCH", f"{UC}/permissions/schema/main.etl", json=change, token=ALICE_TOKEN)
    assert granted.status_code == 200
    renamed = emu.request("PATCH", f"{UC}/catalogs/main", json={"new_name": "other"})
    assert (renamed.status_code, renamed.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE")


def test_grant_and_revoke_in_sql(emu: Emu):
    """GRANT and REVOKE statements change the grants as the permissions API does."""
    sql(emu, "CREATE TABLE t AS SELECT 1 AS x")
    assert (
        sql(emu, "GRANT USE CATALOG ON CATALOG main TO `alice@example.com`")["status"]["state"] == "SUCCEEDED"
    )
    sql(emu, "GRANT USE SCHEMA, SELECT ON SCHEMA default TO `alice@example.com`")
    assert sql(emu, "SELECT * FROM t", ALICE_TOKEN)["result"]["data_array"] == [["1"]]
    direct = emu.get(f"{UC}/permissions/schema/main.default").json()["privilege_assignments"]
    assert direct == [{"principal": ALICE, "privileges": ["SELECT", "USE_SCHEMA"]}]
    sql(emu, "REVOKE SELECT ON SCHEMA main.default FROM `alice@example.com`")
    assert sql(emu, "SELECT * FROM t", ALICE_TOKEN)["status"]["state"] == "FAILED"


def test_grant_in_sql_needs_ownership_and_known_privileges(emu: Emu):
    """A non-owner's GRANT fails PERMISSION_DENIED; an unknown privilege or a bad GRANT fails clearly."""
    sql(emu, "CREATE TABLE t AS SELECT 1 AS x")
    denied = sql(emu, "GRANT SELECT ON TABLE t TO `alice@example.com`", ALICE_TOKEN)["status"]["error"]
    assert (
        denied["error_code"] == "PERMISSION_DENIED"
        and "MANAGE on Table 'main.default.t'" in denied["message"]
    )
    unknown = sql(emu, "GRANT FLY ON TABLE t TO `alice@example.com`")["status"]["error"]
    assert "Privilege FLY is not applicable" in unknown["message"]
    malformed = sql(emu, "GRANT SELECT TO `alice@example.com`")["status"]["error"]
    assert "The brickbook emulator reads GRANT privilege" in malformed["message"]
    missing = sql(emu, "GRANT SELECT ON TABLE nope TO `alice@example.com`")["status"]["error"]
    assert "Table 'main.default.nope' does not exist" in missing["message"]
