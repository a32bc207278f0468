"""The emulator's route table under attack: each route refuses a missing or wrong token; non-admins.

``sweep_auth`` sends each method of each route (path parameters filled with sample values) with no
token (401, integer ``error_code``, as the real front door answers) and with an unknown token (403).
The table (``reliability.route_table``) maps ``(method, route path)`` to a ``Probe``: the admin makes
an object, then the user (no grants, no ACL) tries to change it and must get 403 ``PERMISSION_DENIED``
(a statement: a FAILED state with that code); or to ``Open(reason)`` when any user may, and why.
``missing_entries`` names every route that has no entry, so a new route fails the suite and the test.
Used by ``reliability.security`` and ``tests/emulator/test_route_security.py``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
from starlette.routing import Route

__all__ = [
    "Api",
    "Custom",
    "Entry",
    "Open",
    "Probe",
    "missing_entries",
    "route_methods",
    "sample_path",
    "sweep_auth",
]

READS = frozenset({"GET", "HEAD"})
PUBLIC = {  # answered before the front door, as on the real service; the token endpoint checks the client
    "/.well-known/databricks-config": "workspace discovery, read by SDKs before they hold a token",
    "/oidc/.well-known/oauth-authorization-server": "OAuth discovery, read before a token exists",
    "/oidc/v1/token": "the token endpoint authenticates the OAuth client itself (client id and secret)",
}
SAMPLES = {"path": "/Volumes/main/default/v/f", "rest": "x", "chunk_index": "0", "securable_type": "catalog"}


class Api:
    """Raw HTTP to one emulator as its admin or as a plain user (independent of brickbook's client)."""

    def __init__(self, url: str, admin_token: str, user_token: str, user_name: str) -> None:
        self.url, self.admin_token, self.user_token, self.user_name = url, admin_token, user_token, user_name
        self.http = httpx.Client(base_url=url, timeout=30)

    def call(self, method: str, path: str, token: str | None, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        return self.http.request(method, path, headers=headers, **kwargs)

    def admin(self, method: str, path: str, body: object = None) -> Any:
        """Call as the admin; the setup of a check must succeed."""
        response = self.call(method, path, self.admin_token, json=body)
        if not response.is_success:
            raise AssertionError(f"setup {method} {path}: HTTP {response.status_code} {response.text[:300]}")
        return response.json() if response.content else {}


def route_methods(routes: list[Any]) -> Iterator[tuple[str, str]]:
    """Every (method, path template) of a Starlette route table."""
    for route in routes:
        if isinstance(route, Route):
            for method in sorted(route.methods or ()):
                yield method, route.path


def sample_path(template: str) -> str:
    """The template with each ``{name}`` or ``{name:path}`` parameter replaced by a sample value."""
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: SAMPLES.get(m.group(1), "1"), template)


def sweep_auth(api: Api, routes: list[Any]) -> tuple[int, list[str]]:
    """Send every route and method without a token and with a wrong one; return (requests, failures)."""
    sent, failures = 0, []
    for method, template in route_methods(routes):
        path = sample_path(template)
        if template in PUBLIC:
            if template == "/oidc/v1/token":  # a wrong client secret must be refused, 401 invalid_client
                response = api.http.post(path, data={"grant_type": "client_credentials"}, auth=("x", "wrong"))
                sent += 1
                if response.status_code != 401:
                    failures.append(
                        f"{method} {template} with a wrong client secret: HTTP {response.status_code}"
                    )
            continue
        for token, status in ((None, 401), ("dapi-wrong-0000000000000000", 403)):
            response = api.call(method, path, token, content=b"{}")
            sent += 1
            if response.status_code != status:
                what = "no token" if token is None else "a wrong token"
                failures.append(f"{method} {template} with {what}: HTTP {response.status_code}, not {status}")
    return sent, failures


@dataclass(frozen=True)
class Open:
    """Any authenticated user may call this route; ``reason`` says why (as on the real service)."""

    reason: str


Values = dict[str, Any]


@dataclass(frozen=True)
class Probe:
    """The admin runs ``setup``; the user sends ``method path body`` and must be refused (403)."""

    method: str
    path: str
    body: Callable[[Values], object] | None = None
    setup: Callable[[Api], Values] | None = None
    refusals: tuple[int, ...] = (403,)

    def run(self, api: Api) -> str | None:
        """None when the user was refused as required; otherwise what happened instead."""
        values = self.setup(api) if self.setup is not None else {}
        path = self.path.format(**values)
        body = self.body(values) if self.body is not None else None
        response = api.call(self.method, path, api.user_token, json=body)
        if response.status_code in self.refusals:
            return None
        return f"{self.method} {path} as {api.user_name}: HTTP {response.status_code} {response.text[:200]}"


@dataclass(frozen=True)
class Custom:
    """A check that is not one request (a statement refused by grants answers 200 with a FAILED state)."""

    check: Callable[[Api], str | None]

    def run(self, api: Api) -> str | None:
        return self.check(api)


Entry = Probe | Custom | Open


def missing_entries(routes: list[Any], table: dict[tuple[str, str], Entry]) -> list[str]:
    """Each mutating route, and each control route, that ``table`` has no entry for."""
    return [
        f"{method} {template}"
        for method, template in route_methods(routes)
        if (method not in READS or template.startswith("/_emulator/")) and (method, template) not in table
    ]


# -- setups: the admin makes the object the user then tries to change -------------------------------------

CLUSTER_SPEC = {
    "cluster_name": "c",
    "spark_version": "15.4.x-scala2.12",
    "node_type_id": "i3.xlarge",
    "num_workers": 0,
}


def cluster(api: Api) -> Values:
    return {"cluster_id": api.admin("POST", "/api/2.1/clusters/create", CLUSTER_SPEC)["cluster_id"]}


def job(api: Api) -> Values:
    return {"job_id": api.admin("POST", "/api/2.2/jobs/create", {"name": "admins-job"})["job_id"]}


def run(api: Api) -> Values:
    values = job(api)
    return {**values, "run_id": api.admin("POST", "/api/2.2/jobs/run-now", values)["run_id"]}


def scope(api: Api) -> Values:
    api.admin("POST", "/api/2.0/secrets/scopes/create", {"scope": "admins"})
    api.admin("POST", "/api/2.0/secrets/put", {"scope": "admins", "key": "k", "string_value": "s3cr3t-value"})
    return {"scope": "admins"}


def warehouse(api: Api) -> Values:
    spec = {"name": "admins-wh", "cluster_size": "2X-Small", "enable_serverless_compute": True}
    return {"id": api.admin("POST", "/api/2.0/sql/warehouses", spec)["id"]}


def usable_warehouse(api: Api) -> Values:
    """A warehouse the user may use (CAN_USE), so that only table grants stand in the way."""
    values = warehouse(api)
    acl = {"access_control_list": [{"user_name": api.user_name, "permission_level": "CAN_USE"}]}
    api.admin("PATCH", f"/api/2.0/permissions/warehouses/{values['id']}", acl)
    return values


def statement(api: Api) -> Values:
    values = usable_warehouse(api)
    body = {"warehouse_id": values["id"], "statement": "SELECT 1", "wait_timeout": "0s"}
    return {**values, "statement_id": api.admin("POST", "/api/2.0/sql/statements", body)["statement_id"]}


def table(api: Api) -> Values:
    values = usable_warehouse(api)
    body = {"warehouse_id": values["id"], "statement": "CREATE TABLE main.default.t AS SELECT 1 AS x"}
    api.admin("POST", "/api/2.0/sql/statements", {**body, "wait_timeout": "30s"})
    return values


def pool(api: Api) -> Values:
    spec = {"instance_pool_name": "p", "node_type_id": "i3.xlarge"}
    return {"instance_pool_id": api.admin("POST", "/api/2.0/instance-pools/create", spec)["instance_pool_id"]}


def policy(api: Api) -> Values:
    return {
        "policy_id": api.admin(
            "POST", "/api/2.0/policies/clusters/create", {"name": "pol", "definition": "{}"}
        )["policy_id"]
    }


def repo(api: Api) -> Values:
    return {
        "repo_id": api.admin(
            "POST", "/api/2.0/repos", {"url": "https://example.com/r.git", "provider": "gitHub"}
        )["id"]
    }


def notebook(api: Api) -> Values:
    body = {"path": "/Users/admin@example.com/nb", "content": "cHJpbnQoMSk=", "language": "PYTHON"}
    api.admin("POST", "/api/2.0/workspace/import", body)
    return {}


def catalog(api: Api) -> Values:
    api.admin("POST", "/api/2.1/unity-catalog/catalogs", {"name": "admins"})
    return {}


def schema(api: Api) -> Values:
    api.admin("POST", "/api/2.1/unity-catalog/schemas", {"name": "admins", "catalog_name": "main"})
    return {}


def volume(api: Api) -> Values:
    body = {"catalog_name": "main", "schema_name": "default", "name": "vol", "volume_type": "MANAGED"}
    api.admin("POST", "/api/2.1/unity-catalog/volumes", body)
    return {}


def scim(kind: str, body: dict[str, Any]) -> Callable[[Api], Values]:
    def make(api: Api) -> Values:
        return {"id": api.admin("POST", f"/api/2.0/preview/scim/v2/{kind}", body)["id"]}

    return make


def pat(api: Api) -> Values:
    return {
        "token_id": api.admin("POST", "/api/2.0/token/create", {"comment": "admins"})["token_info"][
            "token_id"
        ]
    }


def fixed(values: Values) -> Callable[[Values], object]:
    return lambda v: {
        key: (v.get(value[1:-1]) if isinstance(value, str) and value.startswith("{") else value)
        for key, value in values.items()
    }


def statement_refused(api: Api) -> str | None:
    """The user runs SQL on a table without grants: the statement FAILS with PERMISSION_DENIED."""
    values = table(api)
    body = {"warehouse_id": values["id"], "statement": "SELECT * FROM main.default.t", "wait_timeout": "30s"}
    answer = api.call("POST", "/api/2.0/sql/statements", api.user_token, json=body)
    status = answer.json().get("status", {}) if answer.status_code == 200 else {}
    code = status.get("error", {}).get("error_code")
    if status.get("state") == "FAILED" and code == "PERMISSION_DENIED":
        return None
    got = f"HTTP {answer.status_code} {answer.text[:200]}"
    return f"SELECT on main.default.t without grants as {api.user_name}: {got}"
