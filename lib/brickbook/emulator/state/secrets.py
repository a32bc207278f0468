"""Secret scopes, secrets and scope ACLs (Secrets API 2.0, ``/api/2.0/secrets/*``).

Rules enforced: scope names are letters, digits and ``-_.@``, at most 128 characters, unique ignoring
case, at most ``max_scopes`` (1000) per workspace; keys are letters, digits and ``-_.``, at most 128
characters; values at most 128 KB, at most ``max_secrets_per_scope`` (1000) per scope. Permissions are
READ < WRITE < MANAGE, kept in the shared grants model (state/grants.py) and checked by the emulator's
one permission rule (state/access.py): admins may do anything; anyone else gets the most powerful of
the grants to their user name and to their groups (``users``). The creator of a scope gets MANAGE, and so does
``users`` when the scope is created with ``initial_manage_principal="users"``.

Only Databricks-backed scopes exist (an Azure Key Vault scope is refused with BAD_REQUEST), and the
workspace behaves as Premium tier: ``initial_manage_principal`` may be left out. ACL principals are not
checked against the workspace's users and groups (the real service refuses unknown ones).

Store: kind ``secret_scope``, key the lower-cased scope name, value ``{"name", "backend_type"}``; the
ACLs are grants on securable ``secret_scope:<lower-cased name>``, one level per principal; kind
``secret``, key ``"<lower-cased scope>/<key>"``, value
``{"key", "value" (base64 of the bytes), "last_updated_timestamp" (epoch ms)}``. Values are kept as
given, not encrypted: with ``--data-dir`` they sit in plain base64 in the SQLite file on disk, so an
emulator's data directory must never hold real secrets.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from typing import Any

from brickbook.emulator.errors import ApiError
from brickbook.emulator.state.access import SECRET_SCOPE, Resource, require
from brickbook.emulator.state.grants import Grants
from brickbook.emulator.state.identity import Principal
from brickbook.emulator.state.store import Store

__all__ = [
    "MAX_SCOPES",
    "MAX_SECRETS_PER_SCOPE",
    "MAX_VALUE_BYTES",
    "PERMISSIONS",
    "SCOPE_KIND",
    "SECRET_KIND",
    "SecretsState",
]

SCOPE_KIND = "secret_scope"
SECRET_KIND = "secret"
MAX_SCOPES = 1000
MAX_SECRETS_PER_SCOPE = 1000
MAX_VALUE_BYTES = 128 * 1024
# Weakest first: a grant's rank is its index.
PERMISSIONS = SECRET_SCOPE.levels
_SCOPE_NAME = re.compile(r"[A-Za-z0-9_.@-]{1,128}")
_KEY_NAME = re.compile(r"[A-Za-z0-9_.-]{1,128}")


def _required(name: str, value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ApiError("INVALID_PARAMETER_VALUE", f"Missing required field: {name}")
    return value


def _scope_name(value: object) -> str:
    name = _required("scope", value)
    if not _SCOPE_NAME.fullmatch(name):
        raise ApiError(
            "INVALID_PARAMETER_VALUE",
            f"Invalid scope name {name!r}: it must consist of alphanumeric characters, dashes, "
            "underscores, periods and '@', and may not exceed 128 characters.",
        )
    return name


def _key_name(value: object) -> str:
    key = _required("key", value)
    if not _KEY_NAME.fullmatch(key):
        raise ApiError(
            "INVALID_PARAMETER_VALUE",
            f"Invalid secret key {key!r}: it must consist of alphanumeric characters, dashes, "
            "underscores and periods, and may not exceed 128 characters.",
        )
    return key


def _permission(value: object) -> str:
    text = _required("permission", value)
    if text not in PERMISSIONS:
        raise ApiError(
            "INVALID_PARAMETER_VALUE", f"Invalid permission {text!r}: expected one of READ, WRITE, MANAGE."
        )
    return text


def _securable(scope_name: str) -> str:
    """The grants key of a scope (names are unique ignoring case)."""
    return f"secret_scope:{scope_name.lower()}"


def _value_bytes(string_value: object, bytes_value: object) -> bytes:
    """The secret as bytes from exactly one of ``string_value`` (UTF-8) and ``bytes_value`` (base64)."""
    if (string_value is None) == (bytes_value is None):
        raise ApiError("INVALID_PARAMETER_VALUE", "Exactly one of string_value and bytes_value must be set.")
    if string_value is not None:
        if not isinstance(string_value, str):
            raise ApiError("INVALID_PARAMETER_VALUE", "string_value must be a string.")
        raw = string_value.encode("utf-8")
    else:
        if not isinstance(bytes_value, str):
            raise ApiError("INVALID_PARAMETER_VALUE", "bytes_value must be a base64 string.")
        try:
            raw = base64.b64decode(bytes_value, validate=True)
        except (binascii.Error, ValueError):
            # The message never echoes the value: it is a secret even when malformed.
            raise ApiError("INVALID_PARAMETER_VALUE", "bytes_value is not valid base64.") from None
    if len(raw) > MAX_VALUE_BYTES:
        raise ApiError(
            "INVALID_PARAMETER_VALUE",
            f"The secret value is {len(raw)} bytes; the maximum allowed size is 128 KB ({MAX_VALUE_BYTES}).",
        )
    return raw


class SecretsState:
    """The Secrets API rules; every method that acts for a caller checks that caller's permission."""

    def __init__(
        self,
        store: Store,
        clock: Callable[[], float],
        *,
        max_scopes: int = MAX_SCOPES,
        max_secrets_per_scope: int = MAX_SECRETS_PER_SCOPE,
    ) -> None:
        self._store = store
        self._grants = Grants(store)
        self._clock = clock
        self._max_scopes = max_scopes
        self._max_secrets = max_secrets_per_scope

    # -- scopes ---------------------------------------------------------------------------------------

    def create_scope(
        self, caller: Principal, *, scope: object, initial_manage_principal: object, backend_type: object
    ) -> None:
        """``scopes/create``: a Databricks-backed scope; the caller (and ``users`` if asked) gets MANAGE."""
        name = _scope_name(scope)
        if initial_manage_principal not in (None, "", "users"):
            raise ApiError(
                "INVALID_PARAMETER_VALUE",
                f"Invalid initial_manage_principal {initial_manage_principal!r}: only 'users' is supported.",
            )
        if backend_type not in (None, "", "DATABRICKS"):
            raise ApiError(
                "BAD_REQUEST",
                f"Scope backend type {backend_type!r} is not supported: brickbook emulator only has "
                "DATABRICKS-backed scopes.",
            )
        with self._store.transaction():
            if self._store.get(SCOPE_KIND, name.lower()) is not None:
                raise ApiError("RESOURCE_ALREADY_EXISTS", f"Scope {name} already exists!")
            if len(self._store.items(SCOPE_KIND)) >= self._max_scopes:
                raise ApiError(
                    "RESOURCE_LIMIT_EXCEEDED",
                    f"Cannot create scope {name}: the workspace already has the maximum of "
                    f"{self._max_scopes} secret scopes.",
                )
            self._store.put(SCOPE_KIND, name.lower(), {"name": name, "backend_type": "DATABRICKS"})
            securable = _securable(name)
            self._grants.drop(securable)
            self._grants.replace(securable, caller.user_name, ["MANAGE"])
            if initial_manage_principal == "users":
                self._grants.replace(securable, "users", ["MANAGE"])

    def delete_scope(self, caller: Principal, *, scope: object) -> None:
        """``scopes/delete``: the scope, its secrets and its ACLs (needs MANAGE)."""
        with self._store.transaction():
            record = self._authorize(caller, scope, "MANAGE")
            prefix = record["name"].lower() + "/"
            for key, _ in self._store.items(SECRET_KIND):
                if key.startswith(prefix):
                    self._store.delete(SECRET_KIND, key)
            self._store.delete(SCOPE_KIND, record["name"].lower())
            self._grants.drop(_securable(record["name"]))

    def list_scopes(self) -> list[dict[str, Any]]:
        """``scopes/list``: every scope in the workspace, as the service lists them to any user."""
        return [
            {"name": record["name"], "backend_type": record["backend_type"]}
            for _, record in self._store.items(SCOPE_KIND)
        ]

    # -- secrets --------------------------------------------------------------------------------------

    def put_secret(
        self, caller: Principal, *, scope: object, key: object, string_value: object, bytes_value: object
    ) -> None:
        """``put``: create or overwrite a secret (needs WRITE)."""
        with self._store.transaction():
            record = self._authorize(caller, scope, "WRITE")
            name = _key_name(key)
            raw = _value_bytes(string_value, bytes_value)
            store_key = f"{record['name'].lower()}/{name}"
            if self._store.get(SECRET_KIND, store_key) is None and self._count(record) >= self._max_secrets:
                raise ApiError(
                    "RESOURCE_LIMIT_EXCEEDED",
                    f"Cannot put secret {name}: scope {record['name']} already holds the maximum of "
                    f"{self._max_secrets} secrets.",
                )
            self._store.put(
                SECRET_KIND,
                store_key,
                {
                    "key": name,
                    "value": base64.b64encode(raw).decode("ascii"),
                    "last_updated_timestamp": int(self._clock() * 1000),
                },
            )

    def delete_secret(self, caller: Principal, *, scope: object, key: object) -> None:
        """``delete``: remove a secret (needs WRITE)."""
        record = self._authorize(caller, scope, "WRITE")
        name = _required("key", key)
        if not self._store.delete(SECRET_KIND, f"{record['name'].lower()}/{name}"):
            raise ApiError("RESOURCE_DOES_NOT_EXIST", self._missing_secret(record, name))

    def list_secrets(self, caller: Principal, *, scope: object) -> list[dict[str, Any]]:
        """``list``: keys and update times, never values (needs READ)."""
        record = self._authorize(caller, scope, "READ")
        prefix = record["name"].lower() + "/"
        return [
            {"key": value["key"], "last_updated_timestamp": value["last_updated_timestamp"]}
            for key, value in self._store.items(SECRET_KIND)
            if key.startswith(prefix)
        ]

    def get_secret(self, caller: Principal, *, scope: object, key: object) -> dict[str, Any]:
        """``get``: ``{key, value (base64)}``, for code running in a notebook only (needs READ)."""
        if not caller.in_notebook:
            # As the service documents it: the endpoint belongs to DBUtils, not to API callers.
            raise ApiError(
                "BAD_REQUEST",
                "Secret values can only be read from within a notebook or job on a cluster "
                "(dbutils.secrets.get); this API is not available to callers outside a notebook.",
            )
        record = self._authorize(caller, scope, "READ")
        name = _required("key", key)
        value = self._store.get(SECRET_KIND, f"{record['name'].lower()}/{name}")
        if value is None:
            raise ApiError("RESOURCE_DOES_NOT_EXIST", self._missing_secret(record, name))
        return {"key": value["key"], "value": value["value"]}

    def get_value(self, scope: str, key: str) -> bytes:
        """The secret's bytes, for in-process use by other emulator areas (no caller, no ACL check)."""
        record = self._scope(scope)
        value = self._store.get(SECRET_KIND, f"{record['name'].lower()}/{key}")
        if value is None:
            raise ApiError("RESOURCE_DOES_NOT_EXIST", self._missing_secret(record, key))
        return base64.b64decode(value["value"])

    # -- ACLs -----------------------------------------------------------------------------------------

    def put_acl(self, caller: Principal, *, scope: object, principal: object, permission: object) -> None:
        """``acls/put``: create or overwrite a principal's grant (needs MANAGE)."""
        with self._store.transaction():
            record = self._authorize(caller, scope, "MANAGE")
            who = _required("principal", principal)
            self._grants.replace(_securable(record["name"]), who, [_permission(permission)])

    def get_acl(self, caller: Principal, *, scope: object, principal: object) -> dict[str, str]:
        """``acls/get``: one principal's grant (needs MANAGE)."""
        record = self._authorize(caller, scope, "MANAGE")
        who = _required("principal", principal)
        acls = self._grants.levels_on(_securable(record["name"]))
        if who not in acls:
            raise ApiError("RESOURCE_DOES_NOT_EXIST", self._missing_acl(record, who))
        return {"principal": who, "permission": acls[who]}

    def list_acls(self, caller: Principal, *, scope: object) -> list[dict[str, str]]:
        """``acls/list``: every grant on the scope (needs MANAGE)."""
        record = self._authorize(caller, scope, "MANAGE")
        acls = self._grants.levels_on(_securable(record["name"]))
        return [{"principal": who, "permission": level} for who, level in acls.items()]

    def delete_acl(self, caller: Principal, *, scope: object, principal: object) -> None:
        """``acls/delete``: remove a principal's grant (needs MANAGE)."""
        with self._store.transaction():
            record = self._authorize(caller, scope, "MANAGE")
            who = _required("principal", principal)
            securable = _securable(record["name"])
            if not self._grants.of(securable, who):
                raise ApiError("RESOURCE_DOES_NOT_EXIST", self._missing_acl(record, who))
            self._grants.replace(securable, who, [])

    # -- internals ------------------------------------------------------------------------------------

    def _scope(self, scope: object) -> dict[str, Any]:
        name = _required("scope", scope)
        record = self._store.get(SCOPE_KIND, name.lower())
        if record is None:
            raise ApiError("RESOURCE_DOES_NOT_EXIST", f"Scope {name} does not exist!")
        if "acls" in record:  # a data directory from before the grants model: move the ACLs there
            with self._store.transaction():
                for who, level in record.pop("acls").items():
                    self._grants.replace(_securable(record["name"]), who, [level])
                self._store.put(SCOPE_KIND, name.lower(), record)
        return record

    def _authorize(self, caller: Principal, scope: object, needed: str) -> dict[str, Any]:
        """The scope's record, if the caller holds at least ``needed`` on it; else PERMISSION_DENIED."""
        record = self._scope(scope)
        acls = self._grants.levels_on(_securable(record["name"]))
        require(caller, Resource(SECRET_SCOPE, record["name"], acls), needed)
        return record

    def _count(self, record: dict[str, Any]) -> int:
        prefix = record["name"].lower() + "/"
        return sum(1 for key, _ in self._store.items(SECRET_KIND) if key.startswith(prefix))

    @staticmethod
    def _missing_secret(record: dict[str, Any], key: str) -> str:
        return f"Secret does not exist with scope: {record['name']} and key: {key}"

    @staticmethod
    def _missing_acl(record: dict[str, Any], principal: str) -> str:
        return f"No ACL for principal {principal} on scope {record['name']}."
