"""The outbox: events exist exactly when their change commits, and reach everyone once."""

from __future__ import annotations

import dataclasses
import time
from datetime import timedelta
from unittest import mock

import pytest
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from feed.events import POST_CREATED
from notifications import realtime, tasks
from notifications.models import Notification, OutboxEvent
from notifications.services import emit, outbox_event_deliver, outbox_event_push_plan, outbox_prune, outbox_sweep
from tests.factories import GroupFactory, MembershipFactory, UserFactory
from tests.notifications.factories import emit_post, post_card
from tests.notifications.support import (
    broker_unreachable,
    fast_password_hashing,  # noqa: F401
    listen,
    sweep_later,
)


@pytest.fixture(autouse=True)
def _broker_trusted_again():
    tasks._broker_unavailable_until = 0.0
    yield
    tasks._broker_unavailable_until = 0.0


def test_emit_writes_the_row_in_the_transaction_and_delivers_only_after_commit(org, member, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        event = emit_post(organization_id=org.pk, addressed=[{"user_id": member.pk, "reason": "mention"}])
        assert OutboxEvent.objects.filter(pk=event.pk, delivered_at__isnull=True).exists()
        assert not Notification.objects.exists()
    assert len(callbacks) == 1
    callbacks[0]()
    event.refresh_from_db()
    assert event.delivered_at is not None
    assert event.inbox_written_at and event.realtime_sent_at and event.push_sent_at
    assert event.attempts == 1
    assert list(Notification.objects.values_list("recipient_id", "reason", "event_id")) == [(member.pk, "mention", event.pk)]


def test_a_rolled_back_transaction_emits_nothing(org, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError), transaction.atomic():
        emit(POST_CREATED, organization_id=org.pk, payload=post_card(), org_wide=True)
        raise RuntimeError("the post failed to save")
    assert callbacks == []
    assert not OutboxEvent.objects.exists()


def test_emit_refuses_undeclared_types_and_reasons(org):
    with pytest.raises(ValueError):
        emit("post.created", organization_id=org.pk, payload={})  # a name is not the declared type
    undeclared = dataclasses.replace(POST_CREATED, name="post.exploded")
    with pytest.raises(ValueError):
        emit(undeclared, organization_id=org.pk, payload={})
    with pytest.raises(ValueError):
        emit(POST_CREATED, organization_id=org.pk, payload={}, addressed=[{"user_id": 1, "reason": "gossip"}])
    # A reason other event types declare is still not this one's: a post addresses no kudos.
    with pytest.raises(ValueError):
        emit(POST_CREATED, organization_id=org.pk, payload={}, addressed=[{"user_id": 1, "reason": "kudos"}])
    assert not OutboxEvent.objects.exists()


def test_broker_down_the_write_answers_quickly_and_the_sweeper_delivers_exactly_once(
    org, group, member, settings, django_capture_on_commit_callbacks
):
    org_listener = listen(f"org.{org.pk}")
    with broker_unreachable(settings):
        started = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True):
            first = emit_post(organization_id=org.pk, addressed=[{"user_id": member.pk, "reason": "mention"}])
        first_took = time.monotonic() - started
        started = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True):
            second = emit_post(organization_id=org.pk, post_id=2)
        second_took = time.monotonic() - started
    assert first_took < 1.0, first_took
    # After one refusal the process stops asking the broker for a while.
    assert second_took < 0.1, second_took
    assert OutboxEvent.objects.filter(delivered_at__isnull=True).count() == 2
    assert not Notification.objects.exists()

    # Too young for the sweeper: the after-commit task may still be on its way.
    assert outbox_sweep() == 0
    assert sweep_later() == 2
    assert sweep_later() == 0
    assert OutboxEvent.objects.filter(delivered_at__isnull=True).count() == 0
    assert list(Notification.objects.values_list("recipient_id", "event_id")) == [(member.pk, first.pk)]
    assert sorted(message["id"] for message in org_listener()) == sorted([str(first.pk), str(second.pk)])
    # A late duplicate of the after-commit task finds nothing to do.
    assert outbox_event_deliver(event_id=first.pk) is False
    assert Notification.objects.count() == 1


def test_a_failed_step_is_retried_without_repeating_finished_ones(org, member, django_capture_on_commit_callbacks):
    failing_push = mock.patch("notifications.push.push_event", side_effect=ConnectionError("FCM down"))
    with failing_push, django_capture_on_commit_callbacks(execute=True):
        event = emit_post(organization_id=org.pk, addressed=[{"user_id": member.pk, "reason": "mention"}])
    event.refresh_from_db()
    assert event.delivered_at is None
    assert event.inbox_written_at is not None and event.realtime_sent_at is not None
    assert "FCM down" in event.last_error
    realtime_sent_at = event.realtime_sent_at

    with mock.patch("notifications.push.push_event") as push:
        assert sweep_later() == 1
    push.assert_called_once()
    event.refresh_from_db()
    assert event.delivered_at is not None and event.attempts == 2
    assert event.realtime_sent_at == realtime_sent_at
    assert Notification.objects.filter(recipient=member).count() == 1


def test_a_claimed_event_is_not_delivered_twice_at_once(org):
    with mock.patch("notifications.tasks.outbox_event_deliver_task.delay"):
        event = emit_post(organization_id=org.pk)
    deliveries = []

    def push_that_races(*, event, **_kwargs):
        # While this delivery works the row (within its lease), the sweeper comes by.
        deliveries.append(event.pk)
        assert outbox_sweep(now=timezone.now() + timedelta(seconds=45)) == 0

    with mock.patch("notifications.push.push_event", side_effect=push_that_races):
        assert outbox_event_deliver(event_id=event.pk) is True
    assert deliveries == [event.pk]


def test_a_crashed_workers_lease_expires(org, settings):
    with mock.patch("notifications.tasks.outbox_event_deliver_task.delay"):
        event = emit_post(organization_id=org.pk)
    OutboxEvent.objects.filter(pk=event.pk).update(locked_until=timezone.now() + timedelta(seconds=60), attempts=1)
    assert outbox_sweep(now=timezone.now() + timedelta(seconds=30)) == 0
    assert outbox_sweep(now=timezone.now() + timedelta(seconds=61)) == 1


def test_the_sweeper_gives_up_after_the_attempt_limit(org, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 3
    with mock.patch("notifications.tasks.outbox_event_deliver_task.delay"):
        event = emit_post(organization_id=org.pk)
    OutboxEvent.objects.filter(pk=event.pk).update(attempts=3)
    assert sweep_later() == 0


def test_prune_removes_old_outbox_rows_but_keeps_the_inbox(org, member, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        old = emit_post(organization_id=org.pk, addressed=[{"user_id": member.pk, "reason": "mention"}])
        fresh = emit_post(organization_id=org.pk, post_id=2)
    long_ago = timezone.now() - timedelta(days=8)
    OutboxEvent.objects.filter(pk=old.pk).update(created_at=long_ago)
    assert outbox_prune() == 1
    assert list(OutboxEvent.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert Notification.objects.filter(event_id=old.pk).count() == 1


# --- Audience --------------------------------------------------------------------------


def test_group_post_frames_go_to_the_group_stream_only(org, group, django_capture_on_commit_callbacks):
    org_listener, group_listener = listen(f"org.{org.pk}"), listen(f"group.{group.pk}")
    with django_capture_on_commit_callbacks(execute=True):
        event = emit_post(organization_id=org.pk, group_ids=[group.pk])
    assert [message["id"] for message in group_listener()] == [str(event.pk)]
    assert org_listener() == []


def test_a_foreign_group_id_never_reaches_that_group(org, other_org, django_capture_on_commit_callbacks):
    foreign = GroupFactory(organization=other_org)
    foreign_listener = listen(f"group.{foreign.pk}")
    with django_capture_on_commit_callbacks(execute=True):
        emit_post(organization_id=org.pk, group_ids=[foreign.pk])
    assert foreign_listener() == []


def test_only_addressed_people_who_may_see_the_post_are_notified(org, other_org, group, member, django_capture_on_commit_callbacks):
    outsider = UserFactory(organization=org)
    stranger = UserFactory(organization=other_org)
    gone = MembershipFactory(group=group).user
    User.objects.filter(pk=gone.pk).update(is_active=False)
    addressed = [{"user_id": user.pk, "reason": "mention"} for user in (member, outsider, stranger, gone)]
    with django_capture_on_commit_callbacks(execute=True):
        emit_post(organization_id=org.pk, group_ids=[group.pk], addressed=addressed)
    assert list(Notification.objects.values_list("recipient_id", flat=True)) == [member.pk]


@pytest.mark.parametrize("mentioned", [1, 8])
def test_delivery_costs_the_same_queries_whatever_the_number_of_recipients(org, group, django_assert_num_queries, mentioned):
    people = [MembershipFactory(group=group).user for _ in range(mentioned)]
    with mock.patch("notifications.tasks.outbox_event_deliver_task.delay"):
        event = emit_post(
            organization_id=org.pk,
            group_ids=[group.pk],
            addressed=[{"user_id": user.pk, "reason": "mention"} for user in people],
            author_id=0,  # an author outside the test: push leaves out the author, not the mentioned
        )
    # claim, read, recipients, savepoint + inbox insert + marker + release, group ids,
    # inbox rows, unread counts, realtime marker, push planning handed over (lease), then
    # in its task (eager here): read, push (audience, addressed, the organisation's devices:
    # nobody here has a phone, so no preferences or mutes are read), push marker, delivered.
    with django_assert_num_queries(18):
        assert outbox_event_deliver(event_id=event.pk) is True
    assert Notification.objects.count() == mentioned


def test_redis_trouble_does_not_hold_back_push_and_only_realtime_is_retried_with_backoff(
    org, member, settings, django_capture_on_commit_callbacks
):
    settings.OUTBOX_SWEEP_AFTER = timedelta(0)
    broken_layer = mock.patch("notifications.realtime.group_send_many", side_effect=ConnectionError("Redis down"))
    with broken_layer, mock.patch("notifications.push.push_event") as push, django_capture_on_commit_callbacks(execute=True):
        event = emit_post(organization_id=org.pk)
    push.assert_called_once()
    event.refresh_from_db()
    assert event.push_sent_at is not None and event.realtime_sent_at is None and event.delivered_at is None
    # Not swept again before its backoff ends.
    assert event.locked_until > timezone.now()
    assert outbox_sweep(now=event.locked_until - timedelta(seconds=1)) == 0

    with mock.patch("notifications.push.push_event") as push_again:
        assert sweep_later() == 1
    push_again.assert_not_called()
    event.refresh_from_db()
    assert event.realtime_sent_at is not None and event.delivered_at is not None


def test_beat_runs_the_sweeper_and_the_pruning(settings):
    from server.celery import app

    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    for name in ("notifications.tasks.outbox_sweep_task", "notifications.tasks.outbox_prune_task"):
        assert name in scheduled
        assert name in app.tasks


def test_the_sweeper_works_through_a_backlog_larger_than_one_batch(org):
    with mock.patch("notifications.tasks.outbox_event_deliver_task.delay"):
        for post_id in range(5):
            emit_post(organization_id=org.pk, post_id=post_id)
    assert outbox_sweep(now=timezone.now() + timedelta(minutes=5), batch_size=2) == 5
    assert not OutboxEvent.objects.filter(delivered_at__isnull=True).exists()


# --- Push planning runs in its own task --------------------------------------------------


def test_realtime_of_the_next_event_never_waits_behind_push_planning(org, member, settings):
    """The delivery task does inbox → realtime and hands push planning to the push queue."""
    with mock.patch("notifications.tasks.outbox_event_deliver_task.delay"):
        first = emit_post(organization_id=org.pk, addressed=[{"user_id": member.pk, "reason": "mention"}])
        second = emit_post(organization_id=org.pk, post_id=2)
    org_listener = listen(f"org.{org.pk}")
    steps: list[tuple[str, str]] = []
    real_send = realtime.group_send_many

    def send(messages):
        messages = list(messages)
        steps.append(("realtime", next(message["id"] for _group, message in messages)))
        real_send(messages)

    with (
        mock.patch("notifications.realtime.group_send_many", side_effect=send),
        mock.patch.object(tasks.push_event_plan_task, "delay", side_effect=lambda event_id: steps.append(("plan", event_id))),
        mock.patch("notifications.push.push_event") as push_event,
    ):
        assert outbox_event_deliver(event_id=first.pk) is True
        assert outbox_event_deliver(event_id=second.pk) is True
    push_event.assert_not_called()  # no planning on the delivery worker
    assert steps == [("realtime", str(first.pk)), ("plan", str(first.pk)), ("realtime", str(second.pk)), ("plan", str(second.pk))]
    assert [message["id"] for message in org_listener()] == [str(first.pk), str(second.pk)]
    for event in (first, second):
        event.refresh_from_db()
        assert event.inbox_written_at and event.realtime_sent_at and event.push_sent_at is None and event.delivered_at is None
        # The sweeper leaves a handed-over event to its planning task for the planning lease.
        assert event.locked_until >= timezone.now() + settings.OUTBOX_PUSH_PLAN_LEASE - timedelta(seconds=30)
    assert Notification.objects.filter(event_id=first.pk, recipient=member).count() == 1

    # The planning task finishes each row; a late duplicate of it does nothing.
    with mock.patch("notifications.push.push_event") as push_event:
        assert outbox_event_push_plan(event_id=first.pk) is True
        assert outbox_event_push_plan(event_id=first.pk) is False
    push_event.assert_called_once()
    first.refresh_from_db()
    assert first.push_sent_at is not None and first.delivered_at is not None and first.locked_until is None


def test_a_lost_planning_task_is_planned_again_by_the_sweeper_after_its_lease(org, settings):
    with mock.patch("notifications.tasks.outbox_event_deliver_task.delay"):
        event = emit_post(organization_id=org.pk)
    with mock.patch.object(tasks.push_event_plan_task, "delay"):  # the message is lost
        assert outbox_event_deliver(event_id=event.pk) is True
    within_lease = timezone.now() + settings.OUTBOX_PUSH_PLAN_LEASE - timedelta(seconds=30)
    assert outbox_sweep(now=within_lease) == 0
    with mock.patch("notifications.push.push_event") as push_event:
        assert outbox_sweep(now=timezone.now() + settings.OUTBOX_PUSH_PLAN_LEASE + timedelta(seconds=1)) == 1
    push_event.assert_called_once()
    event.refresh_from_db()
    assert event.delivered_at is not None and event.attempts == 2


def test_a_failed_planning_task_is_recorded_and_retried_after_its_backoff(org):
    with mock.patch("notifications.tasks.outbox_event_deliver_task.delay"):
        event = emit_post(organization_id=org.pk)
    with mock.patch.object(tasks.push_event_plan_task, "delay"):
        outbox_event_deliver(event_id=event.pk)
    with mock.patch("notifications.push.push_event", side_effect=ConnectionError("database gone")), pytest.raises(ConnectionError):
        outbox_event_push_plan(event_id=event.pk)
    event.refresh_from_db()
    assert "database gone" in event.last_error and event.delivered_at is None
    assert event.locked_until < timezone.now() + timedelta(seconds=10)  # backoff, not the planning lease
    with mock.patch("notifications.push.push_event") as push_event:
        assert sweep_later() == 1
    push_event.assert_called_once()
    event.refresh_from_db()
    assert event.delivered_at is not None and event.last_error == ""
