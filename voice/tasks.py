from __future__ import annotations

from celery import shared_task

from voice.services.survey_schedule import surveys_tick


@shared_task(time_limit=300, soft_time_limit=270)
def surveys_tick_task() -> dict[str, int]:
    """Every minute: next instances of recurring surveys, openings, reminders and closings. Safe to run twice
    or in parallel: each step is a guarded update of its instance, so its event goes out once."""
    report = surveys_tick()
    return {"created": report.created, "opened": report.opened, "reminded": report.reminded, "closed": report.closed}
