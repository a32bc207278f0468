"""The checks SQL and Unity Catalog tasks make before any request: names, privileges, parameters, --since."""

from __future__ import annotations

import pytest

from brickbook.errors import UsageError
from brickbook.ops.sql import check_warehouse_id, statement_params
from brickbook.ops.unity import check_privileges, check_securable, split_name
from brickbook.tasks.sql import since_ms


def test_privileges_take_the_sql_spelling_and_come_out_once():
    """'use catalog' is USE_CATALOG; a privilege given twice is sent once, in the order given."""
    assert check_privileges(["use catalog", "SELECT", "select"]) == ["USE_CATALOG", "SELECT"]


def test_a_privilege_brickbook_does_not_know_is_sent_as_it_is():
    """The API grows: a well-formed privilege far from every known one passes."""
    assert check_privileges(["CREATE_SECRET_SCOPE_X"]) == ["CREATE_SECRET_SCOPE_X"]
    assert check_privileges(["CREATE_SERVICE_CREDENTIAL"]) == ["CREATE_SERVICE_CREDENTIAL"]


def test_a_near_miss_of_a_known_privilege_is_refused_with_its_spelling():
    """MODIFFY is a typo of MODIFY: refused, naming MODIFY."""
    with pytest.raises(UsageError, match="did you mean MODIFY"):
        check_privileges(["MODIFFY"])


def test_securable_types_are_lower_case_in_the_path():
    """TABLE and table are the same type; an external location may be written with a space."""
    assert check_securable("TABLE") == "table"
    assert check_securable("external location") == "external_location"


def test_names_need_their_levels_and_clean_parts():
    """A table needs three parts; a part may not hold a space, a slash or a control character."""
    assert split_name("main.sales.orders", 3) == ("main", "sales", "orders")
    for bad in ("main.sales", "main.sa les.orders", "main.a/b.c", "main.\x1b.c", "main..c"):
        with pytest.raises(UsageError):
            split_name(bad, 3)


def test_parameters_are_identifiers_with_bounded_values():
    """:day and day name the same parameter; a name with SQL in it is refused."""
    assert statement_params([":day=2026-11-30", "n=3"]) == {"day": "2026-11-30", "n": "3"}
    with pytest.raises(UsageError, match="SQL identifier"):
        statement_params(["day)--=1"])
    with pytest.raises(UsageError, match="64 KiB"):
        statement_params(["big=" + "x" * 70_000])


def test_warehouse_ids_cannot_reach_another_path():
    """A warehouse id with a slash or a dot-dot prefix is refused before it reaches a URL."""
    assert check_warehouse_id("1234567890abcdef") == "1234567890abcdef"
    for bad in ("../jobs", "a/b", "", " x", "a?b"):
        with pytest.raises(UsageError):
            check_warehouse_id(bad)


def test_since_reads_durations_and_dates():
    """--since 2h is two hours before now; a date is midnight UTC; junk is a usage error."""
    assert since_ms("2h", 10_000.0) == (10_000 - 7200) * 1000
    assert since_ms("2026-11-30", 0.0) == 1_795_996_800_000
    with pytest.raises(UsageError, match="--since"):
        since_ms("yesterday", 0.0)
