from __future__ import annotations

from celery import shared_task

from feed import services
from feed.services import mandatory_reads


@shared_task(time_limit=110, soft_time_limit=100)
def posts_publish_due_task() -> int:
    """Beat, every minute: publish scheduled posts whose time has come.

    Idempotent (each post is published by a guarded update, once) and self-healing:
    after downtime the next run publishes everything that fell due meanwhile.
    """
    return services.posts_publish_due()


@shared_task(time_limit=110, soft_time_limit=100)
def mandatory_reads_process_task() -> dict[str, int]:
    """Beat, every five minutes: reminders before acknowledgement deadlines, summaries after.

    Idempotent by stored markers (one reminder per post and offset, one summary per
    post), so overlapping runs and the first run after downtime send each at most once.
    """
    return mandatory_reads.mandatory_reads_process()
