"""OpenAPI: every operation documents the error envelope for the errors it can return, and the
document is shaped so that a client generated with default options is right first time
(openapi-typescript 7 is checked in CI: clients/typescript/)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.serializers import PolymorphicProxySerializerExtension
from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers
from rest_framework.permissions import AllowAny

from server.api.idempotency import MAX_KEY_LENGTH

NULL_COMPONENT = "NullEnum"
# The null branch of a nullable reference (OpenAPI 3.0 has no null type): drf-spectacular's own
# component for the null choice, which `postprocess_shared_components` makes sure exists.
NULL_REF = {"$ref": f"#/components/schemas/{NULL_COMPONENT}"}
_FIELD_ERRORS_REF = {"$ref": "#/components/schemas/FieldErrors"}

# What `fields` holds per field: messages; for a nested object its own fields (`quiet_hours.start`);
# for a list of objects one entry per item (`{}` for a valid one). anyOf, not oneOf: `[]` is
# both an empty list of messages and an empty list of items.
FIELD_ERRORS_SCHEMA = {
    "type": "object",
    "description": "Field name → what is wrong with it.",
    "additionalProperties": {
        "anyOf": [
            {"type": "array", "items": {"type": "string"}, "description": "Messages about this field."},
            _FIELD_ERRORS_REF,
            {"type": "array", "items": _FIELD_ERRORS_REF, "description": "One entry per item of a list (`{}` for a valid one)."},
        ]
    },
}


@extend_schema_field(_FIELD_ERRORS_REF)
class FieldErrorsField(serializers.DictField):
    """The error envelope's `fields`, documented as the recursive `FieldErrors` component."""


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Machine-readable error code, e.g. `invalid`, `not_found`, `muted`.")
    message = serializers.CharField(help_text="Human-readable message in the request's language.")
    fields = FieldErrorsField(help_text="Per-field messages for validation errors (field name → list of messages); `{}` for other errors.")


class AllOfField(serializers.Field):
    """Schema only: a value that has all these shapes at once (a post card plus a reminder)."""

    def __init__(self, *parts: type[serializers.Serializer] | serializers.Serializer, **kwargs: Any) -> None:
        self.parts = parts
        super().__init__(**kwargs)


class AllOfFieldExtension(OpenApiSerializerFieldExtension):
    target_class = AllOfField

    def map_serializer_field(self, auto_schema, direction):
        return {"allOf": [auto_schema.resolve_serializer(part, direction).ref for part in self.target.parts]}


class PolymorphicProxySubclassExtension(PolymorphicProxySerializerExtension):
    """drf-spectacular's unions for subclasses of PolymorphicProxySerializer too (feed.serializers.PostCardSerializer
    fixes its arguments so that views use it like any serializer class)."""

    target_class = PolymorphicProxySerializer
    match_subclasses = True


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


class AutoSchema(SpectacularAutoSchema):
    def _get_paginator(self):
        # Our list views are APIViews that paginate with KeysetPagination through
        # `paginated()`; every top-level list a GET returns is a cursor page.
        paginator = super()._get_paginator()
        if paginator is None and self.method == "GET":
            from server.api.pagination import KeysetPagination

            return KeysetPagination()
        return paginator

    def _get_request_for_media_type(self, serializer, direction="request"):
        # drf-spectacular documents every PATCH body as partial (all optional). A view that validates
        # its serializer whole (`whole_on_patch = True` on the serializer) requires its required fields.
        if self.method == "PATCH" and getattr(serializer, "whole_on_patch", False):
            self.method = "PUT"
            try:
                return super()._get_request_for_media_type(serializer, direction)
            finally:
                self.method = "PATCH"
        return super()._get_request_for_media_type(serializer, direction)

    def get_override_parameters(self):
        parameters = super().get_override_parameters()
        if self.method == "POST":
            parameters = [
                *parameters,
                OpenApiParameter(
                    "Idempotency-Key",
                    # The limits the middleware enforces (server/api/idempotency.py): not blank, ≤ 255.
                    {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": r"\S"},
                    OpenApiParameter.HEADER,
                    description=(
                        "A fresh UUID per request, reused on retries: a retry within 24 h replays the first answer. "
                        f"1 to {MAX_KEY_LENGTH} characters, not only spaces (400 otherwise, after authentication: "
                        "an unauthenticated request is a 401 first)."
                    ),
                ),
            ]
        return parameters

    def _is_public(self) -> bool:
        return any(isinstance(permission, AllowAny) for permission in self.view.get_permissions())

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction=direction)
        codes = ["429"]
        if not self._is_public():
            codes += ["401", "403"]
        if self.method in ("POST", "PUT", "PATCH"):
            codes += ["400", "409", "415"]
        if self.method == "POST":
            codes.append("422")  # Idempotency-Key reused with another body
        if self.method == "GET" and (self._is_list_view() or any(p.get("in") == "query" for p in self._get_parameters())):
            codes.append("400")  # bad cursor, page_size or filter
        if "{" in self.path:
            codes.append("404")
        for code in codes:
            if code not in responses:
                responses[code] = self._get_response_for_code(ErrorSerializer, code)
        return responses


# --- Postprocessing hooks (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"], after the enum hook) -----


def _walk(node: Any) -> Iterator[dict]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _component_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _request_components(result: dict) -> set[str]:
    """Components a request body reaches, directly or through other components."""
    schemas = result.get("components", {}).get("schemas", {})
    pending = [
        media["schema"]
        for operations in result.get("paths", {}).values()
        for operation in operations.values()
        if isinstance(operation, dict)
        for media in operation.get("requestBody", {}).get("content", {}).values()
    ]
    seen: set[str] = set()
    while pending:
        for node in _walk(pending.pop()):
            name = _component_name(node["$ref"]) if isinstance(node.get("$ref"), str) else None
            if name and name not in seen and name in schemas:
                seen.add(name)
                pending.append(schemas[name])
    return seen


def _default_text(value: Any) -> str:
    return value if isinstance(value, str) and value else json.dumps(value)


def postprocess_shared_components(result: dict, generator: Any = None, **kwargs: Any) -> dict:
    """Components that serializers refer to by name rather than build: field errors (recursive) and null."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("FieldErrors", FIELD_ERRORS_SCHEMA)
    schemas.setdefault(NULL_COMPONENT, {"enum": [None]})
    result["components"]["schemas"] = dict(sorted(schemas.items()))
    return result


def postprocess_request_defaults(result: dict, generator: Any = None, **kwargs: Any) -> dict:
    """Move `default` out of request schemas into their description.

    A default in a request says what the server assumes when the field is left out, so the field
    is optional; openapi-typescript (with its default `defaultNonNullable`) and other generators
    read `default` as "always present" and make the client send it: `POST /posts` would demand
    `kind`, every PATCH every field. Responses keep their defaults: there the value is always sent.
    """
    schemas = result.get("components", {}).get("schemas", {})
    bodies = [schemas[name] for name in _request_components(result)]
    bodies += [
        media["schema"]
        for operations in result.get("paths", {}).values()
        for operation in operations.values()
        if isinstance(operation, dict)
        for media in operation.get("requestBody", {}).get("content", {}).values()
        if "$ref" not in media["schema"]
    ]
    for body in bodies:
        for node in _walk(body):
            for prop in (node.get("properties") or {}).values():
                if isinstance(prop, dict) and "default" in prop:
                    default = _default_text(prop.pop("default"))
                    description = prop.get("description", "")
                    prop["description"] = f"{description}\n\nDefault: `{default}`." if description else f"Default: `{default}`."
    return result


def postprocess_nullable_references(result: dict, generator: Any = None, **kwargs: Any) -> dict:
    """Nullable references that OpenAPI 3.0 validators accept.

    OpenAPI 3.0.3 gives `nullable` meaning only beside a `type` in the same schema object, so
    drf-spectacular's `{allOf: [{$ref}], nullable: true}` still refuses null (openapi-schema-validator,
    Redocly's `nullable-type-sibling`). A nullable reference becomes `oneOf: [{$ref}, NullEnum]`, the
    null branch drf-spectacular already uses for nullable choices; a `nullable` without anything to
    qualify (any JSON value) is dropped, as null is already allowed there.
    """
    for node in list(_walk(result)):
        if node.get("nullable") is not True or "type" in node:
            continue
        del node["nullable"]
        if isinstance(node.get("$ref"), str):
            node["oneOf"] = [{"$ref": node.pop("$ref")}, dict(NULL_REF)]
        elif "allOf" in node and len(node["allOf"]) == 1:
            node["oneOf"] = [node.pop("allOf")[0], dict(NULL_REF)]
        else:
            branches = node.get("oneOf", node.get("anyOf"))
            if branches is not None and NULL_REF not in branches:
                branches.append(dict(NULL_REF))
    return result


def postprocess_email_format(result: dict, generator: Any = None, **kwargs: Any) -> dict:
    """`format: email` (RFC 5322, ASCII) becomes `idn-email` (RFC 6531).

    Django's EmailValidator accepts internationalised domains (`ana@bücher.example`) and the API
    returns addresses as stored, so a client or fuzzer holding the API to `email` rejected answers
    the API itself produced (issue #25 item 5). `idn-email` is the format the values meet.
    """
    for node in list(_walk(result)):
        if node.get("format") == "email":
            node["format"] = "idn-email"
    return result
