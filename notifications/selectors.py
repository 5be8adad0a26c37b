"""Reads of the in-app inbox, always the acting user's own rows."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import User
from notifications.models import Notification


def notification_list(*, user: User, unread_only: bool = False) -> QuerySet[Notification]:
    queryset = Notification.objects.filter(recipient=user)
    if unread_only:
        queryset = queryset.filter(read_at__isnull=True)
    # Newest first by id: insertion order, served by the (recipient, -id) index.
    return queryset.order_by("-id")


def notification_unread_count(*, user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()
