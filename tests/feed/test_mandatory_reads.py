"""Mandatory reads: deadlines, reminders once per offset, the after-deadline summary, the CSV export."""

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Membership
from feed import services
from feed.models import AcknowledgementEscalation, AcknowledgementReminder
from feed.services.mandatory_reads import mandatory_reads_process
from feed.tasks import mandatory_reads_process_task
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

HOUR = timedelta(hours=1)


@pytest.fixture(autouse=True)
def _offsets(settings):
    settings.FEED_ACK_REMINDER_OFFSETS_MINUTES = [24 * 60, 2 * 60]


@pytest.fixture
def team(org, group):
    manager = MembershipFactory(group=group, role="manager").user
    members = [MembershipFactory(group=group).user for _ in range(4)]
    return manager, members


def mandatory_read(leader, group, *, deadline_in=timedelta(days=3)):
    return services.post_create(
        author=leader,
        body="Lees de nieuwe hygiëneregels en bevestig",
        group_ids=[group.pk],
        kind="announcement",
        requires_acknowledgement=True,
        acknowledgement_deadline=timezone.now() + deadline_in,
    )


def reminders(events):
    return [e for e in events if e["type"] == "post.updated" and "reminder" in e["payload"]]


def test_deadline_is_on_the_card_and_needs_acknowledgement_and_a_future_time(api, leader, group):
    deadline = (timezone.now() + timedelta(days=2)).isoformat()
    card = (
        api(leader)
        .post(
            "/api/v1/posts",
            {"body": "Lees dit", "kind": "announcement", "requires_acknowledgement": True, "acknowledgement_deadline": deadline},
            format="json",
        )
        .json()
    )
    assert card["acknowledgement_deadline"]
    for body in [
        {"body": "x", "acknowledgement_deadline": deadline},
        {"body": "x", "requires_acknowledgement": True, "acknowledgement_deadline": "2001-01-01T00:00:00Z"},
    ]:
        response = api(leader).post("/api/v1/posts", body, format="json")
        assert response.status_code == 400 and "acknowledgement_deadline" in response.json()["error"]["fields"]


def test_reminders_go_once_per_offset_only_to_those_still_to_acknowledge(api, leader, group, team, events):
    manager, members = team
    post = mandatory_read(leader, group)
    api(members[0]).post(f"/api/v1/posts/{post.pk}/acknowledge", {}, format="json")
    Membership.objects.filter(user=members[1], group=group).delete()  # left the audience
    deadline = post.acknowledgement_deadline
    events.clear()

    assert mandatory_reads_process(now=deadline - 30 * HOUR) == {"reminded": 0, "escalated": 0}
    assert mandatory_reads_process(now=deadline - 23 * HOUR)["reminded"] == 1
    assert mandatory_reads_process(now=deadline - 22 * HOUR)["reminded"] == 0  # same offset: never again
    assert mandatory_reads_process_task.delay().get() == {"reminded": 0, "escalated": 0}
    assert mandatory_reads_process(now=deadline - 90 * timedelta(minutes=1))["reminded"] == 1  # the 2-hour offset

    sent = reminders(events)
    assert len(sent) == 2
    expected = sorted([manager.pk, members[2].pk, members[3].pk])
    for event in sent:
        assert event["user_ids"] == expected
        assert event["addressed"] == [{"user_id": user_id, "reason": "announcement"} for user_id in expected]
        assert event["payload"]["id"] == post.pk
    assert [e["payload"]["reminder"]["offset_minutes"] for e in sent] == [1440, 120]
    assert AcknowledgementReminder.objects.filter(post=post).count() == 2


def test_offsets_already_past_at_publishing_send_nothing_and_late_runs_send_one(leader, group, team, events):
    assert len(team[1]) == 4  # an audience to remind
    post = mandatory_read(leader, group, deadline_in=3 * HOUR)  # the 24-hour reminder was due before the post existed
    events.clear()
    assert mandatory_reads_process(now=post.acknowledgement_deadline - 150 * timedelta(minutes=1))["reminded"] == 0
    # The task was down past the 2-hour mark: one reminder, not a burst.
    assert mandatory_reads_process(now=post.acknowledgement_deadline - 10 * timedelta(minutes=1))["reminded"] == 1
    assert len(reminders(events)) == 1


def test_after_the_deadline_author_and_group_managers_get_who_has_not_acknowledged(api, leader, group, team, events):
    manager, members = team
    post = mandatory_read(leader, group)
    for person in members[:2]:
        api(person).post(f"/api/v1/posts/{post.pk}/acknowledge", {}, format="json")
    events.clear()

    assert mandatory_reads_process(now=post.acknowledgement_deadline + timedelta(minutes=1))["escalated"] == 1
    assert mandatory_reads_process(now=post.acknowledgement_deadline + HOUR)["escalated"] == 0

    [event] = [e for e in events if "escalation" in e["payload"]]
    assert event["user_ids"] == sorted([leader.pk, manager.pk])
    summary = event["payload"]["escalation"]
    missing = sorted([manager, *members[2:]], key=lambda user: (user.name, user.pk))
    assert summary["audience_count"] == 5 and summary["acknowledged_count"] == 2 and summary["not_acknowledged_count"] == 3
    assert summary["not_acknowledged"] == [{"id": user.pk, "name": user.name, "avatar": None} for user in missing]
    stored = AcknowledgementEscalation.objects.get(post=post)
    assert stored.not_acknowledged_user_ids == [user.pk for user in missing]


def test_reach_export_lists_the_audience_with_seen_and_acknowledged(api, leader, group, team, employee):
    manager, members = team
    post = mandatory_read(leader, group)
    api(members[0]).post("/api/v1/posts/seen", {"ids": [post.pk]}, format="json")
    tapped = timezone.now() - timedelta(minutes=1)
    api(members[1]).post(f"/api/v1/posts/{post.pk}/acknowledge", {"acknowledged_at": tapped.isoformat()}, format="json")
    members[2].name = "=HYPERLINK(1)"
    members[2].save()

    response = api(leader).get(f"/api/v1/posts/{post.pk}/reach/export")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    by_id = {int(row["user_id"]): row for row in rows}
    assert set(by_id) == {manager.pk, *(m.pk for m in members)}
    assert by_id[members[0].pk]["status"] == "seen" and by_id[members[0].pk]["seen_at"]
    assert by_id[members[1].pk]["status"] == "acknowledged" and by_id[members[1].pk]["acknowledged_at"]
    assert by_id[members[3].pk]["status"] == "not_seen" and by_id[members[3].pk]["groups"] == group.name
    assert by_id[members[2].pk]["name"] == "'=HYPERLINK(1)"
    assert api(members[0]).get(f"/api/v1/posts/{post.pk}/reach/export").status_code == 403
    assert api(employee).get(f"/api/v1/posts/{post.pk}/reach/export").status_code == 404


def test_deactivated_people_are_not_reminded(leader, group, team, events):
    manager, members = team
    post = mandatory_read(leader, group)
    for person in [manager, *members[:3]]:
        person.is_active = False
        person.save()
    events.clear()
    mandatory_reads_process(now=post.acknowledgement_deadline - 20 * HOUR)
    assert [e["user_ids"] for e in reminders(events)] == [[members[3].pk]]


def test_the_beat_schedule_runs_mandatory_reads():
    from django.conf import settings

    assert settings.CELERY_BEAT_SCHEDULE["feed-mandatory-reads"]["task"] == "feed.tasks.mandatory_reads_process_task"
