"""Unity Catalog tasks from the command line against the emulator over loopback, as admin and as alice.

The module runs its own emulator so that alice (a plain user) can be switched in by token: she may use
the warehouse (CAN_USE), and nothing in the catalog until the admin grants it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

import tests.conftest
from tests.conftest import CliResult, run_cli
from tests.emulator.harness import ADMIN_TOKEN, ALICE, ALICE_TOKEN, Emu, serving
from tests.fakes import FakeTime

UC = "/api/2.1/unity-catalog"


@pytest.fixture(scope="module")
def emu() -> Iterator[Emu]:
    with serving() as running:
        yield running


@pytest.fixture
def env(emu: Emu, isolated_env: pytest.MonkeyPatch) -> Emu:
    # Every fake sleep moves time by 1 ms at least, as a real one does: a wait's last pause, the deadline
    # minus the time waited, may be smaller than the clock's float resolution and would then move nothing.
    emu.control("POST", "reset")
    isolated_env.setenv("DATABRICKS_HOST", emu.url)
    isolated_env.setenv("DATABRICKS_TOKEN", ADMIN_TOKEN)
    fake = FakeTime(follow=emu.clock)
    isolated_env.setitem(tests.conftest._runtime, "clock", fake.clock)
    isolated_env.setitem(tests.conftest._runtime, "sleep", lambda seconds: fake.sleep(max(seconds, 0.001)))
    return emu


def ok(*args: str) -> Any:
    result = run_cli(*args, "-o", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def error_line(result: CliResult) -> str:
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    return line


def warehouse_for_alice(emu: Emu) -> str:
    """A serverless warehouse (RUNNING on demand) that alice may use."""
    spec = {"name": "shared", "cluster_size": "2X-Small", "enable_serverless_compute": True}
    wid = str(emu.post("/api/2.0/sql/warehouses", json=spec).json()["id"])
    acl = {"access_control_list": [{"user_name": ALICE, "permission_level": "CAN_USE"}]}
    assert emu.request("PATCH", f"/api/2.0/permissions/warehouses/{wid}", json=acl).status_code == 200
    return wid


def patches(emu: Emu) -> list[dict[str, Any]]:
    return [e for e in emu.journal() if e["method"] == "PATCH"]


def test_catalog_schema_and_volume_lifecycle(env: Emu):
    """Create a catalog, a schema and a volume, list each level, then delete them again."""
    ok("uc.create-catalog", "sales", "--comment", "the sales data")
    ok("uc.create-schema", "sales.raw")
    ok("uc.create-volume", "sales.raw.files")
    assert "sales" in [c["name"] for c in ok("uc.catalogs")]
    assert "sales.raw" in [s["full_name"] for s in ok("uc.schemas", "sales")]
    assert [v["full_name"] for v in ok("uc.volumes", "sales.raw")] == ["sales.raw.files"]
    ok("uc.delete-volume", "sales.raw.files")
    assert ok("uc.volumes", "sales.raw") == []
    ok("uc.delete-schema", "sales.raw")
    ok("uc.delete-catalog", "sales", "--force")
    assert "sales" not in [c["name"] for c in ok("uc.catalogs")]


def test_tables_lists_what_statements_created(env: Emu):
    """A table made by a statement shows in uc.tables CATALOG.SCHEMA."""
    wid = warehouse_for_alice(env)
    made = run_cli("sql.execute", "CREATE TABLE main.default.orders AS SELECT 1 AS id", "--warehouse-id", wid)
    assert made.exit_code == 0, made.stderr
    assert [t["full_name"] for t in ok("uc.tables", "main.default")] == ["main.default.orders"]


def test_grant_twice_sends_one_patch_and_revoke_removes(env: Emu):
    """A grant that holds already sends nothing; revoke removes it; permissions shows the direct grants."""
    first = ok("uc.grant", "catalog", "main", ALICE, "use catalog,BROWSE")
    assert first["changed"] and first["privileges"] == ["BROWSE", "USE_CATALOG"]
    env.control("DELETE", "requests")
    again = ok("uc.grant", "CATALOG", "main", ALICE, "USE_CATALOG")
    assert not again["changed"] and again["action"] == "already granted"
    assert patches(env) == []
    shown = ok("uc.permissions", "catalog", "main", "--principal", ALICE)
    assert shown == [{"principal": ALICE, "privileges": ["BROWSE", "USE_CATALOG"]}]
    revoked = ok("uc.revoke", "catalog", "main", ALICE, "BROWSE")
    assert revoked["changed"] and revoked["privileges"] == ["USE_CATALOG"]


def test_effective_permissions_show_where_a_privilege_comes_from(env: Emu):
    """A SELECT granted on the catalog shows on the table as inherited from the catalog."""
    wid = warehouse_for_alice(env)
    assert (
        run_cli(
            "sql.execute", "CREATE TABLE main.default.t AS SELECT 1 AS v", "--warehouse-id", wid
        ).exit_code
        == 0
    )
    ok("uc.grant", "catalog", "main", ALICE, "SELECT")
    effective = ok("uc.effective-permissions", "table", "main.default.t", "--principal", ALICE)
    privileges = [p for row in effective for p in row["privileges"]]
    assert {
        "privilege": "SELECT",
        "inherited_from_type": "CATALOG",
        "inherited_from_name": "main",
    } in privileges
    text = run_cli("uc.effective-permissions", "table", "main.default.t", "--principal", ALICE)
    assert "CATALOG main" in text.stdout


def test_non_admin_is_denied_then_granted(env: Emu, isolated_env: pytest.MonkeyPatch):
    """Alice's SELECT fails (exit 7, PERMISSION_DENIED) until the admin grants the three privileges."""
    wid = warehouse_for_alice(env)
    assert (
        run_cli(
            "sql.execute", "CREATE TABLE main.default.t AS SELECT 7 AS v", "--warehouse-id", wid
        ).exit_code
        == 0
    )
    query = ("sql.execute", "SELECT v FROM main.default.t", "--warehouse-id", wid)
    isolated_env.setenv("DATABRICKS_TOKEN", ALICE_TOKEN)
    denied = run_cli(*query)
    assert denied.exit_code == 7
    assert "PERMISSION_DENIED" in error_line(denied) or "permission" in error_line(denied).lower()
    refused = run_cli("uc.grant", "catalog", "main", ALICE, "USE_CATALOG")
    assert refused.exit_code == 3 and "PERMISSION_DENIED" in error_line(refused)
    isolated_env.setenv("DATABRICKS_TOKEN", ADMIN_TOKEN)
    ok("uc.grant", "catalog", "main", ALICE, "USE_CATALOG")
    ok("uc.grant", "schema", "main.default", ALICE, "USE_SCHEMA")
    ok("uc.grant", "table", "main.default.t", ALICE, "SELECT")
    isolated_env.setenv("DATABRICKS_TOKEN", ALICE_TOKEN)
    granted = run_cli(*query)
    assert granted.exit_code == 0, granted.stderr
    assert granted.stdout == "v\n7\n"


def test_volume_grants_for_alice(env: Emu):
    """READ_VOLUME granted on a volume shows among alice's effective privileges there."""
    ok("uc.create-volume", "main.default.files")
    ok("uc.grant", "volume", "main.default.files", ALICE, "READ_VOLUME")
    effective = ok("uc.effective-permissions", "volume", "main.default.files", "--principal", ALICE)
    assert "READ_VOLUME" in [p["privilege"] for row in effective for p in row["privileges"]]


def test_missing_catalog_is_not_found(env: Emu):
    """Listing the schemas of a catalog that does not exist is exit 4."""
    result = run_cli("uc.schemas", "nowhere")
    assert result.exit_code == 4, result.stderr
