"""The WebSocket stream as a contract: an AsyncAPI 3.0 document generated from the event catalogue.

Every frame is `{id, type, data, at}`; each declared event type (`notifications.catalogue`) is a
message whose `data` is the JSON Schema of its payload serializer, made by drf-spectacular's own
component generation (the same shapes and enum names as the OpenAPI schema of the REST API), then
turned from OpenAPI 3.0's dialect (`nullable`) into JSON Schema. Served at `/api/v1/asyncapi.json`,
written by `manage.py asyncapi`, committed as docs/asyncapi.json and summarised in docs/realtime.md
(`realtime_table`). `validate()` checks a document against the official AsyncAPI 3.0 JSON Schema
(vendored in notifications/specs).
"""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

from django.urls import path
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from notifications import catalogue
from notifications.catalogue import EventType, Push

ASYNCAPI_VERSION = "3.0.0"
SPEC = Path(__file__).with_name("specs") / "asyncapi-3.0.0.json"
CHANNEL = "stream"
ADDRESS = "/ws/v1/stream"
FRAME = "Frame"
MESSAGES_REF = f"#/channels/{CHANNEL}/messages"


class PingSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["ping"])


class PongSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["pong"])


def _frame_name(event_type: EventType) -> str:
    return "".join(part.capitalize() for part in event_type.name.replace(".", "_").split("_")) + "Frame"


# --- JSON Schema of the payloads, by drf-spectacular ------------------------------------------------


def _payload_view(serializer: type[serializers.Serializer], operation_id: str) -> type[APIView]:
    # One read-only endpoint per payload, seen only by this generator: its 200 response is the
    # payload. drf-spectacular's own AutoSchema (not the API's, which adds errors and pagination).
    @extend_schema(operation_id=operation_id, responses=serializer)
    def get(self, request):  # pragma: no cover - never served
        raise NotImplementedError

    return type(f"{operation_id}View", (APIView,), {"get": get, "schema": AutoSchema(), "permission_classes": [AllowAny]})


def _payload_schemas(event_types: list[EventType]) -> tuple[dict[str, str], dict[str, Any]]:
    """(event type name → component name of its payload, the components as OpenAPI 3.0 schemas)."""
    shapes = {event_type.name: event_type.payload_serializer for event_type in event_types}
    shapes["ping"], shapes["pong"] = PingSerializer, PongSerializer
    patterns = [
        path(f"frames/{index}", _payload_view(serializer, f"frame{index}").as_view()) for index, serializer in enumerate(shapes.values())
    ]
    openapi = SchemaGenerator(patterns=patterns).get_schema(request=None, public=True)
    warnings = dict(GENERATOR_STATS._warn_cache) | dict(GENERATOR_STATS._error_cache)
    if warnings:
        raise ValueError(f"payload schemas with warnings: {sorted(warnings)}")
    refs = {}
    for index, name in enumerate(shapes):
        response = openapi["paths"][f"/frames/{index}"]["get"]["responses"]["200"]
        refs[name] = response["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    components = openapi["components"]["schemas"]
    # Only what the payloads use (the generator also appends the API's shared components).
    wanted: set[str] = set()
    todo = list(refs.values())
    while todo:
        name = todo.pop()
        if name not in wanted:
            wanted.add(name)
            todo += [ref.rsplit("/", 1)[1] for ref in _refs(components[name])]
    return refs, {name: schema for name, schema in components.items() if name in wanted}


def json_schema(node: Any) -> Any:
    """An OpenAPI 3.0 schema as JSON Schema (draft 7, what AsyncAPI's default schema format extends)."""
    if isinstance(node, list):
        return [json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: json_schema(value) for key, value in node.items()}
    if isinstance(node.get("discriminator"), dict):
        # OpenAPI's {propertyName, mapping}; AsyncAPI's Schema Object names the property only.
        node["discriminator"] = node["discriminator"]["propertyName"]
    if not node.pop("nullable", False):
        return node
    if "type" in node and not any(key in node for key in ("$ref", "allOf", "oneOf", "anyOf")):
        node["type"] = [node["type"], "null"] if isinstance(node["type"], str) else [*node["type"], "null"]
        if "enum" in node and None not in node["enum"]:
            node["enum"] = [*node["enum"], None]
        return node
    # anyOf, not oneOf: the node may accept null already (drf-spectacular's NullEnum branch).
    return {"anyOf": [node, {"type": "null"}]}


# --- The document -----------------------------------------------------------------------------------


def _push_summary(push: Push, to: str) -> dict[str, Any]:
    return {
        "to": to,
        "push_type": push.kind,
        "channel": push.channel,
        "preference": push.preference,
        "links": list(push.links),
        "collapse_key": push.collapse or "event-{event_id}",
        **({"must_read_channel": push.must_read_channel} if push.must_read is not None else {}),
    }


def pushes_of(event_type: EventType) -> list[dict[str, Any]]:
    """Who gets which push for this event (x-pushes of its message)."""
    found = [
        _push_summary(candidate.push, "the audience" + (f" ({candidate.condition})" if candidate.condition else ""))
        for candidate in event_type.audience_pushes
    ]
    found += [_push_summary(reason.push, f"addressed: {reason.name}") for reason in event_type.reasons if reason.push is not None]
    return found


def _envelope(*, type_name: str, data_ref: str, description: str) -> dict[str, Any]:
    return {
        "type": "object",
        "description": description,
        "required": ["id", "type", "data", "at"],
        "properties": {
            "id": {"type": "string", "format": "uuid", "description": "The event id: ignore ids you have already applied."},
            "type": {"type": "string", "const": type_name},
            "data": {"$ref": f"#/components/schemas/{data_ref}"},
            "at": {"type": "string", "format": "date-time", "description": "When the change happened (server time)."},
        },
    }


@functools.cache
def document() -> dict[str, Any]:
    """The AsyncAPI 3.0 document of `/ws/v1/stream` (built once per process: the catalogue is fixed after start-up)."""
    event_types = sorted(catalogue.event_types(), key=lambda event_type: event_type.name)
    refs, components = _payload_schemas(event_types)
    schemas = {name: json_schema(schema) for name, schema in sorted(components.items())}
    messages: dict[str, Any] = {}
    for event_type in event_types:
        frame = _frame_name(event_type)
        schemas[frame] = _envelope(type_name=event_type.name, data_ref=refs[event_type.name], description=event_type.summary)
        messages[event_type.name] = {
            "name": event_type.name,
            "title": event_type.name,
            "summary": event_type.summary,
            "description": f"To: {event_type.audience}.",
            "contentType": "application/json",
            "payload": {"$ref": f"#/components/schemas/{frame}"},
            "x-reasons": [reason.name for reason in event_type.reasons],
            "x-pushes": pushes_of(event_type),
        }
    schemas[FRAME] = {
        "description": "Any frame the server sends for an event: `type` says which (ignore types you do not know).",
        "type": "object",
        "required": ["id", "type", "data", "at"],
        "properties": {"type": {"type": "string"}},
        "discriminator": "type",
        "oneOf": [{"$ref": f"#/components/schemas/{_frame_name(event_type)}"} for event_type in event_types],
    }
    for control in ("ping", "pong"):
        messages[control] = {
            "name": control,
            "title": control,
            "summary": "Keep-alive from the app: the server answers pong." if control == "ping" else "The server's answer to ping.",
            "contentType": "application/json",
            "payload": {"$ref": f"#/components/schemas/{refs[control]}"},
        }
    event_refs = [{"$ref": f"{MESSAGES_REF}/{event_type.name}"} for event_type in event_types]
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "Frontline employee app: the WebSocket stream",
            "version": "1.0.0",
            "description": (
                "Changes as they happen, for the phone app: one JSON text frame per event, `{id, type, data, at}`. "
                "At most once: after a (re)connect, catch up over REST (docs/realtime.md). "
                "Generated from the event catalogue (notifications.catalogue)."
            ),
        },
        "defaultContentType": "application/json",
        "servers": {
            "production": {
                "host": "{host}",
                "protocol": "wss",
                "pathname": ADDRESS,
                "description": (
                    "The API's host. Authenticate with the REST bearer token: subprotocols `bearer, <token>` (preferred) or `?token=`."
                ),
                "variables": {"host": {"description": "The deployment's host name", "default": "api.example.com"}},
                "security": [{"$ref": "#/components/securitySchemes/queryToken"}],
            },
            "development": {"host": "127.0.0.1:8000", "protocol": "ws", "pathname": ADDRESS},
        },
        "channels": {
            CHANNEL: {
                "address": ADDRESS,
                "title": "The stream",
                "description": (
                    "Everything of your organisation and your groups, and what is addressed to you. Close codes: "
                    "4401 token missing, wrong, expired or revoked (log in again); 4403 account deactivated; "
                    "1013 too far behind (reconnect, catch up)."
                ),
                "messages": {name: {"$ref": f"#/components/messages/{name}"} for name in messages},
            }
        },
        "operations": {
            "sendEvents": {
                "action": "send",
                "channel": {"$ref": f"#/channels/{CHANNEL}"},
                "summary": "The server sends a frame for each event you may see.",
                "messages": event_refs,
            },
            "receivePing": {
                "action": "receive",
                "channel": {"$ref": f"#/channels/{CHANNEL}"},
                "summary": "The app pings every 25-30 s in the foreground; the server answers pong.",
                "messages": [{"$ref": f"{MESSAGES_REF}/ping"}],
                "reply": {"channel": {"$ref": f"#/channels/{CHANNEL}"}, "messages": [{"$ref": f"{MESSAGES_REF}/pong"}]},
            },
        },
        "components": {
            "schemas": schemas,
            "messages": messages,
            "securitySchemes": {
                "queryToken": {
                    "type": "httpApiKey",
                    "name": "token",
                    "in": "query",
                    "description": "The REST API's bearer token; the subprotocol pair `bearer, <token>` carries it without a URL.",
                }
            },
        },
    }


def dumps(doc: dict[str, Any] | None = None) -> str:
    return json.dumps(doc if doc is not None else document(), indent=2, ensure_ascii=False) + "\n"


# --- Checking -----------------------------------------------------------------------------------


@functools.cache
def _spec_validator():
    import jsonschema  # a development dependency: only CI and the tests validate

    return jsonschema.Draft7Validator(json.loads(SPEC.read_text(encoding="utf-8")))


def validate(doc: dict[str, Any]) -> list[str]:
    """What is wrong with `doc` as an AsyncAPI 3.0 document (empty: nothing), including `$ref`s that lead nowhere."""
    problems = [f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in _spec_validator().iter_errors(doc)]
    for ref in _refs(doc):
        try:
            _resolve(doc, ref)
        except (KeyError, IndexError, TypeError):
            problems.append(f"$ref {ref} leads nowhere")
    return problems


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for item in node for ref in _refs(item)]
    return []


def _resolve(doc: dict[str, Any], ref: str) -> Any:
    node: Any = doc
    for part in ref.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


class FrameChecker:
    """Checks text frames the server sends (an event's, or pong) against the document, by their `type`."""

    def __init__(self, doc: dict[str, Any] | None = None) -> None:
        import jsonschema

        doc = copy.deepcopy(doc if doc is not None else document())
        self.validators = {
            name: jsonschema.Draft7Validator(
                {**message["payload"], "components": doc["components"]}, format_checker=jsonschema.FormatChecker()
            )
            for name, message in doc["components"]["messages"].items()
            if name != "ping"  # the app's, not the server's
        }

    def problems(self, frame: Any) -> list[str]:
        from jsonschema.exceptions import best_match

        kind = frame.get("type") if isinstance(frame, dict) else None
        validator = self.validators.get(kind)
        if validator is None:
            return [f"type {kind!r} is not a message of the document"]
        error = best_match(validator.iter_errors(frame))
        return [] if error is None else [f"{'/'.join(map(str, error.absolute_path))}: {error.message}"]


# --- docs/realtime.md ---------------------------------------------------------------------------

TABLE_START = "<!-- event catalogue: generated by `manage.py asyncapi --docs docs/realtime.md`, do not edit -->"
TABLE_END = "<!-- end of the event catalogue -->"


def realtime_table() -> str:
    """The table of event types in docs/realtime.md: type, to whom, data, pushes."""
    doc = document()
    lines = [TABLE_START, "", "| type | to whom | `data` (schema in docs/asyncapi.json) | push |", "|---|---|---|---|"]
    for event_type in sorted(catalogue.event_types(), key=lambda item: item.name):
        data = doc["components"]["schemas"][_frame_name(event_type)]["properties"]["data"]["$ref"].rsplit("/", 1)[1]
        pushes = "; ".join(f"`{push['push_type']}` to {push['to']}" for push in pushes_of(event_type)) or "none"
        lines.append(f"| `{event_type.name}` | {event_type.audience} | `{data}`: {event_type.summary} | {pushes} |")
    lines += ["", TABLE_END]
    return "\n".join(lines)


def with_table(markdown: str) -> str:
    """`markdown` with its generated table replaced by the current one."""
    start, end = markdown.index(TABLE_START), markdown.index(TABLE_END) + len(TABLE_END)
    return markdown[:start] + realtime_table() + markdown[end:]
