"""Markers: a unique string seeded in organisation A into every kind of content never
reaches anyone of organisation B, through any list, search, leaderboard, insights,
inbox or export route, nor through the WebSocket stream.

The GET routes are walked from the URLconf (collection routes, plus routes whose only
parameter is a person or group, called with B's own ids), each with and without a
search for the marker: a route added by any app is checked by existing.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.urls import reverse
from django.utils import timezone

from accounts.audit import audit_record
from feed import services as feed_services
from feed.services import archive, goals, polls
from moderation import services as moderation_services
from moderation.models import ReportCase
from recognition import services as recognition_services
from server.routing import websocket_urlpatterns
from tests.factories import GroupFactory, UserFactory, issue_token
from tests.security.harness import PUBLIC_ROUTES, all_routes
from tests.security.matrix import make_world
from voice.services import signals as voice_services
from voice.services import signals_workflow
from voice.services.surveys import survey_create, survey_respond

ROLES_B = ("admin_b", "leader_b", "employee_b")
# Kwargs a route may be called with on organisation B's own objects.
OWN_IDS = {
    "user_id": lambda world: world.employee_b.pk,
    "group_id": lambda world: world.group_b.pk,
    # B's own announcement and goal: their lists (reactions, not acknowledged, history...) hold only B's.
    "post_id": lambda world: world.once(
        "markers.post_b",
        lambda: feed_services.post_create(author=world.leader_b, body="B's own", kind="announcement", requires_acknowledgement=True),
    ).pk,
    "goal_id": lambda world: world.once(
        "markers.goal_b", lambda: goals.goal_create(actor=world.leader_b, title="B's goal", why="B", how_to_help="B")
    ).pk,
}
# Lists that answer only with a query parameter (a 400 without it would check nothing).
REQUIRED_QUERY = {"post-create": {"status": "scheduled"}}
# Lists with a second view worth walking: the archived goals and key moments.
EXTRA_QUERIES = {"goal-list": [{"status": "archived"}], "key-moment-list": [{"archived": "true"}]}


def seed_markers(world, marker: str) -> list[str]:
    """Every kind of content of organisation A, each carrying the marker. Returns the kinds."""
    org = world.org_a
    org.leaderboard_enabled = True
    org.save(update_fields=["leaderboard_enabled"])
    world.org_b.leaderboard_enabled = True
    world.org_b.save(update_fields=["leaderboard_enabled"])
    person = UserFactory(organization=org, name=f"{marker} person", email=f"{marker.lower()}@example.com")
    GroupFactory(organization=org, name=f"{marker} group")
    post = feed_services.post_create(author=world.leader_a, body=f"{marker} org-wide post @[user:{world.employee_a.pk}]")
    feed_services.post_create(author=world.leader_a, body=f"{marker} group post", group_ids=[world.group_a.pk])
    feed_services.post_create(author=world.leader_a, body=f"{marker} announcement", kind="announcement", requires_acknowledgement=True)
    feed_services.comment_create(author=world.employee_a, post=post, body=f"{marker} comment @[user:{world.leader_a.pk}]")
    feed_services.post_create(author=world.admin_a, body=f"{marker} scheduled post", publish_at=timezone.now() + timedelta(days=1))
    poll_post = feed_services.post_create(
        author=world.leader_a, body="Lunch?", poll={"options": [f"{marker} option", "Soup"], "anonymous": False}
    )
    polls.poll_vote(user=world.employee_a, post_id=poll_post.pk, option_ids=[poll_post.poll.options.get(position=0).pk])
    goal = goals.goal_create(actor=world.leader_a, title=f"{marker} goal", why=f"{marker} why", how_to_help=f"{marker} help")
    goals.goal_progress_add(actor=world.leader_a, goal=goal, note=f"{marker} goal update")
    archived_goal = goals.goal_create(actor=world.leader_a, title=f"{marker} archived goal", why="x", how_to_help="y")
    goals.goal_update(actor=world.leader_a, goal=archived_goal, status="archived")
    archived_moment = goals.key_moment_create(actor=world.leader_a, title=f"{marker} archived key moment", expected_behaviour="z")
    archive.key_moment_set_archived(actor=world.leader_a, key_moment=archived_moment, archived=True)
    key_moment = goals.key_moment_create(
        actor=world.leader_a, title=f"{marker} key moment", description=f"{marker} description", expected_behaviour=f"{marker} behaviour"
    )
    value = recognition_services.value_create(actor=world.admin_a, name=f"{marker} value", description=f"{marker} value text")
    kudos = recognition_services.kudos_give(
        giver=world.employee_a,
        recipient_ids=[person.pk, world.leader_a.pk],
        message=f"{marker} kudos",
        value_id=value.pk,
        key_moment_id=key_moment.pk,
    )
    category = recognition_services.award_category_create(actor=world.admin_a, name=f"{marker} award", description=f"{marker} award text")
    recognition_services.nomination_create(
        nominator=world.employee_a, round=category.rounds.get(), nominee_id=person.pk, reason=f"{marker} nomination reason"
    )
    # An announced award (the organisation's wall of fame shows its winner and reason this month).
    announced = recognition_services.award_category_create(actor=world.admin_a, name=f"{marker} award announced")
    recognition_services.nomination_create(
        nominator=world.employee_a, round=announced.rounds.get(), nominee_id=person.pk, reason=f"{marker} winning reason"
    )
    recognition_services.award_round_close(round_id=announced.rounds.get().pk, actor=world.admin_a)
    # Moderation: a report with a note, a keyword list, and an audit entry naming the marker.
    moderation_services.keywords_set(actor=world.admin_a, keywords=[f"{marker.lower()}kw"])
    moderation_services.report_create(
        reporter=world.employee_a, target_type="post", target_id=post.pk, reason="other", note=f"{marker} report note"
    )
    audit_record(
        actor=world.admin_a, action="test.marker", target_type="user", target_id=person.pk, organization_id=org.pk, note=f"{marker} audit"
    )
    # A survey of the whole organisation, answered with the marker in a text answer.
    survey = survey_create(
        actor=world.admin_a,
        title=f"{marker} survey",
        intro=f"{marker} intro",
        questions=[
            {"kind": "single_choice", "text": f"{marker} question", "options": [f"{marker} option", "other"]},
            {"kind": "text", "text": "Why?"},
        ],
        closes_at=timezone.now() + timedelta(days=7),
    )
    choice, why = survey.questions.order_by("position")
    survey_respond(
        user=world.employee_a,
        survey=survey,
        answers=[
            {"question_id": choice.pk, "option_ids": [choice.options.first().pk]},
            {"question_id": why.pk, "text": f"{marker} answer"},
        ],
    )
    signal = voice_services.signal_create(
        author=world.employee_a,
        kind="friction",
        title=f"{marker} signal",
        body=f"{marker} signal body",
        group_id=world.group_a.pk,
        key_moment_id=key_moment.pk,
    )
    voice_services.signal_support(user=world.leader_a, signal=signal, note=f"{marker} support note")
    signals_workflow.signal_set_status(
        actor=world.admin_a, signal=signal, status="resolved", message=f"{marker} resolution message", announce=True
    )
    assert kudos.pk
    return [
        "user",
        "group",
        "post",
        "scheduled post",
        "announcement",
        "comment",
        "poll option",
        "goal",
        "goal update",
        "archived goal",
        "archived key moment",
        "key moment",
        "value",
        "kudos",
        "award",
        "nomination",
        "report",
        "keyword",
        "audit entry",
        "survey",
        "signal",
    ]


@pytest.fixture
def world(db):
    return make_world()


def _get_routes(world) -> list[tuple[str, str]]:
    routes = []
    for route in all_routes():
        if not route.is_api or route.name in PUBLIC_ROUTES or "get" not in route.methods:
            continue
        if not set(route.kwargs) <= set(OWN_IDS):
            continue
        path = reverse(route.name, kwargs={kwarg: OWN_IDS[kwarg](world) for kwarg in route.kwargs})
        routes.append((route.name, path))
    return routes


def test_no_route_shows_organisation_a_markers_to_organisation_b(world, api, django_capture_on_commit_callbacks):
    marker = f"MRK{uuid.uuid4().hex[:12].upper()}"
    with django_capture_on_commit_callbacks(execute=True):  # events delivered: inboxes, notifications
        seed_markers(world, marker)
    # The marker is really there for organisation A: the check below is not vacuous.
    own = api(world.admin_a)
    assert marker in own.get("/api/v1/feed").content.decode()
    assert marker in own.get("/api/v1/posts", {"status": "scheduled"}).content.decode()
    assert marker in own.get("/api/v1/signals").content.decode()
    assert f"{marker} archived key moment" in own.get("/api/v1/key-moments", {"archived": "true"}).content.decode()
    assert marker in own.get("/api/v1/users", {"search": marker}).content.decode()
    assert marker in api(world.leader_a).get("/api/v1/notifications").content.decode()
    assert marker in own.get("/api/v1/recognition/wall").content.decode()
    assert marker in own.get(f"/api/v1/moderation/reports/{ReportCase.objects.get(organization=world.org_a).pk}").content.decode()
    assert marker in b"".join(own.get("/api/v1/moderation/audit-log.csv").streaming_content).decode()
    searched = own.get("/api/v1/search", {"q": marker}).json()["results"]
    assert {row["type"] for row in searched} >= {"person", "post", "comment", "goal", "key_moment", "kudos", "signal"}

    routes = _get_routes(world)
    walked = {name for name, _ in routes}
    assert {
        "feed",
        "user-list",
        "kudos-list",
        "notification-list",
        "recognition-leaderboard",
        "recognition-insights",
        "recognition-wall",
        "search",
        "survey-list",
    } <= walked
    assert {"feed", "user-list", "kudos-list", "notification-list", "recognition-leaderboard", "recognition-insights"} <= walked
    assert {"signal-list", "signal-insights"} <= walked
    assert {"post-reactions", "post-reach-not-acknowledged", "goal-updates", "post-comments"} <= walked
    leaks = []
    for role in ROLES_B:
        client = api(getattr(world, role))
        for name, path in routes:
            for params in ({}, {"search": marker}, {"q": marker}, {"page_size": 100}, *EXTRA_QUERIES.get(name, [])):
                response = client.get(path, {**params, **REQUIRED_QUERY.get(name, {})})
                if response.status_code >= 500:
                    leaks.append(f"{role} GET {path} {params}: {response.status_code}")
                body = b"".join(response.streaming_content) if response.streaming else response.content
                if marker.encode() in body:
                    leaks.append(f"{role} GET {path} {params} shows organisation A's marker")
    # Search, each type, also narrowed to organisation A's group (a query id, not a body id).
    for role in ROLES_B:
        client = api(getattr(world, role))
        for type in ("person", "post", "comment", "goal", "key_moment", "kudos", "signal"):
            for params in ({"type": type}, {"type": type, "group": world.group_a.pk}, {"group": world.group_a.pk}):
                response = client.get("/api/v1/search", {"q": marker, **params})
                if response.status_code != 200 or marker.encode() in response.content:
                    leaks.append(f"{role} search {params}: {response.status_code} {response.content[:200]!r}")
    assert not leaks, "\n".join(leaks)


@pytest.mark.django_db(transaction=True)
def test_the_websocket_stream_of_organisation_b_carries_no_marker():
    world = make_world()
    marker = f"MRK{uuid.uuid4().hex[:12].upper()}"
    application = URLRouter(websocket_urlpatterns)
    tokens_b = {role: issue_token(getattr(world, role)) for role in ROLES_B}
    token_a = issue_token(world.employee_a)

    async def scenario():
        streams = {}
        for role, token in {**tokens_b, "employee_a": token_a}.items():
            communicator = WebsocketCommunicator(application, f"/ws/v1/stream?token={token}")
            connected, _ = await communicator.connect()
            assert connected
            streams[role] = communicator
        await sync_to_async(seed_markers)(world, marker)
        frames: dict[str, list[str]] = {role: [] for role in streams}
        for role, communicator in streams.items():
            while not await communicator.receive_nothing(timeout=0.3):
                frames[role].append(await communicator.receive_from(timeout=1))
            await communicator.disconnect()
        return frames

    frames = async_to_sync(scenario)()
    assert any(marker in frame for frame in frames["employee_a"]), "organisation A's own stream saw no marker"
    assert all(json.loads(frame)["type"] for frame in frames["employee_a"])
    for role in ROLES_B:
        assert not [frame for frame in frames[role] if marker in frame], f"{role} received organisation A's marker"
