"""Reach that adds up, "remind now" and the not-yet-acknowledged list as data (#22)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from feed import services
from feed.models import AcknowledgementNudge, PostSeen
from tests.factories import AdminFactory, GroupFactory, LeaderFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def announcement(leader, group):
    return services.post_create(
        author=leader, body="Lees het protocol", kind="announcement", requires_acknowledgement=True, group_ids=[group.pk]
    )


def test_a_colleague_who_joined_later_and_acknowledged_is_counted_at_once(api, leader, group, announcement):
    newcomer = MembershipFactory(group=group).user  # joined after the post went out
    assert api(leader).get(f"/api/v1/posts/{announcement.pk}/reach").json()["audience_count"] == 0
    assert api(newcomer).post(f"/api/v1/posts/{announcement.pk}/acknowledge", {}, format="json").status_code == 200
    reach = api(leader).get(f"/api/v1/posts/{announcement.pk}/reach").json()
    assert (reach["audience_count"], reach["seen_count"], reach["acknowledged_count"]) == (1, 1, 1)
    assert reach["by_group"][0]["acknowledged_count"] == 1
    assert PostSeen.objects.filter(post=announcement, user=newcomer).exists()  # acknowledged is seen


def test_the_author_is_not_in_their_own_audience(api, org, leader):
    UserFactory(organization=org)
    post = services.post_create(author=leader, body="Lees dit", kind="announcement", requires_acknowledgement=True)
    services.post_acknowledge(user=leader, post=post)
    reach = api(leader).get(f"/api/v1/posts/{post.pk}/reach").json()
    assert (reach["audience_count"], reach["acknowledged_count"]) == (1, 0)
    ids = [row["user"]["id"] for row in api(leader).get(f"/api/v1/posts/{post.pk}/reach/not-acknowledged").json()["results"]]
    assert leader.pk not in ids


# --- The not-yet-acknowledged list ----------------------------------------------------------------


def test_the_not_acknowledged_list_is_the_audience_minus_who_acknowledged(api, org, leader, group, announcement):
    people = [MembershipFactory(group=group).user for _ in range(3)]
    # They were there when it was published.
    from accounts.models import Membership

    Membership.objects.filter(group=group).update(created_at=announcement.published_at - timedelta(days=1))
    services.post_acknowledge(user=people[0], post=announcement)
    services.posts_seen(user=people[1], post_ids=[announcement.pk])
    response = api(leader).get(f"/api/v1/posts/{announcement.pk}/reach/not-acknowledged")
    assert response.status_code == 200
    rows = response.json()["results"]
    expected = sorted(people[1:], key=lambda person: (person.name, person.pk))
    assert [row["user"]["id"] for row in rows] == [person.pk for person in expected]
    seen = {row["user"]["id"]: row["seen_at"] for row in rows}
    assert seen[people[1].pk] is not None and seen[people[2].pk] is None


def test_only_leaders_and_admins_read_the_list(api, org, group, announcement):
    member = MembershipFactory(group=group).user
    assert api(member).get(f"/api/v1/posts/{announcement.pk}/reach/not-acknowledged").status_code == 403
    assert api(AdminFactory()).get(f"/api/v1/posts/{announcement.pk}/reach/not-acknowledged").status_code == 404


@pytest.mark.parametrize("page_size", [2, 20])
def test_the_not_acknowledged_list_is_a_fixed_number_of_queries(api, org, leader, django_assert_num_queries, page_size):
    post = services.post_create(author=leader, body="Lees", kind="announcement", requires_acknowledgement=True)
    staff = [UserFactory(organization=org, date_joined=timezone.now() - timedelta(days=1)) for _ in range(21)]
    services.posts_seen(user=staff[0], post_ids=[post.pk])
    client = api(leader)
    client.get("/api/v1/me")
    with django_assert_num_queries(3):  # token, post, the page with seen_at and avatars
        response = client.get(f"/api/v1/posts/{post.pk}/reach/not-acknowledged", {"page_size": page_size})
    assert len(response.json()["results"]) == page_size


# --- Remind now -----------------------------------------------------------------------------------


def test_remind_now_notifies_who_has_not_acknowledged_once_an_hour(api, org, leader, events):
    people = [UserFactory(organization=org, date_joined=timezone.now() - timedelta(days=1)) for _ in range(3)]
    post = services.post_create(author=leader, body="Lees", kind="announcement", requires_acknowledgement=True)
    services.post_acknowledge(user=people[0], post=post)
    events.clear()
    client = api(leader)
    response = client.post(f"/api/v1/posts/{post.pk}/remind")
    assert response.status_code == 200, response.content
    assert response.json()["reminded_count"] == 2 and response.json()["next_remind_at"]
    [event] = events
    assert event["type"] == "post.updated" and sorted(event["user_ids"]) == sorted(person.pk for person in people[1:])
    assert event["payload"]["reminder"] == {"deadline": None, "offset_minutes": None}
    assert {entry["reason"] for entry in event["addressed"]} == {"announcement"}
    again = client.post(f"/api/v1/posts/{post.pk}/remind")
    assert again.status_code == 429 and again.json()["error"]["code"] == "throttled"
    assert 3500 <= int(again["Retry-After"]) <= 3601
    assert len(events) == 1 and AcknowledgementNudge.objects.count() == 1
    AcknowledgementNudge.objects.update(sent_at=timezone.now() - timedelta(minutes=61))
    assert client.post(f"/api/v1/posts/{post.pk}/remind").status_code == 200


def test_who_may_remind(api, org, leader, group, announcement):
    manager = MembershipFactory(group=group, role="manager", user=LeaderFactory(organization=org)).user
    assert api(MembershipFactory(group=group).user).post(f"/api/v1/posts/{announcement.pk}/remind").status_code == 403
    assert api(LeaderFactory(organization=org)).post(f"/api/v1/posts/{announcement.pk}/remind").status_code == 404  # not its audience
    org_wide = services.post_create(author=leader, body="Iedereen", kind="announcement", requires_acknowledgement=True)
    assert api(LeaderFactory(organization=org)).post(f"/api/v1/posts/{org_wide.pk}/remind").status_code == 403  # not the author
    assert api(AdminFactory()).post(f"/api/v1/posts/{announcement.pk}/remind").status_code == 404
    assert api(manager).post(f"/api/v1/posts/{announcement.pk}/remind").status_code == 200
    other = GroupFactory(organization=org)
    plain = services.post_create(author=leader, body="Nieuws", kind="announcement", group_ids=[other.pk])
    response = api(leader).post(f"/api/v1/posts/{plain.pk}/remind")
    assert response.status_code == 400 and response.json()["error"]["code"] == "acknowledgement_not_required"


def test_nobody_left_to_remind_sends_nothing_and_does_not_count(api, leader, announcement, events):
    events.clear()
    response = api(leader).post(f"/api/v1/posts/{announcement.pk}/remind")
    assert response.status_code == 200 and response.json()["reminded_count"] == 0
    assert events == [] and not AcknowledgementNudge.objects.exists()


def test_a_retried_remind_with_its_idempotency_key_replays_the_answer(api, org, leader, events):
    UserFactory(organization=org, date_joined=timezone.now() - timedelta(days=1))
    post = services.post_create(author=leader, body="Lees", kind="announcement", requires_acknowledgement=True)
    events.clear()
    client = api(leader)
    first = client.post(f"/api/v1/posts/{post.pk}/remind", format="json", HTTP_IDEMPOTENCY_KEY="remind-1")
    retry = client.post(f"/api/v1/posts/{post.pk}/remind", format="json", HTTP_IDEMPOTENCY_KEY="remind-1")
    assert first.status_code == retry.status_code == 200 and retry["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json() and len(events) == 1


def test_a_retried_reply_creates_one_comment(api, org, leader, employee):
    post = services.post_create(author=leader, body="Wie helpt?")
    parent = services.comment_create(author=leader, post=post, body="Graag reacties")
    body = {"body": "Ik", "parent_id": parent.pk}
    client = api(employee)
    first = client.post(f"/api/v1/posts/{post.pk}/comments", body, format="json", HTTP_IDEMPOTENCY_KEY="reply-1")
    retry = client.post(f"/api/v1/posts/{post.pk}/comments", body, format="json", HTTP_IDEMPOTENCY_KEY="reply-1")
    assert first.status_code == retry.status_code == 201 and retry.json()["id"] == first.json()["id"]
    assert post.comments.filter(parent=parent).count() == 1
