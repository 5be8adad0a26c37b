"""The response promise: a reminder to the owner, then the admins, each exactly once per step."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from tests.conftest import requires_postgres
from tests.factories import AdminFactory
from tests.voice.conftest import outbox
from voice.models import Signal
from voice.services import signals as voice
from voice.services import signals_workflow
from voice.services.signals_promise import signals_promise_process
from voice.tasks import signals_promise_process_task


def _signal(store, **fields):
    return voice.signal_create(
        author=store["staff"], kind="friction", title="Tills jam", body="Every morning", group_id=store["group"].pk, **fields
    )


def test_reminder_then_escalation_once_each_whatever_the_runs(store, admin_user, org):
    org.voice_first_response_hours = 24
    org.save()
    signal = _signal(store)
    start = signal.created_at
    assert signals_promise_process(now=start + timedelta(hours=23)) == {"reminded": 0, "escalated": 0}
    assert signals_promise_process(now=start + timedelta(hours=25)) == {"reminded": 1, "escalated": 0}
    assert signals_promise_process(now=start + timedelta(hours=26)) == {"reminded": 0, "escalated": 0}
    assert signals_promise_process(now=start + timedelta(hours=49)) == {"reminded": 0, "escalated": 1}
    assert signals_promise_process(now=start + timedelta(hours=90)) == {"reminded": 0, "escalated": 0}
    [reminder] = outbox("signal.reminder")
    assert reminder.user_ids == [store["manager"].pk]
    assert reminder.addressed == [{"user_id": store["manager"].pk, "reason": "signal_reminder"}]
    assert reminder.payload["promise_hours"] == 24 and reminder.payload["step"] == "reminder"
    [escalation] = outbox("signal.escalated")
    assert escalation.user_ids == [admin_user.pk]


def test_an_answered_signal_is_neither_reminded_nor_escalated(store, admin_user):
    signal = _signal(store)
    signals_workflow.signal_set_status(actor=store["manager"], signal=signal, status="acknowledged")
    assert signals_promise_process(now=signal.created_at + timedelta(days=30)) == {"reminded": 0, "escalated": 0}


def test_after_downtime_both_steps_go_once(store, admin_user):
    signal = _signal(store)
    assert signals_promise_process(now=signal.created_at + timedelta(days=30)) == {"reminded": 1, "escalated": 1}
    assert signals_promise_process_task() == {"reminded": 0, "escalated": 0}


@requires_postgres()
@pytest.mark.django_db(transaction=True)
def test_overlapping_runs_send_each_step_once():
    from tests.factories import GroupFactory, LeaderFactory, MembershipFactory, OrganizationFactory, UserFactory

    org = OrganizationFactory()
    group = GroupFactory(organization=org)
    manager = MembershipFactory(group=group, role="manager", user=LeaderFactory(organization=org)).user
    AdminFactory(organization=org)
    staff = MembershipFactory(group=group, user=UserFactory(organization=org)).user
    signal = voice.signal_create(author=staff, kind="idea", title="Music", body="Softer music", group_id=group.pk)
    Signal.objects.filter(pk=signal.pk).update(created_at=timezone.now() - timedelta(days=10))
    results, barrier = [], threading.Barrier(4)

    def run():
        barrier.wait()
        try:
            results.append(signals_promise_process())
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r["reminded"] for r in results) == 1 and sum(r["escalated"] for r in results) == 1
    assert len(outbox("signal.reminder")) == 1 and len(outbox("signal.escalated")) == 1
    assert manager.pk == outbox("signal.reminder")[0].user_ids[0]
