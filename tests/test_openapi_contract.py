"""The OpenAPI document as a generated client reads it (issue #18, items 6 and 7).

An app developer generates types with openapi-typescript and its default options
(clients/typescript/ does so in CI and type-checks a session against them). These tests pin,
in the document itself, what makes that client right first time: requests require only what
the server requires, nullable references are valid OpenAPI 3.0, every payload is typed, and
one thing has one shape wherever it appears.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import pytest

from accounts.models import GroupKind
from feed.models import PostKind


@functools.cache
def openapi() -> dict[str, Any]:
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def components() -> dict[str, Any]:
    return openapi()["components"]["schemas"]


def component(name: str) -> dict[str, Any]:
    return components()[name]


def ref_name(node: dict[str, Any]) -> str | None:
    ref = node.get("$ref")
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None


def walk(node: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from walk(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, f"{path}/{index}")


def operations() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, methods in openapi()["paths"].items():
        for method, operation in methods.items():
            if isinstance(operation, dict) and "responses" in operation:
                yield path, method, operation


def request_body(path: str, method: str) -> dict[str, Any]:
    [media] = [m for t, m in openapi()["paths"][path][method]["requestBody"]["content"].items() if t == "application/json"]
    return component(ref_name(media["schema"]))


def response_body(path: str, method: str, status: str = "200") -> dict[str, Any]:
    schema = openapi()["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]
    return component(ref_name(schema)) if ref_name(schema) else schema


def reachable(name: str) -> set[str]:
    seen, pending = set(), [name]
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        pending += [ref_name(node) for _, node in walk(component(current)) if ref_name(node)]
    return seen


def request_components() -> set[str]:
    names: set[str] = set()
    for _, _, operation in operations():
        for media in operation.get("requestBody", {}).get("content", {}).values():
            if ref_name(media["schema"]):
                names |= reachable(ref_name(media["schema"]))
    return names


def variants(name: str) -> dict[str, dict[str, Any]]:
    """A discriminated union's mapping: discriminator value → variant component."""
    union = component(name)
    assert "oneOf" in union, f"{name} is not a union"
    return {value: component(ref.rsplit("/", 1)[-1]) for value, ref in union["discriminator"]["mapping"].items()}


def property_ref(schema: dict[str, Any], prop: str) -> str | None:
    node = schema["properties"][prop]
    if ref_name(node):
        return ref_name(node)
    branches = node.get("oneOf", []) + node.get("allOf", [])
    refs = [ref_name(branch) for branch in branches if ref_name(branch) != "NullEnum"]
    return refs[0] if len(refs) == 1 else None


# --- 6: requests require what the server requires ---------------------------------------------------


def test_no_request_schema_has_a_default_that_a_generator_would_make_required():
    with_default = sorted(
        f"{name}.{prop}"
        for name in request_components()
        for _, node in walk(component(name))
        for prop, schema in (node.get("properties") or {}).items()
        if isinstance(schema, dict) and "default" in schema
    )
    assert with_default == []


@pytest.mark.parametrize(
    ("path", "method", "required"),
    [
        ("/api/v1/posts", "post", ["body"]),
        ("/api/v1/auth/login", "post", ["password"]),  # and email, or employee_number with organization_slug
        ("/api/v1/auth/activate", "post", ["code", "password"]),
        ("/api/v1/kudos", "post", ["message", "recipient_ids"]),
        ("/api/v1/groups", "post", ["name"]),
        ("/api/v1/devices", "post", ["platform", "token"]),
    ],
)
def test_request_schema_requires_only_what_the_server_requires(path, method, required):
    assert sorted(request_body(path, method).get("required", [])) == required


def test_the_default_stays_documented_in_the_description():
    kind = request_body("/api/v1/posts", "post")["properties"]["kind"]
    assert "Default: `post`." in kind["description"]


# PATCH bodies the server validates whole (`whole_on_patch`, server/api/schema.py; issue #25 item 5).
# PATCH /posts/{id} changes only what is sent since #22 (text, groups, photos, schedule, deadline).
WHOLE_PATCHES: dict[str, list[str]] = {}


def test_patch_bodies_require_nothing():
    patches = [(path, method) for path, method, operation in operations() if method == "patch" and "requestBody" in operation]
    assert len(patches) >= 8
    for path, method in patches:
        body = request_body(path, method)
        assert body.get("required", []) == WHOLE_PATCHES.get(path, []), path
        assert not any("default" in prop for prop in body["properties"].values()), path


# --- 6: nullable references are valid OpenAPI 3.0 --------------------------------------------------


def test_nullable_only_beside_a_type():
    # OpenAPI 3.0.3: `nullable` means something only next to `type` in the same schema object
    # (Redocly's nullable-type-sibling); `{allOf: [$ref], nullable: true}` still refuses null.
    offenders = [path for path, node in walk(openapi()) if node.get("nullable") is True and "type" not in node]
    assert offenders == []


def test_no_reference_has_siblings():
    # Keys beside a $ref are ignored in OpenAPI 3.0.
    offenders = [path for path, node in walk(openapi()) if "$ref" in node and len(node) > 1]
    assert offenders == []


def test_a_nullable_reference_is_one_of_the_object_or_null():
    image = component("Kudos")["properties"]["image"]
    assert image["oneOf"] == [{"$ref": "#/components/schemas/Media"}, {"$ref": "#/components/schemas/NullEnum"}]
    assert component("NullEnum") == {"enum": [None]}


# --- 6: every payload is typed ----------------------------------------------------------------------


def untyped(schema: dict[str, Any]) -> bool:
    """An object with no properties and any values: `Record<string, unknown>` in TypeScript."""
    if schema.get("type") == "object" and not schema.get("properties"):
        return schema.get("additionalProperties", True) in ({}, True)
    return not (set(schema) - {"description", "readOnly", "nullable", "title"})


@pytest.mark.parametrize(
    ("name", "prop"),
    [
        ("Notification", "data"),
        ("Resolution", "resolved_by"),
        ("ErrorDetail", "fields"),
    ],
)
def test_payloads_that_were_untyped_are_typed(name, prop):
    schemas = [component(name)] if "oneOf" not in component(name) else list(variants(name).values())
    for schema in schemas:
        node = schema["properties"][prop]
        assert not untyped(node), (name, prop, node)
        for branch in node.get("oneOf", []) + node.get("anyOf", []):
            assert not untyped(branch), (name, prop, branch)


def test_only_documented_free_form_json_is_left_untyped():
    # The audit log's before/after snapshots are whatever the audited row held.
    loose = sorted(
        f"{name}.{prop}"
        for name, schema in components().items()
        for prop, node in (schema.get("properties") or {}).items()
        if untyped(node)
    )
    assert loose == ["AuditEntry.after", "AuditEntry.before"]


def test_error_fields_are_messages_nested_fields_or_items():
    assert property_ref(component("ErrorDetail"), "fields") == "FieldErrors"
    branches = component("FieldErrors")["additionalProperties"]["anyOf"]
    assert {"type": "array", "items": {"type": "string"}} in [{k: v for k, v in b.items() if k != "description"} for b in branches]


def test_resolved_by_is_a_person():
    assert property_ref(component("Resolution"), "resolved_by") == "PersonRef"
    assert set(component("PersonRef")["required"]) == {"id", "name"}


def test_me_language_is_the_language_enum():
    assert property_ref(component("Me"), "language") == "LanguageEnum"
    assert component("LanguageEnum")["enum"] == ["en", "nl"]


@pytest.mark.parametrize(
    ("name", "prop"),
    [
        ("Goal", "target_value"),
        ("Goal", "current_value"),
        ("GoalCreateRequest", "target_value"),
        ("GoalCreateRequest", "current_value"),
        ("PatchedGoalPatchRequest", "target_value"),
        ("PatchedGoalPatchRequest", "current_value"),
        ("GoalProgressRequest", "current_value"),
    ],
)
def test_goal_values_are_numbers_in_requests_and_responses(name, prop):
    assert component(name)["properties"][prop]["type"] == "number"


def test_post_card_is_a_union_discriminated_by_kind():
    union = component("PostCard")
    assert union["discriminator"]["propertyName"] == "kind"
    cards = variants("PostCard")
    assert set(cards) == set(PostKind.values)
    payloads = {"kudos": "KudosCard", "award": "AwardCard", "goal_update": "GoalCard", "key_moment": "KeyMomentPostCard"}
    keys = {"kudos": "kudos", "award": "award", "goal_update": "goal", "key_moment": "key_moment"}
    for kind, card in cards.items():
        # Exactly one kind per variant (post and announcement share one), so the branches exclude
        # each other for a plain JSON Schema validator too, not only for discriminator-aware ones.
        assert kind in component(ref_name(card["properties"]["kind"]))["enum"]
        # Its own payload, typed and required; the other kinds' keys (null on the wire) are not
        # declared: openapi-fetch drops null-only properties from response types.
        declared = {key for key in keys.values() if key in card["properties"]}
        assert declared == ({keys[kind]} if kind in keys else set()), kind
        if kind in keys:
            assert keys[kind] in card["required"]
            assert ref_name(card["properties"][keys[kind]]) == payloads[kind], kind
    kind_sets = [frozenset(component(ref_name(card["properties"]["kind"]))["enum"]) for card in {id(c): c for c in cards.values()}.values()]
    assert sum(len(s) for s in kind_sets) == len(set().union(*kind_sets)) == len(PostKind.values)


def test_notification_is_a_union_discriminated_by_type():
    union = component("Notification")
    assert union["discriminator"]["propertyName"] == "type"
    by_type = variants("Notification")
    assert {"post.created", "post.updated", "comment.created", "kudos.created", "award.announced"} <= set(by_type)
    assert {"report.created", "report.resolved", "moderation.decided"} <= set(by_type)
    assert property_ref(by_type["comment.created"], "data") == "Comment"
    assert property_ref(by_type["post.created"], "data") == "PostCard"
    for event_type, schema in by_type.items():
        assert component(property_ref(schema, "type"))["enum"] == [event_type]


# --- 6: pagination gives the cursor itself --------------------------------------------------------


def test_every_list_has_the_cursor_beside_the_link():
    lists = [
        (path, response_body(path, "get"))
        for path, method, operation in operations()
        if method == "get" and "cursor" in [p["name"] for p in operation.get("parameters", [])]
    ]
    assert len(lists) >= 14
    assert "/api/v1/feed" in dict(lists)
    for path, page in lists:
        assert {"results", "next", "previous", "next_cursor", "previous_cursor"} <= set(page["required"]), path


# --- 7: one shape per thing -------------------------------------------------------------------------


def test_a_group_is_id_name_kind_wherever_it_is_embedded():
    assert component("GroupRef")["required"] == ["id", "kind", "name"]
    assert ref_name(component("GroupRef")["properties"]["kind"]) == "GroupKindEnum"
    assert set(component("UserGroup")["required"]) == {"id", "name", "kind", "role"}
    embedded = []
    for name, schema in components().items():
        if name.endswith("Request") or name in ("Group", "PaginatedGroupList"):
            continue
        for prop, node in (schema.get("properties") or {}).items():
            if prop in ("group", "groups"):
                target = node.get("items", node)
                embedded.append((name, prop, ref_name(target) or property_ref(schema, prop)))
    assert embedded, "no embedded groups found"
    for name, prop, target in embedded:
        assert target in ("GroupRef", "UserGroup"), (name, prop, target)


def test_group_kinds_are_the_group_enum():
    assert set(component("GroupKindEnum")["enum"]) == set(GroupKind.values)


def test_a_kudos_card_carries_its_image():
    card = component("KudosCard")
    assert property_ref(card, "image") == "Media"
    assert "image" in card["required"]


def test_no_list_is_called_entries_or_standings():
    offenders = [
        f"{name}.{prop}"
        for name, schema in components().items()
        for prop in (schema.get("properties") or {})
        if prop in ("entries", "standings")
    ]
    assert offenders == []


@pytest.mark.parametrize("path", ["/api/v1/recognition/leaderboard", "/api/v1/awards/rounds/{round_id}/results"])
def test_ranked_lists_are_pages_too(path):
    page = response_body(path, "get")
    assert {"results", "next", "previous", "next_cursor", "previous_cursor"} <= set(page["required"])


# --- docs/api.md is in step with the schema ---------------------------------------------------------


def test_the_guide_lists_the_query_parameters_of_every_list():
    from server.management.commands.api_docs import api_guide, list_parameters_markdown

    section = list_parameters_markdown(openapi())
    assert "`GET /api/v1/feed` | yes | `author`" in section
    assert section in api_guide().read_text(), "docs/api.md is out of step with the schema: run `python manage.py api_docs`"


def test_the_guide_names_every_shape_it_documents():
    guide = api_guide_text()
    for name in ("GroupRef", "UserGroup", "UserSummary", "PersonRef", "Media", "PostCard", "KudosCard", "AwardCard", "GoalCard"):
        assert f"`{name}`" in guide and name in components(), name
    for name in ("KeyMomentPostCard", "Comment", "Kudos", "Goal", "KeyMoment", "Notification", "Error", "FieldErrors"):
        assert f"`{name}`" in guide and name in components(), name


def api_guide_text() -> str:
    from server.management.commands.api_docs import api_guide

    return api_guide().read_text()
