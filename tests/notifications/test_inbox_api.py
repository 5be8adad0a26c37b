"""The in-app inbox: GET /notifications, unread-count, read."""

from __future__ import annotations

import pytest

from notifications.models import Notification
from tests.factories import UserFactory
from tests.notifications.factories import emit_post
from tests.notifications.support import fast_password_hashing  # noqa: F401


def mention(user, *, post_id: int = 1):
    return emit_post(organization_id=user.organization_id, post_id=post_id, addressed=[{"user_id": user.pk, "reason": "mention"}])


@pytest.fixture
def deliver(django_capture_on_commit_callbacks):
    def run(callable_, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return callable_(*args, **kwargs)

    return run


def test_a_mention_makes_one_notification_in_the_inbox(api, employee, deliver):
    event = deliver(mention, employee)
    response = api(employee).get("/api/v1/notifications")
    assert response.status_code == 200, response.content
    [item] = response.json()["results"]
    assert item["event_id"] == str(event.pk)
    assert item["type"] == "post.created"
    assert item["reason"] == "mention"
    assert item["read"] is False and item["read_at"] is None
    assert item["data"]["id"] == 1 and item["data"]["my_reaction"] is None


def test_unread_count_and_read_by_ids_then_all(api, employee, deliver):
    for post_id in (1, 2, 3):
        deliver(mention, employee, post_id=post_id)
    client = api(employee)
    assert client.get("/api/v1/notifications/unread-count").json() == {"count": 3}
    oldest = Notification.objects.filter(recipient=employee).order_by("id").first()

    response = client.post("/api/v1/notifications/read", {"ids": [oldest.pk]})
    assert response.status_code == 200, response.content
    assert response.json() == {"count": 2}
    assert client.get("/api/v1/notifications?unread=true").json()["results"][-1]["data"]["id"] == 2

    assert client.post("/api/v1/notifications/read", {"all": True}).json() == {"count": 0}
    assert client.get("/api/v1/notifications/unread-count").json() == {"count": 0}
    assert all(item["read"] for item in client.get("/api/v1/notifications").json()["results"])


def test_read_refuses_someone_elses_notification_with_400_on_ids(api, employee, deliver):
    colleague = UserFactory(organization=employee.organization)
    deliver(mention, colleague)
    theirs = Notification.objects.get(recipient=colleague)
    response = api(employee).post("/api/v1/notifications/read", {"ids": [theirs.pk]})
    assert response.status_code == 400
    assert "ids" in response.json()["error"]["fields"]
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_read_needs_ids_or_all(api, employee):
    response = api(employee).post("/api/v1/notifications/read", {})
    assert response.status_code == 400
    assert "ids" in response.json()["error"]["fields"]


def test_the_inbox_shows_only_my_notifications_newest_first(api, employee, other_org, deliver):
    stranger = UserFactory(organization=other_org)
    deliver(mention, stranger)
    deliver(mention, employee, post_id=1)
    deliver(mention, employee, post_id=2)
    results = api(employee).get("/api/v1/notifications").json()["results"]
    assert [item["data"]["id"] for item in results] == [2, 1]


def test_inbox_needs_authentication(api, db):
    assert api().get("/api/v1/notifications").status_code == 401


@pytest.mark.parametrize("size", [2, 12])
def test_inbox_page_query_count_is_fixed(api, employee, deliver, django_assert_num_queries, size):
    for post_id in range(size):
        deliver(mention, employee, post_id=post_id)
    client = api(employee)
    client.get("/api/v1/notifications/unread-count")  # the token's first use writes last_used_at
    # token lookup, one page of notifications (no COUNT)
    with django_assert_num_queries(2):
        response = client.get("/api/v1/notifications?page_size=20")
    assert len(response.json()["results"]) == size


@pytest.mark.parametrize("size", [1, 10])
def test_unread_count_query_count_is_fixed(api, employee, deliver, django_assert_num_queries, size):
    for post_id in range(size):
        deliver(mention, employee, post_id=post_id)
    client = api(employee)
    client.get("/api/v1/notifications")  # the token's first use writes last_used_at
    # token lookup, one indexed COUNT
    with django_assert_num_queries(2):
        assert client.get("/api/v1/notifications/unread-count").json() == {"count": size}
