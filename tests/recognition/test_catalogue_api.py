"""Company values and award categories: admins manage them, everyone reads them."""

import pytest
from django.utils import timezone

from accounts.models import Membership
from recognition.models import AwardRound
from recognition.months import month_of
from tests.factories import GroupFactory, LeaderFactory, OrganizationFactory, UserFactory
from tests.recognition.factories import AwardCategoryFactory, AwardRoundFactory, CompanyValueFactory


def test_admin_creates_and_edits_values_employees_read_active_ones(api, org, admin_user, employee):
    admin = api(admin_user)
    created = admin.post("/api/v1/values", {"name": "Samen sterk", "emoji": "💪", "position": 2}, format="json")
    assert created.status_code == 201
    value_id = created.json()["id"]
    assert api(employee).post("/api/v1/values", {"name": "Nope"}, format="json").status_code == 403
    assert api(employee).patch(f"/api/v1/values/{value_id}", {"name": "Nope"}, format="json").status_code == 403
    duplicate = admin.post("/api/v1/values", {"name": "samen STERK"}, format="json")
    assert duplicate.status_code == 409
    assert "name" in duplicate.json()["error"]["fields"]
    assert admin.patch(f"/api/v1/values/{value_id}", {"active": False}, format="json").json()["active"] is False
    assert api(employee).get("/api/v1/values").json()["results"] == []
    assert api(employee).get(f"/api/v1/values/{value_id}").status_code == 404
    assert [v["id"] for v in admin.get("/api/v1/values").json()["results"]] == [value_id]


@pytest.mark.parametrize("path", ["/api/v1/groups", "/api/v1/values", "/api/v1/awards/categories"])
def test_a_duplicate_name_is_a_409_conflict_for_groups_values_and_categories_alike(api, admin_user, path):
    # Issue #18, 7: one rule, one answer; a value's duplicate name used to be a 400.
    client = api(admin_user)
    assert client.post(path, {"name": "Samen sterk"}, format="json").status_code == 201
    other = client.post(path, {"name": "Iets anders"}, format="json").json()["id"]
    created = client.post(path, {"name": "SAMEN sterk"}, format="json")
    renamed = client.patch(f"{path}/{other}", {"name": "samen sterk"}, format="json")
    for response in (created, renamed):
        assert response.status_code == 409, response.json()
        assert response.json()["error"]["code"] == "conflict"
        assert list(response.json()["error"]["fields"]) == ["name"]


@pytest.mark.parametrize("size", [2, 6])
def test_values_list_query_count(api, org, employee, size, django_assert_num_queries):
    CompanyValueFactory.create_batch(size, organization=org)
    CompanyValueFactory(organization=OrganizationFactory())
    client = api(employee)
    client.get("/api/v1/me")
    with django_assert_num_queries(2):
        response = client.get("/api/v1/values")
    assert len(response.json()["results"]) == size


def test_creating_a_category_opens_the_current_months_round(api, org, admin_user, group):
    response = api(admin_user).post(
        "/api/v1/awards/categories",
        {"name": "Klantheld", "method": "leader_pick", "confidential": True, "max_nominations_per_nominator": 2, "group_ids": [group.pk]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["group_ids"] == [group.pk]
    assert (body["method"], body["confidential"], body["max_nominations_per_nominator"]) == ("leader_pick", True, 2)
    round = AwardRound.objects.get(category_id=body["id"])
    assert round.month == month_of(timezone.now(), org.timezone)
    assert round.status == "open"


def test_category_rules(api, org, admin_user, employee):
    client = api(admin_user)
    foreign_group = GroupFactory(organization=OrganizationFactory())
    response = client.post("/api/v1/awards/categories", {"name": "X", "group_ids": [foreign_group.pk]}, format="json")
    assert response.status_code == 400
    assert "group_ids" in response.json()["error"]["fields"]
    assert api(employee).post("/api/v1/awards/categories", {"name": "Y"}, format="json").status_code == 403
    category_id = client.post("/api/v1/awards/categories", {"name": "Z"}, format="json").json()["id"]
    patched = client.patch(f"/api/v1/awards/categories/{category_id}", {"max_nominations_per_nominator": 5}, format="json")
    assert patched.json()["max_nominations_per_nominator"] == 5
    assert client.patch(f"/api/v1/awards/categories/{category_id}", {"max_nominations_per_nominator": 0}, format="json").status_code == 400


def test_employees_see_categories_and_rounds_of_their_audience_only(api, org, employee):
    team = GroupFactory(organization=org)
    Membership.objects.create(group=team, user=employee)
    everyone = AwardCategoryFactory(organization=org)
    mine = AwardCategoryFactory(organization=org)
    mine.groups.set([team])
    not_mine = AwardCategoryFactory(organization=org)
    not_mine.groups.set([GroupFactory(organization=org)])
    for category in (everyone, mine, not_mine):
        AwardRoundFactory(category=category)
    client = api(employee)
    assert {c["id"] for c in client.get("/api/v1/awards/categories").json()["results"]} == {everyone.pk, mine.pk}
    assert {r["category"]["id"] for r in client.get("/api/v1/awards/rounds").json()["results"]} == {everyone.pk, mine.pk}
    leader = api(LeaderFactory(organization=org))
    assert len(leader.get("/api/v1/awards/rounds").json()["results"]) == 3


def test_rounds_filter_by_status_and_month(api, org, employee):
    category = AwardCategoryFactory(organization=org)
    import datetime as dt

    march = AwardRoundFactory(category=category, month=dt.date(2026, 3, 1), status="announced")
    april = AwardRoundFactory(category=category, month=dt.date(2026, 4, 1))
    client = api(employee)
    assert [r["id"] for r in client.get("/api/v1/awards/rounds?status=open").json()["results"]] == [april.pk]
    body = client.get("/api/v1/awards/rounds?month=2026-03").json()["results"]
    assert [(r["id"], r["month"], r["status"]) for r in body] == [(march.pk, "2026-03", "announced")]
    assert client.get("/api/v1/awards/rounds?month=March").status_code == 400
    assert client.get("/api/v1/awards/rounds?status=weird").status_code == 400


@pytest.mark.parametrize("size", [2, 7])
def test_rounds_list_query_count(api, org, employee, size, django_assert_num_queries):
    import datetime as dt

    category = AwardCategoryFactory(organization=org)
    for index in range(size):
        AwardRoundFactory(category=category, month=dt.date(2020 + index, 1, 1))
    client = api(employee)
    client.get("/api/v1/me")
    with django_assert_num_queries(2):
        response = client.get("/api/v1/awards/rounds")
    assert len(response.json()["results"]) == size


@pytest.mark.parametrize("size", [2, 7])
def test_categories_list_query_count(api, org, employee, size, django_assert_num_queries):
    for _ in range(size):
        AwardCategoryFactory(organization=org).groups.set([GroupFactory(organization=org)])
        Membership.objects.get_or_create(group=AwardCategoryFactory._meta.model.objects.last().groups.get(), user=employee)
    client = api(employee)
    client.get("/api/v1/me")
    with django_assert_num_queries(3):
        response = client.get("/api/v1/awards/categories")
    assert len(response.json()["results"]) == size


def test_my_nomination_count_on_rounds(api, org, employee):
    from tests.recognition.factories import NominationFactory

    round = AwardRoundFactory(category=AwardCategoryFactory(organization=org))
    NominationFactory(round=round, nominator=employee)
    NominationFactory(round=round)
    assert api(employee).get("/api/v1/awards/rounds").json()["results"][0]["my_nomination_count"] == 1
    assert api(UserFactory(organization=org)).get(f"/api/v1/awards/rounds/{round.pk}").json()["my_nomination_count"] == 0


def test_seed_demo_recognition_is_complete_and_idempotent(db):
    from django.core.management import call_command

    from recognition.models import AwardCategory, CompanyValue, Kudos, Nomination

    call_command("seed_demo")
    call_command("seed_demo")
    assert CompanyValue.objects.count() == 4
    assert Kudos.objects.count() == 6
    assert AwardCategory.objects.filter(method="leader_pick").count() == 1
    rounds = AwardRound.objects.order_by("month", "category__name")
    assert sorted({r.status for r in rounds}) == ["announced", "open"]
    assert rounds.filter(status="announced").count() == 3
    assert rounds.filter(status="announced", decided_by="leader_pick").count() == 1
    assert Nomination.objects.filter(round__status="open").count() == 9
