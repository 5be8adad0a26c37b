"""Real responses against the OpenAPI document, read as OpenAPI 3.0 says (issue #18, items 6 and 7).

openapi-schema-validator applies `nullable` only beside a `type` in the same schema object, as
OpenAPI 3.0.3 does: a nullable reference written `{allOf: [$ref], nullable: true}` refuses null
there. Every body is validated twice: as that validator reads the document (the discriminator
picks the branch), and with the discriminators removed, as plain JSON Schema tools (Schemathesis,
most generators' runtime checks) read it, where the branches of a `oneOf` must exclude each other.

A phone session makes one post of every kind and a notification of every type that reaches an
inbox, so every variant of the two unions is met at least once.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from openapi_schema_validator import OAS30ReadValidator, oas30_format_checker

from feed.models import PostKind
from feed.services.mandatory_reads import mandatory_reads_process
from notifications.serializers import notification_variants
from recognition.models import Endorsement
from recognition.services import award_rounds_close_due
from tests.factories import GroupFactory, MembershipFactory, UserFactory
from tests.media.factories import ready_media
from tests.recognition.factories import AwardCategoryFactory, AwardRoundFactory, CompanyValueFactory, NominationFactory
from tests.test_openapi_contract import openapi
from voice.services.signals_promise import signals_promise_process
from voice.services.surveys import surveys_tick

pytestmark = pytest.mark.django_db


def _without_discriminators(node: Any) -> Any:
    if isinstance(node, dict):
        return {key: _without_discriminators(value) for key, value in node.items() if key != "discriminator"}
    if isinstance(node, list):
        return [_without_discriminators(value) for value in node]
    return node


def assert_matches(body: Any, component: str) -> None:
    components = openapi()["components"]
    for document in (components, _without_discriminators(copy.deepcopy(components))):
        validator = OAS30ReadValidator(
            {"$ref": f"#/components/schemas/{component}", "components": document}, format_checker=oas30_format_checker
        )
        errors = sorted(validator.iter_errors(body), key=lambda error: list(error.absolute_path))
        assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message[:300]}" for e in errors[:5])


def ok(response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.content[:500])
    return response.json()


def mention(user) -> str:
    return f"@[user:{user.pk}]"


@pytest.fixture
def world(api, org, admin_user, leader, employee, django_capture_on_commit_callbacks):
    """Every kind of post and every type of notification, made the way the phone makes them."""
    # Events reach inboxes after commit (the outbox task): run those callbacks as they come.
    with django_capture_on_commit_callbacks(execute=True):
        return _build_world(api, org, admin_user, leader, employee)


def _build_world(api, org, admin_user, leader, employee):
    team = GroupFactory(organization=org, name="Kassa", kind="location")
    MembershipFactory(group=team, user=employee)
    MembershipFactory(group=team, user=leader, role="manager")
    colleague = UserFactory(organization=org)
    MembershipFactory(group=team, user=colleague)
    boss, me, them = api(leader), api(employee), api(colleague)

    moment = ok(
        boss.post(
            "/api/v1/key-moments",
            {
                "title": "Welkom",
                "description": "De eerste indruk",
                "expected_behaviour": "Groet binnen 10 seconden",
                "group_ids": [team.pk],
            },
            format="json",
        ),
        201,
    )
    goal = boss.post("/api/v1/goals", {"title": "NPS 60", "why": "Klanten", "how_to_help": "Glimlach", "target_value": 60}, format="json")
    assert goal.status_code == 201, goal.json()
    ok(boss.post(f"/api/v1/goals/{goal.json()['id']}/updates", {"current_value": 42.5, "note": "Goed bezig"}, format="json"), 201)
    announcement = ok(
        boss.post(
            "/api/v1/posts",
            {
                "body": f"Nieuwe kassa-instructie voor {mention(employee)}",
                "kind": "announcement",
                "group_ids": [team.pk],
                "requires_acknowledgement": True,
                "acknowledgement_deadline": (timezone.now() + dt.timedelta(days=3)).isoformat(),
            },
            format="json",
        ),
        201,
    )
    ok(me.post("/api/v1/posts", {"body": "Wie heeft mijn sleutels gezien?", "group_ids": [team.pk]}, format="json"), 201)
    mine = ok(me.post("/api/v1/posts", {"body": "Wie ruilt zaterdag?", "group_ids": [team.pk]}, format="json"), 201)
    answer = ok(them.post(f"/api/v1/posts/{mine['id']}/comments", {"body": "Ik!"}, format="json"), 201)
    # An edit that mentions me (comment.updated) and my reply to it (reason reply).
    ok(them.patch(f"/api/v1/comments/{answer['id']}", {"body": f"Ik! @[user:{employee.pk}]"}, format="json"))
    ok(me.post(f"/api/v1/posts/{mine['id']}/comments", {"body": "Top", "parent_id": answer["id"]}, format="json"), 201)
    ok(them.put(f"/api/v1/posts/{mine['id']}/reaction", {"type": "heart"}, format="json"))

    value = CompanyValueFactory(organization=org, name="Samen sterk")
    photo = ready_media(owner=employee)
    kudos = me.post(
        "/api/v1/kudos",
        {"recipient_ids": [colleague.pk], "message": "Top!", "value_id": value.pk, "image_id": photo.pk, "key_moment_id": moment["id"]},
        format="json",
    )
    assert kudos.status_code == 201, kudos.json()
    assert me.post("/api/v1/kudos", {"recipient_ids": [leader.pk], "message": "Dank"}, format="json").status_code == 201

    # An award round of last month, closed by the scheduler: a winner and a runner-up.
    month = (timezone.now().replace(day=1) - dt.timedelta(days=1)).date().replace(day=1)
    round = AwardRoundFactory(category=AwardCategoryFactory(organization=org), month=month)
    winner, runner_up = colleague, UserFactory(organization=org)
    for nominee, times in ((winner, 2), (runner_up, 1)):
        for _ in range(times):
            nomination = NominationFactory(round=round, nominee=nominee)
    Endorsement.objects.create(nomination=nomination, user=employee)
    award_rounds_close_due(now=timezone.now())

    # Moderation: a report (moderators hear), a decision (the author hears), the outcome (reporters hear).
    report = them.post("/api/v1/reports", {"target_type": "post", "target_id": mine["id"], "reason": "spam"}, format="json")
    assert report.status_code == 201, report.json()
    [case] = api(admin_user).get("/api/v1/moderation/reports").json()["results"]
    ok(api(admin_user).post(f"/api/v1/moderation/reports/{case['id']}/resolve", {"action": "hide", "note": "Off-topic"}, format="json"))

    # A survey of the team: it opens (everyone hears), the colleague answers, the others are reminded,
    # and it closes (its creator hears).
    questions = [{"kind": "scale_0_10", "text": "Hoe waarschijnlijk raad je ons aan?"}]
    closes = (timezone.now() + dt.timedelta(days=2)).isoformat()
    survey = ok(
        boss.post(
            "/api/v1/surveys", {"title": "Pulse", "group_ids": [team.pk], "questions": questions, "closes_at": closes}, format="json"
        ),
        201,
    )
    answer = [{"question_id": survey["questions"][0]["id"], "value": 9}]
    ok(them.post(f"/api/v1/surveys/{survey['id']}/responses", {"answers": answer}, format="json"), 201)
    surveys_tick(now=timezone.now() + dt.timedelta(days=1, hours=1))
    surveys_tick(now=timezone.now() + dt.timedelta(days=3))
    # Voice: a signal raised (its owner hears), supported, resolved with a "you said, we did" post,
    # and one left open past the promise (a reminder to its owner, then the admins).
    signal = ok(
        me.post(
            "/api/v1/signals", {"kind": "friction", "title": "Kassa 3 hapert", "body": "Elke ochtend", "group_id": team.pk}, format="json"
        ),
        201,
    )
    ok(them.put(f"/api/v1/signals/{signal['id']}/support", {"group_id": team.pk}, format="json"))
    resolution = {"status": "resolved", "message": "De kassa is vervangen door een nieuwe.", "announce": True}
    ok(boss.post(f"/api/v1/signals/{signal['id']}/status", resolution, format="json"))
    waiting = ok(
        me.post("/api/v1/signals", {"kind": "idea", "title": "Muziek zachter", "body": "Klanten", "group_id": team.pk}, format="json"), 201
    )
    signals_promise_process(now=dt.datetime.fromisoformat(waiting["created_at"]) + dt.timedelta(days=30))

    # A reminder to acknowledge, then the summary after the deadline.
    deadline = dt.datetime.fromisoformat(announcement["acknowledgement_deadline"])
    mandatory_reads_process(now=deadline - dt.timedelta(hours=1))
    mandatory_reads_process(now=deadline + dt.timedelta(minutes=1))
    return {"team": team, "colleague": colleague, "runner_up": runner_up, "people": [admin_user, leader, employee, colleague, runner_up]}


def test_every_card_kind_matches_the_post_card_union(api, world, employee):
    body = api(employee).get("/api/v1/feed?page_size=100").json()
    assert {card["kind"] for card in body["results"]} == set(PostKind.values)
    assert_matches(body, "PaginatedPostCardList")
    [kudos] = [card for card in body["results"] if card["kind"] == "kudos" and card["kudos"]["image_id"]]
    # Issue #18, 7: the kudos' picture is the media object on its card too, read live.
    assert kudos["kudos"]["image"]["id"] == kudos["kudos"]["image_id"] and kudos["kudos"]["image"]["status"] == "ready"
    assert kudos["kudos"]["image"]["variants"]["thumbnail"]
    [plain_kudos] = [card for card in body["results"] if card["kind"] == "kudos" and not card["kudos"]["image_id"]]
    assert plain_kudos["kudos"]["image"] is None and plain_kudos["kudos"]["value"] is None
    [moment] = [card for card in body["results"] if card["kind"] == "key_moment"]
    assert moment["goal"] is None and moment["key_moment"]["expected_behaviour"] == "Groet binnen 10 seconden"


def test_every_notification_type_matches_the_notification_union(api, world):
    seen = set()
    for person in world["people"]:
        body = api(person).get("/api/v1/notifications?page_size=100").json()
        assert_matches(body, "PaginatedNotificationList")
        seen |= {(notification["type"], notification["reason"]) for notification in body["results"]}
    assert {event_type for event_type, _ in seen} == set(notification_variants())
    # award.announced reaches the winner with the announcement and the runner-up with their tally.
    assert {("award.announced", "award"), ("award.announced", "nomination")} <= seen


@pytest.mark.parametrize(
    ("path", "component"),
    [
        ("/api/v1/me", "Me"),
        ("/api/v1/kudos", "PaginatedKudosList"),
        ("/api/v1/goals", "PaginatedGoalList"),
        ("/api/v1/key-moments", "PaginatedKeyMomentList"),
        ("/api/v1/users", "PaginatedColleagueList"),
        ("/api/v1/recognition/leaderboard", "Leaderboard"),
    ],
)
def test_lists_and_profiles_match(api, org, world, employee, path, component):
    org.leaderboard_enabled = True
    org.save()
    response = api(employee).get(path)
    assert response.status_code == 200, response.json()
    assert_matches(response.json(), component)


def test_moderation_rows_match_with_their_resolution(api, world, admin_user):
    body = api(admin_user).get("/api/v1/moderation/reports?status=resolved").json()
    [case] = body["results"]
    assert case["resolution"]["resolved_by"] == {"id": admin_user.pk, "name": admin_user.name}
    assert_matches(body, "PaginatedCaseList")
    assert_matches(api(admin_user).get("/api/v1/moderation/audit-log").json(), "PaginatedAuditEntryList")


def test_round_results_match(api, world, employee):
    [round_id] = {
        n["data"]["round_id"] for n in api(world["runner_up"]).get("/api/v1/notifications").json()["results"] if "round_id" in n["data"]
    }
    body = api(employee).get(f"/api/v1/awards/rounds/{round_id}/results").json()
    assert [standing["nominee"]["id"] for standing in body["results"]] == [world["colleague"].pk, world["runner_up"].pk]
    assert_matches(body, "Results")


def test_groups_carry_their_kind_wherever_embedded(api, world, employee):
    # Issue #18, 7: {id, name, kind} on goals, key moments and reach as on post cards.
    client = api(employee)
    [moment] = client.get("/api/v1/key-moments").json()["results"]
    assert moment["groups"] == [{"id": world["team"].pk, "name": "Kassa", "kind": "location"}]
    [card] = client.get("/api/v1/feed?kind=announcement").json()["results"]
    assert card["groups"] == [{"id": world["team"].pk, "name": "Kassa", "kind": "location"}]
    [mine] = client.get("/api/v1/me").json()["groups"]
    assert mine == {"id": world["team"].pk, "name": "Kassa", "kind": "location", "role": "member"}


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("patch", "/api/v1/notification-preferences", {"quiet_hours": {"start": "late"}}),
        ("post", "/api/v1/posts", {"body": 5, "group_ids": ["x", 1]}),
        ("post", "/api/v1/auth/login", {}),
    ],
)
def test_errors_match_the_envelope_with_typed_fields(api, employee, method, path, body):
    response = getattr(api(employee), method)(path, body, format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["error"]["fields"]
    assert_matches(response.json(), "Error")
