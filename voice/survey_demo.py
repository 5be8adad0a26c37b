"""Surveys for seed_demo: a monthly pulse with three past instances (a trend to look at) and an open one.

Written through the services with the clock set back, so instances, answers and the scheduler's
markers are what the app itself produces. Idempotent: an organisation with a survey is left alone.
"""

from __future__ import annotations

import datetime as dt
import random
import zoneinfo

from django.utils import timezone

from accounts.demo import DemoContext
from voice.models import Survey
from voice.services.surveys import instance_window, survey_create, survey_respond, surveys_tick

QUESTIONS = [
    {"kind": "scale_0_10", "text": "Hoe waarschijnlijk is het dat je een vriend aanraadt hier te werken?"},
    {"kind": "scale_1_5", "text": "Weet je wat het doel van deze maand is?"},
    {"kind": "scale_1_5", "text": "Kun je een klantprobleem oplossen zonder je leidinggevende te vragen?"},
    {
        "kind": "single_choice",
        "text": "Wat zou je werk het meest verbeteren?",
        "options": ["Meer uren", "Betere roosters", "Training", "Ander gereedschap"],
    },
    {"kind": "text", "text": "Wil je nog iets kwijt?", "required": False},
]
TEXTS = ["Fijn team!", "Het rooster komt vaak laat.", "Meer uitleg over de nieuwe kassa graag.", "Goede sfeer in de winkel."]


def seed(context: DemoContext) -> None:
    organization = context.organization
    if Survey.objects.filter(organization=organization).exists():
        return
    rng = random.Random(21)
    now = timezone.now()
    tz = zoneinfo.ZoneInfo(organization.timezone)
    # The open (4th) instance opened yesterday; the first one three months before that.
    fourth_opens = now - dt.timedelta(days=1)
    local = fourth_opens.astimezone(tz).replace(tzinfo=None)
    month_index = local.month - 1 - 3
    first_local = local.replace(year=local.year + month_index // 12, month=month_index % 12 + 1, day=min(local.day, 28))
    opens_at = first_local.replace(tzinfo=tz).astimezone(dt.UTC)
    survey = survey_create(
        actor=context.admin,
        title="Maandelijkse pulse",
        intro="Vijf vragen, twee minuten. Je antwoorden zijn anoniem.",
        questions=QUESTIONS,
        opens_at=opens_at,
        closes_at=opens_at + dt.timedelta(days=7),
        recurrence={"every": "month"},
        now=opens_at,
    )
    people = context.everyone
    for number in (1, 2, 3, 4):
        instance_opens, instance_closes = instance_window(survey=survey, number=number, tz=tz)
        if instance_opens > now:
            break
        surveys_tick(now=instance_opens)
        moment = min(now, instance_opens + dt.timedelta(hours=2))
        # The mood improves month by month: the trend has something to show.
        share = 0.5 + 0.1 * number if number < 4 else 0.3
        for person in rng.sample(people, k=int(len(people) * share)):
            survey_respond(user=person, survey=survey, answers=_answers(survey, rng, lift=number), now=moment)
        if instance_closes <= now:
            surveys_tick(now=instance_closes)


def _answers(survey: Survey, rng: random.Random, *, lift: int) -> list[dict]:
    answers = []
    for question in survey.questions.prefetch_related("options").order_by("position"):
        if question.kind == "scale_0_10":
            answers.append({"question_id": question.pk, "value": min(10, max(0, round(rng.gauss(5 + lift, 2))))})
        elif question.kind == "scale_1_5":
            answers.append({"question_id": question.pk, "value": min(5, max(1, round(rng.gauss(2.5 + lift * 0.4, 1))))})
        elif question.kind == "single_choice":
            answers.append({"question_id": question.pk, "option_ids": [rng.choice(list(question.options.all())).pk]})
        elif rng.random() < 0.3:
            answers.append({"question_id": question.pk, "text": rng.choice(TEXTS)})
    return answers
