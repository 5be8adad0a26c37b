from __future__ import annotations

import functools
from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import PolymorphicProxySerializer
from rest_framework import serializers

from notifications.models import Notification, NotificationReason
from server.api.fields import IdListField


class NotificationSerializer(serializers.ModelSerializer):
    read = serializers.SerializerMethodField()
    data = serializers.JSONField(help_text="The event payload, e.g. the post card (as `GET /posts/{id}` for a viewer without reaction).")

    class Meta:
        model = Notification
        fields = ["id", "event_id", "type", "reason", "data", "created_at", "read_at", "read"]
        extra_kwargs = {"reason": {"help_text": "Why you are notified: " + ", ".join(NotificationReason.values)}}

    def get_read(self, notification: Notification) -> bool:
        return notification.read_at is not None


# --- The inbox for OpenAPI: a union discriminated by `type`, `data` typed per type --------------------

# Event type → the shapes its payload (a notification's `data`) may have, declared by the app that
# emits it to people's inboxes (AppConfig.ready): notifications knows no feature's payload.
_payload_shapes: dict[str, list[Any]] = {}


def register_notification_payload(*, event_type: str, serializer: Any) -> None:
    """Declare a shape of `event_type`'s payload; a type registered twice has either shape as `data`."""
    from notifications.services import EVENT_TYPES  # services renders with this module's serializers

    if event_type not in EVENT_TYPES:
        raise ValueError(f"Unknown event type {event_type!r}")
    _payload_shapes.setdefault(event_type, []).append(serializer)


class NotificationShapeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    event_id = serializers.UUIDField()
    reason = serializers.ChoiceField(choices=NotificationReason.choices, help_text="Why you are notified.")
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True)
    read = serializers.BooleanField()


def _camel(event_type: str) -> str:
    return "".join(part.title() for part in event_type.replace(".", "_").split("_"))


@functools.cache
def notification_variants() -> dict[str, type[serializers.Serializer]]:
    """One notification shape per event type, built after every app registered its payloads."""
    variants = {}
    for event_type, shapes in sorted(_payload_shapes.items()):
        name = _camel(event_type)
        if len(shapes) == 1:
            data = shapes[0]() if isinstance(shapes[0], type) else shapes[0]
        else:
            data = PolymorphicProxySerializer(component_name=f"{name}Data", serializers=shapes, resource_type_field_name=None)
        fields = {"type": serializers.ChoiceField(choices=[(event_type, event_type)], help_text="The event type."), "data": data}
        doc = f"A notification of an event of type `{event_type}`; `data` is that event's payload."
        variants[event_type] = type(f"Notification{name}Serializer", (NotificationShapeSerializer,), {**fields, "__doc__": doc})
    return variants


class NotificationSchemaSerializer(PolymorphicProxySerializer):
    """A notification, for OpenAPI (the view renders NotificationSerializer): `data` is the event's
    payload, whose shape `type` decides."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, component_name="Notification", serializers=notification_variants, resource_type_field_name="type", **kwargs)


class UnreadCountSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Unread notifications.")


class NotificationsReadSerializer(serializers.Serializer):
    ids = IdListField(required=False)
    all = serializers.BooleanField(required=False, default=False)

    def validate(self, attrs):
        if not attrs.get("all") and not attrs.get("ids"):
            raise serializers.ValidationError({"ids": [_("Give ids or all: true.")]})
        return attrs
