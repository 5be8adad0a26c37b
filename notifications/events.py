"""The one event type of notifications itself: a new inbox item, sent to its recipient by delivery."""

from __future__ import annotations

from rest_framework import serializers

from notifications.catalogue import EventType
from notifications.serializers import NotificationSerializer


class NotificationCreatedSerializer(serializers.Serializer):
    notification = NotificationSerializer(help_text="The inbox item, as in `GET /notifications`.")
    unread_count = serializers.IntegerField(help_text="The recipient's unread count with this item.")


NOTIFICATION_CREATED = EventType(
    name="notification.created",
    summary="A new item in your inbox (sent by delivery, beside the event that caused it).",
    payload=NotificationCreatedSerializer,
    audience="the person notified",
)

EVENT_TYPES = (NOTIFICATION_CREATED,)
