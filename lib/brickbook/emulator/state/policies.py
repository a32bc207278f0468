"""Cluster policies (Cluster Policies API 2.0, the SDK's ``ClusterPoliciesAPI``) and their rules; no HTTP.

A policy's ``definition`` is a JSON string: an object mapping attribute paths (``spark_version``,
``autoscale.max_workers``, ``custom_tags.team``, ``spark_conf.spark.x``) to rules of a ``type``:
``fixed`` (``value``; ``hidden``), ``forbidden``, ``allowlist`` and ``blocklist`` (``values``), ``regex``
(``pattern``), ``range`` (``minValue``/``maxValue``) and ``unlimited``; all but fixed and forbidden take
``defaultValue`` and ``isOptional``. ``check_cluster_policy`` applies a policy to a cluster spec as the
service does: fixed values always fill in (and any other value is refused), ``defaultValue``s fill in when
the spec sets ``apply_policy_default_values``, and then every rule is checked; each failure is worded
"Validation failed for <path>, ..." and all of them form one 400 INVALID_PARAMETER_VALUE. An attribute a
limiting rule names must be present unless the rule says ``isOptional`` (an ``unlimited`` rule does not
require it). Writing policies takes a workspace admin; every user reads them, and a non-admin needs CAN_USE
(the Permissions API) to create or edit a cluster with one (state/clusters.py ``check_use``).
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable
from typing import Any

from brickbook.emulator.errors import ApiError, invalid
from brickbook.emulator.state.identity import Principal
from brickbook.emulator.state.permissions import ObjectAcls
from brickbook.emulator.state.store import Store

__all__ = ["KIND", "PoliciesState", "check_cluster_policy"]

KIND = "cluster_policy"
MAX_NAME = 100
MAX_DEFINITION = 100_000
RULE_TYPES = frozenset({"fixed", "forbidden", "allowlist", "blocklist", "regex", "range", "unlimited"})
_FIELDS = ("name", "definition", "description", "max_clusters_per_user", "policy_family_id")


def _rules(definition: object) -> dict[str, dict[str, Any]]:
    """Parse and check a definition string; raise INVALID_PARAMETER_VALUE naming what is wrong."""
    if definition is None or definition == "":
        return {}
    if not isinstance(definition, str) or len(definition) > MAX_DEFINITION:
        raise invalid(
            f"Invalid policy definition: must be a JSON string of at most {MAX_DEFINITION} characters."
        )
    try:
        rules = json.loads(definition)
    except ValueError as exc:
        raise invalid(f"Invalid policy definition: not valid JSON ({exc}).") from exc
    if not isinstance(rules, dict):
        raise invalid("Invalid policy definition: must be a JSON object of attribute rules.")
    for path, rule in rules.items():
        kind = rule.get("type") if isinstance(rule, dict) else None
        if kind not in RULE_TYPES:
            raise invalid(
                f"Invalid policy definition: {path[:200]} has no valid type "
                f"(one of {', '.join(sorted(RULE_TYPES))})."
            )
        needed = {"fixed": "value", "allowlist": "values", "blocklist": "values", "regex": "pattern"}.get(
            kind
        )
        if needed is not None and needed not in rule:
            raise invalid(f"Invalid policy definition: the {kind} rule for {path[:200]} needs {needed}.")
        if kind in ("allowlist", "blocklist") and not isinstance(rule["values"], list):
            raise invalid(f"Invalid policy definition: values for {path[:200]} must be a list.")
        if kind == "regex":
            try:
                re.compile(str(rule["pattern"]))
            except re.error as exc:
                raise invalid(f"Invalid policy definition: bad pattern for {path[:200]} ({exc}).") from exc
        if kind == "range" and not all(
            isinstance(rule.get(k, 0), int | float) for k in ("minValue", "maxValue")
        ):
            raise invalid(
                f"Invalid policy definition: minValue and maxValue for {path[:200]} must be numbers."
            )
    return rules


def _flatten(spec: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in spec.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and key not in ("spark_conf", "custom_tags", "spark_env_vars"):
            flat.update(_flatten(value, path + "."))
        elif isinstance(value, dict):
            flat.update({f"{path}.{name}": item for name, item in value.items()})
        else:
            flat[path] = value
    return flat


def _put(spec: dict[str, Any], path: str, value: Any) -> None:
    """Set ``path`` in the spec; maps keyed by free names (spark_conf, custom_tags) take the rest whole."""
    head, _, rest = path.partition(".")
    if not rest:
        spec[head] = value
        return
    inner = spec.setdefault(head, {})
    if head in ("spark_conf", "custom_tags", "spark_env_vars"):
        inner[rest] = value
    else:
        _put(inner, rest, value)


def _shown(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, str) else value


def _fixed(rule: dict[str, Any], value: Any) -> str | None:
    ok = value == rule["value"]
    return None if ok else f"the value must be {_shown(rule['value'])} (is {_shown(value)})"


def _allowlist(rule: dict[str, Any], value: Any) -> str | None:
    ok = value in rule["values"]
    return None if ok else f"the value must be one of {json.dumps(rule['values'])} (is {_shown(value)})"


def _blocklist(rule: dict[str, Any], value: Any) -> str | None:
    bad = value in rule["values"]
    return f"the value must not be one of {json.dumps(rule['values'])} (is {_shown(value)})" if bad else None


def _regex(rule: dict[str, Any], value: Any) -> str | None:
    ok = re.fullmatch(str(rule["pattern"]), str(value)) is not None
    return (
        None if ok else f"the value must match the regular expression {rule['pattern']} (is {_shown(value)})"
    )


def _range(rule: dict[str, Any], value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"the value must be a number (is {_shown(value)})"
    if "minValue" in rule and value < rule["minValue"]:
        return f"the value must be greater than or equal to {rule['minValue']} (is {value})"
    if "maxValue" in rule and value > rule["maxValue"]:
        return f"the value must be less than or equal to {rule['maxValue']} (is {value})"
    return None


def _anything(rule: dict[str, Any], value: Any) -> str | None:
    return None


def _forbidden(rule: dict[str, Any], value: Any) -> str | None:
    return "the value cannot be present"


_CHECKS: dict[str, Callable[[dict[str, Any], Any], str | None]] = {
    "fixed": _fixed,
    "forbidden": _forbidden,
    "allowlist": _allowlist,
    "blocklist": _blocklist,
    "regex": _regex,
    "range": _range,
    "unlimited": _anything,
}


def _failure(rule: dict[str, Any], present: bool, value: Any) -> str | None:
    """What is wrong with an attribute's value (or its absence) under ``rule``, or None."""
    kind = rule["type"]
    if present:
        return _CHECKS[kind](rule, value)
    optional = (
        kind == "forbidden"
        or rule.get("isOptional")
        or (kind == "unlimited" and rule.get("isOptional") is not False)
    )
    return None if optional else "the value must be present"


def check_cluster_policy(store: Store, spec: dict[str, Any]) -> dict[str, Any]:
    """The spec with the policy's fixed (and, if asked, default) values applied, once it obeys the policy.

    A spec without ``policy_id`` comes back unchanged. An unknown policy is the service's 400.
    """
    policy_id = spec.get("policy_id")
    if policy_id is None:
        return spec
    record = store.get(KIND, policy_id) if isinstance(policy_id, str) and policy_id else None
    if record is None:
        raise invalid(f"Cluster policy {str(policy_id)[:100]} does not exist.")
    rules = _rules(record["definition"])
    applied = json.loads(json.dumps(spec))
    flat = _flatten(applied)
    defaults = bool(spec.get("apply_policy_default_values"))
    for path, rule in rules.items():
        if path in flat:
            continue
        if rule["type"] == "fixed":
            _put(applied, path, rule["value"])
        elif defaults and "defaultValue" in rule:
            _put(applied, path, rule["defaultValue"])
    flat = _flatten(applied)
    failures = [
        f"Validation failed for {path}, {failure}"
        for path, rule in rules.items()
        if (failure := _failure(rule, path in flat, flat.get(path))) is not None
    ]
    if failures:
        raise invalid("; ".join(failures))
    return dict(applied)


def _admin(caller: Principal, action: str) -> None:
    if not caller.is_admin:
        raise ApiError(
            "PERMISSION_DENIED", f"User {caller.user_name} is not authorized to {action} cluster policies."
        )


class PoliciesState:
    """The workspace's cluster policies, in the shared store."""

    def __init__(self, store: Store, clock: Callable[[], float]) -> None:
        self._store = store
        self._clock = clock

    def _checked(self, body: dict[str, Any], policy_id: str = "") -> dict[str, Any]:
        fields = {k: body[k] for k in _FIELDS if body.get(k) is not None}
        name = fields.get("name")
        if not isinstance(name, str) or not name.strip():
            raise invalid("Missing required field: name")
        if len(name) > MAX_NAME:
            raise invalid(f"name must be at most {MAX_NAME} characters.")
        _rules(fields.get("definition"))
        most = fields.get("max_clusters_per_user")
        if most is not None and (isinstance(most, bool) or not isinstance(most, int) or most < 1):
            raise invalid(f"max_clusters_per_user must be a positive integer, got {str(most)[:40]!r}.")
        for key, record in self._store.items(KIND):
            if key != policy_id and record["name"] == name:
                raise invalid(f"Policy with name {name!r} already exists.")
        return fields

    def _load(self, policy_id: object) -> dict[str, Any]:
        if not isinstance(policy_id, str) or not policy_id:
            raise invalid("Missing required field: policy_id")
        record = self._store.get(KIND, policy_id)
        if record is None:
            raise ApiError("RESOURCE_DOES_NOT_EXIST", f"Policy {policy_id[:100]} does not exist.")
        return record

    def create(self, caller: Principal, body: dict[str, Any]) -> str:
        """``policies/clusters/create``: validate and store; return the new policy id."""
        _admin(caller, "create")
        with self._store.transaction():
            fields = self._checked(body)
            policy_id = secrets.token_hex(8).upper()
            record = {
                "definition": "{}",
                **fields,
                "policy_id": policy_id,
                "creator_user_name": caller.user_name,
                "created_at_timestamp": int(self._clock() * 1000),
                "is_default": False,
            }
            self._store.put(KIND, policy_id, record)
        return policy_id

    def get(self, policy_id: object) -> dict[str, Any]:
        """``policies/clusters/get``: the policy as stored."""
        return dict(self._load(policy_id))

    def list(self, *, sort_column: str | None = None, sort_order: str | None = None) -> list[dict[str, Any]]:
        """``policies/clusters/list``: by creation time (default) or name, DESC (default) or ASC."""
        if sort_column not in (None, "POLICY_CREATION_TIME", "POLICY_NAME"):
            raise invalid(
                f"sort_column must be POLICY_CREATION_TIME or POLICY_NAME, got {sort_column[:40]!r}."
            )
        if sort_order not in (None, "ASC", "DESC"):
            raise invalid(f"sort_order must be ASC or DESC, got {sort_order[:40]!r}.")
        found = [dict(record) for _, record in self._store.items(KIND)]
        if sort_column == "POLICY_NAME":
            found.sort(key=lambda policy: str(policy["name"]).lower())
        return found if sort_order == "ASC" else found[::-1]

    def edit(self, caller: Principal, body: dict[str, Any]) -> None:
        """``policies/clusters/edit``: replace name, definition and the rest (clusters keep their specs)."""
        _admin(caller, "edit")
        with self._store.transaction():
            record = self._load(body.get("policy_id"))
            fields = self._checked(body, record["policy_id"])
            kept = {
                k: record[k] for k in ("policy_id", "creator_user_name", "created_at_timestamp", "is_default")
            }
            self._store.put(KIND, record["policy_id"], {"definition": "{}", **fields, **kept})

    def delete(self, caller: Principal, policy_id: object) -> None:
        """``policies/clusters/delete``: forget the policy."""
        _admin(caller, "delete")
        with self._store.transaction():
            record = self._load(policy_id)
            self._store.delete(KIND, record["policy_id"])
            ObjectAcls(self._store).drop("cluster-policy", record["policy_id"])
