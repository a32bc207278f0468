"""Security of the emulator: every route refuses a missing or wrong token; a plain user is refused what
it has no permission for, route by route, from a table that a new route cannot escape.

The route table is enumerated from ``create_app(...).routes`` (every method of every route, the control
API ``/_emulator/*`` included) and each is sent without a token (401) and with an unknown one (403).
Then, for each mutating route and each control route, the table in ``reliability/route_table.py``
either probes it (the admin makes a job, cluster, pool, policy, notebook, repo, scope, warehouse,
catalog, ...; a user with no grant or ACL tries to change it and must get 403 PERMISSION_DENIED; SQL
on a table without grants must fail with PERMISSION_DENIED) or says why any user may call it. A route
with no entry fails the suite, naming it. Known gaps (routes whose permission model the emulator does
not enforce yet) are counted and named.
"""

from __future__ import annotations

from reliability.harness import Figure, Harness, SuiteResult, count_figure
from reliability.route_checks import Api, Custom, Open, Probe, missing_entries, route_methods, sweep_auth
from reliability.route_table import non_admin_table

__all__ = ["NAME", "TITLE", "run"]

NAME = "security"
TITLE = "7. Security of the emulator"
ADMIN_TOKEN = "dapi-security-admin-5e1c0a7b9d3f"
USER = "alice@example.com"
USER_TOKEN = "dapi-security-alice-8b2d4f6a1c3e"


def run(h: Harness) -> SuiteResult:
    """Sweep the routes for auth, then run every probe of the non-admin table on a reset emulator."""
    from brickbook.emulator.app import create_app
    from brickbook.emulator.server import start_in_thread
    from brickbook.emulator.settings import EmulatorSettings

    h.secrets.register(ADMIN_TOKEN, "security: admin token")
    h.secrets.register(USER_TOKEN, "security: user token")
    settings = EmulatorSettings(
        host="127.0.0.1",
        port=0,
        admin_token=ADMIN_TOKEN,
        admin_user="admin@example.com",
        users={USER: USER_TOKEN},
        allow_remote_repos=True,  # a repo to refuse changes to needs a clone, of a URL never fetched
    )
    routes = list(create_app(settings).routes)
    table = non_admin_table(routes)
    missing = missing_entries(routes, table)
    failures: list[str] = []
    with start_in_thread(settings) as running:
        api = Api(running.url, ADMIN_TOKEN, USER_TOKEN, USER)
        sent, auth_failures = sweep_auth(api, routes)
        probes = [(key, entry) for key, entry in table.items() if isinstance(entry, Probe | Custom)]
        for (method, path), probe in probes:
            failed = _attempt(api, probe)
            if failed is not None:
                failures.append(f"{method} {path}: {failed}")
        api.http.close()
    h.capture.add("security", "\n".join([*auth_failures, *failures]))
    opened = sum(isinstance(e, Open) for e in table.values())
    return SuiteResult(
        name=NAME,
        title=TITLE,
        description=(__doc__ or "").strip().split("\n\n", 1)[0].replace("\n", " "),
        command=h.command(NAME),
        figures=[
            Figure("route methods enumerated (control API included)", len(list(route_methods(routes)))),
            Figure("requests without a token or with a wrong one", sent),
            count_figure("routes accepting a missing or wrong token", len(auth_failures), 0),
            count_figure("mutating or control routes without a table entry", len(missing), 0),
            Figure("routes probed as a non-admin", len(probes)),
            count_figure("probes where a non-admin was not refused", len(failures), 0),
            Figure("routes any user may call (reason in the table)", opened),
        ],
        notes=[
            *(f"no entry: {m}" for m in missing),
            *(f"not refused: {f}" for f in (auth_failures + failures)[:20]),
        ],
    )


def _attempt(api: Api, probe: Probe | Custom) -> str | None:
    """Run one probe on a reset emulator; a setup that fails is the route's failure."""
    api.admin("POST", "/_emulator/reset")
    try:
        return probe.run(api)
    except AssertionError as broken:
        return str(broken)
