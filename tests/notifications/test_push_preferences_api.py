"""GET/PATCH /notification-preferences."""

from __future__ import annotations

import pytest

from notifications.models import NotificationPreference
from tests.factories import GroupFactory

pytestmark = pytest.mark.django_db

DEFAULT_TYPES = {
    "announcement": True,
    "post": False,
    "mention": True,
    "comment": True,
    "reaction": False,
    "kudos": True,
    "award": True,
    "goal": False,
    "key_moment": False,
}


def test_defaults_without_a_row(api, employee):
    response = api(employee).get("/api/v1/notification-preferences")

    assert response.status_code == 200
    assert response.json() == {"types": DEFAULT_TYPES, "muted_group_ids": [], "quiet_hours": None, "timezone": "Europe/Amsterdam"}
    assert not NotificationPreference.objects.exists()


def test_patch_changes_only_what_is_given(api, employee, group, org):
    other_group = GroupFactory(organization=org)
    client = api(employee)

    response = client.patch(
        "/api/v1/notification-preferences",
        {
            "types": {"post": True, "reaction": True},
            "muted_group_ids": [group.pk, other_group.pk],
            "quiet_hours": {"start": "22:00", "end": "07:00"},
        },
    )
    second = client.patch("/api/v1/notification-preferences", {"types": {"kudos": False}})

    assert response.status_code == 200, response.content
    body = second.json()
    assert body["types"] == DEFAULT_TYPES | {"post": True, "reaction": True, "kudos": False}
    assert body["muted_group_ids"] == sorted([group.pk, other_group.pk])
    assert body["quiet_hours"] == {"start": "22:00", "end": "07:00"}


def test_quiet_hours_null_switches_them_off(api, employee):
    client = api(employee)
    client.patch("/api/v1/notification-preferences", {"quiet_hours": {"start": "22:00", "end": "07:00"}})

    response = client.patch("/api/v1/notification-preferences", {"quiet_hours": None})

    assert response.json()["quiet_hours"] is None


def test_quiet_hours_must_be_a_window(api, employee):
    response = api(employee).patch("/api/v1/notification-preferences", {"quiet_hours": {"start": "22:00", "end": "22:00"}})

    assert response.status_code == 400
    assert "quiet_hours" in response.json()["error"]["fields"]


def test_another_organisations_group_cannot_be_muted(api, employee, other_org):
    foreign = GroupFactory(organization=other_org)

    response = api(employee).patch("/api/v1/notification-preferences", {"muted_group_ids": [foreign.pk]})

    assert response.status_code == 400
    assert "muted_group_ids" in response.json()["error"]["fields"]
    assert not NotificationPreference.objects.filter(muted_groups__isnull=False).exists()


def test_unknown_type_is_rejected(api, employee):
    response = api(employee).patch("/api/v1/notification-preferences", {"types": {"gossip": True}})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unknown_field" and response.json()["error"]["fields"] == {
        "types": {"gossip": ["Unknown field."]}
    }


def test_preferences_are_per_person(api, employee, leader):
    api(employee).patch("/api/v1/notification-preferences", {"types": {"post": True}})

    assert api(leader).get("/api/v1/notification-preferences").json()["types"]["post"] is False


@pytest.mark.parametrize("muted", [1, 6])
def test_reading_preferences_costs_the_same_queries_whatever_is_muted(api, employee, org, muted, django_assert_num_queries):
    groups = [GroupFactory(organization=org) for _ in range(muted)]
    client = api(employee)
    client.patch("/api/v1/notification-preferences", {"muted_group_ids": [group.pk for group in groups]})

    # token lookup, preference row, its muted groups
    with django_assert_num_queries(3):
        response = client.get("/api/v1/notification-preferences")

    assert len(response.json()["muted_group_ids"]) == muted
