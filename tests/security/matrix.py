"""Shared by the isolation matrix, the marker and the mass-assignment tests.

- `make_world()`: the tenancy harness's two organisations plus `outsider_a`, an
  employee of organisation A who is in none of its groups;
- `snapshot()`: row count and checksum of every table, to prove a refused request
  changed nothing;
- `openapi()` / `schema_path()`: the generated OpenAPI document and the route →
  schema path mapping, so new routes are walked without being listed anywhere.
"""

from __future__ import annotations

import functools
import hashlib
import re
from typing import Any

from django.apps import apps

from tests.factories import AdminFactory, GroupFactory, LeaderFactory, MembershipFactory, OrganizationFactory, UserFactory
from tests.security.harness import Route, World


def make_world() -> World:
    org_a, org_b = OrganizationFactory(), OrganizationFactory()
    group_a = GroupFactory(organization=org_a)
    employee_a = UserFactory(organization=org_a)
    MembershipFactory(group=group_a, user=employee_a)
    group_b = GroupFactory(organization=org_b)
    employee_b = UserFactory(organization=org_b)
    MembershipFactory(group=group_b, user=employee_b)
    world = World(
        org_a=org_a,
        admin_a=AdminFactory(organization=org_a),
        leader_a=LeaderFactory(organization=org_a),
        employee_a=employee_a,
        group_a=group_a,
        org_b=org_b,
        admin_b=AdminFactory(organization=org_b),
        leader_b=LeaderFactory(organization=org_b),
        employee_b=employee_b,
        group_b=group_b,
        cache={},
    )
    world.outsider_a = UserFactory(organization=org_a)  # same organisation, none of its groups
    return world


def snapshot() -> dict[str, tuple[int, str]]:
    """Every table's row count and a checksum of its rows (all columns, in pk order)."""
    state = {}
    for model in apps.get_models(include_auto_created=True):
        if model._meta.proxy or not model._meta.managed:
            continue
        rows = list(model._base_manager.order_by("pk").values_list())
        state[model._meta.db_table] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest()[:16])
    return state


def changed_tables(before: dict, after: dict) -> list[str]:
    return sorted(
        f"{table}: {before.get(table, (0, ''))[0]} -> {after.get(table, (0, ''))[0]} rows"
        for table in set(before) | set(after)
        if before.get(table) != after.get(table)
    )


@functools.cache
def openapi() -> dict[str, Any]:
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def schema_path(route: Route) -> str:
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route.pattern)


def resolve_ref(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        node = openapi()["components"]["schemas"][name]
    return node


def request_schema(operation: dict[str, Any]) -> dict[str, Any] | None:
    content = operation.get("requestBody", {}).get("content", {})
    for media_type in ("application/json", "multipart/form-data"):
        if media_type in content:
            return resolve_ref(content[media_type]["schema"])
    return None


def sample_body(schema: dict[str, Any] | None, probe: str) -> dict[str, Any]:
    """A plausible body: if a permission check were missing, this would change something."""
    if not schema:
        return {}
    body: dict[str, Any] = {}
    for name, field in schema.get("properties", {}).items():
        field = resolve_ref(field)
        if field.get("readOnly") or field.get("format") == "binary":
            continue
        if field.get("enum"):
            body[name] = next(value for value in field["enum"] if value not in ("", None))
            continue
        kind = field.get("type")
        if "allOf" in field or "oneOf" in field:
            options = field.get("allOf") or field.get("oneOf")
            resolved = resolve_ref(options[0])
            if "enum" in resolved:
                body[name] = next(value for value in resolved["enum"] if value not in ("", None))
            continue
        if kind == "string":
            body[name] = probe if field.get("format") not in ("date-time", "date", "email") else None
            if field.get("format") == "email":
                body[name] = "probe@example.com"
            if body[name] is None:
                del body[name]
        elif kind == "integer":
            body[name] = 1
        elif kind == "number":
            body[name] = 1.0
        elif kind == "boolean":
            body[name] = True
    return body


def accepted_only(path: str, method: str, body: dict[str, Any]) -> dict[str, Any]:
    """The fields of `body` that the operation at `path` takes (server/api/contract.py): a probe
    that reaches the access check instead of the unknown-field check (400 before 403/404)."""
    from django.urls import resolve

    from server.api.contract import contract

    accepts = contract().operations.get((resolve(path).func.view_class, method.upper()))
    if accepts is None or method.lower() == "get":
        return {}
    properties = (accepts.body.properties or {}) if accepts.body is not None else {}
    return {key: value for key, value in body.items() if key in properties}
