"""Celery tasks of notifications. push_* tasks run on the `push` queue (CELERY_TASK_ROUTES)."""

from __future__ import annotations

from celery import shared_task

from notifications import push


@shared_task(acks_late=True, time_limit=120, soft_time_limit=100, ignore_result=True)
def push_send_batch_task(event_id: str, device_ids: list[int]) -> None:
    # Idempotent: rows are claimed with a guarded update, sent ones are never claimed again.
    push.push_send_batch(event_id=event_id, device_ids=device_ids)


@shared_task(acks_late=True, time_limit=300, soft_time_limit=280, ignore_result=True)
def push_deliveries_sweep_task() -> None:
    push.push_deliveries_sweep()
