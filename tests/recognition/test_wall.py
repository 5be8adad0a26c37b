"""The organisation's wall of fame for a month (GET /recognition/wall, issue #22): winners
announced in the month, the most-thanked values, the month in the reader's language."""

import datetime as dt

import pytest

from recognition.services import award_round_close
from tests.factories import AdminFactory, GroupFactory, LeaderFactory, OrganizationFactory, UserFactory
from tests.recognition.factories import AwardCategoryFactory, AwardRoundFactory, CompanyValueFactory, KudosFactory, NominationFactory

UTC = dt.UTC
NOVEMBER, DECEMBER = dt.date(2026, 11, 1), dt.date(2026, 12, 1)
# 1 December 2026 00:30 in Amsterdam (UTC+1): still 30 November in UTC.
EARLY_DECEMBER = dt.datetime(2026, 11, 30, 23, 30, tzinfo=UTC)


def announced(org, *, month=NOVEMBER, at=EARLY_DECEMBER, groups=(), name=None):
    category = AwardCategoryFactory(organization=org, **({"name": name} if name else {}))
    category.groups.set(groups)
    round = AwardRoundFactory(category=category, month=month)
    nomination = NominationFactory(round=round)
    award_round_close(round_id=round.pk, actor=AdminFactory(organization=org), now=at)
    return round, nomination


def kudos_at(giver, recipient, value, at):
    kudos = KudosFactory(giver=giver, recipients=[recipient], value=value)
    type(kudos).objects.filter(pk=kudos.pk).update(created_at=at)
    return kudos


def test_the_wall_shows_the_months_winners_and_most_thanked_values(api, org, employee):
    round, nomination = announced(org, name="Colleague of the month")
    announced(org, at=dt.datetime(2026, 11, 30, 22, 0, tzinfo=UTC))  # 30 November 23:00 in Amsterdam: November's wall
    service, teamwork, unused = CompanyValueFactory.create_batch(3, organization=org)
    colleague = UserFactory(organization=org)
    for _ in range(2):
        kudos_at(employee, colleague, teamwork, EARLY_DECEMBER)
    kudos_at(employee, colleague, service, EARLY_DECEMBER)
    kudos_at(employee, colleague, None, EARLY_DECEMBER)
    kudos_at(employee, colleague, unused, dt.datetime(2026, 11, 30, 22, 59, tzinfo=UTC))  # November in Amsterdam
    other_org = OrganizationFactory()
    kudos_at(
        UserFactory(organization=other_org),
        UserFactory(organization=other_org),
        CompanyValueFactory(organization=other_org),
        EARLY_DECEMBER,
    )

    wall = api(employee, language="en").get("/api/v1/recognition/wall", {"month": "2026-12"}).json()
    assert (wall["month"], wall["month_name"], wall["kudos_count"]) == ("2026-12", "December 2026", 4)
    assert [(w["round_id"], w["winner"]["id"], w["reason"], w["month"]) for w in wall["winners"]] == [
        (round.pk, nomination.nominee_id, nomination.reason, "2026-11")
    ]
    assert wall["winners"][0]["category"]["name"] == "Colleague of the month"
    assert wall["winners"][0]["month_name"] == "November 2026"
    assert [(v["value"]["id"], v["count"]) for v in wall["top_values"]] == [(teamwork.pk, 2), (service.pk, 1)]

    november = api(employee, language="nl").get("/api/v1/recognition/wall", {"month": "2026-11"}).json()
    assert (november["month_name"], len(november["winners"]), november["kudos_count"]) == ("november 2026", 1, 1)


def test_the_wall_defaults_to_this_month_in_the_organisations_calendar(api, org, employee, time_machine_now):
    time_machine_now(EARLY_DECEMBER)
    wall = api(employee, language="nl").get("/api/v1/recognition/wall").json()
    assert (wall["month"], wall["month_name"]) == ("2026-12", "december 2026")
    new_york = UserFactory(organization=OrganizationFactory(timezone="America/New_York"))
    assert api(new_york).get("/api/v1/recognition/wall").json()["month"] == "2026-11"


def test_a_group_categorys_winner_is_on_the_wall_of_its_audience_only(api, org, employee):
    team = GroupFactory(organization=org)
    announced(org, groups=[team])
    url, params = "/api/v1/recognition/wall", {"month": "2026-12"}
    assert api(employee).get(url, params).json()["winners"] == []
    member = UserFactory(organization=org)
    team.memberships.create(user=member)
    assert len(api(member).get(url, params).json()["winners"]) == 1
    assert len(api(LeaderFactory(organization=org)).get(url, params).json()["winners"]) == 1


def test_a_month_not_in_the_form_yyyy_mm_is_400(api, employee):
    for bad in ("2026-13", "december", "2026-1", "0000-01", "9999-12"):
        response = api(employee).get("/api/v1/recognition/wall", {"month": bad})
        assert response.status_code == 400, bad
        assert "month" in response.json()["error"]["fields"]


@pytest.mark.parametrize("size", [1, 5])
def test_wall_query_count(api, org, employee, size, django_assert_num_queries):
    for _ in range(size):
        _round, nomination = announced(org)
        kudos_at(employee, nomination.nominee, CompanyValueFactory(organization=org), EARLY_DECEMBER)
    client = api(employee)
    client.get("/api/v1/me")
    # auth, winners (category, winner and avatar joined), value counts, kudos count
    with django_assert_num_queries(4):
        response = client.get("/api/v1/recognition/wall", {"month": "2026-12"})
    assert len(response.json()["winners"]) == size
    assert len(response.json()["top_values"]) == min(size, 5)
