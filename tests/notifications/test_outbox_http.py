"""The outbox seen from the API: a post written while the broker is down."""

from __future__ import annotations

import time

import pytest

from notifications import tasks
from notifications.models import Notification, OutboxEvent
from tests.notifications.support import broker_unreachable, fast_password_hashing, listen, sweep_later  # noqa: F401


@pytest.fixture(autouse=True)
def _broker_trusted_again():
    tasks._broker_unavailable_until = 0.0
    yield
    tasks._broker_unavailable_until = 0.0


def test_post_answers_201_quickly_with_the_broker_down_and_the_sweeper_delivers_once_per_recipient(
    api, leader, member, group, settings, django_capture_on_commit_callbacks
):
    org_listener = listen(f"org.{leader.organization_id}")
    client = api(leader)
    client.get("/api/v1/notifications/unread-count")  # token lookups out of the timing
    with broker_unreachable(settings), django_capture_on_commit_callbacks(execute=True):
        started = time.monotonic()
        response = client.post("/api/v1/posts", {"body": f"Fire drill at noon @[user:{member.pk}]"})
        took = time.monotonic() - started
    assert response.status_code == 201, response.content
    assert took < 1.0, took
    event = OutboxEvent.objects.get()
    assert event.type == "post.created" and event.delivered_at is None
    assert not Notification.objects.exists()

    assert sweep_later() == 1
    assert sweep_later() == 0
    [frame] = org_listener()
    assert frame["id"] == str(event.pk)
    assert list(Notification.objects.values_list("recipient_id", "reason")) == [(member.pk, "mention")]


def test_a_rejected_post_emits_nothing(api, employee, other_org, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = api(employee).post("/api/v1/posts", {"body": "Hi", "group_ids": [999_999]})
    assert response.status_code == 400
    assert callbacks == []
    assert not OutboxEvent.objects.exists()
