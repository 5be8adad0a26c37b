"""Push tasks: routed to the push queue, scheduled by beat, enqueued only after commit."""

from __future__ import annotations

from unittest import mock

import pytest
from django.conf import settings

from notifications import push
from notifications.models import PushDelivery
from notifications.tasks import push_deliveries_sweep_task, push_send_batch_task
from server.celery import app
from tests.factories import LeaderFactory, UserFactory
from tests.notifications.push_factories import DeviceFactory, announcement


@pytest.mark.parametrize("task", [push_send_batch_task, push_deliveries_sweep_task])
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
