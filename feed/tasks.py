from __future__ import annotations

from celery import shared_task

from feed import services
from feed.services import mandatory_reads, polls


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


@shared_task(acks_late=True, time_limit=30, soft_time_limit=25, ignore_result=True)
def poll_updated_announce_task(post_id: int, trailing: bool = False) -> bool:
    """`poll.updated` with the counts of now (feed.services.polls: coalesced by the caller)."""
    if trailing:
        return polls.poll_trailing_announce(post_id=post_id)
    return polls.poll_updated_announce(post_id=post_id)


@shared_task(time_limit=110, soft_time_limit=100)
def polls_close_due_task() -> int:
    """Beat, every minute: announce polls whose closing time has passed (idempotent)."""
    return polls.polls_close_due()
