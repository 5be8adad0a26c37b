"""Samples of voice's events for the catalogue test (tests/notifications/test_catalogue.py)."""

from __future__ import annotations

import datetime as dt
from datetime import timedelta

from django.utils import timezone

from voice.models import Signal
from voice.services import signals as voice
from voice.services import signals_promise, signals_workflow
from voice.services.surveys import survey_create, survey_respond, surveys_tick

SAMPLE_QUESTIONS = [{"kind": "scale_0_10", "text": "How likely are you to recommend working here?"}]

RESOLUTION = "The desk may now grant late check-out until 13:00."


def _survey(world, **fields):
    now = timezone.now()
    return survey_create(
        actor=world.leader,
        title="Monthly pulse",
        group_ids=[world.group.pk],
        questions=SAMPLE_QUESTIONS,
        closes_at=now + dt.timedelta(days=2),
        **fields,
    )


def survey_opened(world) -> None:
    _survey(world)


def survey_reminder(world) -> None:
    survey = _survey(world)
    question = survey.questions.get()
    survey_respond(user=world.employee, survey=survey, answers=[{"question_id": question.pk, "value": 8}])
    surveys_tick(now=timezone.now() + dt.timedelta(days=1, hours=1))


def survey_closed(world) -> None:
    _survey(world)
    surveys_tick(now=timezone.now() + dt.timedelta(days=3))


SURVEY_SAMPLES = {"survey.opened": survey_opened, "survey.reminder": survey_reminder, "survey.closed": survey_closed}


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
SAMPLES.update(SURVEY_SAMPLES)
