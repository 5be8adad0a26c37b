"""The queue of deliveries: one batch task per <= 500 devices, withdrawing unsent pushes, the sweeper."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from notifications.fcm import FCM_MAX_BATCH
from notifications.models import OutboxEvent, PushDelivery, PushStatus


def _chunks(items: list, size: int) -> Iterator[list]:
    for index in range(0, len(items), size):
        yield items[index : index + size]


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
