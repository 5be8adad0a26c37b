"""The event path: services announce changes with `emit`; delivery fans them out.

`emit` writes an outbox row in the caller's transaction, so an event exists
exactly when its change does (a rolled-back change emits nothing). After commit
a Celery task delivers it: in-app inbox rows, then realtime frames, then it hands
push planning to a task of its own on the push queue. Each finished step is recorded on the row, so the sweeper's retry repeats only
what did not finish; inbox rows are unique per (event, recipient) and push deliveries per
(event, device), so a repeat never notifies anyone twice.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from notifications import catalogue, push, realtime
from notifications.catalogue import EventType
from notifications.events import NOTIFICATION_CREATED
from notifications.models import Notification, OutboxEvent
from notifications.recipients import AudienceAddress, addressed_recipients, event_group_ids
from notifications.serializers import NotificationSerializer
from server.api.exceptions import ValidationFailed
from server.obs import context as obs_context
from server.obs import metrics

logger = logging.getLogger(__name__)

# A frame id for the inbox frame that is stable across re-deliveries (clients
# de-duplicate by id) yet differs from the event's own frame id.
_NOTIFICATION_FRAME_NAMESPACE = uuid.UUID("6f1c1a4e-3b7e-4d6a-9a53-0c2d8f1e7b21")
MAX_RETRY_DELAY_SECONDS = 300


def emit(
    event_type: EventType,
    /,
    *,
    organization_id: int,
    payload: dict[str, Any],
    group_ids: list[int] | None = None,
    user_ids: list[int] | None = None,
    org_wide: bool = False,
    addressed: list[dict[str, Any]] | None = None,
    address_audience: AudienceAddress | None = None,
) -> OutboxEvent:
    """Announce a change to its audience; call it inside the service's transaction.

    `event_type` is a declared `EventType` (`<app>/events.py`, registered in the app's
    `ready()`): an undeclared one is refused. Audience: the whole organisation
    (`org_wide`), members of `group_ids`, and/or `user_ids`. `addressed` lists people
    addressed personally (in-app notification and push): `{"user_id": .., "reason": ..}`
    with a reason the event type declares; only those in the audience are notified.
    `address_audience` addresses the whole audience (an announcement to acknowledge)
    without listing it here: the worker resolves it. The payload is sent as is to every
    socket of the audience, so it must hold nothing viewer-specific.
    """
    if not catalogue.is_declared(event_type):
        raise ValueError(f"Not a declared event type: {event_type!r}")
    for entry in addressed or []:
        if event_type.reason(entry.get("reason", "")) is None or not entry.get("user_id"):
            raise ValueError(f"Addressed entry needs user_id and a reason {event_type.name} declares: {entry!r}")
    addressed = list(addressed or [])
    if address_audience is not None:
        if event_type.reason(address_audience.reason) is None:
            raise ValueError(f"{event_type.name} declares no reason {address_audience.reason!r}")
        addressed.append(address_audience.as_entry())
    event = OutboxEvent.objects.create(
        organization_id=organization_id,
        type=event_type.name,
        payload=payload,
        org_wide=org_wide,
        group_ids=sorted(set(group_ids or [])),
        user_ids=sorted(set(user_ids or [])),
        addressed=addressed,
        request_id=obs_context.request_id(),
    )
    from notifications.tasks import outbox_event_deliver_task  # tasks import this module

    outbox_event_deliver_task.delay_on_commit(str(event.pk))
    return event


# --- Delivery -------------------------------------------------------------------------


def _claim(*, event_id: uuid.UUID | str, now: datetime) -> bool:
    # A guarded UPDATE instead of SELECT ... FOR UPDATE: the steps below call Redis
    # and FCM, and no network call may run inside a transaction holding locks.
    claimed = (
        OutboxEvent.objects.filter(pk=event_id, delivered_at__isnull=True)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lte=now))
        .update(locked_until=now + settings.OUTBOX_LEASE, attempts=F("attempts") + 1)
    )
    return claimed == 1


def outbox_event_deliver(*, event_id: uuid.UUID | str, now: datetime | None = None) -> bool:
    """Deliver one event if nobody else is; True when it is now delivered or its push step handed over.

    Inbox and realtime run here; push planning is handed to its own task on the push
    queue (`outbox_event_push_plan`), which finishes the row. Planning an org-wide push
    reads the whole audience (seconds at 100,000 people), and the next event's realtime
    frames must not wait behind it on this worker.
    """
    now = now or timezone.now()
    if not _claim(event_id=event_id, now=now):
        return False
    event = OutboxEvent.objects.get(pk=event_id)
    with obs_context.scope(_event_context(event)):
        return _deliver_claimed(event=event, now=now)


def _event_context(event: OutboxEvent) -> obs_context.RequestContext:
    """The context of the request that caused the event: delivery logs under its request id."""
    return obs_context.RequestContext(request_id=event.request_id or obs_context.request_id(), organization_id=event.organization_id)


def _deliver_claimed(*, event: OutboxEvent, now: datetime) -> bool:
    try:
        # The inbox comes first: it is local and transactional, and the push step
        # reads the rows it writes.
        if event.inbox_written_at is None:
            with metrics.timed(metrics.delivery_step, step="inbox"):
                _inbox_write(event=event)
    except Exception as error:
        _delivery_failed(event=event, error=error, now=now)
        raise
    # Realtime and push fail independently: Redis pub/sub trouble must not hold
    # back push, nor FCM trouble the sockets; only the failed step is retried.
    failures: list[Exception] = []
    if event.realtime_sent_at is None:
        try:
            with metrics.timed(metrics.delivery_step, step="realtime"):
                _realtime_send(event=event)
            _step_done(event=event, step="realtime_sent_at")
        except Exception as error:
            failures.append(error)
    if event.push_sent_at is None:
        try:
            _push_plan_enqueue(event=event, now=now)
        except Exception as error:
            failures.append(error)
    if failures:
        _delivery_failed(event=event, error=failures[0], now=now)
        raise failures[0]
    if event.push_sent_at is None:
        logger.debug("event %s (%s): inbox and realtime done, push handed over", event.pk, event.type)
        return True  # handed over: the planning task finishes the row
    _delivered(event=event)
    logger.debug("event %s (%s) delivered", event.pk, event.type)
    return True


def _push_plan_enqueue(*, event: OutboxEvent, now: datetime) -> None:
    from notifications.tasks import push_event_plan_task  # tasks import this module

    # The lease now covers the planning task's wait in the push queue and its run: the
    # sweeper re-delivers (and so re-plans, which is idempotent) only once it has expired.
    OutboxEvent.objects.filter(pk=event.pk).update(locked_until=now + settings.OUTBOX_PUSH_PLAN_LEASE)
    push_event_plan_task.delay(str(event.pk))


def outbox_event_push_plan(*, event_id: uuid.UUID | str) -> bool:
    """The push step of an event, run by its own task; True when the event is now fully delivered.

    Idempotent like the rest of delivery: a repeat (the sweeper re-planned after the lease)
    finds the step done, or re-plans over the same (event, device) rows and enqueues only
    the deliveries nobody has claimed.
    """
    event = OutboxEvent.objects.filter(pk=event_id).first()
    if event is None or event.delivered_at is not None:
        return False
    finished = False

    def planned() -> None:
        # Before this task sends the first batch itself (C1: one task per 500 devices plus
        # the delivery task, planning included): a worker killed in that batch leaves its
        # rows to the push sweeper, not the event to a re-plan after the planning lease.
        nonlocal finished
        _step_done(event=event, step="push_sent_at")
        # Realtime may still be waiting for its retry (Redis down): then the sweeper finishes the row.
        finished = _delivered(event=event)

    if event.push_sent_at is None:
        try:
            with obs_context.scope(_event_context(event)), metrics.timed(metrics.delivery_step, step="push_plan"):
                push.push_event(event=event, before_first_batch=planned)
        except Exception as error:
            if event.push_sent_at is None:
                _delivery_failed(event=event, error=error, now=timezone.now())
            raise
    if event.push_sent_at is None:  # nobody to push to: the plan ended before any batch
        planned()
    elif not finished:
        finished = _delivered(event=event)
    return finished


def _delivered(*, event: OutboxEvent) -> bool:
    return bool(
        OutboxEvent.objects.filter(
            pk=event.pk,
            delivered_at__isnull=True,
            inbox_written_at__isnull=False,
            realtime_sent_at__isnull=False,
            push_sent_at__isnull=False,
        ).update(delivered_at=timezone.now(), locked_until=None, last_error="")
    )


def _delivery_failed(*, event: OutboxEvent, error: Exception, now: datetime) -> None:
    # Exponential backoff through the lease: a long Redis or FCM outage spreads the
    # OUTBOX_MAX_ATTEMPTS over about an hour instead of burning them in minutes.
    retry_in = timedelta(seconds=min(MAX_RETRY_DELAY_SECONDS, 2 ** min(event.attempts, 16)))
    OutboxEvent.objects.filter(pk=event.pk).update(last_error=repr(error)[:2000], locked_until=now + retry_in)


def _step_done(*, event: OutboxEvent, step: str) -> None:
    done_at = timezone.now()
    OutboxEvent.objects.filter(pk=event.pk).update(**{step: done_at})
    setattr(event, step, done_at)


def _inbox_write(*, event: OutboxEvent) -> None:
    recipients = addressed_recipients(event=event)
    with transaction.atomic():
        # ignore_conflicts + the unique (event_id, recipient): a crash between the
        # insert and the marker never yields a second row on retry.
        Notification.objects.bulk_create(
            [
                Notification(
                    organization_id=event.organization_id,
                    recipient_id=user_id,
                    event_id=event.pk,
                    type=event.type,
                    reason=reason,
                    data=event.payload,
                )
                for user_id, reason in recipients.items()
            ],
            ignore_conflicts=True,
        )
        _step_done(event=event, step="inbox_written_at")


def _event_groups(event: OutboxEvent) -> list[str]:
    if event.org_wide:
        return [realtime.org_group(event.organization_id)]
    groups = [realtime.member_group(group_id) for group_id in event_group_ids(event=event)]
    if event.user_ids:
        users = User.objects.filter(organization_id=event.organization_id, pk__in=event.user_ids).values_list("pk", flat=True)
        groups += [realtime.user_group(user_id) for user_id in users]
    return groups


def _notification_frames(event: OutboxEvent) -> list[tuple[str, dict[str, Any]]]:
    rows = list(Notification.objects.filter(event_id=event.pk))
    if not rows:
        return []
    unread = dict(
        Notification.objects.filter(
            recipient_id__in=Notification.objects.filter(event_id=event.pk).values("recipient_id"), read_at__isnull=True
        )
        .values_list("recipient_id")
        .annotate(count=Count("id"))
    )
    frame_id = uuid.uuid5(_NOTIFICATION_FRAME_NAMESPACE, str(event.pk))
    messages = []
    for row in rows:
        data = {"notification": NotificationSerializer(row).data, "unread_count": unread.get(row.recipient_id, 0)}
        text = realtime.frame_text(frame_id=frame_id, type=NOTIFICATION_CREATED.name, data=data, at=row.created_at)
        group = realtime.user_group(row.recipient_id)
        messages.append((group, realtime.event_message(group=group, frame_id=frame_id, text=text)))
    return messages


def _realtime_send(*, event: OutboxEvent) -> None:
    text = realtime.frame_text(frame_id=event.pk, type=event.type, data=event.payload, at=event.created_at)
    messages = [(group, realtime.event_message(group=group, frame_id=event.pk, text=text)) for group in _event_groups(event)]
    messages += _notification_frames(event)
    realtime.group_send_many(messages)


def outbox_sweep(*, now: datetime | None = None, batch_size: int = 200, time_budget_seconds: float = 60.0) -> int:
    """Deliver events the after-commit task did not (broker down, worker killed); returns how many.

    Works through the backlog in batches until nothing is due or the time budget
    is spent, so that recovering from an outage does not wait for many beats.
    """
    now = now or timezone.now()
    started = time.monotonic()
    tried: set[uuid.UUID] = set()
    delivered = 0
    while time.monotonic() - started < time_budget_seconds:
        due = [event_id for event_id in _due_event_ids(now=now, limit=batch_size) if event_id not in tried]
        if not due:
            break
        for event_id in due:
            tried.add(event_id)
            try:
                delivered += outbox_event_deliver(event_id=event_id, now=now)
            except Exception:
                # One failing event (e.g. Redis still down) must not starve the rest;
                # it keeps its row and a later sweep tries again after its backoff.
                logger.exception("Outbox event %s not delivered", event_id)
    return delivered


def _due_event_ids(*, now: datetime, limit: int) -> list[uuid.UUID]:
    return list(
        OutboxEvent.objects.filter(
            delivered_at__isnull=True,
            created_at__lte=now - settings.OUTBOX_SWEEP_AFTER,
            attempts__lt=settings.OUTBOX_MAX_ATTEMPTS,
        )
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lte=now))
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )


def outbox_prune(*, now: datetime | None = None) -> int:
    """Delete outbox rows past retention (delivered or given up); the inbox keeps its own rows."""
    cutoff = (now or timezone.now()) - settings.OUTBOX_RETENTION
    abandoned = OutboxEvent.objects.filter(created_at__lt=cutoff, delivered_at__isnull=True).count()
    if abandoned:
        logger.error("Pruning %d outbox events that were never delivered", abandoned)
    deleted, _by_model = OutboxEvent.objects.filter(created_at__lt=cutoff).delete()
    return deleted


# --- Withdrawn content -----------------------------------------------------------------


def content_withdraw(*, organization_id: int, content: str, content_id: int) -> list[uuid.UUID]:
    """A moderator hid or removed a piece of content (a post, a comment): its news stops travelling.

    Called by the moderating service inside its transaction. The events withdrawn are those
    whose payload quotes the content, as their event types declare (`EventType.quotes`):
    pushes not sent yet are dropped and inbox items are deleted (they would show it after
    it is gone). Realtime frames already sent are answered by the feature's own events (the
    feed's `post.deleted` / `comment.deleted`). Returns the ids of the events withdrawn.
    """
    quoting = catalogue.quoted_by(content)
    if not quoting:
        raise ValueError(f"No declared event type quotes content {content!r}")
    about = Q(pk__in=[])
    for event_type, quote in quoting:
        about |= Q(type=event_type.name, **{f"payload__{quote.key}": content_id})
    recent = timezone.now() - settings.OUTBOX_RETENTION
    events = OutboxEvent.objects.filter(about, organization_id=organization_id, created_at__gte=recent)
    event_ids = list(events.values_list("pk", flat=True))
    if event_ids:
        push.push_withdraw(event_ids=event_ids)
        Notification.objects.filter(organization_id=organization_id, event_id__in=event_ids).delete()
    return event_ids


# --- In-app inbox ---------------------------------------------------------------------


def notifications_mark_read(*, user: User, ids: list[int] | None = None, mark_all: bool = False) -> int:
    """Mark some or all of the user's notifications read; returns the new unread count."""
    mine = Notification.objects.filter(recipient=user)
    if mark_all:
        mine.filter(read_at__isnull=True).update(read_at=timezone.now())
    else:
        wanted = set(ids or [])
        found = set(mine.filter(pk__in=wanted).values_list("pk", flat=True))
        if wanted - found:
            raise ValidationFailed(
                _("Some notifications do not exist."), fields={"ids": [_("Unknown notification ids: %s") % sorted(wanted - found)]}
            )
        mine.filter(pk__in=found, read_at__isnull=True).update(read_at=timezone.now())
    return mine.filter(read_at__isnull=True).count()
