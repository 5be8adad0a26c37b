"""Building blocks for the survey tests: a survey through the service, answers through the API."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from voice.models import Survey
from voice.services.surveys import survey_create

QUESTIONS = [
    {"kind": "scale_0_10", "text": "How likely are you to recommend working here?"},
    {"kind": "scale_1_5", "text": "Do you know this month's goal?"},
    {"kind": "single_choice", "text": "Which shift do you work most?", "options": ["Early", "Late", "Night"]},
    {"kind": "multiple_choice", "text": "What would help?", "options": ["Training", "Tools", "Time"], "required": False},
    {"kind": "text", "text": "Anything else?", "required": False},
]


def make_survey(actor, *, group_ids=None, opens_in: dt.timedelta | None = None, days: int = 7, **fields) -> Survey:
    now = timezone.now()
    opens_at = now + opens_in if opens_in is not None else None
    closes_at = (opens_at or now) + dt.timedelta(days=days)
    fields.setdefault("questions", QUESTIONS)
    return survey_create(
        actor=actor, title=fields.pop("title", "Pulse"), group_ids=group_ids, opens_at=opens_at, closes_at=closes_at, **fields
    )


def answers_for(
    survey: Survey, *, nps: int = 9, five: int = 4, choice: int = 0, multi: tuple[int, ...] = (0,), text: str = ""
) -> list[dict]:
    questions = list(survey.questions.prefetch_related("options").order_by("position"))
    by_kind = {question.kind: question for question in questions}
    answers = [
        {"question_id": by_kind["scale_0_10"].pk, "value": nps},
        {"question_id": by_kind["scale_1_5"].pk, "value": five},
        {"question_id": by_kind["single_choice"].pk, "option_ids": [list(by_kind["single_choice"].options.all())[choice].pk]},
    ]
    if multi:
        options = list(by_kind["multiple_choice"].options.all())
        answers.append({"question_id": by_kind["multiple_choice"].pk, "option_ids": [options[i].pk for i in multi]})
    if text:
        answers.append({"question_id": by_kind["text"].pk, "text": text})
    return answers
