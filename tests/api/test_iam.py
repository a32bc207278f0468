"""SCIM identity primitives against the emulator: paging by startIndex, exact lookups, membership PATCH."""

from __future__ import annotations

import pytest

from brickbook.api import iam
from brickbook.client import Client
from brickbook.errors import ResourceDoesNotExist
from tests.conftest import Emulator

ALICE = "alice@example.com"


def test_list_groups_follows_start_index_through_small_pages(client: Client, emulator: Emulator):
    """With pages of 2, every group is read once and the pages start at 1, 3, 5, ..."""
    for index in range(5):
        client.post(f"{iam.BASE}/Groups", {"displayName": f"team-{index}"})
    names = [g.name for g in iam.list_groups(client, expression='displayName sw "team-"', page_size=2)]
    assert names == [f"team-{i}" for i in range(5)]
    queries = [
        str(r.get("query", "")) for r in emulator.requests(f"{iam.BASE}/Groups") if r.get("method") == "GET"
    ]
    assert len(queries) == 3


def test_find_principal_and_membership_round_trip(client: Client):
    """find_principal finds a user by userName; add_member and remove_member change the group."""
    client.post(f"{iam.BASE}/Groups", {"displayName": "etl"})
    group = iam.find_group(client, "etl")
    alice = iam.find_principal(client, ALICE)
    iam.add_member(client, group.id, alice.id)
    assert iam.find_group(client, "etl").member_ids == (alice.id,)
    iam.remove_member(client, group.id, alice.id)
    assert iam.find_group(client, "etl").member_ids == ()


def test_quote_escapes_filter_literals(client: Client):
    """A name with a double quote is quoted safely and simply not found."""
    assert iam.quote('a"b') == '"a\\"b"'
    with pytest.raises(ResourceDoesNotExist, match="does not exist"):
        iam.find_group(client, 'a"b')
