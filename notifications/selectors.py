"""Reads of the in-app inbox, always the acting user's own rows."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import User
from notifications.models import Notification
from server.db import CompiledQuery

# The badge polls this (issue #10, F5): compiled once, served by the partial unread index.
_UNREAD_COUNT = CompiledQuery(lambda user_id: Notification.objects.filter(recipient_id=user_id, read_at__isnull=True), count=True)


def notification_list(*, user: User, unread_only: bool = False) -> QuerySet[Notification]:
    queryset = Notification.objects.filter(recipient=user)
    if unread_only:
        queryset = queryset.filter(read_at__isnull=True)
    # Newest first by id: insertion order, served by the (recipient, -id) index.
    return queryset.order_by("-id")


def notification_unread_count(*, user: User) -> int:
    return _UNREAD_COUNT.scalar(user.pk)
