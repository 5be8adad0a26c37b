"""Planning an event's pushes once: recipients with a phone, their preferences, mutes and quiet hours, one row per device."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from datetime import datetime, time
from typing import Any

from django.utils import timezone

from notifications import catalogue
from notifications.fcm import FCM_MAX_BATCH
from notifications.models import Device, NotificationPreference, OutboxEvent, PushDelivery
from notifications.push.batches import _chunks, _unfinished_device_ids, push_enqueue
from notifications.push.recipients import Recipient, is_must_read, recipients_of
from notifications.push.sending import push_send_batch

ID_CHUNK = 2000  # keeps IN (...) lists well inside SQLite's and PostgreSQL's comfort


def in_quiet_hours(*, start: time | None, end: time | None, tz_name: str, at: datetime) -> bool:
    if start is None or end is None:
        return False
    local = at.astimezone(zoneinfo.ZoneInfo(tz_name)).time()
    if start < end:
        return start <= local < end
    return local >= start or local < end  # the window wraps midnight (22:00–07:00)


def _wanted(event: OutboxEvent, recipients: dict[int, Recipient], *, at: datetime) -> dict[int, bool]:
    """user id → high priority, for the recipients whose preferences let the push through."""
    user_ids = list(recipients)
    preferences: dict[int, dict[str, Any]] = {}
    muted: dict[int, set[int]] = {}
    group_ids = set(event.group_ids or [])
    through = NotificationPreference.muted_groups.through
    switches = catalogue.preference_switches()
    for chunk in _chunks(user_ids, ID_CHUNK):
        for row in NotificationPreference.objects.filter(user_id__in=chunk).values(
            "user_id", "quiet_hours_start", "quiet_hours_end", "user__timezone", "user__organization__timezone", *switches
        ):
            preferences[row["user_id"]] = row
        if group_ids:
            for user_id, group_id in through.objects.filter(notificationpreference_id__in=chunk, group_id__in=group_ids).values_list(
                "notificationpreference_id", "group_id"
            ):
                muted.setdefault(user_id, set()).add(group_id)
    defaults = {name: NotificationPreference._meta.get_field(name).default for name in switches}
    wanted: dict[int, bool] = {}
    for user_id, recipient in recipients.items():
        if is_must_read(event, recipient.push):
            # A must-read (an announcement to acknowledge) ignores switches, mutes and quiet hours.
            wanted[user_id] = True
            continue
        preference = preferences.get(user_id)
        switch = recipient.push.preference
        if switch is not None and not (preference or defaults)[switch]:
            continue
        if preference is None:
            wanted[user_id] = False
            continue
        # Mutes silence a group's news for its audience, not what addresses you personally.
        if not recipient.personal and group_ids and group_ids <= muted.get(user_id, set()):
            continue
        tz_name = preference["user__timezone"] or preference["user__organization__timezone"] or "UTC"
        if in_quiet_hours(start=preference["quiet_hours_start"], end=preference["quiet_hours_end"], tz_name=tz_name, at=at):
            continue
        wanted[user_id] = False
    return wanted


def push_event(*, event: OutboxEvent, before_first_batch: Callable[[], None] | None = None) -> None:
    """Send the push messages for `event`; raise to have the whole event retried later.

    Safe to call again for the same event (task retry, sweeper): existing
    (event, device) rows are kept and only unfinished ones are enqueued. The planning
    task on the push queue passes `before_first_batch` (it records the plan as done):
    the task then sends the first batch itself once the others are enqueued for other
    workers, so that a broadcast costs one task per 500 devices plus the outbox delivery
    task (C1), planning included. A worker killed in that batch leaves its rows to the
    push sweeper, like any batch task's.
    """
    recipients = recipients_of(event, with_device=True)
    if not recipients:
        return
    # The organisation's phones first (one statement), then preferences only for recipients
    # who have one: the audience can be 100,000 people and most of the work was for those
    # without a device.
    devices: dict[int, list[int]] = {}
    for device_id, user_id in Device.objects.filter(user__organization_id=event.organization_id, user__is_active=True).values_list(
        "pk", "user_id"
    ):
        if user_id in recipients:
            devices.setdefault(user_id, []).append(device_id)
    if not devices:
        return
    wanted = _wanted(event, {user_id: recipients[user_id] for user_id in devices}, at=timezone.now())
    rows = [
        PushDelivery(event_id=event.pk, device_id=device_id, high_priority=high_priority)
        for user_id, high_priority in wanted.items()
        for device_id in devices[user_id]
    ]
    if not rows:
        return
    PushDelivery.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
    device_ids = _unfinished_device_ids(event_id=str(event.pk))
    if before_first_batch is None:
        push_enqueue(event_id=str(event.pk), device_ids=device_ids)
        return
    push_enqueue(event_id=str(event.pk), device_ids=device_ids[FCM_MAX_BATCH:])
    before_first_batch()
    if device_ids:
        # Claimed like any batch: a batch task of an earlier plan of this event, or the
        # sweeper's, cannot send these rows a second time.
        push_send_batch(event_id=str(event.pk), device_ids=device_ids[:FCM_MAX_BATCH])
