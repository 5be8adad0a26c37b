"""The OpenAPI schema as the list of what each operation accepts: unknown query parameters and
body fields are refused (400 `unknown_field`), not silently dropped.

An app cannot tell that `?author=` did nothing, or that a `password` sent with `PATCH /me` was
ignored. The schema the phone's client is generated from already lists every parameter and
field an operation takes, so it is also what the server checks against: a parameter the schema
does not list is refused, and one it lists is documented by construction. Built once per
process from drf-spectacular's generator (about 0.2 s; `server/asgi.py` warms it at start-up).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from server.api.exceptions import ValidationFailed


@dataclass
class Shape:
    """What a JSON value may hold: an object's known properties (None: any), an array's items."""

    properties: dict[str, Shape | None] | None = None
    items: Shape | None = None
    free_form: bool = False


@dataclass
class Accepts:
    query: frozenset[str] = frozenset()
    # name → its schema (type, enum, bounds, pattern, format): what a value must look like.
    query_schemas: dict[str, dict[str, Any]] = field(default_factory=dict)
    body: Shape | None = None
    checks_body: bool = False


@dataclass
class _Contract:
    operations: dict[tuple[type, str], Accepts] = field(default_factory=dict)


_lock = threading.Lock()
_contract: _Contract | None = None


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _shape(schema: dict[str, Any] | None, components: dict[str, Any], depth: int = 0) -> Shape | None:
    """None: a value that holds no fields (a string, a number, null)."""
    if schema is None or depth > 20:
        return None
    schema = _resolve(schema, components)
    if not schema:
        return Shape(free_form=True)  # {}: anything
    for combinator in ("allOf", "oneOf", "anyOf"):
        if combinator in schema:
            # A union (a nullable reference is oneOf [its component, NullEnum]): what any branch takes.
            parts = [part for branch in schema[combinator] if (part := _shape(branch, components, depth + 1)) is not None]
            if not parts:
                return None
            if any(part.free_form for part in parts):
                return Shape(free_form=True)
            objects = [part.properties for part in parts if part.properties is not None]
            arrays = [part.items for part in parts if part.items is not None]
            return Shape(
                properties={name: sub for properties in objects for name, sub in properties.items()} if objects else None,
                items=arrays[0] if arrays else None,
            )
    if schema.get("type") == "array":
        return Shape(items=_shape(schema.get("items"), components, depth + 1))
    if schema.get("type") == "object" or "properties" in schema:
        if schema.get("additionalProperties") not in (None, False) or "properties" not in schema:
            return Shape(free_form=True)
        return Shape(properties={name: _shape(sub, components, depth + 1) for name, sub in schema["properties"].items()})
    return None


def _accepts(operation: dict[str, Any], components: dict[str, Any]) -> Accepts:
    parameters = [parameter for parameter in operation.get("parameters", []) if parameter.get("in") == "query"]
    query = frozenset(parameter["name"] for parameter in parameters)
    query_schemas = {parameter["name"]: _resolve(parameter.get("schema", {}), components) for parameter in parameters}
    content = operation.get("requestBody", {}).get("content", {})
    if not content:
        # No body in the schema (an action such as pin): a JSON object sent anyway may hold no field.
        return Accepts(query=query, query_schemas=query_schemas, body=Shape(properties={}), checks_body=True)
    body_schema = next(iter(content.values())).get("schema")
    return Accepts(query=query, query_schemas=query_schemas, body=_shape(body_schema, components), checks_body=True)


def _build() -> _Contract:
    from django.utils import translation
    from drf_spectacular.generators import SchemaGenerator

    generator = SchemaGenerator()
    with translation.override(None):
        schema = generator.get_schema(request=None, public=True)
    components = schema.get("components", {}).get("schemas", {})
    contract = _Contract()
    for path, _regex, method, callback in generator.endpoints:
        view_class = getattr(callback, "cls", None)
        operation = schema["paths"].get(path, {}).get(method.lower())
        if view_class is None or operation is None:
            continue
        accepts = _accepts(operation, components)
        key = (view_class, method.upper())
        known = contract.operations.get(key)
        if known is not None:  # the same view on two paths: what either takes
            accepts = Accepts(
                query=known.query | accepts.query,
                query_schemas={**accepts.query_schemas, **known.query_schemas},
                body=known.body or accepts.body,
                checks_body=known.checks_body and accepts.checks_body,
            )
        contract.operations[key] = accepts
    return contract


def contract() -> _Contract:
    global _contract
    if _contract is None:
        with _lock:
            if _contract is None:
                _contract = _build()
    return _contract


def reset() -> None:
    """Forget the built contract (tests that change the URLconf or the schema)."""
    global _contract
    _contract = None


def _unknown_in(value: Any, shape: Shape | None, names: list[str]) -> Any:
    """The unknown fields of `value` as the error envelope's recursive `fields` (None: none):
    a nested object's inside its own entry, a list's per item (`{}` for a clean one)."""
    if shape is None or shape.free_form:
        return None
    if isinstance(value, Mapping) and shape.properties is not None:
        errors: dict[str, Any] = {}
        for key in value:
            if key not in shape.properties:
                errors[key] = [_("Unknown field.")]
                names.append(str(key))
            elif (inner := _unknown_in(value[key], shape.properties[key], names)) is not None:
                errors[key] = inner
        return errors or None
    if isinstance(value, list) and shape.items is not None:
        items = [_unknown_in(item, shape.items, names) for item in value[:1000]]
        return [item or {} for item in items] if any(items) else None
    return None


def refuse_unknown_fields(*, view_class: type, method: str, query_params: Mapping[str, Any], data: Any) -> None:
    accepts = contract().operations.get((view_class, method.upper()))
    if accepts is None:
        return  # not in the schema (excluded on purpose): nothing to hold it to
    errors: dict[str, Any] = {}
    for name in query_params:
        if name not in accepts.query:
            errors[name] = [_("Unknown query parameter.")]
    names = list(errors)
    if accepts.checks_body and method.upper() in ("POST", "PUT", "PATCH"):
        errors.update(_unknown_in(data, accepts.body, names) or {})
    if errors:
        listed = ", ".join(sorted(set(names)))
        raise ValidationFailed(_("Unknown field: %(names)s.") % {"names": listed}, code="unknown_field", fields=errors)
    invalid = {
        name: [problem]
        for name, values in query_params.lists()
        for value in values[-1:]
        if (problem := _query_value_problem(value, accepts.query_schemas.get(name, {}))) is not None
    }
    if invalid:
        name, (problem,) = next(iter(invalid.items()))
        raise ValidationFailed(_("%(name)s: %(problem)s") % {"name": name, "problem": problem}, code="invalid", fields=invalid)


_INTEGER = re.compile(r"^-?\d{1,19}$")
_NUMBER = re.compile(r"^-?\d{1,15}(\.\d{1,15})?$")
_BOOLEANS = ("true", "false", "1", "0")


def _query_value_problem(value: str, schema: dict[str, Any]) -> str | None:
    """Why `value` is not what the parameter's schema says, or None: the query is held to the
    schema as bodies are, so an empty `?group=` or `?mine=maybe` is a 400, not a silent no-op."""
    kind = schema.get("type")
    if "enum" in schema:
        if value not in [str(option) for option in schema["enum"] if option is not None]:
            return _("Must be one of: %(options)s.") % {"options": ", ".join(str(option) for option in schema["enum"] if option)}
        return None
    if kind == "integer":
        if not _INTEGER.match(value):
            return _("Must be a whole number.")
        number = int(value)
        if ("minimum" in schema and number < schema["minimum"]) or ("maximum" in schema and number > schema["maximum"]):
            return _("Must be between %(low)s and %(high)s.") % {"low": schema.get("minimum", "…"), "high": schema.get("maximum", "…")}
        return None
    if kind == "number":
        return None if _NUMBER.match(value) else _("Must be a number.")
    if kind == "boolean":
        return None if value.lower() in _BOOLEANS else _("Must be true or false.")
    if kind == "string":
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            return _("At most %(n)d characters.") % {"n": schema["maxLength"]}
        if "pattern" in schema and not re.search(schema["pattern"], value):
            return _("Not in the expected form.")
        if schema.get("format") == "date" and parse_date_or_none(value) is None:
            return _("Must be a date (YYYY-MM-DD).")
        if schema.get("format") == "date-time" and parse_datetime_or_none(value) is None:
            return _("Must be a time in ISO 8601.")
    return None


def parse_date_or_none(value: str) -> Any:
    try:
        return parse_date(value)
    except ValueError:
        return None


def parse_datetime_or_none(value: str) -> Any:
    try:
        return parse_datetime(value)
    except ValueError:
        return None


def refuse_nul_in_query(query_params: Any) -> None:
    """A NUL in a query parameter (`?search=a%00b`, a cursor) is a 400: PostgreSQL refuses NUL in
    text, so it would otherwise surface as a 500 from the first query that uses it."""
    errors = {
        name.replace("\x00", "\\x00"): [_("Contains a NUL character, which is not allowed.")]
        for name, values in query_params.lists()
        if "\x00" in name or any("\x00" in value for value in values)
    }
    if errors:
        raise ValidationFailed(_("A query parameter contains a NUL character."), code="invalid_character", fields=errors)
