from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import serializers

from notifications.models import Notification, NotificationReason


class NotificationSerializer(serializers.ModelSerializer):
    read = serializers.SerializerMethodField()
    data = serializers.JSONField(help_text="The event payload, e.g. the post card (as `GET /posts/{id}` for a viewer without reaction).")

    class Meta:
        model = Notification
        fields = ["id", "event_id", "type", "reason", "data", "created_at", "read_at", "read"]
        extra_kwargs = {"reason": {"help_text": "Why you are notified: " + ", ".join(NotificationReason.values)}}

    def get_read(self, notification: Notification) -> bool:
        return notification.read_at is not None


class UnreadCountSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Unread notifications.")


class NotificationsReadSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, max_length=500)
    all = serializers.BooleanField(required=False, default=False)

    def validate(self, attrs):
        if not attrs.get("all") and not attrs.get("ids"):
            raise serializers.ValidationError({"ids": [_("Give ids or all: true.")]})
        return attrs
