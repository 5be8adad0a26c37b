"""Results ("why this winner"), wall of fame, leaderboard and insights: content, scoping, fixed query counts."""

import datetime as dt

import pytest
from django.utils import timezone

from accounts.models import Membership
from recognition.models import Endorsement
from recognition.services import award_round_close, award_rounds_close_due
from tests.factories import AdminFactory, GroupFactory, LeaderFactory, OrganizationFactory, UserFactory
from tests.recognition.factories import AwardCategoryFactory, AwardRoundFactory, CompanyValueFactory, KudosFactory, NominationFactory

UTC = dt.UTC


def closed_round(org, nominees: int, **category_fields):
    round = AwardRoundFactory(category=AwardCategoryFactory(organization=org, **category_fields), month=dt.date(2026, 3, 1))
    people = UserFactory.create_batch(nominees, organization=org)
    for index, person in enumerate(people):
        for _ in range(index + 1):
            nomination = NominationFactory(round=round, nominee=person)
        Endorsement.objects.create(nomination=nomination, user=UserFactory(organization=org))
    AdminFactory(organization=org)
    award_rounds_close_due(now=dt.datetime(2026, 4, 1, tzinfo=UTC))
    round.refresh_from_db()
    return round, people


def test_results_explain_why_this_winner(api, org, employee):
    round, people = closed_round(org, 3)
    body = api(employee).get(f"/api/v1/awards/rounds/{round.pk}/results").json()
    assert body["round"]["status"] == "announced"
    assert body["decided_by"] == "most_nominations"
    assert "Most distinct colleagues" in body["rule"]
    [winner] = body["winners"]
    assert winner["nominee"]["id"] == people[2].pk
    assert winner["nomination_count"] == 3
    assert winner["why"] == "Most colleagues nominating: 3 against 2 for the runner-up."
    assert [s["nominee"]["id"] for s in body["results"]] == [people[2].pk, people[1].pk, people[0].pk]
    # A list like every list (issue #18, 7: no `standings`), complete in one page.
    assert "standings" not in body
    assert [body[key] for key in ("next", "previous", "next_cursor", "previous_cursor")] == [None] * 4
    assert "nominator" not in str(body)


def test_results_of_an_open_round_are_400(api, org, employee):
    round = AwardRoundFactory(category=AwardCategoryFactory(organization=org))
    response = api(employee).get(f"/api/v1/awards/rounds/{round.pk}/results")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "round_open"


def test_tie_broken_by_endorsements_says_so(api, org, employee):
    round = AwardRoundFactory(category=AwardCategoryFactory(organization=org))
    a, b = NominationFactory(round=round), NominationFactory(round=round)
    Endorsement.objects.create(nomination=b, user=employee)
    award_round_close(round_id=round.pk, actor=AdminFactory(organization=org))
    [winner] = api(employee).get(f"/api/v1/awards/rounds/{round.pk}/results").json()["winners"]
    assert winner["nominee"]["id"] == b.nominee_id != a.nominee_id
    assert winner["why"] == "Tied on 1 nominations; won on endorsements, 1 against 0."


@pytest.mark.parametrize("size", [2, 6])
def test_results_query_count(api, org, employee, size, django_assert_num_queries):
    round, _people = closed_round(org, size)
    client = api(employee)
    client.get("/api/v1/me")
    # auth, round access, standings
    with django_assert_num_queries(3):
        response = client.get(f"/api/v1/awards/rounds/{round.pk}/results")
    assert len(response.json()["results"]) == size


def test_wall_of_fame(api, org, employee):
    value = CompanyValueFactory(organization=org, name="Samen sterk")
    star = UserFactory(organization=org)
    KudosFactory(giver=employee, recipients=[star], value=value)
    KudosFactory(giver=UserFactory(organization=org), recipients=[star, employee], value=value)
    KudosFactory(giver=star, recipients=[employee])
    round, people = closed_round(org, 1)
    winner = people[0]
    body = api(employee).get(f"/api/v1/users/{star.pk}/recognition").json()
    assert (body["kudos_received_count"], body["kudos_given_count"]) == (2, 1)
    assert body["by_value"] == [{"value": {"id": value.pk, "name": "Samen sterk", "emoji": "⭐"}, "count": 2}]
    assert len(body["recent_kudos"]) == 2
    assert body["awards"] == []
    awards = api(employee).get(f"/api/v1/users/{winner.pk}/recognition").json()["awards"]
    assert [(a["round_id"], a["month"]) for a in awards] == [(round.pk, "2026-03")]


@pytest.mark.parametrize("size", [2, 6])
def test_wall_of_fame_query_count(api, org, employee, size, django_assert_num_queries):
    star = UserFactory(organization=org)
    for _ in range(size):
        KudosFactory(giver=UserFactory(organization=org), recipients=[star], value=CompanyValueFactory(organization=org))
    client = api(employee)
    client.get("/api/v1/me")
    # auth, the person (+ memberships), received, given, by value, awards, recent kudos (+ recipients)
    with django_assert_num_queries(9):
        response = client.get(f"/api/v1/users/{star.pk}/recognition")
    assert len(response.json()["by_value"]) == size


def test_leaderboard_is_off_unless_the_organisation_enables_it(api, org, employee):
    response = api(employee).get("/api/v1/recognition/leaderboard")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "leaderboard_disabled"


def test_leaderboard_by_month_and_group(api, org, employee):
    org.leaderboard_enabled = True
    org.save()
    team = GroupFactory(organization=org)
    a, b, c = UserFactory.create_batch(3, organization=org)
    Membership.objects.create(group=team, user=b)
    for _ in range(3):
        KudosFactory(giver=employee, recipients=[a])
    KudosFactory(giver=employee, recipients=[b])
    old = KudosFactory(giver=employee, recipients=[c])
    old.created_at = timezone.now() - dt.timedelta(days=70)
    old.save()
    client = api(employee)
    board = client.get("/api/v1/recognition/leaderboard").json()
    assert [(e["rank"], e["user"]["id"], e["kudos_received"]) for e in board["results"]] == [(1, a.pk, 3), (2, b.pk, 1)]
    # A list like every list (issue #18, 7: no `entries`): the top 20, complete in one page.
    assert "entries" not in board and board["month"] and board["group_id"] is None
    assert [board[key] for key in ("next", "previous", "next_cursor", "previous_cursor")] == [None] * 4
    assert [e["user"]["id"] for e in client.get(f"/api/v1/recognition/leaderboard?group={team.pk}").json()["results"]] == [b.pk]
    old_month = old.created_at.astimezone(org.tzinfo).strftime("%Y-%m")
    assert c.pk in [e["user"]["id"] for e in client.get(f"/api/v1/recognition/leaderboard?month={old_month}").json()["results"]]
    foreign = GroupFactory(organization=OrganizationFactory())
    assert client.get(f"/api/v1/recognition/leaderboard?group={foreign.pk}").status_code == 400


def test_insights_are_for_leaders_and_admins(api, org, employee):
    assert api(employee).get("/api/v1/recognition/insights").status_code == 403


def test_leader_insights_cover_their_own_groups(api, org, employee):
    leader = LeaderFactory(organization=org)
    mine, other = GroupFactory(organization=org, name="Kassa"), GroupFactory(organization=org, name="Vers")
    Membership.objects.create(group=mine, user=leader)
    a, b, quiet = UserFactory.create_batch(3, organization=org)
    for person in (a, b, quiet):
        Membership.objects.create(group=mine, user=person)
    outsider = UserFactory(organization=org)
    Membership.objects.create(group=other, user=outsider)
    value = CompanyValueFactory(organization=org)
    KudosFactory(giver=a, recipients=[b], value=value)
    KudosFactory(giver=b, recipients=[a], value=value)
    KudosFactory(giver=a, recipients=[outsider])
    client = api(leader)
    body = client.get("/api/v1/recognition/insights").json()
    assert body["group_ids"] == [mine.pk]
    this_month = timezone.now().astimezone(org.tzinfo).strftime("%Y-%m")
    assert body["per_group"] == [
        {"month": this_month, "group": {"id": mine.pk, "name": "Kassa", "kind": mine.kind}, "kudos_count": 2, "nomination_count": 0}
    ]
    assert body["values_used"][0]["count"] == 2
    not_recognised = {p["id"] for p in body["not_recognised"]}
    assert quiet.pk in not_recognised and leader.pk in not_recognised
    assert a.pk not in not_recognised and outsider.pk not in not_recognised
    assert [(p["a"]["id"], p["b"]["id"], p["a_to_b"], p["b_to_a"]) for p in body["reciprocal_pairs"]] == [
        (min(a.pk, b.pk), max(a.pk, b.pk), 1, 1)
    ]
    response = client.get(f"/api/v1/recognition/insights?group={other.pk}")
    assert response.status_code == 400
    assert "group" in response.json()["error"]["fields"]


def test_admin_insights_cover_the_organisation(api, org, admin_user):
    groups = [GroupFactory(organization=org) for _ in range(2)]
    body = api(admin_user).get("/api/v1/recognition/insights").json()
    assert sorted(body["group_ids"]) == sorted(g.pk for g in groups)
    assert admin_user.pk in {p["id"] for p in body["not_recognised"]}


@pytest.mark.parametrize("size", [2, 6])
def test_insights_query_count(api, org, admin_user, size, django_assert_num_queries):
    value = CompanyValueFactory(organization=org)
    round = AwardRoundFactory(category=AwardCategoryFactory(organization=org))
    for _ in range(size):
        group = GroupFactory(organization=org)
        a, b = UserFactory.create_batch(2, organization=org)
        Membership.objects.create(group=group, user=a)
        Membership.objects.create(group=group, user=b)
        KudosFactory(giver=a, recipients=[b], value=value)
        KudosFactory(giver=b, recipients=[a], value=value)
        NominationFactory(round=round, nominee=a)
        UserFactory(organization=org)
    client = api(admin_user)
    client.get("/api/v1/me")
    # auth, groups, kudos per group/month, nominations per group/month, values, unrecognised count + page, edges, pair people
    with django_assert_num_queries(9):
        response = client.get("/api/v1/recognition/insights")
    assert len(response.json()["reciprocal_pairs"]) == size


def test_insights_months_follow_the_organisations_calendar(org, admin_user):
    from recognition.reports import insights

    team = GroupFactory(organization=org, name="Kassa")
    person = UserFactory(organization=org)
    Membership.objects.create(group=team, user=person)
    kudos = KudosFactory(giver=admin_user, recipients=[person])
    # 22:30 UTC on 31 March is already April in Amsterdam (summer time, +02:00).
    kudos.created_at = dt.datetime(2026, 3, 31, 22, 30, tzinfo=UTC)
    kudos.save()
    report = insights(user=admin_user, group_id=team.pk, now=dt.datetime(2026, 4, 15, tzinfo=UTC))
    assert [(row["month"], row["kudos_count"]) for row in report["per_group"]] == [("2026-04", 1)]


@pytest.mark.parametrize("size", [2, 6])
def test_leaderboard_query_count(api, org, employee, size, django_assert_num_queries):
    org.leaderboard_enabled = True
    org.save()
    for _ in range(size):
        KudosFactory(giver=employee, recipients=UserFactory.create_batch(2, organization=org))
    client = api(employee)
    client.get("/api/v1/me")
    # auth, ranking, the ranked people
    with django_assert_num_queries(3):
        response = client.get("/api/v1/recognition/leaderboard")
    assert len(response.json()["results"]) == size * 2


@pytest.mark.parametrize("size", [2, 6])
def test_leader_pick_results_query_count(api, org, size, django_assert_num_queries):
    round, people = closed_round(org, size, method="leader_pick")
    leader = LeaderFactory(organization=org)
    assert api(leader).post(f"/api/v1/awards/rounds/{round.pk}/winner", {"nominee_id": people[0].pk}, format="json").status_code == 200
    client = api(UserFactory(organization=org))
    client.get("/api/v1/me")
    with django_assert_num_queries(3):
        body = client.get(f"/api/v1/awards/rounds/{round.pk}/results").json()
    assert body["winners"][0]["why"] == f"Picked by {leader.name} from {size} nominees."


def test_leaderboard_ties_share_a_rank_competition_style(api, org, employee):
    org.leaderboard_enabled = True
    org.save()
    a, b, c, d = UserFactory.create_batch(4, organization=org)
    for person, count in ((a, 3), (b, 3), (c, 1), (d, 1)):
        for _ in range(count):
            KudosFactory(giver=employee, recipients=[person])
    board = api(employee).get("/api/v1/recognition/leaderboard").json()
    # 1, 1, 3, 3: equal counts share a rank and the next rank skips the places they took.
    assert [(e["rank"], e["user"]["id"]) for e in board["results"]] == [(1, a.pk), (1, b.pk), (3, c.pk), (3, d.pk)]
