"""Unity Catalog tasks: list catalogs, schemas, tables and volumes; create and delete them; grants.

Names are checked before the first request (``brickbook.ops.unity``): ``catalog``, ``catalog.schema``,
``catalog.schema.name``, each part without spaces, periods, slashes or control characters. Privileges are
the REST names (``USE_CATALOG``; ``"use catalog"`` is read as that), several at once separated by commas
(``SELECT,MODIFY``); a typo of a known privilege is refused with the right spelling. ``uc.grant`` and
``uc.revoke`` read the principal's grants first and send nothing when they already hold.
"""

from __future__ import annotations

from typing import Any

from brickbook.command import Invocation, command
from brickbook.output import render_table

__all__ = [
    "catalogs",
    "create_catalog",
    "create_schema",
    "create_volume",
    "delete_catalog",
    "delete_schema",
    "delete_volume",
    "effective_permissions",
    "grant",
    "permissions",
    "revoke",
    "schemas",
    "tables",
    "volumes",
]

TYPE_HELP = "The securable type: catalog, schema, table, volume, function, external_location, ..."
NAME_HELP = "Its full name: CATALOG, CATALOG.SCHEMA or CATALOG.SCHEMA.NAME (by type)."
PRINCIPAL_HELP = "The user, group or service principal (application id)."
PRIVILEGES_HELP = "Privileges, comma-separated: SELECT,MODIFY or USE_CATALOG (quote 'USE CATALOG')."
COMMENT_HELP = "A comment stored with it."
FORCE_HELP = "Delete it even when it is not empty (everything in it goes too)."


def _split(value: str, levels: int, what: str) -> tuple[str, ...]:
    from brickbook.ops.unity import split_name

    return split_name(value, levels, what=what)


def _rows(items: list[dict[str, Any]], columns: list[str]) -> str:
    return render_table(items, columns)


@command(text=lambda rows: _rows(rows, ["name", "owner", "catalog_type", "comment"]))
def catalogs(inv: Invocation) -> list[Any]:
    """List the catalogs you can see."""
    from brickbook.api import unity

    return list(unity.list_catalogs(inv.client))


@command(
    help={"catalog": "The catalog whose schemas to list."},
    text=lambda rows: _rows(rows, ["full_name", "owner", "comment"]),
)
def schemas(inv: Invocation, catalog: str) -> list[Any]:
    """List the schemas of a catalog."""
    from brickbook.api import unity

    (name,) = _split(catalog, 1, "CATALOG")
    return list(unity.list_schemas(inv.client, name))


@command(
    help={"schema": "The schema as CATALOG.SCHEMA."},
    text=lambda rows: _rows(rows, ["full_name", "table_type", "data_source_format", "owner"]),
)
def tables(inv: Invocation, schema: str) -> list[Any]:
    """List the tables of a schema (CATALOG.SCHEMA)."""
    from brickbook.api import unity

    catalog, name = _split(schema, 2, "SCHEMA")
    return list(unity.list_tables(inv.client, catalog, name))


@command(
    help={"schema": "The schema as CATALOG.SCHEMA."},
    text=lambda rows: _rows(rows, ["full_name", "volume_type", "owner", "storage_location"]),
)
def volumes(inv: Invocation, schema: str) -> list[Any]:
    """List the volumes of a schema (CATALOG.SCHEMA)."""
    from brickbook.api import unity

    catalog, name = _split(schema, 2, "SCHEMA")
    return list(unity.list_volumes(inv.client, catalog, name))


@command(help={"name": "The new catalog's name.", "comment": COMMENT_HELP})
def create_catalog(inv: Invocation, name: str, *, comment: str | None = None) -> Any:
    """Create a catalog (you own it)."""
    from brickbook.api import unity

    (checked,) = _split(name, 1, "NAME")
    return unity.create_catalog(inv.client, checked, comment=comment)


@command(help={"name": "The catalog to delete.", "force": FORCE_HELP})
def delete_catalog(inv: Invocation, name: str, *, force: bool = False) -> Any:
    """Delete a catalog (refused when it has schemas, unless --force)."""
    from brickbook.api import unity

    (checked,) = _split(name, 1, "NAME")
    unity.delete_catalog(inv.client, checked, force=force)
    return {"deleted": checked, "action": "deleted"}


@command(help={"name": "The new schema as CATALOG.SCHEMA.", "comment": COMMENT_HELP})
def create_schema(inv: Invocation, name: str, *, comment: str | None = None) -> Any:
    """Create a schema in a catalog (CATALOG.SCHEMA)."""
    from brickbook.api import unity

    catalog, schema = _split(name, 2, "NAME")
    return unity.create_schema(inv.client, catalog, schema, comment=comment)


@command(help={"name": "The schema to delete, as CATALOG.SCHEMA.", "force": FORCE_HELP})
def delete_schema(inv: Invocation, name: str, *, force: bool = False) -> Any:
    """Delete a schema (refused when it has tables or volumes, unless --force)."""
    from brickbook.api import unity

    _split(name, 2, "NAME")
    unity.delete_schema(inv.client, name, force=force)
    return {"deleted": name, "action": "deleted"}


@command(help={"name": "The new volume as CATALOG.SCHEMA.VOLUME.", "comment": COMMENT_HELP})
def create_volume(inv: Invocation, name: str, *, comment: str | None = None) -> Any:
    """Create a managed volume (CATALOG.SCHEMA.VOLUME); its files are at /Volumes/CATALOG/SCHEMA/VOLUME."""
    from brickbook.api import unity

    catalog, schema, volume = _split(name, 3, "NAME")
    return unity.create_volume(inv.client, catalog, schema, volume, comment=comment)


@command(help={"name": "The volume to delete, as CATALOG.SCHEMA.VOLUME."})
def delete_volume(inv: Invocation, name: str) -> Any:
    """Delete a volume and every file in it."""
    from brickbook.api import unity

    _split(name, 3, "NAME")
    unity.delete_volume(inv.client, name)
    return {"deleted": name, "action": "deleted"}


def _securable(type_: str, name: str) -> tuple[str, str]:
    from brickbook.ops.unity import check_name, check_securable

    securable = check_securable(type_)
    return securable, check_name(securable, name)


def _grants_table(rows: list[dict[str, Any]]) -> str:
    flat = []
    for row in rows:
        for privilege in row.get("privileges") or []:
            if isinstance(privilege, dict):  # effective permissions: with where it comes from
                origin = privilege.get("inherited_from_name")
                flat.append(
                    {
                        "principal": row.get("principal"),
                        "privilege": privilege.get("privilege"),
                        "inherited_from": f"{privilege.get('inherited_from_type', '')} {origin}".strip()
                        if origin
                        else "",
                    }
                )
            else:
                flat.append({"principal": row.get("principal"), "privilege": privilege})
    return render_table(flat)


PERMISSIONS_HELP = {"type": TYPE_HELP, "name": NAME_HELP, "principal": "Only this principal's grants."}


@command(help=PERMISSIONS_HELP, text=_grants_table, name="permissions", positional=["type_", "name"])
def permissions(inv: Invocation, type_: str, name: str, *, principal: str | None = None) -> list[Any]:
    """Show the grants made directly on a securable (not those inherited: see uc.effective-permissions)."""
    from brickbook.api import unity
    from brickbook.ops.unity import check_principal

    securable, full_name = _securable(type_, name)
    who = check_principal(principal) if principal is not None else None
    return unity.get_permissions(inv.client, securable, full_name, principal=who)


@command(help=PERMISSIONS_HELP, text=_grants_table, positional=["type_", "name"])
def effective_permissions(
    inv: Invocation, type_: str, name: str, *, principal: str | None = None
) -> list[Any]:
    """Show every privilege that applies to a securable, inherited ones with where they come from."""
    from brickbook.api import unity
    from brickbook.ops.unity import check_principal

    securable, full_name = _securable(type_, name)
    who = check_principal(principal) if principal is not None else None
    return unity.get_effective_permissions(inv.client, securable, full_name, principal=who)


def _change_grants(
    inv: Invocation, type_: str, name: str, principal: str, privileges: str, *, grant: bool
) -> Any:
    from brickbook.ops.unity import apply_grants, check_principal, check_privileges, plan_grants

    securable, full_name = _securable(type_, name)
    who = check_principal(principal)
    wanted = check_privileges([p for p in privileges.split(",") if p.strip()] or [privileges])
    change = plan_grants(
        inv.context, securable, full_name, who, add=wanted if grant else (), remove=() if grant else wanted
    )
    after = apply_grants(inv.context, change)
    held = sorted(
        {str(p) for row in after if row.get("principal") == who for p in row.get("privileges") or []}
    )
    return {
        "securable": f"{securable} {full_name}",
        "principal": who,
        "action": change.reason,
        "changed": change.changed,
        "privileges": held,
    }


GRANT_HELP = {
    "type": TYPE_HELP,
    "name": NAME_HELP,
    "principal": PRINCIPAL_HELP,
    "privileges": PRIVILEGES_HELP,
}


@command(help=GRANT_HELP, positional=["type_", "name", "principal", "privileges"])
def grant(inv: Invocation, type_: str, name: str, principal: str, privileges: str) -> Any:
    """Grant privileges on a securable to a principal (nothing is sent when it holds them already)."""
    return _change_grants(inv, type_, name, principal, privileges, grant=True)


@command(help=GRANT_HELP, positional=["type_", "name", "principal", "privileges"])
def revoke(inv: Invocation, type_: str, name: str, principal: str, privileges: str) -> Any:
    """Revoke a principal's privileges on a securable (nothing is sent when it does not hold them)."""
    return _change_grants(inv, type_, name, principal, privileges, grant=False)
