"""Reads for push: a person's own devices and preferences."""

from __future__ import annotations

from accounts.models import User
from notifications.models import Device, NotificationPreference
from server.api.exceptions import NotFound


def access_device(*, user: User, device_id: int, lock: bool = False) -> Device:
    """One of the user's own devices; anyone else's (any organisation) is not found."""
    queryset = Device.objects.filter(pk=device_id, user=user)
    if lock:
        queryset = queryset.select_for_update()
    device = queryset.first()
    if device is None:
        raise NotFound()
    return device


def preference_get(*, user: User) -> NotificationPreference:
    """The stored preferences, or unsaved defaults (no row until the first change)."""
    preference = NotificationPreference.objects.filter(user=user).prefetch_related("muted_groups").first()
    if preference is None:
        preference = NotificationPreference(user=user)
        preference.muted_group_id_list = []
    else:
        # The caller's user (organisation loaded by authentication) answers `timezone`.
        preference.user = user
        preference.muted_group_id_list = sorted(group.pk for group in preference.muted_groups.all())
    return preference
