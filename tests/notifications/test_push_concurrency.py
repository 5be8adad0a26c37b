"""Real threads on PostgreSQL: two senders of the same batch, two registrations of one token."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from notifications import push, push_services
from notifications.models import Device, PushDelivery, PushStatus
from tests.conftest import requires_postgres
from tests.factories import LeaderFactory, UserFactory
from tests.notifications.push_factories import AuthTokenFactory, DeviceFactory, announcement

pytestmark = [requires_postgres(), pytest.mark.django_db(transaction=True)]


def _in_threads(count: int, target) -> list[BaseException]:
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait()
            target(index)
        except BaseException as error:  # reported by the test
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


def test_two_workers_on_the_same_batch_push_each_device_once(fake_fcm, org):
    fake_fcm.set_latency(0.05)  # both workers are inside the send at the same time
    author = LeaderFactory(organization=org)
    devices = [DeviceFactory(user=UserFactory(organization=org)) for _ in range(6)]
    event = announcement(organization=org, author=author)
    for device in devices:
        PushDelivery.objects.create(event_id=event.pk, device=device)
    device_ids = [device.pk for device in devices]

    errors = _in_threads(4, lambda i: push.push_send_batch(event_id=str(event.pk), device_ids=device_ids))

    assert errors == []
    assert sorted(m.token for m in fake_fcm.delivered) == sorted(d.token for d in devices)
    assert set(PushDelivery.objects.values_list("status", flat=True)) == {PushStatus.SENT}


def test_the_same_token_registered_at_once_by_two_sessions_gives_one_device(org):
    sessions = [AuthTokenFactory(user=UserFactory(organization=org)) for _ in range(2)]

    def register(index: int) -> None:
        session = sessions[index]
        push_services.device_register(user=session.user, auth_token=session, token="shared-shop-phone", platform="android")

    errors = _in_threads(2, register)

    assert errors == []
    assert Device.objects.filter(token="shared-shop-phone").count() == 1
