"""Writes for push: device registrations and notification preferences.

Kept beside `services.py` (the event path) so the realtime and push work merge
without touching each other's files; same conventions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import AuthToken, Group, User
from notifications.catalogue import preference_switches
from notifications.models import Device, NotificationPreference
from server.api.exceptions import ValidationFailed


def device_register(
    *, user: User, auth_token: AuthToken, token: str, platform: str, locale: str = "", app_version: str = ""
) -> tuple[Device, bool]:
    """Register or refresh a phone's FCM token for this device session → (device, created).

    Upsert by token: a token that moves to another person or session moves with
    it (a shared shop phone), never duplicates. A session holds one token: a
    refreshed token replaces the old one, which FCM has already retired.
    """
    now = timezone.now()
    for attempt in range(2):
        try:
            with transaction.atomic():
                Device.objects.filter(auth_token=auth_token).exclude(token=token).delete()
                device, created = Device.objects.select_for_update().update_or_create(
                    token=token,
                    defaults={
                        "user": user,
                        "auth_token": auth_token,
                        "platform": platform,
                        "locale": locale,
                        "app_version": app_version,
                        "last_seen_at": now,
                    },
                )
            return device, created
        except IntegrityError:
            # Two registrations of the same token raced; the second now finds the row.
            if attempt:
                raise
    raise AssertionError("unreachable")


def device_delete(*, device: Device) -> None:
    Device.objects.filter(pk=device.pk).delete()


def devices_remove_for_sessions(*, user_id: int, token_ids: list[int]) -> int:
    deleted, _by_model = Device.objects.filter(user_id=user_id, auth_token_id__in=token_ids).delete()
    return deleted


def devices_remove_for_user(*, user_id: int) -> int:
    deleted, _by_model = Device.objects.filter(user_id=user_id).delete()
    return deleted


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time


_UNSET: Any = object()


def preference_update(
    *,
    user: User,
    types: dict[str, bool] | None = None,
    muted_group_ids: list[int] | None = None,
    quiet_hours: QuietHours | None = _UNSET,
) -> NotificationPreference:
    """Change what of the above was given; `quiet_hours=None` switches them off."""
    with transaction.atomic():
        preference, _created = NotificationPreference.objects.select_for_update().get_or_create(user=user)
        for name, enabled in (types or {}).items():
            if name not in preference_switches():
                raise ValidationFailed(_("Unknown notification type."), fields={"types": [_("Unknown type: %(type)s") % {"type": name}]})
            setattr(preference, name, enabled)
        if quiet_hours is not _UNSET:
            if quiet_hours is not None and quiet_hours.start == quiet_hours.end:
                raise ValidationFailed(
                    _("Quiet hours must start and end at different times."), fields={"quiet_hours": [_("Start and end are equal.")]}
                )
            preference.quiet_hours_start = quiet_hours.start if quiet_hours else None
            preference.quiet_hours_end = quiet_hours.end if quiet_hours else None
        preference.save()
        if muted_group_ids is not None:
            unique_ids = list(dict.fromkeys(muted_group_ids))
            groups = list(Group.objects.filter(organization_id=user.organization_id, pk__in=unique_ids))
            if len(groups) != len(unique_ids):
                found = {group.pk for group in groups}
                missing = ", ".join(str(gid) for gid in unique_ids if gid not in found)
                raise ValidationFailed(_("Unknown group."), fields={"muted_group_ids": [_("Unknown group: %(ids)s") % {"ids": missing}]})
            preference.muted_groups.set(groups)
    return preference
