"""Mass assignment: no request body can set who owns a row, which organisation it is
in, a role, pinning, counters, ids or timestamps.

Two layers: every request body of the OpenAPI schema is walked (a new serializer is
checked by existing) and may expose none of those fields outside a short reviewed
allow-list; and the main writes are sent with all of them injected next to a valid
body, and the stored row must show the server's values, not the client's.
"""

from __future__ import annotations

import re

import pytest
from django.apps import apps

from feed import services as feed_services
from recognition import services as recognition_services
from tests.factories import UserFactory
from tests.security.matrix import changed_tables, make_world, openapi, request_schema, snapshot

FORBIDDEN = re.compile(
    r"^(id|pk|uuid|organization(_id)?|org(_id)?|author(_id)?|giver(_id)?|nominator(_id)?|owner(_id)?|creator(_id)?|created_by(_id)?"
    r"|role|is_staff|is_superuser|is_active|pinned(_at)?|hidden|removed|"
    r"created_at|updated_at|edited_at|published_at|sent_at|last_login|date_joined|"
    r"\w+_count|\w+_counts|counts?|score|attempts)$"
)
# (method, schema path, field): reviewed, the view checks who may set it.
ALLOWED = {
    ("post", "/api/v1/invitations", "role"),  # admin only; the invitee's role
    ("patch", "/api/v1/users/{user_id}", "role"),  # admin only, own organisation
    ("post", "/api/v1/groups/{group_id}/members", "role"),  # admin only: member or manager
    ("post", "/api/v1/signals/{signal_id}/assign", "owner_id"),  # leaders and admins; the new owner must be a leader or admin
}


def test_no_request_body_exposes_ownership_roles_counters_ids_or_timestamps():
    exposed = []
    for path, operations in openapi()["paths"].items():
        for method, operation in operations.items():
            if method not in ("post", "put", "patch"):
                continue
            schema = request_schema(operation) or {}
            for field in schema.get("properties", {}):
                if FORBIDDEN.match(field) and (method, path, field) not in ALLOWED:
                    exposed.append(f"{method.upper()} {path}: {field}")
    assert not exposed, "\n".join(exposed)


OLD = "2001-01-01T00:00:00Z"


def injected(world) -> dict:
    stranger = world.employee_b.pk
    return {
        "id": 987_654_321,
        "pk": 987_654_321,
        "organization": world.org_b.pk,
        "organization_id": world.org_b.pk,
        "author": stranger,
        "author_id": stranger,
        "giver_id": stranger,
        "nominator_id": stranger,
        "owner": stranger,
        "owner_id": stranger,
        "user": stranger,
        "role": "admin",
        "is_staff": True,
        "is_superuser": True,
        "pinned": True,
        "hidden": True,
        "comment_count": 99,
        "reaction_counts": {"like": 99},
        "acknowledged_count": 99,
        "created_at": OLD,
        "updated_at": OLD,
        "edited_at": OLD,
        "published_at": OLD,
    }


@pytest.fixture
def world(db):
    return make_world()


def _post(world):
    return world.once("post", lambda: feed_services.post_create(author=world.leader_a, body="Mass assignment target"))


def _round(world):
    return world.once("round", lambda: recognition_services.award_category_create(actor=world.admin_a, name="MA award").rounds.get())


# name → (actor, method, path, valid body, model label). Every create or update that
# writes a row people see, with the body a phone would send.
WRITES = {
    "post": ("leader_a", "post", lambda w: "/api/v1/posts", lambda w: {"body": "Hello"}, "feed.Post"),
    "post-edit": ("leader_a", "patch", lambda w: f"/api/v1/posts/{_post(w).pk}", lambda w: {"body": "Edited"}, "feed.Post"),
    "comment": (
        "employee_a",
        "post",
        lambda w: f"/api/v1/posts/{_post(w).pk}/comments",
        lambda w: {"body": "Nice"},
        "feed.Comment",
    ),
    "goal": (
        "leader_a",
        "post",
        lambda w: "/api/v1/goals",
        lambda w: {"title": "NPS", "why": "Guests", "how_to_help": "Greet"},
        "feed.Goal",
    ),
    "key-moment": (
        "leader_a",
        "post",
        lambda w: "/api/v1/key-moments",
        lambda w: {"title": "Greeting", "expected_behaviour": "Smile"},
        "feed.KeyMoment",
    ),
    "kudos": (
        "employee_a",
        "post",
        lambda w: "/api/v1/kudos",
        lambda w: {"recipient_ids": [w.leader_a.pk], "message": "Thanks"},
        "recognition.Kudos",
    ),
    "value": ("admin_a", "post", lambda w: "/api/v1/values", lambda w: {"name": "Smile"}, "recognition.CompanyValue"),
    "category": ("admin_a", "post", lambda w: "/api/v1/awards/categories", lambda w: {"name": "Hero"}, "recognition.AwardCategory"),
    "nomination": (
        "employee_a",
        "post",
        lambda w: f"/api/v1/awards/rounds/{_round(w).pk}/nominations",
        lambda w: {"nominee_id": w.leader_a.pk, "reason": "Always helps everyone on the floor."},
        "recognition.Nomination",
    ),
    "group": ("admin_a", "post", lambda w: "/api/v1/groups", lambda w: {"name": "Night shift", "kind": "team"}, "accounts.Group"),
    "device": (
        "employee_a",
        "post",
        lambda w: "/api/v1/devices",
        lambda w: {"token": "t" * 40, "platform": "android"},
        "notifications.Device",
    ),
}


@pytest.mark.parametrize("name", sorted(WRITES))
def test_injected_fields_are_refused_and_the_server_sets_them(world, api, name):
    role, method, path, body, label = WRITES[name]
    actor = getattr(world, role)
    model = apps.get_model(label)
    client, url, valid = api(actor), path(world), body(world)
    before = snapshot()
    refused = getattr(client, method)(url, {**injected(world), **valid}, format="json")
    # Fields the operation does not take are refused by name, not dropped (issue #18): nothing is written.
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "unknown_field", refused.content
    assert set(refused.json()["error"]["fields"]) == set(injected(world)) - set(valid)
    # The token's last use is stamped on any request; nothing else may change.
    assert [table for table in changed_tables(before, snapshot()) if not table.startswith("accounts_authtoken")] == []

    response = getattr(client, method)(url, valid, format="json")
    assert response.status_code in (200, 201), response.content
    row = model.objects.get(pk=response.json()["id"])
    if hasattr(row, "organization_id"):
        assert row.organization_id == world.org_a.pk
    for owner_field in ("author_id", "giver_id", "nominator_id", "owner_id", "user_id"):
        if hasattr(row, owner_field):
            assert getattr(row, owner_field) == actor.pk, owner_field
    for field in ("pinned", "hidden"):
        if hasattr(row, field):
            assert getattr(row, field) is False, field
    for field in model._meta.concrete_fields:
        if field.name.endswith("_count"):
            assert getattr(row, field.name) in (0, None), field.name


def test_profile_update_cannot_raise_its_own_role_or_staff_flag(world, api):
    employee = world.employee_a
    response = api(employee).patch("/api/v1/me", {**injected(world), "name": "New name"}, format="json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "unknown_field"
    employee.refresh_from_db()
    assert (employee.role, employee.is_staff, employee.is_superuser, employee.organization_id) == (
        "employee",
        False,
        False,
        world.org_a.pk,
    )


def test_an_admin_cannot_move_a_user_to_another_organisation_or_make_them_staff(world, api):
    target = UserFactory(organization=world.org_a)
    response = api(world.admin_a).patch(f"/api/v1/users/{target.pk}", {**injected(world), "role": "leader"}, format="json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "unknown_field"
    target.refresh_from_db()
    assert target.organization_id == world.org_a.pk and not target.is_staff and not target.is_superuser
