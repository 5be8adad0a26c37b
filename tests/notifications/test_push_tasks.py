"""Push tasks: routed to the push queue, scheduled by beat, enqueued only after commit."""

from __future__ import annotations

import os
from unittest import mock

import pytest
from django.conf import settings

from notifications import push
from notifications.models import PushDelivery
from notifications.tasks import push_deliveries_sweep_task, push_event_plan_task, push_send_batch_task
from server.celery import app
from tests.factories import LeaderFactory, UserFactory
from tests.notifications.push_factories import DeviceFactory, announcement


@pytest.mark.parametrize("task", [push_event_plan_task, push_send_batch_task, push_deliveries_sweep_task])
def test_push_tasks_go_to_the_push_queue(task):
    route = app.amqp.router.route({}, task.name, args=(), kwargs={})
    assert route["queue"].name == settings.PUSH_QUEUE == "push"


def test_beat_runs_the_push_sweeper_by_its_registered_name():
    entry = settings.CELERY_BEAT_SCHEDULE["push-deliveries-sweep"]
    assert entry["task"] == push_deliveries_sweep_task.name
    assert entry["task"] in app.tasks


@pytest.mark.django_db
def test_a_batch_retry_is_enqueued_only_after_its_rows_are_committed(fake_fcm, org, django_capture_on_commit_callbacks):
    device = DeviceFactory(user=UserFactory(organization=org))
    fake_fcm.fail(device.token, "UNAVAILABLE", times=1)
    event = announcement(organization=org, author=LeaderFactory(organization=org))
    PushDelivery.objects.create(event_id=event.pk, device=device)

    with mock.patch.object(push_send_batch_task, "apply_async") as enqueue:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            report = push.push_send_batch(event_id=str(event.pk), device_ids=[device.pk])
        assert report.retried == 1
        enqueue.assert_not_called()  # the rows say "queued" before any worker can look
        for callback in callbacks:
            callback()
    enqueue.assert_called_once()
    assert enqueue.call_args.kwargs["args"] == (str(event.pk), [device.pk])
    assert push.BACKOFF_BASE_SECONDS / 2 <= enqueue.call_args.kwargs["countdown"] <= push.BACKOFF_BASE_SECONDS


class WorkerKilled(BaseException):
    """Stands in for SIGKILL: nothing after it in the task runs."""


def test_a_worker_killed_mid_batch_re_sends_only_the_slice_in_flight(fake_fcm, org, settings):
    from datetime import timedelta

    from django.utils import timezone

    from notifications.fcm import get_backend
    from notifications.models import PushStatus

    settings.PUSH_RECORD_EVERY = 4
    author = LeaderFactory(organization=org)
    devices = [DeviceFactory(user=UserFactory(organization=org)) for _ in range(10)]
    event = announcement(organization=org, author=author)
    for device in devices:
        PushDelivery.objects.create(event_id=event.pk, device=device)
    device_ids = [device.pk for device in devices]

    backend = get_backend()
    real_send = backend.send
    calls = []

    def send_then_die(messages):
        calls.append(len(messages))
        if len(calls) == 2:  # FCM accepted the second slice, then the process died before recording it
            real_send(messages)
            raise WorkerKilled
        return real_send(messages)

    with mock.patch.object(type(backend), "send", side_effect=send_then_die, autospec=False), pytest.raises(WorkerKilled):
        push.push_send_batch(event_id=str(event.pk), device_ids=device_ids)
    assert calls == [4, 4]
    statuses = list(PushDelivery.objects.order_by("device_id").values_list("status", flat=True))
    assert statuses.count(PushStatus.SENT) == 4 and statuses.count(PushStatus.SENDING) == 6

    # The lease runs out; the broker hands the task to another worker.
    PushDelivery.objects.filter(status=PushStatus.SENDING).update(lease_until=timezone.now() - timedelta(seconds=1))
    push.push_send_batch(event_id=str(event.pk), device_ids=device_ids)

    assert set(PushDelivery.objects.values_list("status", flat=True)) == {PushStatus.SENT}
    delivered = [message.token for message in fake_fcm.delivered]
    assert sorted(set(delivered)) == sorted(device.token for device in devices)  # nothing lost
    assert len(delivered) - len(set(delivered)) == 4  # only the slice in flight went twice


def test_a_planning_task_is_fetched_before_the_batches_queued_ahead_of_it(settings):
    # With the broker's memory gone (Redis restarted empty) a planning task is re-sent only
    # after OUTBOX_PUSH_PLAN_LEASE; that lease can be short because planning never waits
    # behind another broadcast's batches. Checked against a real Redis broker.
    import uuid

    import redis

    url = os.environ.get("REDIS_URL", "")
    try:
        reachable = bool(url) and redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        reachable = False
    if not reachable:
        pytest.skip("SKIPPED: no reachable REDIS_URL (the priority lists are the Redis transport's)")
    queue = f"test-push-{uuid.uuid4().hex[:8]}"
    original = push_send_batch_task.apply_async
    settings.CELERY_TASK_ALWAYS_EAGER = False  # both, as tests/conftest.py sets them
    app.conf.task_always_eager = False
    try:
        with (
            app.connection_for_write(url) as connection,
            mock.patch.object(
                push_send_batch_task,
                "apply_async",
                side_effect=lambda *args, **kwargs: original(*args, queue=queue, connection=connection, **kwargs),
            ),
        ):
            push.push_enqueue(event_id="e1", device_ids=list(range(1500)))  # 3 batches
            push_event_plan_task.apply_async(args=("e2",), queue=queue, connection=connection)
            with connection.SimpleQueue(queue) as fetched:
                names = []
                for _ in range(4):
                    message = fetched.get(timeout=2)
                    names.append(message.headers["task"])
                    message.ack()
                fetched.queue.delete()
    finally:
        app.conf.task_always_eager = True
    assert names == [push_event_plan_task.name] + [push_send_batch_task.name] * 3
