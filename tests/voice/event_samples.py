"""Samples of voice's events for the catalogue test (tests/notifications/test_catalogue.py)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from voice.models import Signal
from voice.services import signals as voice
from voice.services import signals_promise, signals_workflow

RESOLUTION = "The desk may now grant late check-out until 13:00."


def _signal(world, **fields) -> Signal:
    fields = {"kind": "friction", "title": "Guests ask for late check-out", "body": "We may not decide it.", **fields}
    return voice.signal_create(author=world.employee, group_id=world.group.pk, **fields)


def signal_created(world) -> None:
    _signal(world, anonymous=True)


def signal_supported(world) -> None:
    voice.signal_support(user=world.colleague, signal=_signal(world), group_id=world.group.pk, note="Every weekend")


def signal_status_changed(world) -> None:
    signal = _signal(world)
    voice.signal_support(user=world.colleague, signal=signal)
    signals_workflow.signal_set_status(actor=world.leader, signal=signal, status="resolved", message=RESOLUTION, announce=True)


def signal_reminder(world) -> None:
    signal = _signal(world)
    Signal.objects.filter(pk=signal.pk).update(created_at=timezone.now() - timedelta(hours=80))
    signals_promise.signals_promise_process()


def signal_escalated(world) -> None:
    signal = _signal(world)
    Signal.objects.filter(pk=signal.pk).update(created_at=timezone.now() - timedelta(hours=150), reminded_at=timezone.now())
    signals_promise.signals_promise_process()


SAMPLES = {
    "signal.created": signal_created,
    "signal.supported": signal_supported,
    "signal.status_changed": signal_status_changed,
    "signal.reminder": signal_reminder,
    "signal.escalated": signal_escalated,
}
