"""Every route of the emulator refuses a missing or wrong token, and a plain user what it may not do.

The route table is enumerated from ``create_app(...).routes``: a route added without an entry in
``reliability/route_table.py`` (what a non-admin is refused there, or why any user may call it) fails
``test_every_mutating_route_has_an_entry`` naming the route. The same checks run in the reliability
suite (``invoke reliability --only security``).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Any

import pytest

from brickbook.emulator.app import create_app
from reliability.route_checks import Api, Custom, Probe, missing_entries, route_methods, sweep_auth
from reliability.route_table import non_admin_table
from tests.emulator.harness import ADMIN_TOKEN, ALICE, ALICE_TOKEN, Emu, FakeClock, make_settings, serving


@cache
def _routes() -> list[Any]:
    return list(create_app(make_settings(FakeClock())).routes)


def _probes() -> list[tuple[str, Probe | Custom]]:
    table = non_admin_table(_routes())
    return [(f"{m} {p}", e) for (m, p), e in table.items() if isinstance(e, Probe | Custom)]


@pytest.fixture(scope="module")
def served() -> Iterator[Emu]:
    with serving(allow_remote_repos=True) as emu:
        yield emu


@pytest.fixture
def api(served: Emu) -> Iterator[Api]:
    """Raw HTTP to a freshly reset emulator, as the admin or as Alice (no grants)."""
    assert served.control("POST", "reset").status_code == 200
    api = Api(served.url, ADMIN_TOKEN, ALICE_TOKEN, ALICE)
    yield api
    api.http.close()


def test_every_mutating_route_has_an_entry():
    """Each mutating route and each control route has a non-admin entry (a check, or why any user may)."""
    missing = missing_entries(_routes(), non_admin_table(_routes()))
    assert not missing, (
        "these emulator routes have no entry in reliability/route_table.py (add a Probe that a non-admin is "
        f"refused, or Open('any user may, because ...')): {', '.join(missing)}"
    )


def test_no_entry_names_a_route_that_is_gone():
    """Every entry of the table names a route the emulator serves (a renamed route leaves no stale check)."""
    served = set(route_methods(_routes()))
    stale = [f"{m} {p}" for (m, p) in non_admin_table(_routes()) if (m, p) not in served]
    assert not stale, f"entries for routes the emulator does not serve: {', '.join(stale)}"


def test_every_route_refuses_a_missing_or_wrong_token(api: Api):
    """No token is 401 and an unknown token 403 on every method of every route, control API included."""
    sent, failures = sweep_auth(api, _routes())
    assert sent > 2 * len(_routes()) - 10
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(("route", "probe"), _probes(), ids=[name for name, _ in _probes()])
def test_a_non_admin_is_refused(route: str, probe: Probe | Custom, api: Api):
    """A user without a grant or ACL cannot change the admin's object through this route."""
    assert probe.run(api) is None, route
