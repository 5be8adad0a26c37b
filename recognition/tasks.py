from __future__ import annotations

from celery import shared_task

from recognition.services import award_rounds_close_due


@shared_task(time_limit=600, soft_time_limit=540)
def award_rounds_close_task() -> dict[str, object]:
    """Hourly: close every round whose month ended in its organisation's time zone. Safe to run twice or
    in parallel: each close locks its round and skips rounds that are no longer open."""
    sweep = award_rounds_close_due()
    return {"closed": sweep.closed, "fell_back": sweep.fell_back, "opened": sweep.opened}
