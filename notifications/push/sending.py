"""Sending one batch: claim its rows, render each recipient's text in their language, send outside any transaction."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F
from django.utils import timezone

from notifications import catalogue
from notifications.catalogue import collapse_key
from notifications.fcm import Outcome, PushMessage, SendResult, get_backend
from notifications.models import Notification, OutboxEvent, PushDelivery, PushStatus
from notifications.push.batches import _chunks, _claimable
from notifications.push.recipients import is_must_read, recipients_of
from notifications.push.recording import BatchReport, _record
from notifications.push_texts import data_payload, normalized, render
from server.obs import context as obs_context
from server.obs import metrics

# A batch task is killed after CELERY_TASK_TIME_LIMIT; a lease past that means its worker died.
LEASE = timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)


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


def push_send_batch(*, event_id: str, device_ids: list[int]) -> BatchReport:
    claimed = _claim(event_id=event_id, device_ids=device_ids)
    if not claimed:
        return BatchReport(0, 0, 0, 0, None)
    deliveries = list(PushDelivery.objects.filter(pk__in=claimed).select_related("device__user__organization"))
    event = OutboxEvent.objects.filter(pk=event_id).first()
    if event is None:  # pruned: nothing left to say
        PushDelivery.objects.filter(pk__in=claimed).update(status=PushStatus.FAILED, last_error="event gone")
        return BatchReport(0, 0, len(claimed), 0, None)
    context = obs_context.RequestContext(request_id=event.request_id, organization_id=event.organization_id)
    with obs_context.scope(context), metrics.timed(metrics.delivery_step, step="push_batch"):
        return _send(event=event, event_id=event_id, deliveries=deliveries)


def _send(*, event: OutboxEvent, event_id: str, deliveries: list[PushDelivery]) -> BatchReport:
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
