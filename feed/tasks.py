from __future__ import annotations

from celery import shared_task

from feed import services


@shared_task(time_limit=110, soft_time_limit=100)
def posts_publish_due_task() -> int:
    """Beat, every minute: publish scheduled posts whose time has come.

    Idempotent (each post is published by a guarded update, once) and self-healing:
    after downtime the next run publishes everything that fell due meanwhile.
    """
    return services.posts_publish_due()
