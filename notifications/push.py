"""Push step of event delivery (FCM): plan once per event, send in batches of ≤ 500.

`push_event` (run by its own task on the push queue) decides who gets a push
(addressed people and, for some event types, the whole audience), applies
preferences, mutes and quiet hours, records one `PushDelivery` per (event,
device) and enqueues one batch task per 500 devices (the planning task sends the
first batch itself). `push_send_batch` (run by that task) claims its rows, renders the texts
in each recipient's language, sends through the configured backend outside any
transaction, deletes dead tokens and schedules the transient failures again.
"""

from __future__ import annotations

import logging
import random
import zoneinfo
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q
from django.utils import timezone

from accounts.models import User
from notifications import catalogue
from notifications.catalogue import Push, collapse_key
from notifications.fcm import FCM_MAX_BATCH, Outcome, PushMessage, SendResult, get_backend
from notifications.models import Device, Notification, NotificationPreference, OutboxEvent, PushDelivery, PushStatus
from notifications.push_texts import data_payload, normalized, render
from notifications.recipients import addressed_recipients, audience_filter

logger = logging.getLogger("notifications.push")

# A batch task is killed after CELERY_TASK_TIME_LIMIT; a lease past that means its worker died.
LEASE = timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)
BACKOFF_BASE_SECONDS = settings.PUSH_BACKOFF_BASE_SECONDS
BACKOFF_CAP_SECONDS = settings.PUSH_BACKOFF_CAP_SECONDS
# A server's Retry-After is honoured up to here: a countdown as long as the broker's
# visibility timeout would make Redis hand the task to a second worker (server/checks.py).
RETRY_AFTER_CAP_SECONDS = 900.0
ID_CHUNK = 2000  # keeps IN (...) lists well inside SQLite's and PostgreSQL's comfort


@dataclass(frozen=True)
class Recipient:
    push: Push
    personal: bool


# --- who: the plan -------------------------------------------------------------------


def audience_push(event: OutboxEvent) -> Push | None:
    """The push an event's whole audience gets, if any (addressed people get their reason's)."""
    event_type = catalogue.event_type(event.type)
    return event_type.audience_push(event.payload or {}) if event_type is not None else None


def is_must_read(event: OutboxEvent, push: Push) -> bool:
    return push.is_must_read(event.payload or {})


def _actor_id(payload: dict[str, Any]) -> int | None:
    for key in ("actor", "author", "giver"):
        if isinstance(payload.get(key), dict) and payload[key].get("id") is not None:
            return int(payload[key]["id"])
    for key in ("actor_id", "author_id"):
        if payload.get(key) is not None:
            return int(payload[key])
    return None


def recipients_of(event: OutboxEvent, *, among: set[int] | None = None, with_device: bool = False) -> dict[int, Recipient]:
    """user id → what push they get; `among` limits the queries to a batch's users,
    `with_device` the audience to people with a phone registered (planning).

    Who may hear of an event is `notifications.recipients`' answer, shared with
    the inbox and realtime steps; push only decides which of them get a push.
    """
    payload = event.payload or {}
    recipients: dict[int, Recipient] = {}
    if catalogue.event_type(event.type) is None:
        return recipients  # a type no app declares (any more): nothing to say
    audience_type = audience_push(event)
    if audience_type is not None:
        users = User.objects.filter(audience_filter(event=event))
        if among is not None:
            users = users.filter(pk__in=among)
        if with_device:
            # An announcement addresses 100,000 people; reading them all to find the few
            # thousand with a phone cost the worker 0.2 s of CPU per announcement, next to
            # the requests on the same cores (issue #10, D1).
            users = users.filter(Exists(Device.objects.filter(user_id=OuterRef("pk"))))
        # One shared value: recipients of the audience are alike (frozen dataclass).
        recipients = dict.fromkeys(users.values_list("pk", flat=True), Recipient(audience_type, personal=False))
    # A batch asks about its ≤ 500 people, not about the 100,000 an announcement addresses.
    for user_id, name in addressed_recipients(event=event, among=among).items():
        reason = catalogue.reason(name)
        if reason is not None and reason.push is not None:
            recipients[user_id] = Recipient(reason.push, personal=True)
    # Nobody is buzzed about their own action.
    recipients.pop(_actor_id(payload), None)
    return recipients


def in_quiet_hours(*, start: time | None, end: time | None, tz_name: str, at: datetime) -> bool:
    if start is None or end is None:
        return False
    local = at.astimezone(zoneinfo.ZoneInfo(tz_name)).time()
    if start < end:
        return start <= local < end
    return local >= start or local < end  # the window wraps midnight (22:00–07:00)


def _chunks(items: list, size: int) -> Iterator[list]:
    for index in range(0, len(items), size):
        yield items[index : index + size]


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


def _claimable(now: datetime) -> Q:
    return Q(status=PushStatus.QUEUED) | Q(status=PushStatus.SENDING, lease_until__lt=now)


def _unfinished_device_ids(*, event_id: str) -> list[int]:
    return list(
        PushDelivery.objects.filter(_claimable(timezone.now()), event_id=event_id).order_by("device_id").values_list("device_id", flat=True)
    )


# Batches wait behind planning tasks on the push queue: Redis emulates priorities with one list
# per step (kombu's default steps 0, 3, 6, 9; 0 first, and a task without a priority is 0). A
# planning task therefore waits for the batches a worker has already fetched, not for the
# 200 batches of a 100,000-phone broadcast queued ahead of it, and its outbox lease
# (OUTBOX_PUSH_PLAN_LEASE) can stay short: a planning task lost with the broker's memory is
# re-planned by the sweeper within minutes.
BATCH_PRIORITY = 6


def push_enqueue(*, event_id: str, device_ids: list[int], countdown: float | None = None) -> None:
    """One batch task per ≤ 500 devices: big audiences fan out over the push workers."""
    from notifications.tasks import push_send_batch_task

    for chunk in _chunks(device_ids, FCM_MAX_BATCH):
        push_send_batch_task.apply_async(args=(event_id, chunk), countdown=countdown, priority=BATCH_PRIORITY)


# --- how: one batch -------------------------------------------------------------------


def _claim(*, event_id: str, device_ids: list[int]) -> list[int]:
    """Take the rows no other task owns; the lease outlives a killed worker's time limit."""
    now = timezone.now()
    with transaction.atomic():
        claimed = list(
            PushDelivery.objects.select_for_update(skip_locked=True)
            .filter(_claimable(now), event_id=event_id, device_id__in=device_ids)
            .values_list("pk", flat=True)
        )
        PushDelivery.objects.filter(pk__in=claimed).update(status=PushStatus.SENDING, lease_until=now + LEASE, attempts=F("attempts") + 1)
    return claimed


def _badges(user_ids: Iterable[int]) -> dict[int, int]:
    return dict(
        Notification.objects.filter(recipient_id__in=set(user_ids), read_at__isnull=True)
        .values("recipient_id")
        .annotate(unread=Count("id"))
        .values_list("recipient_id", "unread")
    )


def _messages(event: OutboxEvent, deliveries: list[PushDelivery]) -> list[PushMessage]:
    user_ids = {delivery.device.user_id for delivery in deliveries}
    recipients = recipients_of(event, among=user_ids)
    badges = _badges(user_ids)
    payload = normalized(event_type=event.type, payload=event.payload or {})
    event_type = catalogue.event_type(event.type)
    messages = []
    for delivery in deliveries:
        device = delivery.device
        recipient = recipients.get(device.user_id)
        if recipient is None or event_type is None:  # left the audience since planning (group left, deactivated)
            continue
        push = recipient.push
        must_read = is_must_read(event, push)
        text = render(
            push=push,
            event_type=event.type,
            payload=payload,
            personal=recipient.personal,
            must_read=must_read,
            language=device.user.effective_language,
        )
        messages.append(
            PushMessage(
                device_id=device.pk,
                token=device.token,
                platform=device.platform,
                title=text.title,
                body=text.body,
                data=data_payload(event_id=str(event.pk), event_type=event_type, push=push, payload=payload, must_read=must_read),
                channel_id=push.must_read_channel if must_read else push.channel,
                collapse_key=collapse_key(push, payload, event_id=str(event.pk)),
                badge=badges.get(device.user_id, 0),
                high_priority=delivery.high_priority,
            )
        )
    return messages


def backoff_seconds(*, attempt: int, retry_after: float | None = None) -> float:
    """Exponential backoff with jitter, never sooner than the server's Retry-After."""
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, attempt - 1))
    # Half fixed, half random: spreads a burst of retries without ever retrying at once.
    delay = ceiling / 2 + random.uniform(0, ceiling / 2)
    return min(max(delay, retry_after or 0.0), RETRY_AFTER_CAP_SECONDS)


@dataclass(frozen=True)
class BatchReport:
    sent: int
    dead: int
    failed: int
    retried: int
    countdown: float | None


def push_send_batch(*, event_id: str, device_ids: list[int]) -> BatchReport:
    claimed = _claim(event_id=event_id, device_ids=device_ids)
    if not claimed:
        return BatchReport(0, 0, 0, 0, None)
    deliveries = list(PushDelivery.objects.filter(pk__in=claimed).select_related("device__user__organization"))
    event = OutboxEvent.objects.filter(pk=event_id).first()
    if event is None:  # pruned: nothing left to say
        PushDelivery.objects.filter(pk__in=claimed).update(status=PushStatus.FAILED, last_error="event gone")
        return BatchReport(0, 0, len(claimed), 0, None)
    messages = _messages(event, deliveries)
    by_device = {delivery.device_id: delivery for delivery in deliveries}
    skipped = set(by_device) - {message.device_id for message in messages}
    results: list[SendResult] = []
    backend = get_backend()
    for chunk in _chunks(messages, max(1, settings.PUSH_RECORD_EVERY)):
        chunk_results = backend.send(chunk)
        _mark_sent(event_id=event_id, results=chunk_results)
        results += chunk_results
    return _record(event_id=event_id, by_device=by_device, results=results, skipped=skipped)


def _mark_sent(*, event_id: str, results: list[SendResult]) -> None:
    """Commit what FCM accepted as soon as it answers: a worker killed later in the batch then
    re-sends only the slice in flight when it died, not the whole batch, after the lease."""
    sent_ids = [result.device_id for result in results if result.outcome == Outcome.SENT]
    if sent_ids:
        PushDelivery.objects.filter(event_id=event_id, device_id__in=sent_ids, status=PushStatus.SENDING).update(
            status=PushStatus.SENT, sent_at=timezone.now(), lease_until=None, last_error=""
        )


def _record(*, event_id: str, by_device: dict[int, PushDelivery], results: list[SendResult], skipped: set[int]) -> BatchReport:
    now = timezone.now()
    grouped: dict[Outcome, list[SendResult]] = {outcome: [] for outcome in Outcome}
    for result in results:
        grouped[result.outcome].append(result)
    retry = [r for r in grouped[Outcome.RETRY] if by_device[r.device_id].attempts < settings.PUSH_MAX_ATTEMPTS]
    exhausted = [r for r in grouped[Outcome.RETRY] if by_device[r.device_id].attempts >= settings.PUSH_MAX_ATTEMPTS]
    with transaction.atomic():
        PushDelivery.objects.filter(event_id=event_id, device_id__in=[r.device_id for r in grouped[Outcome.SENT]]).update(
            status=PushStatus.SENT, sent_at=now, lease_until=None, last_error=""
        )
        # UNREGISTERED / INVALID_ARGUMENT: the token is dead; its delivery rows go with it.
        dead_ids = [r.device_id for r in grouped[Outcome.DEAD]]
        Device.objects.filter(pk__in=dead_ids).delete()
        for result in grouped[Outcome.FAILED] + exhausted:
            PushDelivery.objects.filter(event_id=event_id, device_id=result.device_id).update(
                status=PushStatus.FAILED, lease_until=None, last_error=result.error[:500]
            )
        PushDelivery.objects.filter(event_id=event_id, device_id__in=skipped).update(
            status=PushStatus.FAILED, lease_until=None, last_error="recipient left the audience"
        )
        countdown = None
        if retry:
            attempt = max(by_device[r.device_id].attempts for r in retry)
            countdown = backoff_seconds(attempt=attempt, retry_after=max((r.retry_after or 0.0) for r in retry))
            PushDelivery.objects.filter(event_id=event_id, device_id__in=[r.device_id for r in retry]).update(
                status=PushStatus.QUEUED, lease_until=None, last_error=retry[0].error[:500]
            )
            retry_ids = sorted(r.device_id for r in retry)
            transaction.on_commit(lambda: push_enqueue(event_id=event_id, device_ids=retry_ids, countdown=countdown))
    if dead_ids:
        logger.info("push: deleted %d dead tokens for event %s", len(dead_ids), event_id)
    return BatchReport(
        sent=len(grouped[Outcome.SENT]),
        dead=len(dead_ids),
        failed=len(grouped[Outcome.FAILED]) + len(exhausted) + len(skipped),
        retried=len(retry),
        countdown=countdown,
    )


# --- withdrawn content -------------------------------------------------------------------


def push_withdraw(*, event_ids: list) -> int:
    """Drop the pushes of these events that were not sent yet; returns how many deliveries were dropped.

    Events still to be planned get their push step marked done; queued deliveries fail as
    withdrawn, so a batch task that runs later claims nothing.
    """
    if not event_ids:
        return 0
    OutboxEvent.objects.filter(pk__in=event_ids, push_sent_at__isnull=True).update(push_sent_at=timezone.now())
    return PushDelivery.objects.filter(event_id__in=event_ids, status=PushStatus.QUEUED).update(
        status=PushStatus.FAILED, lease_until=None, last_error="withdrawn: the content was hidden or removed"
    )


# --- the backstop --------------------------------------------------------------------


def push_deliveries_sweep(*, now: datetime | None = None, older_than: timedelta = timedelta(minutes=5)) -> int:
    """Re-enqueue deliveries whose task message was lost or whose worker died.

    Claiming is guarded, so a batch that is in fact still queued in the broker
    and later runs finds nothing left to send.
    """
    now = now or timezone.now()
    stale = (
        PushDelivery.objects.filter(_claimable(now), created_at__lt=now - older_than)
        .order_by("event_id", "device_id")
        .values_list("event_id", "device_id")[:50_000]
    )
    by_event: dict[str, list[int]] = {}
    for event_id, device_id in stale:
        by_event.setdefault(str(event_id), []).append(device_id)
    for event_id, device_ids in by_event.items():
        push_enqueue(event_id=event_id, device_ids=device_ids)
    PushDelivery.objects.filter(created_at__lt=now - timedelta(days=7), status__in=[PushStatus.SENT, PushStatus.FAILED]).delete()
    return sum(len(ids) for ids in by_event.values())
