"""Samples of voice's events for the catalogue test (tests/notifications/test_catalogue.py)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from voice.services.surveys import survey_create, survey_respond, surveys_tick

SAMPLE_QUESTIONS = [{"kind": "scale_0_10", "text": "How likely are you to recommend working here?"}]


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


SAMPLES = {"survey.opened": survey_opened, "survey.reminder": survey_reminder, "survey.closed": survey_closed}
