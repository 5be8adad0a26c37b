from __future__ import annotations

from celery import shared_task

from media import services


# Storage trouble (S3 unreachable or failing, a full disk) is worth a retry; a bad image is
# not, and ends as `failed` inside the service.
@shared_task(autoretry_for=services.STORAGE_ERRORS, retry_backoff=True, max_retries=3, time_limit=120, soft_time_limit=100)
def media_process_task(media_id: int) -> None:
    services.media_process(media_id=media_id)


@shared_task(time_limit=600, soft_time_limit=540)
def media_orphans_delete_task() -> int:
    return services.media_orphans_delete()


@shared_task(time_limit=60, soft_time_limit=50)
def media_process_stale_task() -> int:
    return services.media_process_stale()
