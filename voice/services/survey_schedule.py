"""The scheduler's side of surveys (every minute, voice.tasks): next instances, openings, reminders, closings.

Each step is a guarded UPDATE of its instance's marker inside the transaction that emits its
event, so a beat that fires twice, or two workers, send each event once.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from notifications import services as notifications
from notifications.recipients import AudienceAddress
from voice import events
from voice.models import Every, Survey, SurveyInstance, SurveyParticipation
from voice.services.survey_common import audience_users, instance_window, new_instance, survey_group_ids


def _payload(instance: SurveyInstance) -> dict[str, Any]:
    survey = instance.survey
    return {
        "survey_id": survey.pk,
        "instance_id": instance.pk,
        "number": instance.number,
        "title": survey.title,
        "anonymous": survey.anonymous,
        "opens_at": instance.opens_at.isoformat(),
        "closes_at": instance.closes_at.isoformat(),
        "question_count": survey.questions.count(),
    }


def _audience_kwargs(survey: Survey) -> dict[str, Any]:
    group_ids = survey_group_ids(survey)
    return {"group_ids": group_ids} if group_ids else {"org_wide": True}


def instance_open(*, instance: SurveyInstance, now: dt.datetime) -> bool:
    survey = instance.survey
    # The response rate's denominator while it runs (results do not count 100,000 people per read).
    size = audience_users(survey=survey).count()
    if not SurveyInstance.objects.filter(pk=instance.pk, opened_at__isnull=True).update(opened_at=now, audience_size=size):
        return False
    if instance.closes_at <= now:
        return False  # the scheduler was away for the whole window: nobody can answer any more
    notifications.emit(
        events.SURVEY_OPENED,
        organization_id=survey.organization_id,
        payload=_payload(instance),
        address_audience=AudienceAddress(reason=events.REASON_SURVEY.name, joined_by=now),
        **_audience_kwargs(survey),
    )
    return True


def _instance_remind(*, instance: SurveyInstance, now: dt.datetime) -> int:
    if not SurveyInstance.objects.filter(pk=instance.pk, reminded_at__isnull=True).update(reminded_at=now):
        return 0
    survey = instance.survey
    answered = SurveyParticipation.objects.filter(instance=instance).values("user_id")
    waiting = list(audience_users(survey=survey).exclude(pk__in=answered).order_by("pk").values_list("pk", flat=True))
    if waiting:
        notifications.emit(
            events.SURVEY_REMINDER,
            organization_id=survey.organization_id,
            payload=_payload(instance),
            user_ids=waiting,
            address_audience=AudienceAddress(reason=events.REASON_SURVEY_REMINDER.name, joined_by=now),
        )
    return len(waiting)


def _instance_close(*, instance: SurveyInstance, now: dt.datetime) -> bool:
    survey = instance.survey
    size = audience_users(survey=survey).count()
    if not SurveyInstance.objects.filter(pk=instance.pk, closed_at__isnull=True).update(closed_at=now, audience_size=size):
        return False
    if survey.created_by_id is not None:
        notifications.emit(
            events.SURVEY_CLOSED,
            organization_id=survey.organization_id,
            payload=_payload(instance),
            user_ids=[survey.created_by_id],
            addressed=[{"user_id": survey.created_by_id, "reason": events.REASON_SURVEY_CLOSED.name}],
        )
    return True


def _next_instances(*, now: dt.datetime) -> int:
    """For each recurring survey, the instance whose period has begun, if it is missing (missed ones are skipped)."""
    created = 0
    recurring = Survey.objects.filter(every__in=Every.values).annotate(last_number=Max("instances__number")).select_related("organization")
    for survey in recurring.filter(instances__opens_at__lte=now).distinct().iterator():
        tz = zoneinfo.ZoneInfo(survey.organization.timezone)
        number = survey.last_number
        while instance_window(survey=survey, number=number + 1, tz=tz)[0] <= now:
            number += 1
        if number == survey.last_number or instance_window(survey=survey, number=number, tz=tz)[1] <= now:
            continue
        try:
            with transaction.atomic():
                new_instance(survey=survey, number=number)
            created += 1
        except IntegrityError:
            pass  # a concurrent tick made it
    return created


@dataclass
class TickReport:
    created: int = 0
    opened: int = 0
    reminded: int = 0
    closed: int = 0
    reminders: list[int] = field(default_factory=list)


def surveys_tick(*, now: dt.datetime | None = None) -> TickReport:
    """What the beat runs every minute: new instances, openings, reminders, closings; each once (guarded updates)."""
    now = now or timezone.now()
    report = TickReport(created=_next_instances(now=now))
    due = SurveyInstance.objects.select_related("survey", "survey__organization")
    for instance in due.filter(opened_at__isnull=True, opens_at__lte=now).order_by("pk"):
        with transaction.atomic():
            report.opened += instance_open(instance=instance, now=now)
    for instance in due.filter(reminded_at__isnull=True, remind_at__lte=now, closes_at__gt=now, opened_at__isnull=False).order_by("pk"):
        with transaction.atomic():
            count = _instance_remind(instance=instance, now=now)
        report.reminded += 1
        report.reminders.append(count)
    for instance in due.filter(closed_at__isnull=True, closes_at__lte=now).order_by("pk"):
        with transaction.atomic():
            report.closed += _instance_close(instance=instance, now=now)
    return report
