"""Unity Catalog primitives (``/api/2.1/unity-catalog/*``): catalogs, schemas, tables, volumes, grants.

Names are three-level: ``catalog``, ``catalog.schema``, ``catalog.schema.object``; the path carries the
full name. Permissions: ``GET permissions/{type}/{name}`` lists direct grants only, ``PATCH`` takes
``changes[{principal, add, remove}]`` (adding a grant that exists or removing one that does not is a
no-op), and ``effective-permissions`` adds what is inherited from the catalog and schema above, each
privilege with ``inherited_from_type`` / ``inherited_from_name``. Privilege names use underscores
(``USE_CATALOG``); the securable type in the path is matched case-insensitively (SDK 0.162 sends it in
upper case, older SDKs and the docs in lower case); lists leave a key out when empty.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from brickbook.client import Client

__all__ = [
    "create_catalog",
    "create_schema",
    "create_volume",
    "delete_catalog",
    "delete_schema",
    "delete_volume",
    "get_effective_permissions",
    "get_permissions",
    "list_catalogs",
    "list_schemas",
    "list_tables",
    "list_volumes",
    "update_permissions",
]

BASE = "/api/2.1/unity-catalog"


def _name(full_name: str) -> str:
    """Quote a full name for the path (dots stay: they separate the levels)."""
    return urllib.parse.quote(full_name, safe=".")


def list_catalogs(client: Client) -> Iterator[dict[str, Any]]:
    """Yield every catalog the caller may see: ``GET catalogs`` (all pages)."""
    yield from client.paginate(f"{BASE}/catalogs", items_key="catalogs", query={"max_results": 0})


def list_schemas(client: Client, catalog: str) -> Iterator[dict[str, Any]]:
    """Yield every schema of a catalog: ``GET schemas?catalog_name=`` (all pages)."""
    query: dict[str, Any] = {"catalog_name": catalog, "max_results": 0}
    yield from client.paginate(f"{BASE}/schemas", items_key="schemas", query=query)


def list_tables(client: Client, catalog: str, schema: str) -> Iterator[dict[str, Any]]:
    """Yield every table of a schema: ``GET tables?catalog_name=&schema_name=`` (all pages)."""
    query: dict[str, Any] = {"catalog_name": catalog, "schema_name": schema, "max_results": 0}
    yield from client.paginate(f"{BASE}/tables", items_key="tables", query=query)


def list_volumes(client: Client, catalog: str, schema: str) -> Iterator[dict[str, Any]]:
    """Yield every volume of a schema: ``GET volumes?catalog_name=&schema_name=`` (all pages)."""
    query: dict[str, Any] = {"catalog_name": catalog, "schema_name": schema}
    yield from client.paginate(f"{BASE}/volumes", items_key="volumes", query=query)


def create_catalog(client: Client, name: str, *, comment: str | None = None) -> dict[str, Any]:
    """Create a catalog: ``POST catalogs``; return its CatalogInfo."""
    body: dict[str, Any] = {"name": name}
    if comment:
        body["comment"] = comment
    result: dict[str, Any] = client.post(f"{BASE}/catalogs", body)
    return result


def delete_catalog(client: Client, name: str, *, force: bool = False) -> None:
    """Delete a catalog: ``DELETE catalogs/{name}`` (``force`` also when it is not empty)."""
    client.request("DELETE", f"{BASE}/catalogs/{_name(name)}", query={"force": force} if force else None)


def create_schema(client: Client, catalog: str, name: str, *, comment: str | None = None) -> dict[str, Any]:
    """Create a schema in a catalog: ``POST schemas``; return its SchemaInfo."""
    body: dict[str, Any] = {"catalog_name": catalog, "name": name}
    if comment:
        body["comment"] = comment
    result: dict[str, Any] = client.post(f"{BASE}/schemas", body)
    return result


def delete_schema(client: Client, full_name: str, *, force: bool = False) -> None:
    """Delete a schema: ``DELETE schemas/{catalog.schema}`` (``force`` also when it is not empty)."""
    client.request("DELETE", f"{BASE}/schemas/{_name(full_name)}", query={"force": force} if force else None)


def create_volume(
    client: Client, catalog: str, schema: str, name: str, *, comment: str | None = None
) -> dict[str, Any]:
    """Create a managed volume: ``POST volumes`` (``volume_type=MANAGED``); return its VolumeInfo."""
    body: dict[str, Any] = {
        "catalog_name": catalog,
        "schema_name": schema,
        "name": name,
        "volume_type": "MANAGED",
    }
    if comment:
        body["comment"] = comment
    result: dict[str, Any] = client.post(f"{BASE}/volumes", body)
    return result


def delete_volume(client: Client, full_name: str) -> None:
    """Delete a volume and its files: ``DELETE volumes/{catalog.schema.volume}``."""
    client.request("DELETE", f"{BASE}/volumes/{_name(full_name)}")


def _assignments(client: Client, path: str, principal: str | None) -> Iterator[dict[str, Any]]:
    query: dict[str, Any] = {}
    if principal:
        query["principal"] = principal
    yield from client.paginate(path, items_key="privilege_assignments", query=query)


def get_permissions(
    client: Client, securable_type: str, full_name: str, *, principal: str | None = None
) -> list[dict[str, Any]]:
    """Return the direct grants on a securable: ``GET permissions/{type}/{name}`` (all pages)."""
    path = f"{BASE}/permissions/{securable_type.lower()}/{_name(full_name)}"
    return list(_assignments(client, path, principal))


def get_effective_permissions(
    client: Client, securable_type: str, full_name: str, *, principal: str | None = None
) -> list[dict[str, Any]]:
    """Return the effective grants, inherited ones included: ``GET effective-permissions/{type}/{name}``."""
    path = f"{BASE}/effective-permissions/{securable_type.lower()}/{_name(full_name)}"
    return list(_assignments(client, path, principal))


def update_permissions(
    client: Client,
    securable_type: str,
    full_name: str,
    *,
    principal: str,
    add: Sequence[str] = (),
    remove: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """Grant and revoke for one principal: ``PATCH permissions/{type}/{name}``; return the grants after.

    Idempotent (an existing grant added, or a missing one removed, changes nothing), so it is retried.
    """
    change: dict[str, Any] = {"principal": principal}
    if add:
        change["add"] = list(add)
    if remove:
        change["remove"] = list(remove)
    path = f"{BASE}/permissions/{securable_type.lower()}/{_name(full_name)}"
    answer: Mapping[str, Any] = client.request("PATCH", path, body={"changes": [change]})
    return list(answer.get("privilege_assignments") or [])
