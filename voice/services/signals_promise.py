"""The response promise: an open signal reminds its owner after the organisation's
`voice_first_response_hours`, and goes to the admins after twice that.

Run from one beat task. Each step is claimed by a guarded update of its marker column
(`reminded_at`, `escalated_at`, set once), so overlapping runs and the first run after
downtime tell each person at most once per step.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from notifications.services import emit
from voice import events
from voice.models import Signal, SignalStatus
from voice.selectors.signals import admin_ids
from voice.signal_cards import iso, signal_summary

_RELATED = ("author", "owner", "group", "key_moment", "organization")


def _promise(organization_hours: int) -> timedelta:
    return timedelta(hours=organization_hours)


def _overdue_rows(*, now: datetime, factor: int, marker: str) -> list[Signal]:
    candidates = Signal.objects.filter(status=SignalStatus.OPEN, hidden_at__isnull=True, **{f"{marker}__isnull": True}).select_related(
        *_RELATED
    )
    # Each organisation has its own promise: the rows are few (open, not yet told), the test is in Python.
    return [
        signal
        for signal in candidates.filter(created_at__lte=now).order_by("created_at", "id")
        if signal.created_at + _promise(signal.organization.voice_first_response_hours) * factor <= now
    ]


def _payload(signal: Signal, *, step: str) -> dict:
    promise = _promise(signal.organization.voice_first_response_hours)
    return {
        **signal_summary(signal),
        "step": step,
        "promise_hours": signal.organization.voice_first_response_hours,
        "due_at": iso(signal.created_at + promise),
    }


def _claim(signal: Signal, *, marker: str, now: datetime) -> bool:
    return bool(Signal.objects.filter(pk=signal.pk, status=SignalStatus.OPEN, **{f"{marker}__isnull": True}).update(**{marker: now}))


def signals_promise_process(*, now: datetime | None = None) -> dict[str, int]:
    """Send due reminders and escalations; safe to run as often as you like."""
    now = now or timezone.now()
    reminded = escalated = 0
    for signal in _overdue_rows(now=now, factor=1, marker="reminded_at"):
        with transaction.atomic():
            if not _claim(signal, marker="reminded_at", now=now):
                continue
            if signal.owner_id is None:
                continue  # nobody owns it yet: the admins hear at the escalation step
            emit(
                events.SIGNAL_REMINDER,
                organization_id=signal.organization_id,
                payload=_payload(signal, step="reminder"),
                user_ids=[signal.owner_id],
                addressed=[{"user_id": signal.owner_id, "reason": events.ANSWER_DUE.name}],
            )
            reminded += 1
    for signal in _overdue_rows(now=now, factor=2, marker="escalated_at"):
        with transaction.atomic():
            if not _claim(signal, marker="escalated_at", now=now):
                continue
            admins = admin_ids(organization_id=signal.organization_id)
            if not admins:
                continue
            emit(
                events.SIGNAL_ESCALATED,
                organization_id=signal.organization_id,
                payload=_payload(signal, step="escalation"),
                user_ids=admins,
                addressed=[{"user_id": user_id, "reason": events.UNANSWERED.name} for user_id in admins],
            )
            escalated += 1
    return {"reminded": reminded, "escalated": escalated}
