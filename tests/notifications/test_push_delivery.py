"""push_event → batch tasks → firebase-admin → fake FCM, end to end."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from notifications import push
from notifications.models import Device, Notification, NotificationPreference, PushDelivery, PushStatus
from notifications.push import planning
from notifications.tasks import push_send_batch_task
from tests.factories import GroupFactory, LeaderFactory, MembershipFactory, UserFactory
from tests.notifications.push_factories import DeviceFactory, OutboxEventFactory, announcement, devices_for_many

pytestmark = pytest.mark.django_db


@pytest.fixture
def author(org):
    return LeaderFactory(organization=org, name="Anna de Vries")


def run(event, capture):
    with capture(execute=True):
        push.push_event(event=event)


def test_announcement_payload_per_platform_with_badge_channel_and_collapse_key(fake_fcm, org, author, django_capture_on_commit_callbacks):
    reader = UserFactory(organization=org, language="en")
    device = DeviceFactory(user=reader, platform="ios")
    authors_phone = DeviceFactory(user=author)
    event = announcement(organization=org, author=author, post_id=41)
    for _ in range(3):
        Notification.objects.create(organization=org, recipient=reader, event_id=uuid.uuid4(), type="post.created", reason="mention")
    Notification.objects.create(organization=org, recipient=reader, event_id=uuid.uuid4(), type="x", reason="kudos", read_at=timezone.now())

    run(event, django_capture_on_commit_callbacks)

    [received] = fake_fcm.messages_for(device.token)
    message = received.message
    assert message["notification"] == {"title": "Announcement from Anna de Vries", "body": "Store opens at 9 tomorrow"}
    assert message["data"] == {
        "event_id": str(event.pk),
        "event_type": "post.created",
        "push_type": "announcement",
        "link": "posts/41",
        "post_id": "41",
        "actor_id": str(author.pk),
    }
    assert message["apns"]["payload"]["aps"]["badge"] == 3  # unread inbox rows only
    assert message["android"]["notification"]["channel_id"] == "announcements"
    assert message["android"]["collapse_key"] == "post-41"
    assert message["apns"]["headers"]["apns-collapse-id"] == "post-41"
    assert message["android"]["priority"] == "normal"
    assert PushDelivery.objects.get().status == PushStatus.SENT
    assert fake_fcm.messages_for(authors_phone.token) == []  # nobody is buzzed about their own post


def test_texts_follow_each_recipients_language(fake_fcm, org, author, django_capture_on_commit_callbacks):
    dutch = DeviceFactory(user=UserFactory(organization=org, language="nl"))
    english = DeviceFactory(user=UserFactory(organization=org, language="en"))
    org_default = DeviceFactory(user=UserFactory(organization=org, language=""))  # org default_language is "en" in the factory
    org.default_language = "nl"
    org.save()

    run(announcement(organization=org, author=author, ack=True), django_capture_on_commit_callbacks)

    assert fake_fcm.messages_for(dutch.token)[0].message["notification"] == {
        "title": "Lees en bevestig",
        "body": "Anna de Vries: Store opens at 9 tomorrow",
    }
    assert fake_fcm.messages_for(english.token)[0].message["notification"]["title"] == "Please read and confirm"
    assert fake_fcm.messages_for(org_default.token)[0].message["notification"]["title"] == "Lees en bevestig"


def test_personal_pushes_use_their_reason(fake_fcm, org, author, django_capture_on_commit_callbacks):
    mentioned = DeviceFactory(user=UserFactory(organization=org, language="nl"))
    event = OutboxEventFactory(
        organization=org,
        type="comment.created",
        group_ids=[],
        payload={"post_id": 5, "comment_id": 9, "author": {"id": author.pk, "name": author.name}, "excerpt": "@Piet kun jij dit zien?"},
        addressed=[{"user_id": mentioned.user_id, "reason": "mention"}],
    )

    run(event, django_capture_on_commit_callbacks)

    [received] = fake_fcm.messages_for(mentioned.token)
    assert received.message["notification"] == {"title": "Anna de Vries noemde je", "body": "@Piet kun jij dit zien?"}
    assert received.message["data"]["link"] == "posts/5/comments/9"
    assert received.message["data"]["comment_id"] == "9"
    assert received.message["android"]["notification"]["channel_id"] == "mentions"


def test_batches_of_at_most_500_devices_one_task_each(fake_fcm, org, author, django_capture_on_commit_callbacks):
    devices_for_many(organization=org, count=1001)
    calls = []
    original = push_send_batch_task.apply_async

    def record(*args, **kwargs):
        calls.append(len(kwargs["args"][1]))
        return original(*args, **kwargs)

    with mock.patch.object(push_send_batch_task, "apply_async", side_effect=record):
        run(announcement(organization=org, author=author), django_capture_on_commit_callbacks)

    assert calls == [500, 500, 1]
    assert len(fake_fcm.delivered) == 1001
    assert len({m.token for m in fake_fcm.delivered}) == 1001


def test_dead_tokens_are_deleted(fake_fcm, org, author, django_capture_on_commit_callbacks):
    gone = DeviceFactory(user=UserFactory(organization=org))
    garbage = DeviceFactory(user=UserFactory(organization=org))
    fine = DeviceFactory(user=UserFactory(organization=org))
    fake_fcm.fail(gone.token, "UNREGISTERED")
    fake_fcm.fail(garbage.token, "INVALID_ARGUMENT")

    run(announcement(organization=org, author=author), django_capture_on_commit_callbacks)

    assert list(Device.objects.filter(user__organization=org)) == [fine]
    assert len(fake_fcm.messages_for(fine.token)) == 1


def test_transient_errors_are_retried_until_they_succeed(fake_fcm, org, author, django_capture_on_commit_callbacks):
    busy = DeviceFactory(user=UserFactory(organization=org))
    broken = DeviceFactory(user=UserFactory(organization=org))
    quota = DeviceFactory(user=UserFactory(organization=org))
    fake_fcm.fail(busy.token, "UNAVAILABLE", times=2)
    fake_fcm.fail(broken.token, "INTERNAL", times=1)
    fake_fcm.fail(quota.token, "QUOTA_EXCEEDED", times=1, retry_after=1)

    run(announcement(organization=org, author=author), django_capture_on_commit_callbacks)

    for device in (busy, broken, quota):
        assert len(fake_fcm.messages_for(device.token)) == 1
    attempts = dict(PushDelivery.objects.values_list("device_id", "attempts"))
    assert attempts == {busy.pk: 3, broken.pk: 2, quota.pk: 2}
    assert set(PushDelivery.objects.values_list("status", flat=True)) == {PushStatus.SENT}


def test_quota_errors_wait_at_least_retry_after(fake_fcm, org, author, django_capture_on_commit_callbacks):
    device = DeviceFactory(user=UserFactory(organization=org))
    fake_fcm.fail(device.token, "QUOTA_EXCEEDED", times=1, retry_after=90)
    event = announcement(organization=org, author=author)
    scheduled = []
    original = push_send_batch_task.apply_async

    def record(*args, **kwargs):
        scheduled.append(kwargs.get("countdown"))
        if kwargs.get("countdown") is None:
            return original(*args, **kwargs)
        return None  # keep the retry for later: this test looks at its delay

    with mock.patch.object(push_send_batch_task, "apply_async", side_effect=record):
        run(event, django_capture_on_commit_callbacks)

    assert scheduled[0] is None
    assert 90 <= scheduled[1] <= push.BACKOFF_CAP_SECONDS
    assert PushDelivery.objects.get().status == PushStatus.QUEUED
    # The delayed retry, when it comes, sends it.
    push.push_send_batch(event_id=str(event.pk), device_ids=[device.pk])
    assert len(fake_fcm.messages_for(device.token)) == 1


def test_retries_give_up_after_max_attempts(fake_fcm, org, author, settings, django_capture_on_commit_callbacks):
    settings.PUSH_MAX_ATTEMPTS = 3
    device = DeviceFactory(user=UserFactory(organization=org))
    fake_fcm.fail(device.token, "UNAVAILABLE")

    run(announcement(organization=org, author=author), django_capture_on_commit_callbacks)

    delivery = PushDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == (PushStatus.FAILED, 3)
    assert "Unavailable" in delivery.last_error
    assert Device.objects.filter(pk=device.pk).exists()  # a busy server says nothing about the token


def test_exactly_one_push_per_event_and_device_across_retries_and_sweeps(fake_fcm, org, author, django_capture_on_commit_callbacks):
    devices = [DeviceFactory(user=UserFactory(organization=org)) for _ in range(3)]
    fake_fcm.fail(devices[0].token, "UNAVAILABLE", times=1)
    event = announcement(organization=org, author=author)

    run(event, django_capture_on_commit_callbacks)
    # The outbox sweeper re-delivers the whole event, a broker re-delivers a batch task,
    # and our own sweeper runs with every lease expired.
    run(event, django_capture_on_commit_callbacks)
    push_send_batch_task.apply_async(args=(str(event.pk), [d.pk for d in devices]))
    with django_capture_on_commit_callbacks(execute=True):
        push.push_deliveries_sweep(now=timezone.now() + timedelta(hours=1), older_than=timedelta(0))

    for device in devices:
        assert len(fake_fcm.messages_for(device.token)) == 1
    assert PushDelivery.objects.count() == 3


def test_a_worker_that_died_mid_send_is_swept_after_its_lease(fake_fcm, org, author, django_capture_on_commit_callbacks):
    device = DeviceFactory(user=UserFactory(organization=org))
    event = announcement(organization=org, author=author)
    delivery = PushDelivery.objects.create(
        event_id=event.pk, device=device, status=PushStatus.SENDING, lease_until=timezone.now() + timedelta(minutes=3)
    )

    assert push.push_deliveries_sweep(older_than=timedelta(0)) == 0  # its worker may still be sending
    PushDelivery.objects.filter(pk=delivery.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert push.push_deliveries_sweep(older_than=timedelta(0)) == 1

    assert len(fake_fcm.messages_for(device.token)) == 1


def _quiet_now(user_tz: str) -> dict:
    local = datetime.now(ZoneInfo(user_tz))
    return {"quiet_hours_start": (local - timedelta(hours=1)).time(), "quiet_hours_end": (local + timedelta(hours=1)).time()}


def test_quiet_hours_hold_back_pushes_except_must_read_announcements(fake_fcm, org, author, django_capture_on_commit_callbacks):
    sleeper = UserFactory(organization=org, timezone="Asia/Tokyo")
    device = DeviceFactory(user=sleeper)
    NotificationPreference.objects.create(user=sleeper, **_quiet_now("Asia/Tokyo"))
    awake = DeviceFactory(user=UserFactory(organization=org))

    run(announcement(organization=org, author=author, post_id=1), django_capture_on_commit_callbacks)
    run(announcement(organization=org, author=author, post_id=2, ack=True), django_capture_on_commit_callbacks)

    [must_read] = fake_fcm.messages_for(device.token)
    assert must_read.message["data"]["post_id"] == "2"
    assert must_read.message["data"]["requires_acknowledgement"] == "true"
    assert must_read.message["android"]["priority"] == "high"
    assert must_read.message["android"]["notification"]["channel_id"] == "announcements_required"
    assert must_read.message["apns"]["headers"]["apns-priority"] == "10"
    assert len(fake_fcm.messages_for(awake.token)) == 2


def test_quiet_hours_are_read_in_the_users_time_zone(fake_fcm, org, author, django_capture_on_commit_callbacks):
    # Quiet "now" in Tokyo is not quiet in Amsterdam (the organisation's zone).
    traveller = UserFactory(organization=org)
    device = DeviceFactory(user=traveller)
    NotificationPreference.objects.create(user=traveller, **_quiet_now("Asia/Tokyo"))

    run(announcement(organization=org, author=author), django_capture_on_commit_callbacks)

    assert len(fake_fcm.messages_for(device.token)) == 1


def test_switched_off_types_and_muted_groups_are_honoured(fake_fcm, org, author, django_capture_on_commit_callbacks):
    team = GroupFactory(organization=org)
    muter, switcher, keen = (MembershipFactory(group=team).user for _ in range(3))
    devices = {user.pk: DeviceFactory(user=user) for user in (muter, switcher, keen)}
    NotificationPreference.objects.create(user=muter, post=True).muted_groups.add(team)
    NotificationPreference.objects.create(user=switcher, post=False)
    NotificationPreference.objects.create(user=keen, post=True)
    group_post = OutboxEventFactory(
        organization=org,
        type="post.created",
        group_ids=[team.pk],
        payload={"post_id": 3, "kind": "post", "author": {"id": author.pk, "name": author.name}, "excerpt": "Team drinks"},
    )
    mention_in_muted_group = OutboxEventFactory(
        organization=org,
        type="comment.created",
        group_ids=[team.pk],
        payload={"post_id": 3, "comment_id": 4, "author": {"id": author.pk, "name": author.name}},
        addressed=[{"user_id": muter.pk, "reason": "mention"}],
    )

    run(group_post, django_capture_on_commit_callbacks)
    run(mention_in_muted_group, django_capture_on_commit_callbacks)

    assert [m.message["data"]["push_type"] for m in fake_fcm.messages_for(devices[muter.pk].token)] == ["mention"]
    assert fake_fcm.messages_for(devices[switcher.pk].token) == []
    assert len(fake_fcm.messages_for(devices[keen.pk].token)) == 1


def test_logged_out_and_deactivated_people_get_no_push(fake_fcm, api, org, author, admin_user, django_capture_on_commit_callbacks):
    leaving = UserFactory(organization=org)
    logged_out = UserFactory(organization=org)
    stays = DeviceFactory(user=UserFactory(organization=org))
    phone = api(logged_out)
    phone.post("/api/v1/devices", {"token": "logged-out-token", "platform": "android"})
    DeviceFactory(user=leaving, token="deactivated-token")
    with django_capture_on_commit_callbacks(execute=True):
        phone.post("/api/v1/auth/logout")
        api(admin_user).post(f"/api/v1/users/{leaving.pk}/deactivate")

    run(announcement(organization=org, author=author), django_capture_on_commit_callbacks)

    assert {m.token for m in fake_fcm.delivered} == {stays.token}


def test_another_organisations_people_never_get_the_push(fake_fcm, org, other_org, author, django_capture_on_commit_callbacks):
    foreign = DeviceFactory(user=UserFactory(organization=other_org))
    foreign_group = GroupFactory(organization=other_org)
    MembershipFactory(group=foreign_group, user=foreign.user)
    event = OutboxEventFactory(
        organization=org,
        type="post.created",
        group_ids=[foreign_group.pk],
        user_ids=[foreign.user_id],
        payload={"post_id": 1, "kind": "announcement", "author": {"id": author.pk, "name": author.name}},
        addressed=[{"user_id": foreign.user_id, "reason": "mention"}],
    )

    run(event, django_capture_on_commit_callbacks)

    assert fake_fcm.received == []


def test_log_backend_is_the_embedded_default(settings, org, author, caplog, django_capture_on_commit_callbacks):
    assert settings.PUSH_BACKEND == "log"
    device = DeviceFactory(user=UserFactory(organization=org))

    with caplog.at_level("INFO", logger="notifications.push"):
        run(announcement(organization=org, author=author), django_capture_on_commit_callbacks)

    assert f"push (log backend) to device {device.pk}" in caplog.text
    assert PushDelivery.objects.get().status == PushStatus.SENT


def test_planning_reads_only_the_recipients_who_have_a_phone(fake_fcm, org, author, monkeypatch, django_assert_max_num_queries):
    # Planning read the preferences of the whole audience, and its devices in chunks of
    # ID_CHUNK ids, before finding out who has a phone: 1.8 s and 154 statements for an
    # announcement to 100,000 people of whom none had one (bench data set). People without
    # a device cost it nothing now: the statements stay the same however many there are.
    monkeypatch.setattr(planning, "ID_CHUNK", 10)
    # Nor are they read: the audience query itself is limited to people with a phone (reading
    # 100,000 ids to keep a few cost the worker 0.2 s of CPU per announcement, beside D1).
    read = []
    recipients_of = planning.recipients_of
    monkeypatch.setattr(planning, "recipients_of", lambda *args, **kwargs: read.append(recipients_of(*args, **kwargs)) or read[-1])
    with_phone = [UserFactory(organization=org) for _ in range(3)]
    for user in with_phone:
        DeviceFactory(user=user)
    NotificationPreference.objects.create(user=with_phone[0], announcement=False)
    counts = []
    for extra in (0, 60):
        UserFactory.create_batch(extra, organization=org)
        event = announcement(organization=org, author=author, post_id=100 + extra)
        read.clear()
        with django_assert_max_num_queries(40) as captured:
            push.push_event(event=event)
        counts.append(len(captured.captured_queries))
        planned = set(PushDelivery.objects.filter(event_id=event.pk).values_list("device__user_id", flat=True))
        assert planned == {user.pk for user in with_phone[1:]}  # the switched-off one gets none
        assert set(read[0]) == {user.pk for user in with_phone}  # the plan's read; batches read their own
    assert counts[0] == counts[1]
