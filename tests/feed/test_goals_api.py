"""Goals and key moments through the API: roles, audiences, feed posts, events, ordering, query counts."""

import pytest

from feed.models import Goal, KeyMoment, Post
from feed.services import goals
from tests.factories import GroupFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def create_goal(client, **body):
    body.setdefault("title", "Klanttevredenheid naar 8,5")
    body.setdefault("why", "Tevreden klanten komen terug")
    body.setdefault("how_to_help", "Begroet iedereen")
    return client.post("/api/v1/goals", body, format="json")


# --- Goals -------------------------------------------------------------------------------------------


def test_leaders_create_goals_and_employees_may_not(api, leader, employee, events):
    response = create_goal(
        api(leader),
        why="Tevreden klanten komen terug",
        how_to_help="Begroet iedereen",
        target_value="100",
        unit="reviews",
        due_date="2027-03-31",
    )
    assert response.status_code == 201
    goal = response.json()
    assert goal["target_value"] == 100 and goal["current_value"] == 0 and goal["progress"] == 0
    assert goal["status"] == "on_track" and goal["audience"] == "organization" and goal["owner"]["id"] == leader.pk
    assert events[-1]["type"] == "goal.updated" and events[-1]["org_wide"] is True

    denied = create_goal(api(employee))
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "not_allowed"
    goal_id = goal["id"]
    assert api(employee).patch(f"/api/v1/goals/{goal_id}", {"status": "at_risk"}, format="json").status_code == 403
    assert api(employee).post(f"/api/v1/goals/{goal_id}/updates", {"note": "x"}, format="json").status_code == 403
    assert api(employee).get(f"/api/v1/goals/{goal_id}").status_code == 200


def test_a_group_goal_is_invisible_to_non_members(api, org, leader, group, member, employee):
    goal_id = create_goal(api(leader), group_ids=[group.pk]).json()["id"]
    assert api(employee).get(f"/api/v1/goals/{goal_id}").status_code == 404
    assert api(employee).get("/api/v1/goals").json()["results"] == []
    assert [g["id"] for g in api(member).get("/api/v1/goals").json()["results"]] == [goal_id]
    assert [g["id"] for g in api(member).get("/api/v1/goals", {"group": group.pk}).json()["results"]] == [goal_id]


def test_goal_update_posts_to_the_feed_and_emits(api, leader, group, member, events):
    goal_id = create_goal(api(leader), target_value="50", unit="reviews", group_ids=[group.pk]).json()["id"]
    response = api(leader).post(f"/api/v1/goals/{goal_id}/updates", {"current_value": "20", "note": "Goede week in Utrecht"}, format="json")
    assert response.status_code == 201
    update = response.json()
    assert update["previous_value"] == 0 and update["current_value"] == 20 and update["reached_target"] is False
    assert update["goal"]["progress"] == 0.4

    feed = api(member).get("/api/v1/feed", {"kind": "goal_update"}).json()["results"]
    assert [card["id"] for card in feed] == [update["post_id"]]
    card = feed[0]
    assert card["body"] == "Goede week in Utrecht" and card["groups"][0]["id"] == group.pk
    assert card["goal"]["id"] == goal_id and card["goal"]["update"]["current_value"] == 20
    assert [e["type"] for e in events[-2:]] == ["post.created", "goal.updated"]
    assert events[-1]["group_ids"] == [group.pk] and events[-1]["payload"]["goal"]["current_value"] == 20


def test_reaching_the_target_marks_the_goal_achieved_once_and_says_so(api, leader):
    goal_id = create_goal(api(leader), target_value="10").json()["id"]
    reached = api(leader).post(f"/api/v1/goals/{goal_id}/updates", {"current_value": "12", "note": "Gehaald!"}, format="json").json()
    assert reached["reached_target"] is True
    assert reached["goal"]["status"] == "achieved" and reached["goal"]["achieved_at"] and reached["goal"]["progress"] == 1
    post = Post.objects.get(pk=reached["post_id"])
    assert post.card["status"] == "achieved" and post.card["update"]["reached_target"] is True
    again = api(leader).post(f"/api/v1/goals/{goal_id}/updates", {"current_value": "14", "note": "Nog meer"}, format="json").json()
    assert again["reached_target"] is False


def test_archived_goals_leave_the_list_and_take_no_updates(api, leader):
    goal_id = create_goal(api(leader)).json()["id"]
    assert api(leader).patch(f"/api/v1/goals/{goal_id}", {"status": "archived"}, format="json").json()["status"] == "archived"
    assert api(leader).get("/api/v1/goals").json()["results"] == []
    assert [g["id"] for g in api(leader).get("/api/v1/goals", {"status": "archived"}).json()["results"]] == [goal_id]
    response = api(leader).post(f"/api/v1/goals/{goal_id}/updates", {"note": "?"}, format="json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "goal_archived"


@pytest.mark.parametrize("count", [3, 30])
def test_goal_list_is_a_fixed_number_of_queries(api, org, leader, django_assert_num_queries, count):
    groups = [GroupFactory(organization=org) for _ in range(2)]
    for index in range(count):
        goals.goal_create(
            actor=leader,
            why="Guests return",
            how_to_help="Greet them",
            title=f"Goal {index}",
            group_ids=[g.pk for g in groups] if index % 2 else None,
        )
    client = api(leader)
    client.get("/api/v1/me")
    # token+user, goals page, groups prefetch
    with django_assert_num_queries(3):
        response = client.get("/api/v1/goals", {"page_size": count})
    assert len(response.json()["results"]) == count


# --- Key moments ---------------------------------------------------------------------------------


def journey(client):
    return [(moment["title"], moment["position"]) for moment in client.get("/api/v1/key-moments").json()["results"]]


def test_key_moments_keep_journey_order_and_reorder(api, leader, employee, events):
    client = api(leader)
    for title in ["Begroeten", "Adviseren", "Afrekenen"]:
        assert client.post("/api/v1/key-moments", {"title": title, "expected_behaviour": "Oogcontact"}, format="json").status_code == 201
    inserted = client.post(
        "/api/v1/key-moments", {"title": "Binnenkomen", "expected_behaviour": "Groeten", "position": 1}, format="json"
    ).json()
    assert inserted["position"] == 1
    assert journey(api(employee)) == [("Binnenkomen", 1), ("Begroeten", 2), ("Adviseren", 3), ("Afrekenen", 4)]

    checkout = KeyMoment.objects.get(title="Afrekenen")
    moved = client.patch(f"/api/v1/key-moments/{checkout.pk}", {"position": 2}, format="json").json()
    assert moved["position"] == 2
    assert journey(client) == [("Binnenkomen", 1), ("Afrekenen", 2), ("Begroeten", 3), ("Adviseren", 4)]
    client.patch(f"/api/v1/key-moments/{checkout.pk}", {"position": 99}, format="json")
    assert journey(client)[-1] == ("Afrekenen", 4)

    assert api(employee).post("/api/v1/key-moments", {"title": "Nee", "expected_behaviour": "x"}, format="json").status_code == 403
    assert (
        api(employee).patch(f"/api/v1/key-moments/{checkout.pk}", {"title": "Nee", "expected_behaviour": "x"}, format="json").status_code
        == 403
    )


def test_publishing_or_changing_a_key_moment_posts_to_the_feed(api, leader, employee, events):
    created = (
        api(leader)
        .post(
            "/api/v1/key-moments",
            {"title": "Afscheid", "description": "De laatste indruk", "expected_behaviour": "Bedank de klant"},
            format="json",
        )
        .json()
    )
    api(leader).patch(f"/api/v1/key-moments/{created['id']}", {"expected_behaviour": "Bedank en wens een fijne dag"}, format="json")
    posts = api(employee).get("/api/v1/feed", {"kind": "key_moment"}).json()["results"]
    assert [card["key_moment"]["change"] for card in posts] == ["updated", "created"]
    assert posts[0]["key_moment"]["expected_behaviour"] == "Bedank en wens een fijne dag"
    assert [card["goal"] for card in posts] == [None, None]
    assert [e["type"] for e in events if e["type"] == "key_moment.updated"] == ["key_moment.updated"] * 2


def test_a_group_key_moment_is_invisible_to_non_members(api, org, leader, group, member, employee):
    moment = goals.key_moment_create(actor=leader, expected_behaviour="Greet every guest", title="Kassa", group_ids=[group.pk])
    assert api(employee).get(f"/api/v1/key-moments/{moment.pk}").status_code == 404
    assert api(member).get(f"/api/v1/key-moments/{moment.pk}").status_code == 200


@pytest.mark.parametrize("count", [3, 30])
def test_key_moment_list_is_a_fixed_number_of_queries(api, org, leader, django_assert_num_queries, count):
    group = GroupFactory(organization=org)
    MembershipFactory(group=group, user=leader)
    for index in range(count):
        goals.key_moment_create(
            actor=leader, expected_behaviour="Greet every guest", title=f"Stap {index}", group_ids=[group.pk] if index % 2 else None
        )
    client = api(leader)
    client.get("/api/v1/me")
    with django_assert_num_queries(3):  # token+user, page, groups
        response = client.get("/api/v1/key-moments", {"page_size": count})
    assert [m["position"] for m in response.json()["results"]] == list(range(1, count + 1))


def test_goal_and_key_moment_services_refuse_other_organisations_groups(leader):
    foreign = GroupFactory(organization=UserFactory().organization)
    from server.api.exceptions import ValidationFailed

    with pytest.raises(ValidationFailed):
        goals.goal_create(actor=leader, why="Guests return", how_to_help="Greet them", title="x", group_ids=[foreign.pk])
    assert not Goal.objects.exists()


def test_a_goal_needs_its_why_and_how_to_help_and_a_key_moment_its_expected_behaviour(api, leader):
    client = api(leader)
    for missing in ("why", "how_to_help"):
        body = {"title": "NPS", "why": "Guests return", "how_to_help": "Greet them"}
        del body[missing]
        response = client.post("/api/v1/goals", body, format="json")
        assert response.status_code == 400 and missing in response.json()["error"]["fields"]
        # Blank, whitespace or only zero-width characters is as empty as absent.
        for empty in ("", "   ", "\u200b\u200b"):
            response = client.post("/api/v1/goals", {**body, missing: empty}, format="json")
            assert response.status_code == 400 and missing in response.json()["error"]["fields"], (missing, empty)
    goal = client.post("/api/v1/goals", {"title": "NPS", "why": "Guests return", "how_to_help": "Greet them"}, format="json").json()
    response = client.patch(f"/api/v1/goals/{goal['id']}", {"why": " "}, format="json")
    assert response.status_code == 400 and "why" in response.json()["error"]["fields"]

    response = client.post("/api/v1/key-moments", {"title": "Check-in"}, format="json")
    assert response.status_code == 400 and "expected_behaviour" in response.json()["error"]["fields"]
    response = client.post("/api/v1/key-moments", {"title": "Check-in", "expected_behaviour": ""}, format="json")
    assert response.status_code == 400 and "expected_behaviour" in response.json()["error"]["fields"]
    moment = client.post("/api/v1/key-moments", {"title": "Check-in", "expected_behaviour": "Greet"}, format="json").json()
    response = client.patch(f"/api/v1/key-moments/{moment['id']}", {"expected_behaviour": ""}, format="json")
    assert response.status_code == 400 and "expected_behaviour" in response.json()["error"]["fields"]
