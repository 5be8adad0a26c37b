from __future__ import annotations

import functools

from django.utils.translation import gettext as _
from drf_spectacular.utils import PolymorphicProxySerializer
from rest_framework import serializers

from notifications import catalogue
from notifications.models import Notification
from server.api.fields import IdListField


class NotificationSerializer(serializers.ModelSerializer):
    read = serializers.SerializerMethodField()
    data = serializers.JSONField(help_text="The event payload, e.g. the post card (as `GET /posts/{id}` for a viewer without reaction).")

    class Meta:
        model = Notification
        fields = ["id", "event_id", "type", "reason", "data", "created_at", "read_at", "read"]

    def get_fields(self):
        fields = super().get_fields()
        # The reasons are declared by the apps (notifications.catalogue), registered once the
        # apps are ready: read when the serializer is used, not when this module is imported.
        reasons = catalogue.reasons()
        fields["reason"] = serializers.ChoiceField(
            choices=[(reason.name, reason.description) for reason in reasons],
            help_text="Why you are notified: " + ", ".join(reason.name for reason in reasons),
        )
        return fields

    def get_read(self, notification: Notification) -> bool:
        return notification.read_at is not None


# --- The inbox for OpenAPI: a union discriminated by `type`, `data` typed per type --------------------


class NotificationShapeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    event_id = serializers.UUIDField()
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True)
    read = serializers.BooleanField()


def _camel(event_type: str) -> str:
    return "".join(part.title() for part in event_type.replace(".", "_").split("_"))


@functools.cache
def notification_variants() -> dict[str, type[serializers.Serializer]]:
    """One notification shape per event type that writes inbox rows (it declares reasons): `data`
    is that event's payload as the catalogue declares it, the same shape its frame carries."""
    variants = {}
    for event_type in sorted(catalogue.event_types(), key=lambda declared: declared.name):
        if not event_type.reasons:
            continue
        name = _camel(event_type.name)
        # Every reason, not only this type's: one NotificationReasonEnum for the phone's client.
        fields = {
            "type": serializers.ChoiceField(choices=[(event_type.name, event_type.name)], help_text="The event type."),
            "reason": serializers.ChoiceField(choices=catalogue.reason_choices, help_text="Why you are notified."),
            "data": event_type.payload_serializer(),
        }
        doc = f"A notification of an event of type `{event_type.name}`; `data` is that event's payload."
        variants[event_type.name] = type(f"Notification{name}Serializer", (NotificationShapeSerializer,), {**fields, "__doc__": doc})
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
