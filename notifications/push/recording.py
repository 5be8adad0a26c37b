"""Recording a batch's outcome: sent, dead tokens deleted, failures, retries with backoff."""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from notifications.fcm import Outcome, SendResult
from notifications.models import Device, PushDelivery, PushStatus
from notifications.push.batches import push_enqueue
from server.obs import metrics

logger = logging.getLogger("notifications.push")


BACKOFF_BASE_SECONDS = settings.PUSH_BACKOFF_BASE_SECONDS
BACKOFF_CAP_SECONDS = settings.PUSH_BACKOFF_CAP_SECONDS
# A server's Retry-After is honoured up to here: a countdown as long as the broker's
# visibility timeout would make Redis hand the task to a second worker (server/checks.py).
RETRY_AFTER_CAP_SECONDS = 900.0


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


def _record(*, event_id: str, by_device: dict[int, PushDelivery], results: list[SendResult], skipped: set[int]) -> BatchReport:
    now = timezone.now()
    grouped: dict[Outcome, list[SendResult]] = {outcome: [] for outcome in Outcome}
    for result in results:
        grouped[result.outcome].append(result)
        metrics.push_results.labels(outcome=str(result.outcome)).inc()
    retry = [r for r in grouped[Outcome.RETRY] if by_device[r.device_id].attempts < settings.PUSH_MAX_ATTEMPTS]
    exhausted = [r for r in grouped[Outcome.RETRY] if by_device[r.device_id].attempts >= settings.PUSH_MAX_ATTEMPTS]
    with transaction.atomic():
        PushDelivery.objects.filter(event_id=event_id, device_id__in=[r.device_id for r in grouped[Outcome.SENT]]).update(
            status=PushStatus.SENT, sent_at=now, lease_until=None, last_error=""
        )
        # UNREGISTERED / INVALID_ARGUMENT: the token is dead; its delivery rows go with it.
        dead_ids = [r.device_id for r in grouped[Outcome.DEAD]]
        Device.objects.filter(pk__in=dead_ids).delete()
        if dead_ids:
            metrics.push_tokens_invalidated.inc(len(dead_ids))
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
