"""survey.opened / survey.reminder / survey.closed through the real event path (outbox → inbox → push)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from notifications.models import Notification, NotificationPreference, OutboxEvent, PushDelivery
from tests.factories import AdminFactory, GroupFactory, LeaderFactory, MembershipFactory, UserFactory
from tests.notifications.push_factories import DeviceFactory
from tests.voice.survey_helpers import answers_for, make_survey
from voice.services.surveys import survey_respond, surveys_tick

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(org):
    group = GroupFactory(organization=org)
    leader = LeaderFactory(organization=org)
    MembershipFactory(group=group, user=leader, role="manager")
    people = [MembershipFactory(group=group, user=UserFactory(organization=org)).user for _ in range(3)]
    return {"group": group, "leader": leader, "people": people, "outsider": UserFactory(organization=org)}


def _inbox(reason: str) -> set[int]:
    return set(Notification.objects.filter(reason=reason).values_list("recipient_id", flat=True))


def test_opening_tells_the_audience_once(team, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        survey = make_survey(team["leader"], group_ids=[team["group"].pk], opens_in=dt.timedelta(hours=1))
    assert not OutboxEvent.objects.filter(type="survey.opened").exists()
    later = timezone.now() + dt.timedelta(hours=1, minutes=1)
    with django_capture_on_commit_callbacks(execute=True):
        surveys_tick(now=later)
        surveys_tick(now=later)  # the beat may fire twice
    [event] = OutboxEvent.objects.filter(type="survey.opened")
    assert event.group_ids == [team["group"].pk] and not event.org_wide
    assert event.payload["survey_id"] == survey.pk and event.payload["title"] == "Pulse" and event.payload["question_count"] == 5
    assert _inbox("survey") == {team["leader"].pk, *(p.pk for p in team["people"])}


def test_an_org_wide_survey_open_now_is_announced_at_once(org, django_capture_on_commit_callbacks):
    admin_user = AdminFactory(organization=org)
    everyone = UserFactory.create_batch(3, organization=org)
    with django_capture_on_commit_callbacks(execute=True):
        make_survey(admin_user)
    [event] = OutboxEvent.objects.filter(type="survey.opened")
    assert event.org_wide
    assert _inbox("survey") >= {p.pk for p in everyone}


def test_reminder_only_to_non_respondents_only_once_and_quiet_hours_hold_the_push(team, django_capture_on_commit_callbacks):
    answered, waiting, sleeping = team["people"]
    for person in team["people"]:
        DeviceFactory(user=person)
    local = dt.datetime.now(ZoneInfo("Europe/Amsterdam"))
    NotificationPreference.objects.create(
        user=sleeping, quiet_hours_start=(local - dt.timedelta(hours=1)).time(), quiet_hours_end=(local + dt.timedelta(hours=3)).time()
    )
    with django_capture_on_commit_callbacks(execute=True):
        survey = make_survey(team["leader"], group_ids=[team["group"].pk], days=3)
    survey_respond(user=answered, survey=survey, answers=answers_for(survey))
    PushDelivery.objects.all().delete()
    remind_at = survey.instances.get().remind_at
    with django_capture_on_commit_callbacks(execute=True):
        surveys_tick(now=remind_at - dt.timedelta(minutes=1))
    assert not OutboxEvent.objects.filter(type="survey.reminder").exists()
    with django_capture_on_commit_callbacks(execute=True):
        surveys_tick(now=remind_at + dt.timedelta(minutes=1))
        surveys_tick(now=remind_at + dt.timedelta(hours=2))
    [event] = OutboxEvent.objects.filter(type="survey.reminder")
    assert _inbox("survey_reminder") == {waiting.pk, sleeping.pk, team["leader"].pk}
    # Quiet hours: the sleeper finds it in the inbox, but their phone stays silent.
    pushed = set(PushDelivery.objects.filter(event_id=event.pk).values_list("device__user_id", flat=True))
    assert pushed == {waiting.pk}


def test_no_reminder_when_everyone_answered(team, django_capture_on_commit_callbacks):
    survey = make_survey(team["leader"], group_ids=[team["group"].pk])
    for person in [team["leader"], *team["people"]]:
        survey_respond(user=person, survey=survey, answers=answers_for(survey))
    surveys_tick(now=survey.instances.get().remind_at)
    assert not OutboxEvent.objects.filter(type="survey.reminder").exists()
    assert survey.instances.get().reminded_at is not None


def test_closing_tells_the_creator_once(team, django_capture_on_commit_callbacks):
    survey = make_survey(team["leader"], group_ids=[team["group"].pk], days=1)
    closes_at = survey.instances.get().closes_at
    with django_capture_on_commit_callbacks(execute=True):
        surveys_tick(now=closes_at)
        surveys_tick(now=closes_at + dt.timedelta(minutes=1))
    [event] = OutboxEvent.objects.filter(type="survey.closed")
    assert event.user_ids == [team["leader"].pk]
    assert _inbox("survey_closed") == {team["leader"].pk}
    instance = survey.instances.get()
    assert instance.closed_at is not None and instance.audience_size == 4


def test_a_submission_raises_no_event(team):
    survey = make_survey(team["leader"], group_ids=[team["group"].pk])
    before = OutboxEvent.objects.count()
    survey_respond(user=team["people"][0], survey=survey, answers=answers_for(survey))
    assert OutboxEvent.objects.count() == before
