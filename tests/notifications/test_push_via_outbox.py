"""The real path from a feed write: POST → outbox → delivery task → push → firebase-admin → fake FCM."""

from __future__ import annotations

import pytest

from notifications.models import OutboxEvent, PushDelivery
from tests.factories import LeaderFactory, UserFactory
from tests.notifications.push_factories import DeviceFactory

pytestmark = pytest.mark.django_db


def test_an_announcement_to_acknowledge_reaches_every_phone_once(fake_fcm, api, org, django_capture_on_commit_callbacks):
    leader = LeaderFactory(organization=org, name="Anna de Vries")
    staff = [DeviceFactory(user=UserFactory(organization=org, language=lang)) for lang in ("nl", "en", "nl")]
    leaders_phone = DeviceFactory(user=leader)

    with django_capture_on_commit_callbacks(execute=True):
        response = api(leader).post(
            "/api/v1/posts", {"body": "Nieuwe kassa's vanaf maandag", "kind": "announcement", "requires_acknowledgement": True}
        )
    assert response.status_code == 201, response.content
    post_id = str(response.json()["id"])

    assert OutboxEvent.objects.get().delivered_at is not None
    for device in staff:
        [received] = fake_fcm.messages_for(device.token)
        assert received.message["data"]["post_id"] == post_id
        assert received.message["data"]["link"] == f"posts/{post_id}"
        assert received.message["data"]["requires_acknowledgement"] == "true"
        assert received.message["android"]["priority"] == "high"
        assert received.message["apns"]["payload"]["aps"]["badge"] == 1  # the announcement's own inbox row
    assert fake_fcm.messages_for(staff[0].token)[0].message["notification"]["title"] == "Lees en bevestig"
    assert fake_fcm.messages_for(staff[1].token)[0].message["notification"]["body"] == "Anna de Vries: Nieuwe kassa's vanaf maandag"
    assert fake_fcm.messages_for(leaders_phone.token) == []
    assert PushDelivery.objects.count() == 3


def test_a_comment_on_my_post_pushes_me_a_deep_link_to_it(fake_fcm, api, org, django_capture_on_commit_callbacks):
    leader = LeaderFactory(organization=org)
    author = UserFactory(organization=org, name="Bo", language="en")
    org.org_wide_posting_open = True
    org.save()
    my_phone = DeviceFactory(user=author)
    DeviceFactory(user=leader)
    with django_capture_on_commit_callbacks(execute=True):
        post_id = api(author).post("/api/v1/posts", {"body": "Who swaps a shift on Sunday?"}).json()["id"]

    with django_capture_on_commit_callbacks(execute=True):
        comment = api(leader).post(f"/api/v1/posts/{post_id}/comments", {"body": "I can!"})
    assert comment.status_code == 201, comment.content

    [received] = fake_fcm.messages_for(my_phone.token)  # a plain post pushes nobody by default
    assert received.message["notification"] == {"title": f"{leader.name} commented on your post", "body": "I can!"}
    assert received.message["data"]["link"] == f"posts/{post_id}/comments/{comment.json()['id']}"
    assert received.message["android"]["collapse_key"] == f"comments-{post_id}"
