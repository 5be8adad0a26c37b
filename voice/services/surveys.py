"""Writes about pulse surveys: create, change before it opens, delete, answer (the scheduler: survey_schedule).

A submission writes two things that share no key (voice.models.surveys): the participation
row (who, for the one-submission rule and reminders) and the response (what, with no person
for an anonymous survey, the day only, random keys). It raises no event and logs nothing.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Group, Membership, User
from server.api.exceptions import Conflict, NotAllowed, NotFound, ValidationFailed
from server.api.text import clean_text
from voice.models import (
    Every,
    QuestionKind,
    Survey,
    SurveyAnswer,
    SurveyInstance,
    SurveyOption,
    SurveyParticipation,
    SurveyQuestion,
    SurveyResponse,
    SurveyResponseGroup,
)
from voice.models.surveys import CHOICE_KINDS, SCALE_RANGES
from voice.services.survey_common import (  # noqa: F401 (re-exported: what callers import from here)
    audience_users,
    instance_window,
    led_group_ids,
    may_manage,
    new_instance,
    remind_at,
    survey_group_ids,
)
from voice.services.survey_schedule import TickReport, instance_open, surveys_tick  # noqa: F401

MAX_GROUPS = 50
# An instance of a recurring survey must end before the next one begins.
MAX_WINDOW = {Every.WEEK: dt.timedelta(days=7), Every.MONTH: dt.timedelta(days=28)}


def _groups_for(*, actor: User, group_ids: list[int]) -> list[Group]:
    if not actor.is_leader_or_admin:
        raise NotAllowed(_("Only leaders and admins may create surveys."))
    unique_ids = list(dict.fromkeys(group_ids))
    if len(unique_ids) > MAX_GROUPS:
        message = _("At most %(n)d groups.") % {"n": MAX_GROUPS}
        raise ValidationFailed(message, fields={"group_ids": [message]})
    groups = list(Group.objects.filter(organization_id=actor.organization_id, pk__in=unique_ids))
    if len(groups) != len(unique_ids):
        found = {group.pk for group in groups}
        message = _("Unknown group ids: %(ids)s.") % {"ids": ", ".join(str(i) for i in unique_ids if i not in found)}
        raise ValidationFailed(message, fields={"group_ids": [message]})
    if not actor.is_org_admin:
        if not groups:
            raise NotAllowed(_("Only admins may ask the whole organisation; choose your groups."))
        if not {group.pk for group in groups} <= led_group_ids(actor):
            raise NotAllowed(_("Leaders ask their own groups only."))
    return groups


# --- Create, change, delete ------------------------------------------------------------------


def _check_window(*, opens_at: dt.datetime, closes_at: dt.datetime, every: str, now: dt.datetime) -> None:
    if closes_at <= opens_at:
        message = _("A survey closes after it opens.")
        raise ValidationFailed(message, fields={"closes_at": [message]})
    if closes_at <= now:
        message = _("The closing time has passed.")
        raise ValidationFailed(message, fields={"closes_at": [message]})
    if every and closes_at - opens_at > MAX_WINDOW[every]:
        message = _("A recurring survey closes before its next instance opens (at most %(days)d days).") % {"days": MAX_WINDOW[every].days}
        raise ValidationFailed(message, fields={"closes_at": [message]})


def _questions_create(*, survey: Survey, questions: list[dict[str, Any]]) -> None:
    for position, spec in enumerate(questions):
        question = SurveyQuestion.objects.create(
            survey=survey,
            position=position,
            kind=spec["kind"],
            text=clean_text(spec["text"], field=f"questions[{position}].text", max_length=500),
            required=spec.get("required", True),
        )
        SurveyOption.objects.bulk_create(
            SurveyOption(question=question, position=index, text=clean_text(text, field=f"questions[{position}].options", max_length=200))
            for index, text in enumerate(spec.get("options") or [])
        )


def survey_create(
    *,
    actor: User,
    title: str,
    questions: list[dict[str, Any]],
    closes_at: dt.datetime,
    intro: str = "",
    group_ids: list[int] | None = None,
    anonymous: bool = True,
    opens_at: dt.datetime | None = None,
    recurrence: dict[str, str] | None = None,
    now: dt.datetime | None = None,
) -> Survey:
    now = now or timezone.now()
    groups = _groups_for(actor=actor, group_ids=group_ids or [])
    opens_at = opens_at or now
    every = (recurrence or {}).get("every", "")
    _check_window(opens_at=opens_at, closes_at=closes_at, every=every, now=now)
    with transaction.atomic():
        survey = Survey.objects.create(
            organization_id=actor.organization_id,
            created_by=actor,
            title=clean_text(title, field="title", max_length=200),
            intro=clean_text(intro, field="intro", allow_empty=True),
            anonymous=anonymous,
            every=every,
            opens_at=opens_at,
            closes_at=closes_at,
        )
        survey.groups.set(groups)
        _questions_create(survey=survey, questions=questions)
        instance = new_instance(survey=survey, number=1)
        if instance.opens_at <= now:
            instance_open(instance=instance, now=now)
    return survey


def _first_instance(survey: Survey) -> SurveyInstance:
    return SurveyInstance.objects.select_for_update().get(survey=survey, number=1)


def _ensure_unopened(*, survey: Survey, now: dt.datetime) -> SurveyInstance:
    instance = _first_instance(survey)
    if instance.opened_at is not None or instance.opens_at <= now:
        raise Conflict(_("The survey has opened: it can no longer be changed or deleted."), code="survey_open")
    return instance


def survey_update(*, actor: User, survey: Survey, now: dt.datetime | None = None, **changes: Any) -> Survey:
    if not may_manage(user=actor, survey=survey):
        raise NotAllowed(_("Only its creator and admins may change a survey."))
    now = now or timezone.now()
    with transaction.atomic():
        survey = Survey.objects.select_for_update().select_related("organization").get(pk=survey.pk)
        instance = _ensure_unopened(survey=survey, now=now)
        if "group_ids" in changes:
            survey.groups.set(_groups_for(actor=actor, group_ids=changes["group_ids"] or []))
        if "title" in changes:
            survey.title = clean_text(changes["title"], field="title", max_length=200)
        if "intro" in changes:
            survey.intro = clean_text(changes["intro"], field="intro", allow_empty=True)
        if "anonymous" in changes:
            survey.anonymous = changes["anonymous"]
        if "recurrence" in changes:
            survey.every = (changes["recurrence"] or {}).get("every", "")
        if "opens_at" in changes:
            survey.opens_at = changes["opens_at"] or now
        if "closes_at" in changes:
            survey.closes_at = changes["closes_at"]
        _check_window(opens_at=survey.opens_at, closes_at=survey.closes_at, every=survey.every, now=now)
        survey.save()
        if "questions" in changes:
            survey.questions.all().delete()
            _questions_create(survey=survey, questions=changes["questions"])
        instance.opens_at, instance.closes_at = survey.opens_at, survey.closes_at
        instance.remind_at = remind_at(survey.opens_at, survey.closes_at)
        instance.save(update_fields=["opens_at", "closes_at", "remind_at"])
        if instance.opens_at <= now:
            instance_open(instance=instance, now=now)
    return survey


def survey_delete(*, actor: User, survey: Survey, now: dt.datetime | None = None) -> None:
    if not may_manage(user=actor, survey=survey):
        raise NotAllowed(_("Only its creator and admins may delete a survey."))
    with transaction.atomic():
        survey = Survey.objects.select_for_update().get(pk=survey.pk)
        _ensure_unopened(survey=survey, now=now or timezone.now())
        survey.delete()


# --- Answering ---------------------------------------------------------------------------------


# An opened survey's questions, by (survey, instance): once an instance has opened, a survey can
# no longer be edited (_ensure_unopened), so every submission to a 100,000-person survey would
# read and build the same questions and options again (S1). Read-only once built; bounded.
_OPEN_QUESTIONS: dict[tuple[int, int, Any], dict[int, SurveyQuestion]] = {}
_OPEN_QUESTIONS_MAX = 256


def _questions(*, survey: Survey, instance_id: int | None) -> dict[int, SurveyQuestion]:
    key = (survey.pk, instance_id, survey.created_at)  # created_at: a reused id (SQLite, tests) is another survey
    questions = _OPEN_QUESTIONS.get(key) if instance_id is not None else None
    if questions is None:
        questions = {q.pk: q for q in survey.questions.prefetch_related("options")}
        if instance_id is not None:
            if len(_OPEN_QUESTIONS) >= _OPEN_QUESTIONS_MAX:
                _OPEN_QUESTIONS.clear()
            _OPEN_QUESTIONS[key] = questions
    return questions


def _answer_rows(*, survey: Survey, answers: list[dict[str, Any]], instance_id: int | None = None) -> list[SurveyAnswer]:
    """Every answer checked against its question, all errors reported at once (by `answers[i]`).
    `instance_id`: the opened instance answered (its questions can no longer change)."""
    questions = _questions(survey=survey, instance_id=instance_id)
    errors: dict[str, list[str]] = {}
    rows: list[SurveyAnswer] = []
    seen: set[int] = set()

    def fail(key: str, message: str) -> None:
        errors.setdefault(key, []).append(message)

    for index, answer in enumerate(answers):
        key = f"answers[{index}]"
        question = questions.get(answer["question_id"])
        if question is None:
            fail(f"{key}.question_id", _("Not a question of this survey."))
            continue
        if question.pk in seen:
            fail(f"{key}.question_id", _("This question is answered twice."))
            continue
        seen.add(question.pk)
        value, option_ids, text = answer.get("value"), answer.get("option_ids"), answer.get("text")
        if question.kind in SCALE_RANGES:
            low, high = SCALE_RANGES[question.kind]
            if option_ids or text or value is None or not low <= value <= high:
                fail(f"{key}.value", _("Answer with a whole number from %(low)d to %(high)d.") % {"low": low, "high": high})
                continue
            rows.append(SurveyAnswer(question=question, value=value))
        elif question.kind in CHOICE_KINDS:
            valid = {option.pk for option in question.options.all()}
            chosen = list(dict.fromkeys(option_ids or []))
            if value is not None or text or not chosen:
                fail(f"{key}.option_ids", _("Choose from the question's options."))
            elif not set(chosen) <= valid:
                fail(f"{key}.option_ids", _("Unknown option ids: %(ids)s.") % {"ids": ", ".join(str(i) for i in chosen if i not in valid)})
            elif question.kind == QuestionKind.SINGLE_CHOICE and len(chosen) != 1:
                fail(f"{key}.option_ids", _("Choose exactly one option."))
            else:
                rows.extend(SurveyAnswer(question=question, option_id=option_id) for option_id in chosen)
        else:
            if value is not None or option_ids:
                fail(f"{key}.text", _("Answer this question with a text."))
                continue
            try:
                cleaned = clean_text(text, field=f"{key}.text", allow_empty=True)
            except ValidationFailed as error:
                errors.update(error.fields)
                continue
            if cleaned:
                rows.append(SurveyAnswer(question=question, text=cleaned))
            else:
                seen.discard(question.pk)  # an empty text is no answer: a required one is missing below
    for question in questions.values():
        if question.required and question.pk not in seen:
            errors.setdefault("answers", []).append(_("Question %(n)d is required.") % {"n": question.position + 1})
    if errors:
        raise ValidationFailed(_("Some answers are not valid."), fields=errors)
    return rows


def _may_see_unasked(*, user: User, survey: Survey) -> bool:
    """Outside its audience, the creator and admins still see a survey (the others: 404)."""
    return user.is_org_admin or survey.created_by_id == user.pk


def _participate(*, instance_id: int, user: User) -> bool:
    """Record that `user` answered the instance; False if they already had (no savepoint, one statement).

    The unique (instance, user) decides between concurrent submissions: the second waits for the
    first's commit and then inserts nothing.
    """
    table = SurveyParticipation._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (instance_id, user_id) VALUES (%s, %s) ON CONFLICT (instance_id, user_id) DO NOTHING RETURNING id",  # noqa: S608
            [instance_id, user.pk],
        )
        return cursor.fetchone() is not None


@dataclass(frozen=True)
class Answering:
    """Who may answer what now: the open instance, and the groups the answers will be tagged with."""

    instance_id: int
    group_ids: list[int]


def survey_answering(*, user: User, survey: Survey, now: dt.datetime | None = None) -> Answering:
    """May `user` answer `survey` now? 404 outside its audience (403 for its creator and admins), 409 when not open.

    Plain lookups, no subqueries: this is the hot path of a 100,000-person survey (S1), and
    Django spends more time compiling an Exists than PostgreSQL running it.
    """
    now = now or timezone.now()
    if not user.is_active or user.organization_id != survey.organization_id:
        raise NotFound()
    my_groups = list(Membership.objects.filter(user=user).values_list("group_id", flat=True))
    audience_groups = survey_group_ids(survey)
    latest = SurveyInstance.objects.filter(survey=survey, opens_at__lte=now).order_by("-number").values_list("pk", "closes_at").first()
    if audience_groups and not set(audience_groups) & set(my_groups):
        if latest is None or not _may_see_unasked(user=user, survey=survey):
            raise NotFound()
        raise NotAllowed(_("This survey does not ask you."))
    if latest is None and not _may_see_unasked(user=user, survey=survey):
        raise NotFound()  # not open yet: its audience does not see it
    if latest is None or latest[1] <= now:
        raise Conflict(_("This survey is not open."), code="survey_not_open")
    return Answering(instance_id=latest[0], group_ids=my_groups)


def survey_respond(
    *,
    user: User,
    survey: Survey,
    answers: list[dict[str, Any]],
    now: dt.datetime | None = None,
    answering: Answering | None = None,
) -> None:
    """Submit `user`'s answers to the survey's open instance, once (409 `already_submitted` after).

    `answering`: what `survey_answering` found (the view asks before it reads the body).
    """
    now = now or timezone.now()
    answering = answering or survey_answering(user=user, survey=survey, now=now)
    instance_id = answering.instance_id
    rows = _answer_rows(survey=survey, answers=answers, instance_id=instance_id)
    with transaction.atomic():
        if not _participate(instance_id=instance_id, user=user):
            raise Conflict(_("You have already answered this survey."), code="already_submitted")
        response = SurveyResponse.objects.create(
            instance_id=instance_id,
            # The day on the organisation's calendar: no finer time that could be matched to a request.
            submitted_on=now.astimezone(zoneinfo.ZoneInfo(survey.organization.timezone)).date(),
            respondent=None if survey.anonymous else user,
        )
        SurveyResponseGroup.objects.bulk_create(
            SurveyResponseGroup(response=response, group_id=group_id, instance_id=instance_id) for group_id in answering.group_ids
        )
        for row in rows:
            row.response, row.instance_id = response, instance_id
        SurveyAnswer.objects.bulk_create(rows)
