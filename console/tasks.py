from __future__ import annotations

from celery import shared_task

from console import snapshots


@shared_task(time_limit=1800, soft_time_limit=1750, ignore_result=True)
def console_snapshots_refresh_task() -> int:
    """Beat, every 10 minutes: the console's heavy numbers for every scope opened in the last day."""
    return snapshots.refresh_recent()
