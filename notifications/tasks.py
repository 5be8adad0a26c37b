"""Celery tasks of the event path: deliver after commit, sweep, prune; push planning and batches (queue `push`)."""

from __future__ import annotations

import functools
import logging
import time

from celery import shared_task
from celery.contrib.django.task import DjangoTask
from django.conf import settings
from django.db import transaction

from notifications import push, services

logger = logging.getLogger(__name__)

# Monotonic time until which this process leaves delivery to the sweeper.
_broker_unavailable_until = 0.0


def _publish_or_leave_to_sweeper(task: DjangoTask, args: tuple, kwargs: dict) -> None:
    global _broker_unavailable_until
    if time.monotonic() < _broker_unavailable_until:
        return
    try:
        task.delay(*args, **kwargs)
    except Exception:
        # The outbox row is committed, so nothing is lost: the sweeper delivers it.
        # The request that wrote it must not fail or hang because Redis is away, and
        # the next requests should not each pay the connect timeout again.
        if not task.app.conf.task_always_eager:
            _broker_unavailable_until = time.monotonic() + settings.OUTBOX_BROKER_BACKOFF_SECONDS
        logger.exception("Could not enqueue %s%r; the outbox sweeper will deliver it", task.name, args)


class OutboxTask(DjangoTask):
    """`delay_on_commit` that never breaks the committed request that called it."""

    def delay_on_commit(self, *args, **kwargs) -> None:
        transaction.on_commit(functools.partial(_publish_or_leave_to_sweeper, self, args, kwargs))


@shared_task(base=OutboxTask, acks_late=True, time_limit=60, soft_time_limit=50)
def outbox_event_deliver_task(event_id: str) -> bool:
    # Failures keep the row undelivered; the sweeper retries it, so no Celery retry here.
    return services.outbox_event_deliver(event_id=event_id)


@shared_task(time_limit=300, soft_time_limit=280)
def outbox_sweep_task() -> int:
    return services.outbox_sweep()


@shared_task(time_limit=600, soft_time_limit=580)
def outbox_prune_task() -> int:
    return services.outbox_prune()


# push_* tasks run on the `push` queue (CELERY_TASK_ROUTES).
@shared_task(acks_late=True, time_limit=300, soft_time_limit=280, ignore_result=True)
def push_event_plan_task(event_id: str) -> None:
    # Failures are recorded on the outbox row; the sweeper re-delivers it, so no Celery retry here.
    services.outbox_event_push_plan(event_id=event_id)


@shared_task(acks_late=True, time_limit=120, soft_time_limit=100, ignore_result=True)
def push_send_batch_task(event_id: str, device_ids: list[int]) -> None:
    # Idempotent: rows are claimed with a guarded update, sent ones are never claimed again.
    push.push_send_batch(event_id=event_id, device_ids=device_ids)


@shared_task(acks_late=True, time_limit=300, soft_time_limit=280, ignore_result=True)
def push_deliveries_sweep_task() -> None:
    push.push_deliveries_sweep()
