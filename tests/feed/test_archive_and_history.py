"""Archiving key moments and goals (they leave the tabs; leaders and admins still see and restore
them) and a goal's update history (#22)."""

from decimal import Decimal

import pytest

from feed.models import KeyMoment
from feed.services import archive, goals
from recognition import services as recognition_services
from tests.factories import AdminFactory, UserFactory

pytestmark = pytest.mark.django_db


def journey(client, **params):
    response = client.get("/api/v1/key-moments", params)
    assert response.status_code == 200, response.content
    return [(row["title"], row["position"]) for row in response.json()["results"]]


@pytest.fixture
def moments(leader):
    return [goals.key_moment_create(actor=leader, title=title, expected_behaviour="Groet") for title in ("In", "Kassa", "Uit")]


def test_an_archived_key_moment_leaves_the_journey_and_comes_back_last(api, leader, employee, moments, events):
    events.clear()
    response = api(leader).patch(f"/api/v1/key-moments/{moments[0].pk}", {"archived": True}, format="json")
    assert response.status_code == 200 and response.json()["archived_at"]
    assert journey(api(employee)) == [("Kassa", 1), ("Uit", 2)]
    [event] = events  # no feed post for an archive: only the tab's event
    assert event["type"] == "key_moment.updated" and event["payload"]["key_moment"]["change"] == "archived"
    assert journey(api(leader), archived="true") == [("In", 1)]
    assert api(employee).get("/api/v1/key-moments", {"archived": "true"}).status_code == 403
    assert api(employee).get(f"/api/v1/key-moments/{moments[0].pk}").status_code == 200  # old links still open
    # Archiving again changes nothing; restoring puts it at the end.
    assert api(leader).patch(f"/api/v1/key-moments/{moments[0].pk}", {"archived": True}, format="json").status_code == 200
    assert len(events) == 1
    assert (
        api(AdminFactory(organization=leader.organization))
        .patch(f"/api/v1/key-moments/{moments[0].pk}", {"archived": False}, format="json")
        .json()["archived_at"]
        is None
    )
    assert journey(api(employee)) == [("Kassa", 1), ("Uit", 2), ("In", 3)]


def test_employees_cannot_archive(api, employee, moments):
    assert api(employee).patch(f"/api/v1/key-moments/{moments[0].pk}", {"archived": True}, format="json").status_code == 403
    assert KeyMoment.objects.filter(archived_at__isnull=False).count() == 0


def test_a_new_kudos_cannot_cite_an_archived_key_moment(leader, employee, moments):
    from server.api.exceptions import ValidationFailed

    archive.key_moment_set_archived(actor=leader, key_moment=moments[1], archived=True)
    with pytest.raises(ValidationFailed) as refused:
        recognition_services.kudos_give(giver=employee, recipient_ids=[leader.pk], message="Top!", key_moment_id=moments[1].pk)
    assert "key_moment_id" in refused.value.fields


def test_an_archived_goal_leaves_the_tab_for_leaders_and_admins_to_see_and_restore(api, leader, employee):
    goal = goals.goal_create(actor=leader, title="NPS 60", why="Gasten komen terug", how_to_help="Groet")
    client = api(leader)
    assert client.patch(f"/api/v1/goals/{goal.pk}", {"status": "archived"}, format="json").json()["status"] == "archived"
    assert api(employee).get("/api/v1/goals").json()["results"] == []
    assert api(employee).get("/api/v1/goals", {"status": "archived"}).status_code == 403
    assert [row["id"] for row in client.get("/api/v1/goals", {"status": "archived"}).json()["results"]] == [goal.pk]
    assert client.patch(f"/api/v1/goals/{goal.pk}", {"status": "on_track"}, format="json").status_code == 200
    assert [row["id"] for row in api(employee).get("/api/v1/goals").json()["results"]] == [goal.pk]


# --- A goal's history -----------------------------------------------------------------------------


def test_a_goals_history_newest_first(api, leader, employee):
    goal = goals.goal_create(actor=leader, title="Sneller afrekenen", why="Korter wachten", how_to_help="Tweede kassa", target_value=60)
    first = goals.goal_progress_add(actor=leader, goal=goal, note="Op 40", current_value=Decimal("40"))
    second = goals.goal_progress_add(actor=leader, goal=goal, note="Gehaald!", current_value=Decimal("60"))
    response = api(employee).get(f"/api/v1/goals/{goal.pk}/updates")
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [row["id"] for row in rows] == [second.pk, first.pk]
    assert rows[0] == {
        "id": second.pk,
        "note": "Gehaald!",
        "previous_value": 40.0,
        "current_value": 60.0,
        "reached_target": True,
        "post_id": second.post_id,
        "author": {"id": leader.pk, "name": leader.name, "avatar": None},
        "created_at": rows[0]["created_at"],
    }


def test_a_goals_history_is_for_its_audience(api, leader, org, group):
    goal = goals.goal_create(actor=leader, title="Team", why="x", how_to_help="y", group_ids=[group.pk])
    assert api(UserFactory(organization=org)).get(f"/api/v1/goals/{goal.pk}/updates").status_code == 404
    assert api(AdminFactory()).get(f"/api/v1/goals/{goal.pk}/updates").status_code == 404


@pytest.mark.parametrize("page_size", [2, 20])
def test_a_goals_history_is_a_fixed_number_of_queries(api, leader, employee, django_assert_num_queries, page_size):
    goal = goals.goal_create(actor=leader, title="Omzet", why="x", how_to_help="y", target_value=1000)
    for value in range(21):
        goals.goal_progress_add(actor=leader, goal=goal, note=f"Stap {value}", current_value=Decimal(value))
    client = api(employee)
    client.get("/api/v1/me")
    # token, the goal (and its groups), the page with authors
    with django_assert_num_queries(4):
        response = client.get(f"/api/v1/goals/{goal.pk}/updates", {"page_size": page_size})
    assert len(response.json()["results"]) == page_size
