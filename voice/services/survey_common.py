"""What the survey services and the scheduler share: the calendar of instances, the audience, roles."""

from __future__ import annotations

import calendar
import datetime as dt
import zoneinfo

from django.db.models import QuerySet

from accounts.models import Membership, User
from voice.models import Every, Survey, SurveyInstance

# The reminder goes this long before closing, or half-way through a shorter survey.
REMINDER_BEFORE = dt.timedelta(hours=24)


# --- Calendar --------------------------------------------------------------------------------


def _add_months(local: dt.datetime, months: int) -> dt.datetime:
    month_index = local.month - 1 + months
    year, month = local.year + month_index // 12, month_index % 12 + 1
    # The 31st of a 30-day month is its last day: "every month on the 31st" stays at month end.
    day = min(local.day, calendar.monthrange(year, month)[1])
    return local.replace(year=year, month=month, day=day)


def _shift(instant: dt.datetime, *, every: str, periods: int, tz: zoneinfo.ZoneInfo) -> dt.datetime:
    """`instant` moved `periods` weeks or months on the organisation's wall clock (09:00 stays 09:00 over DST)."""
    if periods == 0 or not every:
        return instant
    local = instant.astimezone(tz).replace(tzinfo=None)
    moved = local + dt.timedelta(weeks=periods) if every == Every.WEEK else _add_months(local, periods)
    return moved.replace(tzinfo=tz).astimezone(dt.UTC)


def instance_window(*, survey: Survey, number: int, tz: zoneinfo.ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """When instance `number` (1-based) opens and closes."""
    return (
        _shift(survey.opens_at, every=survey.every, periods=number - 1, tz=tz),
        _shift(survey.closes_at, every=survey.every, periods=number - 1, tz=tz),
    )


def remind_at(opens_at: dt.datetime, closes_at: dt.datetime) -> dt.datetime:
    return closes_at - min(REMINDER_BEFORE, (closes_at - opens_at) / 2)


def new_instance(*, survey: Survey, number: int) -> SurveyInstance:
    opens_at, closes_at = instance_window(survey=survey, number=number, tz=zoneinfo.ZoneInfo(survey.organization.timezone))
    return SurveyInstance.objects.create(
        organization_id=survey.organization_id,
        survey=survey,
        number=number,
        opens_at=opens_at,
        closes_at=closes_at,
        remind_at=remind_at(opens_at, closes_at),
    )


# --- Audience and roles ----------------------------------------------------------------------


def survey_group_ids(survey: Survey) -> list[int]:
    return sorted(Survey.groups.through.objects.filter(survey_id=survey.pk).values_list("group_id", flat=True))


def audience_users(*, survey: Survey, group_ids: list[int] | None = None) -> QuerySet[User]:
    """Active people the survey asks: the organisation, or members of its groups."""
    group_ids = survey_group_ids(survey) if group_ids is None else group_ids
    people = User.objects.filter(organization_id=survey.organization_id, is_active=True)
    if group_ids:
        people = people.filter(pk__in=Membership.objects.filter(group_id__in=group_ids).values("user_id"))
    return people


def led_group_ids(user: User) -> set[int]:
    """Groups a leader leads: the ones they belong to (as in recognition's insights)."""
    if user.role != "leader":
        return set()
    return set(Membership.objects.filter(user=user).values_list("group_id", flat=True))


def may_manage(*, user: User, survey: Survey) -> bool:
    return user.organization_id == survey.organization_id and (user.is_org_admin or survey.created_by_id == user.pk)
