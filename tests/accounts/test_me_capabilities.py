"""`/me` tells the app what the person may do and the settings it needs (issue #22)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import capabilities
from recognition import services as recognition_services
from tests.factories import GroupFactory, MembershipFactory, UserFactory


def _me(api, user) -> dict:
    response = api(user).get("/api/v1/me")
    assert response.status_code == 200
    return response.json()


def test_an_employee_may_post_in_the_groups_that_allow_it(api, org, employee):
    open_group = GroupFactory(organization=org, allow_member_posts=True)
    closed = GroupFactory(organization=org, allow_member_posts=False)
    managed = GroupFactory(organization=org, allow_member_posts=False)
    MembershipFactory(user=employee, group=open_group)
    MembershipFactory(user=employee, group=closed)
    MembershipFactory(user=employee, group=managed, role="manager")
    body = _me(api, employee)
    assert body["capabilities"] == {
        "post_org_wide": False,
        "post_group_ids": sorted([open_group.pk, managed.pk]),
        "announce": False,
        "create_goals": False,
        "moderate": False,
        "run_awards": False,
        "create_surveys": False,
    }
    assert body["muted_until"] is None and body["kudos_left"] is None


def test_what_the_capabilities_say_is_what_the_feed_allows(api, org, employee):
    closed = GroupFactory(organization=org, allow_member_posts=False)
    MembershipFactory(user=employee, group=closed)
    client = api(employee)
    caps = client.get("/api/v1/me").json()["capabilities"]
    assert (client.post("/api/v1/posts", {"body": "Hi", "group_ids": [closed.pk]}, format="json").status_code == 201) is (
        closed.pk in caps["post_group_ids"]
    )
    assert (client.post("/api/v1/posts", {"body": "Hi all"}, format="json").status_code == 201) is caps["post_org_wide"]
    org.org_wide_posting_open = True
    org.save()
    assert client.get("/api/v1/me").json()["capabilities"]["post_org_wide"] is True
    assert client.post("/api/v1/posts", {"body": "Hi all"}, format="json").status_code == 201


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (
            "leader",
            {"announce": True, "create_goals": True, "moderate": False, "run_awards": False, "post_org_wide": True, "create_surveys": True},
        ),
        (
            "admin",
            {"announce": True, "create_goals": True, "moderate": True, "run_awards": True, "post_org_wide": True, "create_surveys": True},
        ),
    ],
)
def test_leaders_and_admins(api, org, role, expected):
    person = UserFactory(organization=org, role=role)
    caps = _me(api, person)["capabilities"]
    assert {key: caps[key] for key in expected} == expected


def test_a_muted_person_sees_until_when_and_may_not_post(api, org, employee):
    until = timezone.now() + timedelta(hours=3)
    employee.muted_until = until
    employee.save()
    body = _me(api, employee)
    assert body["muted_until"] and body["capabilities"]["post_org_wide"] is False and body["capabilities"]["post_group_ids"] == []


def test_kudos_left_this_month_and_the_organisation_settings(api, org, employee, leader):
    org.kudos_monthly_allowance = 3
    org.leaderboard_enabled = True
    org.kudos_value_required = False
    org.save()
    assert _me(api, employee)["kudos_left"] == 3
    recognition_services.kudos_give(giver=employee, recipient_ids=[leader.pk], message="Thanks for the help!")
    body = _me(api, employee)
    assert body["kudos_left"] == 2
    assert body["organization"]["settings"] == {
        "leaderboard_enabled": True,
        "kudos_value_required": False,
        "survey_min_group_size": 5,
        "voice_first_response_hours": 72,
    }
    assert body["organization"]["slug"] == org.slug


def test_an_app_above_accounts_fills_a_setting_through_the_registry(api, org, employee, monkeypatch):
    monkeypatch.setattr(capabilities, "_organization_settings", {"survey_min_group_size": lambda organization: 5})
    monkeypatch.setattr(capabilities, "_capabilities", {"create_surveys": lambda user: user.role == "employee"})
    body = _me(api, employee)
    assert body["organization"]["settings"]["survey_min_group_size"] == 5
    assert body["capabilities"]["create_surveys"] is True
    with pytest.raises(ValueError):
        capabilities.register_organization_setting("not_in_the_schema", lambda organization: 1)


def test_me_with_an_allowance_costs_one_query_more(api, org, employee, django_assert_num_queries):
    org.kudos_monthly_allowance = 3
    org.save()
    client = api(employee)
    client.get("/api/v1/me")
    with django_assert_num_queries(3):  # token + user + organisation; groups and avatar; kudos this month
        client.get("/api/v1/me")
