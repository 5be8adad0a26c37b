from __future__ import annotations

from celery import shared_task

from voice.services import signals_promise
from voice.services.survey_schedule import surveys_tick


@shared_task(time_limit=300, soft_time_limit=270)
def surveys_tick_task() -> dict[str, int]:
    """Every minute: next instances of recurring surveys, openings, reminders and closings. Safe to run twice
    or in parallel: each step is a guarded update of its instance, so its event goes out once."""
    report = surveys_tick()
    return {"created": report.created, "opened": report.opened, "reminded": report.reminded, "closed": report.closed}


@shared_task(time_limit=110, soft_time_limit=100)
def signals_promise_process_task() -> dict[str, int]:
    """Beat, every five minutes: remind owners of open signals past the promise, escalate at twice it.

    Idempotent by stored markers (a guarded update of `reminded_at` / `escalated_at`), so
    overlapping runs and the first run after downtime send each step at most once.
    """
    return signals_promise.signals_promise_process()
