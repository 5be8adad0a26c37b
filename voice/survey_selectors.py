"""Reads of surveys, scoped to the acting user and annotated so that a page is a fixed number of queries.

Who sees a survey: its audience once it has opened, its creator, the organisation's admins,
and leaders of one of its groups (for an organisation-wide survey every leader is in its
audience). Anything else is a 404.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Exists, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Group, Membership, User
from server.api.exceptions import Conflict, NotAllowed, NotFound, ValidationFailed
from voice.models import Survey, SurveyInstance, SurveyOption, SurveyParticipation, SurveyQuestion
from voice.services.surveys import led_group_ids, may_manage

STATUSES = ("open", "closed")
_INSTANCE_FIELDS = ("id", "number", "opens_at", "closes_at")


def _current(field: str, now: dt.datetime) -> Coalesce:
    """The survey's current instance: the latest that has opened, else (not opened yet) the first."""
    opened = SurveyInstance.objects.filter(survey=OuterRef("pk"), opens_at__lte=now).order_by("-number")
    first = SurveyInstance.objects.filter(survey=OuterRef("pk")).order_by("number")
    return Coalesce(Subquery(opened.values(field)[:1]), Subquery(first.values(field)[:1]))


def _visible(*, user: User, now: dt.datetime) -> Q:
    if user.is_org_admin:
        return Q()
    through = Survey.groups.through
    my_groups = Membership.objects.filter(user=user).values("group_id")
    in_audience = ~Exists(through.objects.filter(survey_id=OuterRef("pk"))) | Exists(
        through.objects.filter(survey_id=OuterRef("pk"), group_id__in=my_groups)
    )
    opened = Exists(SurveyInstance.objects.filter(survey_id=OuterRef("pk"), opens_at__lte=now))
    visible = (in_audience & opened) | Q(created_by=user)
    if user.role == "leader":
        visible |= Exists(through.objects.filter(survey_id=OuterRef("pk"), group_id__in=my_groups))
    return visible


def _annotated(*, user: User, now: dt.datetime) -> QuerySet[Survey]:
    surveys = Survey.objects.filter(organization_id=user.organization_id).filter(_visible(user=user, now=now))
    surveys = surveys.annotate(**{f"current_{name}": _current(name, now) for name in _INSTANCE_FIELDS})
    question_count = SurveyQuestion.objects.filter(survey=OuterRef("pk")).order_by().values("survey").annotate(n=Count("id")).values("n")
    return surveys.annotate(
        answered=Exists(SurveyParticipation.objects.filter(user=user, instance_id=OuterRef("current_id"))),
        question_count=Coalesce(Subquery(question_count, output_field=IntegerField()), Value(0)),
    ).select_related("created_by")


def survey_list(*, user: User, status: str = "", now: dt.datetime | None = None) -> QuerySet[Survey]:
    """Surveys for me, newest first; `open`: answerable now, `closed`: its latest instance has closed."""
    now = now or timezone.now()
    surveys = _annotated(user=user, now=now)
    if status == "open":
        surveys = surveys.filter(current_opens_at__lte=now, current_closes_at__gt=now)
    elif status == "closed":
        surveys = surveys.filter(current_closes_at__lte=now)
    return surveys.prefetch_related(Prefetch("groups", queryset=Group.objects.order_by("name", "id"))).order_by("-id")


def access_survey(*, user: User, survey_id: int, now: dt.datetime | None = None) -> Survey:
    survey = (
        survey_list(user=user, now=now)
        .select_related("organization")
        .prefetch_related(
            Prefetch(
                "questions",
                queryset=SurveyQuestion.objects.prefetch_related(
                    Prefetch("options", queryset=SurveyOption.objects.order_by("position", "id"))
                ),
            )
        )
        .filter(pk=survey_id)
        .first()
    )
    if survey is None:
        raise NotFound()
    return survey


def access_survey_to_answer(*, user: User, survey_id: int) -> Survey:
    """The survey by id within the caller's organisation; who it asks is the service's check (the hot path, S1)."""
    survey = Survey.objects.select_related("organization").filter(pk=survey_id, organization_id=user.organization_id).first()
    if survey is None:
        raise NotFound()
    return survey


def results_group(*, user: User, survey: Survey, group_id: int | None) -> Group | None:
    """The group the caller may see results for (None: the whole survey), or 400/403.

    The creator and admins see the whole survey and any breakdown; a leader sees the
    breakdown by a group they lead, and nothing else.
    """
    group = None
    if group_id is not None:
        group = Group.objects.filter(pk=group_id, organization_id=survey.organization_id).first()
        if group is None:
            message = _("Not a group of your organisation.")
            raise ValidationFailed(message, fields={"group": [message]})
    if may_manage(user=user, survey=survey):
        return group
    if user.role == "leader":
        if group is None:
            raise NotAllowed(_("Leaders see the results of their own groups: add ?group=."))
        if group.pk in led_group_ids(user):
            return group
        raise NotAllowed(_("Leaders see the results of their own groups only."))
    raise NotAllowed(_("Only the creator, admins and leaders of its groups see a survey's results."))


def results_instance(*, survey: Survey, instance_id: int | None, now: dt.datetime | None = None) -> SurveyInstance:
    """The instance asked for, else the current one (open, or the latest closed); never one not yet open."""
    now = now or timezone.now()
    instances = SurveyInstance.objects.filter(survey=survey, opens_at__lte=now)
    if instance_id is not None:
        instance = instances.filter(pk=instance_id).first()
        if instance is None:
            message = _("Not an instance of this survey that has opened.")
            raise ValidationFailed(message, fields={"instance": [message]})
        return instance
    instance = instances.order_by("-number").first()
    if instance is None:
        raise Conflict(_("The survey has not opened yet."), code="survey_not_open")
    return instance
