"""An id in a request body that the caller may not use is a 400 naming the field, on every route.

API.md: "Ids in a request body that the caller may not use (another organisation's group, user
or image) → 400 with the offending field in `fields`." Each case below sends a body that is
valid except for one id field, set to an object of another organisation and to an id that does
not exist; both must answer the same 400 naming that field (the same answer: nothing tells the
caller whether the other organisation's object exists), and nothing is written. The case list
must name every id field of every request body of the schema, so a new one is covered by
existing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from feed.models import KeyMoment
from feed.services import post_create
from media.models import MediaStatus
from notifications.models import Notification
from recognition import services as recognition_services
from recognition.models import DecisionMethod
from recognition.services import closing
from tests.feed.factories import CommentFactory, PostFactory
from tests.media.factories import MediaFactory
from tests.security.matrix import changed_tables, make_world, openapi, request_schema, snapshot
from voice.services import signals as voice_services
from voice.services.surveys import survey_create

MISSING = 987_654_321


@dataclass(frozen=True)
class Case:
    actor: str
    path: Callable[[Any], str]
    body: Callable[[Any], dict[str, Any]]
    # The other organisation's object of the kind the field names.
    foreign: Callable[[Any], int]


def _media(owner) -> int:
    return MediaFactory(
        owner=owner, status=MediaStatus.READY, variant_format="webp", thumbnail_path="media/x/t.webp", large_path="media/x/l.webp"
    ).pk


def _key_moment(world, admin) -> int:
    return KeyMoment.objects.create(
        organization=admin.organization, title="Check-in", expected_behaviour="Greet", position=1, created_by=admin
    ).pk


def _round(world, method=DecisionMethod.MOST_NOMINATIONS):
    key = f"round-{method}"
    return world.once(
        key, lambda: recognition_services.award_category_create(actor=world.admin_a, name=f"Award {method}", method=method).rounds.get()
    )


def _closed_pick_round(world) -> int:
    round = _round(world, DecisionMethod.LEADER_PICK)
    return closing.award_round_close(round_id=round.pk, actor=world.admin_a).pk


def _value(admin) -> int:
    return recognition_services.value_create(actor=admin, name=f"Value of {admin.organization_id}").pk


def _kudos(world) -> int:
    return world.once(
        "kudos", lambda: recognition_services.kudos_give(giver=world.employee_a, recipient_ids=[world.leader_a.pk], message="Thanks!").pk
    )


def _post(world) -> int:
    return world.once("post", lambda: PostFactory(author=world.leader_a).pk)


def _poll_post(author):
    return post_create(author=author, body="Lunch?", poll={"options": ["Pizza", "Soup"]})


def _poll_option(author) -> int:
    return _poll_post(author).poll.options.first().pk


group_b = lambda world: world.group_b.pk  # noqa: E731
person_b = lambda world: world.employee_b.pk  # noqa: E731

CASES: dict[tuple[str, str, str], Case] = {
    ("post", "/api/v1/posts", "group_ids"): Case("leader_a", lambda w: "/api/v1/posts", lambda w: {"body": "Hi"}, group_b),
    ("post", "/api/v1/posts", "image_ids"): Case(
        "leader_a", lambda w: "/api/v1/posts", lambda w: {"body": "Hi"}, lambda w: _media(w.employee_b)
    ),
    ("patch", "/api/v1/posts/{post_id}", "group_ids"): Case("leader_a", lambda w: f"/api/v1/posts/{_post(w)}", lambda w: {}, group_b),
    ("patch", "/api/v1/posts/{post_id}", "image_ids"): Case(
        "leader_a", lambda w: f"/api/v1/posts/{_post(w)}", lambda w: {}, lambda w: _media(w.employee_b)
    ),
    ("post", "/api/v1/posts/{post_id}/comments", "parent_id"): Case(
        "employee_a",
        lambda w: f"/api/v1/posts/{_post(w)}/comments",
        lambda w: {"body": "Same here"},
        lambda w: CommentFactory(post=PostFactory(author=w.employee_b)).pk,
    ),
    ("post", "/api/v1/goals", "group_ids"): Case(
        "leader_a", lambda w: "/api/v1/goals", lambda w: {"title": "NPS", "why": "Guests return", "how_to_help": "Greet"}, group_b
    ),
    ("post", "/api/v1/key-moments", "group_ids"): Case(
        "leader_a", lambda w: "/api/v1/key-moments", lambda w: {"title": "Check-in", "expected_behaviour": "Greet"}, group_b
    ),
    ("patch", "/api/v1/key-moments/{key_moment_id}", "group_ids"): Case(
        "leader_a", lambda w: f"/api/v1/key-moments/{w.once('km', lambda: _key_moment(w, w.admin_a))}", lambda w: {}, group_b
    ),
    ("post", "/api/v1/invitations", "group_ids"): Case(
        "admin_a", lambda w: "/api/v1/invitations", lambda w: {"email": "new@example.com", "name": "New"}, group_b
    ),
    ("patch", "/api/v1/users/{user_id}", "group_ids"): Case("admin_a", lambda w: f"/api/v1/users/{w.employee_a.pk}", lambda w: {}, group_b),
    ("post", "/api/v1/groups/{group_id}/members", "user_id"): Case(
        "admin_a", lambda w: f"/api/v1/groups/{w.group_a.pk}/members", lambda w: {"role": "member"}, person_b
    ),
    ("patch", "/api/v1/notification-preferences", "muted_group_ids"): Case(
        "employee_a", lambda w: "/api/v1/notification-preferences", lambda w: {}, group_b
    ),
    ("post", "/api/v1/notifications/read", "ids"): Case(
        "employee_a", lambda w: "/api/v1/notifications/read", lambda w: {}, lambda w: _notification_of(w.employee_b)
    ),
    ("post", "/api/v1/me/avatar", "media_id"): Case(
        "employee_a", lambda w: "/api/v1/me/avatar", lambda w: {}, lambda w: _media(w.employee_b)
    ),
    ("post", "/api/v1/kudos", "recipient_ids"): Case("employee_a", lambda w: "/api/v1/kudos", lambda w: {"message": "Thanks!"}, person_b),
    ("post", "/api/v1/kudos", "value_id"): Case(
        "employee_a",
        lambda w: "/api/v1/kudos",
        lambda w: {"message": "Thanks!", "recipient_ids": [w.leader_a.pk]},
        lambda w: _value(w.admin_b),
    ),
    ("post", "/api/v1/kudos", "image_id"): Case(
        "employee_a",
        lambda w: "/api/v1/kudos",
        lambda w: {"message": "Thanks!", "recipient_ids": [w.leader_a.pk]},
        lambda w: _media(w.employee_b),
    ),
    ("post", "/api/v1/kudos", "key_moment_id"): Case(
        "employee_a",
        lambda w: "/api/v1/kudos",
        lambda w: {"message": "Thanks!", "recipient_ids": [w.leader_a.pk]},
        lambda w: _key_moment(w, w.admin_b),
    ),
    ("post", "/api/v1/kudos/{kudos_id}/nominate", "round_id"): Case(
        "employee_a",
        lambda w: f"/api/v1/kudos/{_kudos(w)}/nominate",
        lambda w: {"reason": "Always there for the guests, every shift."},
        lambda w: recognition_services.award_category_create(actor=w.admin_b, name="B award").rounds.get().pk,
    ),
    ("post", "/api/v1/kudos/{kudos_id}/nominate", "nominee_id"): Case(
        "employee_a",
        lambda w: f"/api/v1/kudos/{_kudos(w)}/nominate",
        lambda w: {"round_id": _round(w).pk, "reason": "Always there for the guests, every shift."},
        person_b,
    ),
    ("post", "/api/v1/awards/rounds/{round_id}/nominations", "nominee_id"): Case(
        "employee_a",
        lambda w: f"/api/v1/awards/rounds/{_round(w).pk}/nominations",
        lambda w: {"reason": "Always there for the guests, every shift."},
        person_b,
    ),
    ("post", "/api/v1/awards/rounds/{round_id}/winner", "nominee_id"): Case(
        "admin_a", lambda w: f"/api/v1/awards/rounds/{_closed_pick_round(w)}/winner", lambda w: {}, person_b
    ),
    ("post", "/api/v1/awards/categories", "group_ids"): Case(
        "admin_a", lambda w: "/api/v1/awards/categories", lambda w: {"name": "Hero"}, group_b
    ),
    ("patch", "/api/v1/awards/categories/{category_id}", "group_ids"): Case(
        "admin_a", lambda w: f"/api/v1/awards/categories/{_round(w).category_id}", lambda w: {}, group_b
    ),
    ("post", "/api/v1/surveys", "group_ids"): Case("admin_a", lambda w: "/api/v1/surveys", lambda w: _survey_body(), group_b),
    ("patch", "/api/v1/surveys/{survey_id}", "group_ids"): Case(
        "admin_a", lambda w: f"/api/v1/surveys/{_scheduled_survey(w)}", lambda w: {}, group_b
    ),
    ("put", "/api/v1/posts/{post_id}/poll/vote", "option_ids"): Case(
        "employee_a", lambda w: f"/api/v1/posts/{_poll_post(w.leader_a).pk}/poll/vote", lambda w: {}, lambda w: _poll_option(w.leader_b)
    ),
    **{
        ("post", "/api/v1/signals", field): Case(
            "employee_a", lambda w: "/api/v1/signals", lambda w: {"kind": "idea", "title": "Music", "body": "Softer"}, foreign
        )
        for field, foreign in (
            ("group_id", group_b),
            ("key_moment_id", lambda w: _key_moment(w, w.admin_b)),
            ("image_ids", lambda w: _media(w.employee_b)),
        )
    },
    **{
        ("patch", "/api/v1/signals/{signal_id}", field): Case(
            "employee_a", lambda w: f"/api/v1/signals/{_signal(w)}", lambda w: {}, foreign
        )
        for field, foreign in (("group_id", group_b), ("key_moment_id", lambda w: _key_moment(w, w.admin_b)))
    },
    ("put", "/api/v1/signals/{signal_id}/support", "group_id"): Case(
        "leader_a", lambda w: f"/api/v1/signals/{_signal(w)}/support", lambda w: {}, group_b
    ),
    ("post", "/api/v1/signals/{signal_id}/assign", "owner_id"): Case(
        "admin_a", lambda w: f"/api/v1/signals/{_signal(w)}/assign", lambda w: {}, lambda w: w.leader_b.pk
    ),
    ("post", "/api/v1/signals/{signal_id}/merge", "into_id"): Case(
        "admin_a", lambda w: f"/api/v1/signals/{_signal(w)}/merge", lambda w: {}, lambda w: _signal_of(w.employee_b)
    ),
    ("post", "/api/v1/reports", "target_id"): Case(
        "employee_a",
        lambda w: "/api/v1/reports",
        lambda w: {"target_type": "post", "reason": "spam"},
        lambda w: PostFactory(author=w.employee_b).pk,
    ),
}


def _survey_body() -> dict[str, Any]:
    closes_at = (timezone.now() + timedelta(days=3)).isoformat()
    return {"title": "Pulse", "questions": [{"kind": "scale_1_5", "text": "How was your week?"}], "closes_at": closes_at}


def _scheduled_survey(world) -> int:
    opens_at = timezone.now() + timedelta(days=1)
    questions = [{"kind": "text", "text": "Why?"}]
    closes_at = opens_at + timedelta(days=2)
    return survey_create(actor=world.admin_a, title="Later", questions=questions, opens_at=opens_at, closes_at=closes_at).pk


def _signal(world) -> int:
    return world.once(
        "signal", lambda: voice_services.signal_create(author=world.employee_a, kind="friction", title="Late check-out", body="b").pk
    )


def _signal_of(user) -> int:
    return voice_services.signal_create(author=user, kind="friction", title="Elsewhere", body="b").pk


def _notification_of(user) -> int:
    return Notification.objects.create(
        organization=user.organization, recipient=user, event_id=uuid.uuid4(), type="kudos.created", reason="kudos"
    ).pk


def _id_fields_of_the_schema() -> set[tuple[str, str, str]]:
    found = set()
    for path, operations in openapi()["paths"].items():
        for method, operation in operations.items():
            if method not in ("post", "put", "patch"):
                continue
            for name in (request_schema(operation) or {}).get("properties", {}):
                if name == "ids" or name.endswith(("_id", "_ids")):
                    found.add((method, path, name))
    return found


# Impressions are collected offline and sent in batches: a post hidden or removed meanwhile must
# not make the whole batch fail forever, so unknown ids are skipped (feed.services.posts_seen),
# and nothing is recorded for them.
SKIPPED_NOT_REFUSED = {("post", "/api/v1/posts/seen", "ids")}


def test_every_id_field_of_every_request_body_has_a_case():
    assert _id_fields_of_the_schema() == set(CASES) | SKIPPED_NOT_REFUSED


@pytest.mark.django_db
def test_seen_skips_ids_the_caller_cannot_see_and_records_nothing_for_them(api):
    world = make_world()
    client = api(world.employee_a)
    client.get("/api/v1/me")
    mine, foreign = PostFactory(author=world.leader_a).pk, PostFactory(author=world.employee_b).pk
    before = snapshot()
    assert client.post("/api/v1/posts/seen", {"ids": [foreign, MISSING]}, format="json").status_code == 204
    assert changed_tables(before, snapshot()) == []
    assert client.post("/api/v1/posts/seen", {"ids": [mine, foreign]}, format="json").status_code == 204
    assert changed_tables(before, snapshot()) == ["feed_postseen: 0 -> 1 rows"]


@pytest.mark.django_db
@pytest.mark.parametrize("key", sorted(CASES), ids=lambda key: f"{key[0]} {key[1]} {key[2]}")
def test_an_id_the_caller_may_not_use_is_a_400_naming_the_field(api, key):
    method, _path, field = key
    case = CASES[key]
    world = make_world()
    client = api(getattr(world, case.actor))
    client.get("/api/v1/me")  # the token's first use is stamped; not part of what is compared
    url, body = case.path(world), case.body(world)
    answers = []
    for value in (case.foreign(world), MISSING):
        before = snapshot()
        sent = {**body, field: [value] if field.endswith("ids") else value}
        response = getattr(client, method)(url, sent, format="json")
        assert response.status_code == 400, (value, response.status_code, response.content)
        error = response.json()["error"]
        assert field in error["fields"], error
        assert changed_tables(before, snapshot()) == [], sent
        answers.append(str(error).replace(str(value), "<id>"))
    assert answers[0] == answers[1], "another organisation's id must be answered like one that does not exist"
