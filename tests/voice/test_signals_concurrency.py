"""Support under concurrency: racing PUTs leave one row per person and exact counts; racing merges carry once."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.concurrency import race
from tests.conftest import requires_postgres
from tests.factories import AdminFactory, GroupFactory, MembershipFactory, OrganizationFactory, UserFactory, issue_token
from voice.models import Signal, SignalSupport
from voice.services import signals as voice

pytestmark = [requires_postgres(), pytest.mark.django_db(transaction=True)]


def _client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_token(user)}")
    return client


def test_racing_support_and_withdrawal_keep_one_row_and_exact_counts():
    org = OrganizationFactory()
    author = UserFactory(organization=org)
    signal = voice.signal_create(author=author, kind="friction", title="Tills jam", body="Every morning")
    groups = [GroupFactory(organization=org, kind="location") for _ in range(3)]
    people = [MembershipFactory(group=groups[n % 3], user=UserFactory(organization=org)) for n in range(6)]
    path = f"/api/v1/signals/{signal.pk}/support"
    calls = []
    for membership in people:
        client = _client(membership.user)
        # The same person twice at once (a retry racing the first try), everyone at once.
        calls += [lambda c=client, g=membership.group_id: c.put(path, {"group_id": g}, format="json")] * 2
    statuses = [response.status_code for response in race(calls)]
    assert statuses == [200] * 12
    signal.refresh_from_db()
    assert SignalSupport.objects.filter(signal=signal).count() == 6
    assert (signal.support_count, signal.group_count) == (6, 3)

    withdrawing = [membership.user for membership in people[:4]]
    clients = [_client(user) for user in withdrawing]
    calls = [lambda c=client: c.delete(path) for client in clients for _ in range(2)]
    assert [response.status_code for response in race(calls)] == [204] * 8
    signal.refresh_from_db()
    assert (signal.support_count, signal.group_count) == (2, 2)


def test_racing_merges_carry_supporters_once():
    org = OrganizationFactory()
    admin = AdminFactory(organization=org)
    target = voice.signal_create(author=UserFactory(organization=org), kind="friction", title="Target", body="b")
    sources = [voice.signal_create(author=UserFactory(organization=org), kind="friction", title=f"Source {n}", body="b") for n in range(3)]
    shared = [UserFactory(organization=org) for _ in range(4)]
    for source in sources:
        for person in shared:
            voice.signal_support(user=person, signal=source)
    client = _client(admin)
    calls = [lambda s=source: client.post(f"/api/v1/signals/{s.pk}/merge", {"into_id": target.pk}, format="json") for source in sources]
    assert [response.status_code for response in race(calls)] == [200] * 3
    target.refresh_from_db()
    # Four shared supporters once each, plus the three sources' authors.
    assert target.support_count == 7 == SignalSupport.objects.filter(signal=target).count()
    assert set(Signal.objects.filter(pk__in=[s.pk for s in sources]).values_list("status", flat=True)) == {"merged"}
