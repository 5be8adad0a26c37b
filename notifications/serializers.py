from __future__ import annotations

from django.utils.translation import gettext as _
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


class UnreadCountSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Unread notifications.")


class NotificationsReadSerializer(serializers.Serializer):
    ids = IdListField(required=False)
    all = serializers.BooleanField(required=False, default=False)

    def validate(self, attrs):
        if not attrs.get("all") and not attrs.get("ids"):
            raise serializers.ValidationError({"ids": [_("Give ids or all: true.")]})
        return attrs
