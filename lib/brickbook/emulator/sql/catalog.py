"""Unity Catalog objects: catalogs, schemas, tables and managed volumes, with the real error codes.

Catalog, schema and volume records (owner, comment, stamps) live in the store; the data lives in the
engine (catalogs and schemas are DuckDB databases and schemas; tables are whatever statements
created, so ``tables`` reflects them). Table records hold only what DuckDB cannot know (owner,
creation stamps). A managed volume's files live in a directory of their own (``volume_root``).
Names are lower-cased, as Unity Catalog stores them. Every catalog gets a ``default`` schema; a
``main`` catalog exists after a reset.
"""

from __future__ import annotations

import re
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from brickbook.emulator.errors import ApiError, invalid
from brickbook.emulator.sql.engine import Engine
from brickbook.emulator.sql.privileges import Privileges
from brickbook.emulator.sql.results import databricks_type
from brickbook.emulator.state.identity import Principal
from brickbook.emulator.state.store import Store

__all__ = ["CATALOG_KIND", "SCHEMA_KIND", "TABLE_KIND", "VOLUME_KIND", "Catalogs", "valid_name"]

CATALOG_KIND = "uc_catalog"
SCHEMA_KIND = "uc_schema"
TABLE_KIND = "uc_table"
VOLUME_KIND = "uc_volume"
METASTORE_ID = "11111111-2222-3333-4444-555555555555"
_NAME = re.compile(r"[^.\s/\x00-\x1f`]{1,255}")
_STATUS = {"DOES_NOT_EXIST": 404, "ALREADY_EXISTS": 409, "NOT_EMPTY": 400}
_KINDS = {"CATALOG": CATALOG_KIND, "SCHEMA": SCHEMA_KIND, "TABLE": TABLE_KIND, "VOLUME": VOLUME_KIND}
_MAX_TEXT = 1024


def valid_name(name: Any, what: str) -> str:
    """A securable's own name, lower-cased; INVALID_PARAMETER_VALUE for anything else."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        shown = repr(name)[:80]
        raise invalid(
            f"Invalid {what} name {shown}: 1-255 characters, no dots, spaces or slashes.",
        )
    return name.lower()


def _error(kind: str, problem: str, message: str) -> ApiError:
    return ApiError(f"{kind}_{problem}", message, status=_STATUS[problem])


class Catalogs:
    """Catalogs, schemas, tables and volumes of the one metastore."""

    def __init__(
        self, store: Store, engine: Engine, clock: Callable[[], float], volumes_dir: Path, admin: str
    ) -> None:
        self._store = store
        self._engine = engine
        self._clock = clock
        self._volumes_dir = volumes_dir
        self._admin = admin
        self.privileges = Privileges(store, self.owner_of)

    # -- bookkeeping ------------------------------------------------------------------------------

    def ensure_defaults(self) -> None:
        """Attach every recorded catalog; make ``main.default`` when the store has no catalog at all."""
        catalogs = self._store.items(CATALOG_KIND)
        for name, _ in catalogs:
            self._engine.attach(name)
        if not catalogs:
            self.create_catalog(
                Principal(self._admin, is_admin=True), "main", comment="Main catalog (auto-created)"
            )

    def reset_volumes(self) -> None:
        """Delete every volume's files (a reset: the store no longer knows the volumes)."""
        shutil.rmtree(self._volumes_dir, ignore_errors=True)

    def _stamp(self, principal: Principal, **fields: Any) -> dict[str, Any]:
        now = int(self._clock() * 1000)
        return {
            "owner": principal.user_name,
            "created_at": now,
            "created_by": principal.user_name,
            "updated_at": now,
            "updated_by": principal.user_name,
            "metastore_id": METASTORE_ID,
            **fields,
        }

    def owner_of(self, securable_type: str, full_name: str) -> str | None:
        record = self._store.get(_KINDS[securable_type], full_name)
        if record is None and securable_type == "TABLE":
            return self._admin if self._table_exists(full_name) else None
        return None if record is None else str(record.get("owner"))

    # -- catalogs ---------------------------------------------------------------------------------

    def create_catalog(self, principal: Principal, name: Any, *, comment: Any = None) -> dict[str, Any]:
        name = valid_name(name, "catalog")
        if not principal.is_admin:
            raise ApiError("PERMISSION_DENIED", "User does not have CREATE CATALOG on Metastore 'metastore'.")
        if self._store.get(CATALOG_KIND, name) is not None:
            raise _error("CATALOG", "ALREADY_EXISTS", f"Catalog '{name}' already exists")
        record = self._stamp(
            principal,
            name=name,
            full_name=name,
            catalog_type="MANAGED_CATALOG",
            isolation_mode="OPEN",
            securable_type="CATALOG",
            comment=comment if isinstance(comment, str) else None,
        )
        self._engine.attach(name)
        self._store.put(CATALOG_KIND, name, record)
        # Unity Catalog makes a default schema in every new catalog.
        self._engine.create_schema(name, "default")
        self.record_schema(principal, f"{name}.default", comment="Default schema (auto-created)")
        return self._clean(record)

    def catalog(self, name: str) -> dict[str, Any]:
        record = self._store.get(CATALOG_KIND, name.lower())
        if record is None:
            raise _error("CATALOG", "DOES_NOT_EXIST", f"Catalog '{name}' does not exist.")
        return self._clean(record)

    def catalogs(self, principal: Principal) -> list[dict[str, Any]]:
        return [
            self._clean(r)
            for name, r in self._store.items(CATALOG_KIND)
            if self._sees(principal, "CATALOG", name)
        ]

    def delete_catalog(self, principal: Principal, name: str, *, force: bool) -> None:
        name = self.catalog(name)["name"]
        self.privileges.require_owner(principal, "CATALOG", name)
        schemas = [s for s in self._engine.schemas(name) if s != "default" or self._engine.tables(name, s)]
        if schemas and not force:
            raise _error(
                "CATALOG",
                "NOT_EMPTY",
                f"Catalog '{name}' is not empty. The catalog has {len(schemas)} schemas.",
            )
        self._engine.detach(name, delete=True)
        for kind in (SCHEMA_KIND, TABLE_KIND, VOLUME_KIND):
            for key, _ in self._store.items(kind):
                if key.startswith(name + "."):
                    self._forget(kind, key)
        self._store.delete(CATALOG_KIND, name)
        self.privileges.forget("CATALOG", name)

    # -- schemas ----------------------------------------------------------------------------------

    def create_schema(
        self, principal: Principal, catalog: Any, name: Any, *, comment: Any = None
    ) -> dict[str, Any]:
        catalog = self.catalog(valid_name(catalog, "catalog"))["name"]
        name = valid_name(name, "schema")
        self.privileges.require_use(principal, "SCHEMA", f"{catalog}.{name}")
        self.privileges.require(principal, "CATALOG", catalog, "CREATE_SCHEMA")
        full = f"{catalog}.{name}"
        if self._store.get(SCHEMA_KIND, full) is not None or name in self._engine.schemas(catalog):
            raise _error("SCHEMA", "ALREADY_EXISTS", f"Schema '{full}' already exists")
        self._engine.create_schema(catalog, name)
        return self.record_schema(principal, full, comment=comment)

    def record_schema(self, principal: Principal, full: str, *, comment: Any = None) -> dict[str, Any]:
        """Remember who made a schema (the engine may already hold it: CREATE SCHEMA in SQL)."""
        catalog, name = full.split(".")
        record = self._stamp(
            principal,
            name=name,
            catalog_name=catalog,
            full_name=full,
            schema_id=str(uuid.uuid4()),
            securable_type="SCHEMA",
            comment=comment if isinstance(comment, str) else None,
        )
        self._store.put(SCHEMA_KIND, full, record)
        return self._clean(record)

    def schema(self, full_name: str) -> dict[str, Any]:
        catalog, _, name = full_name.lower().partition(".")
        self.catalog(catalog)
        record = self._store.get(SCHEMA_KIND, f"{catalog}.{name}")
        if record is None or name not in self._engine.schemas(catalog):
            raise _error("SCHEMA", "DOES_NOT_EXIST", f"Schema '{full_name}' does not exist.")
        return self._clean(record)

    def schemas(self, principal: Principal, catalog: Any) -> list[dict[str, Any]]:
        catalog = self.catalog(valid_name(catalog, "catalog"))["name"]
        present = set(self._engine.schemas(catalog))
        return [
            self._clean(r)
            for key, r in self._store.items(SCHEMA_KIND)
            if key.startswith(catalog + ".") and r["name"] in present and self._sees(principal, "SCHEMA", key)
        ]

    def delete_schema(self, principal: Principal, full_name: str, *, force: bool) -> None:
        full = self.schema(full_name)["full_name"]
        self.privileges.require_owner(principal, "SCHEMA", full)
        catalog, name = full.split(".")
        volumes = [k for k, _ in self._store.items(VOLUME_KIND) if k.startswith(full + ".")]
        if (self._engine.tables(catalog, name) or volumes) and not force:
            raise _error("SCHEMA", "NOT_EMPTY", f"Schema '{full}' is not empty.")
        self._engine.drop_schema(catalog, name)
        self.forget_schema(full)

    def forget_schema(self, full: str) -> None:
        for kind in (TABLE_KIND, VOLUME_KIND):
            for key, _ in self._store.items(kind):
                if key.startswith(full + "."):
                    self._forget(kind, key)
        self._forget(SCHEMA_KIND, full)

    # -- tables -----------------------------------------------------------------------------------

    def _table_exists(self, full: str) -> bool:
        parts = full.split(".")
        return len(parts) == 3 and any(name == parts[2] for name, _ in self._tables_in(parts[0], parts[1]))

    def _tables_in(self, catalog: str, schema: str) -> list[tuple[str, str]]:
        if self._store.get(CATALOG_KIND, catalog) is None:
            return []
        return self._engine.tables(catalog, schema)

    def record_table(self, principal: Principal, full: str) -> None:
        """Remember who created a table (CREATE TABLE in a statement)."""
        if self._store.get(TABLE_KIND, full) is None:
            self._store.put(TABLE_KIND, full, self._stamp(principal, table_id=str(uuid.uuid4())))

    def forget_table(self, full: str) -> None:
        self._forget(TABLE_KIND, full)

    def table(self, full_name: str, *, columns: bool = True) -> dict[str, Any]:
        parts = full_name.lower().split(".")
        if len(parts) != 3:
            raise invalid(f"Invalid table name '{full_name}': want catalog.schema.table.")
        catalog, schema, name = parts
        found = dict(self._tables_in(catalog, schema))
        if name not in found:
            raise _error("TABLE", "DOES_NOT_EXIST", f"Table '{full_name}' does not exist.")
        return self._table_info(catalog, schema, name, found[name], columns=columns)

    def tables(
        self, principal: Principal, catalog: Any, schema: Any, *, columns: bool
    ) -> list[dict[str, Any]]:
        full = self.schema(f"{valid_name(catalog, 'catalog')}.{valid_name(schema, 'schema')}")["full_name"]
        cat, sch = full.split(".")
        return [
            self._table_info(cat, sch, name, kind, columns=columns)
            for name, kind in self._tables_in(cat, sch)
            if self._sees(principal, "TABLE", f"{full}.{name}")
        ]

    def _table_info(
        self, catalog: str, schema: str, name: str, kind: str, *, columns: bool
    ) -> dict[str, Any]:
        full = f"{catalog}.{schema}.{name}"
        record = self._store.get(TABLE_KIND, full) or {"owner": self._admin}
        info: dict[str, Any] = {
            **record,
            "name": name,
            "catalog_name": catalog,
            "schema_name": schema,
            "full_name": full,
            "table_type": kind,
            "securable_type": "TABLE",
            "metastore_id": METASTORE_ID,
        }
        if kind == "MANAGED":
            info["data_source_format"] = "DELTA"
            info["storage_location"] = f"emulator://tables/{full}"
        if columns:
            info["columns"] = []
            for position, column in enumerate(self._engine.columns(catalog, schema, name)):
                type_name, type_text = databricks_type(column.type_text)
                info["columns"].append(
                    {
                        "name": column.name,
                        "type_name": type_name,
                        "type_text": type_text.lower(),
                        "position": position,
                        "nullable": column.nullable,
                    }
                )
        return self._clean(info)

    def delete_table(self, principal: Principal, full_name: str) -> None:
        full = self.table(full_name, columns=False)["full_name"]
        self.privileges.require_owner(principal, "TABLE", full)
        self._engine.drop_table(*full.split("."))
        self.forget_table(full)

    # -- volumes ----------------------------------------------------------------------------------

    def create_volume(self, principal: Principal, body: dict[str, Any]) -> dict[str, Any]:
        catalog = valid_name(body.get("catalog_name"), "catalog")
        schema = valid_name(body.get("schema_name"), "schema")
        name = valid_name(body.get("name"), "volume")
        volume_type = body.get("volume_type")
        if volume_type != "MANAGED":
            raise invalid(
                "volume_type must be MANAGED: the brickbook emulator has no external locations.",
            )
        parent = self.schema(f"{catalog}.{schema}")["full_name"]
        self.privileges.require_use(principal, "VOLUME", f"{parent}.{name}")
        self.privileges.require(principal, "SCHEMA", parent, "CREATE_VOLUME")
        full = f"{parent}.{name}"
        if self._store.get(VOLUME_KIND, full) is not None:
            raise ApiError("RESOURCE_ALREADY_EXISTS", f"Volume '{full}' already exists", status=409)
        root = self.volume_root(catalog, schema, name)
        root.mkdir(parents=True, exist_ok=True)
        record = self._stamp(
            principal,
            name=name,
            catalog_name=catalog,
            schema_name=schema,
            full_name=full,
            volume_type="MANAGED",
            volume_id=str(uuid.uuid4()),
            storage_location=root.as_uri(),
            comment=body.get("comment") if isinstance(body.get("comment"), str) else None,
        )
        self._store.put(VOLUME_KIND, full, record)
        return self._clean(record)

    def volume(self, full_name: str) -> dict[str, Any]:
        record = self._store.get(VOLUME_KIND, full_name.lower())
        if record is None:
            raise ApiError("NOT_FOUND", f"Volume '{full_name}' does not exist.", status=404)
        return self._clean(record)

    def volumes(self, principal: Principal, catalog: Any, schema: Any) -> list[dict[str, Any]]:
        full = self.schema(f"{valid_name(catalog, 'catalog')}.{valid_name(schema, 'schema')}")["full_name"]
        return [
            self._clean(r)
            for key, r in self._store.items(VOLUME_KIND)
            if key.rsplit(".", 1)[0] == full and self._sees(principal, "VOLUME", key)
        ]

    def delete_volume(self, principal: Principal, full_name: str) -> None:
        full = self.volume(full_name)["full_name"]
        self.privileges.require_owner(principal, "VOLUME", full)
        self._forget(VOLUME_KIND, full)

    def volume_root(self, catalog: str, schema: str, volume: str) -> Path:
        return self._volumes_dir / catalog / schema / volume

    # -- helpers ----------------------------------------------------------------------------------

    def update(self, principal: Principal, securable_type: str, full_name: str, body: Any) -> dict[str, Any]:
        """PATCH a catalog, schema or volume: ``comment`` and ``owner`` (owners and admins only)."""
        full = str(self.exists(securable_type, full_name)["full_name"])
        self.privileges.require_owner(principal, securable_type, full)
        if body.get("new_name") not in (None, "", full.rsplit(".", 1)[-1]):
            raise invalid("Renaming is not supported by the brickbook emulator.")
        kind = _KINDS[securable_type]
        record = dict(self._store.get(kind, full) or {})
        for name in ("comment", "owner"):
            value = body.get(name)
            if value is not None:
                if not isinstance(value, str) or len(value) > _MAX_TEXT or (name == "owner" and not value):
                    raise invalid(f"{name} must be a string of at most {_MAX_TEXT} characters.")
                record[name] = value
        record.update(updated_at=int(self._clock() * 1000), updated_by=principal.user_name)
        self._store.put(kind, full, record)
        return self.exists(securable_type, full)

    def exists(self, securable_type: str, full_name: str) -> dict[str, Any]:
        """The securable's info, or its *_DOES_NOT_EXIST error."""
        if securable_type == "CATALOG":
            return self.catalog(full_name)
        if securable_type == "SCHEMA":
            return self.schema(full_name)
        if securable_type == "TABLE":
            return self.table(full_name, columns=False)
        return self.volume(full_name)

    def visible(self, principal: Principal, securable_type: str, full_name: str) -> dict[str, Any]:
        """The securable's info for ``principal``: it exists, its parents are usable, a privilege is held."""
        info = self.exists(securable_type, full_name)
        name = str(info["full_name"])
        if securable_type != "CATALOG":
            self.privileges.require_use(principal, securable_type, name)
        if not self._sees(principal, securable_type, name):
            raise ApiError(
                "PERMISSION_DENIED",
                f"User does not have any privilege on {securable_type.capitalize()} '{name}'.",
            )
        return self.table(name) if securable_type == "TABLE" else info

    def _sees(self, principal: Principal, securable_type: str, full_name: str) -> bool:
        """Whether a list shows it: admins and owners see all, others what they hold any privilege on."""
        return self.privileges.holds_any(principal, securable_type, full_name)

    def _forget(self, kind: str, key: str) -> None:
        if kind == VOLUME_KIND:
            shutil.rmtree(self.volume_root(*key.split(".")), ignore_errors=True)
        self._store.delete(kind, key)
        securable = next(name for name, stored in _KINDS.items() if stored == kind)
        self.privileges.forget(securable, key)

    @staticmethod
    def _clean(record: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in record.items() if v is not None}
