"""The shared grants model: privileges per (securable, principal), ACL levels, inheritance."""

from __future__ import annotations

from brickbook.emulator.state.grants import Grants, Held, Levels, memberships
from brickbook.emulator.state.identity import Principal
from brickbook.emulator.state.store import Store

ALICE = Principal("alice@example.com", is_admin=False)


def test_update_adds_and_removes_privileges_of_one_principal():
    """update adds new privileges once, removes the named ones, and keeps the order granted."""
    grants = Grants(Store())
    grants.update("catalog:main", ALICE.user_name, add=["USE_CATALOG", "SELECT", "USE_CATALOG"])
    assert grants.update("catalog:main", ALICE.user_name, add=["MODIFY"], remove=["SELECT"]) == [
        "USE_CATALOG",
        "MODIFY",
    ]
    assert grants.on("catalog:main") == {ALICE.user_name: ["USE_CATALOG", "MODIFY"]}


def test_a_principal_left_with_no_privilege_is_dropped():
    """Removing a principal's last privilege removes the principal (and an empty securable's record)."""
    store = Store()
    grants = Grants(store)
    grants.update("catalog:main", "users", add=["USE_CATALOG"])
    grants.update("catalog:main", "users", remove=["USE_CATALOG"])
    assert grants.on("catalog:main") == {}
    assert store.items("grant") == []


def test_effective_inherits_along_the_chain_and_through_groups():
    """effective answers grants to the user and its groups on the securable and each ancestor."""
    grants = Grants(Store())
    grants.update("catalog:main", "users", add=["USE_CATALOG"])
    grants.update("schema:main.default", ALICE.user_name, add=["USE_SCHEMA", "SELECT"])
    grants.update("table:main.default.t", "someone-else", add=["MODIFY"])
    chain = ["table:main.default.t", "schema:main.default", "catalog:main"]
    assert grants.effective(chain, ALICE) == [
        Held("USE_SCHEMA", "schema:main.default", ALICE.user_name),
        Held("SELECT", "schema:main.default", ALICE.user_name),
        Held("USE_CATALOG", "catalog:main", "users"),
    ]
    assert grants.holds(chain, ALICE, "SELECT")
    assert not grants.holds(chain, ALICE, "MODIFY")
    assert grants.holds(chain, ALICE, "MODIFY", also=["SELECT"])


def test_levels_rank_weakest_first():
    """A level's rank is its place, weakest first; at_least lists the levels that would do."""
    levels = Levels(("READ", "WRITE", "MANAGE"))
    assert (levels.rank("READ"), levels.rank("MANAGE"), levels.rank("OWN"), levels.rank(None)) == (
        0,
        2,
        -1,
        -1,
    )
    assert levels.at_least("WRITE") == ("WRITE", "MANAGE")
    assert levels.strongest(["READ", None, "WRITE"]) == 1
    assert "WRITE" in levels


def test_level_is_the_strongest_over_user_and_groups():
    """level is the strongest ACL level granted to the user name or one of its groups."""
    grants = Grants(Store())
    levels = Levels(("READ", "WRITE", "MANAGE"))
    grants.replace("secret_scope:etl", ALICE.user_name, ["READ"])
    grants.replace("secret_scope:etl", "users", ["WRITE"])
    assert grants.level("secret_scope:etl", ALICE, levels) == 1
    assert grants.levels_on("secret_scope:etl") == {ALICE.user_name: "READ", "users": "WRITE"}
    assert memberships(ALICE) == (ALICE.user_name, "users")
