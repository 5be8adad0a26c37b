"""Unknown query parameters and body fields are refused (400 `unknown_field`), not ignored.

An app could not tell that a filter did nothing (`?writer=` on the feed) or that a field was
dropped (a password sent with `PATCH /me`). What an operation takes is what its OpenAPI schema
lists (server/api/contract.py), so the schema documents every accepted parameter by construction.
"""

from __future__ import annotations

import pytest
from django.urls import get_resolver

from server.api.views import APIView
from tests.feed.factories import PostFactory
from tests.security.harness import _walk
from tests.security.matrix import openapi

pytestmark = pytest.mark.django_db


def _refused(response, *names: str, fields: dict | None = None) -> None:
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "unknown_field"
    assert error["fields"] == (fields if fields is not None else {name: [error["fields"][name][0]] for name in names})
    for name in names:
        assert name in error["message"]


@pytest.mark.parametrize(
    "path, params, unknown",
    [
        ("/api/v1/feed", {"writer": "1"}, ["writer"]),
        ("/api/v1/feed", {"search": "x", "unread": "true"}, ["search", "unread"]),
        ("/api/v1/kudos", {"colour": "1"}, ["colour"]),
        ("/api/v1/me", {"fields": "id"}, ["fields"]),
    ],
)
def test_unknown_query_parameters_are_refused(api, employee, path, params, unknown):
    _refused(api(employee).get(path, params), *unknown)


def test_pagination_parameters_and_documented_filters_are_accepted(api, employee, group):
    response = api(employee).get("/api/v1/feed", {"page_size": 5, "kind": "post"})
    assert response.status_code == 200
    next_page = api(employee).get("/api/v1/feed", {"page_size": 1, "cursor": "eyJ2IjpbXX0"})
    assert next_page.json()["error"]["code"] == "invalid_cursor"  # read as a cursor, not refused as unknown


def test_unknown_body_fields_are_refused_and_nothing_is_written(api, employee, leader):
    post = PostFactory(author=leader)
    _refused(api(employee).post(f"/api/v1/posts/{post.pk}/comments", {"body": "Hi", "thread_id": 3}, format="json"), "thread_id")
    assert post.comments.count() == 0
    # `poll` was the example here until polls came (issue #21); tests/feed/test_polls_api.py refuses unknown keys inside it.
    _refused(api(leader).post("/api/v1/posts", {"body": "Vote!", "quiz": {"options": ["a", "b"]}}, format="json"), "quiz")
    _refused(api(employee).patch("/api/v1/me", {"name": "Eline", "password": "s3cret-enough"}, format="json"), "password")
    employee.refresh_from_db()
    assert employee.name != "Eline"


def test_unknown_nested_fields_are_refused_by_their_path(api, employee):
    response = api(employee).patch(
        "/api/v1/notification-preferences", {"quiet_hours": {"start": "22:00", "end": "07:00", "days": ["sat"]}}, format="json"
    )
    _refused(response, "days", fields={"quiet_hours": {"days": ["Unknown field."]}})


def test_an_action_without_a_body_takes_no_fields(api, leader):
    post = PostFactory(author=leader)
    _refused(api(leader).post(f"/api/v1/posts/{post.pk}/pin", {"until": "tomorrow"}, format="json"), "until")
    assert api(leader).post(f"/api/v1/posts/{post.pk}/pin", {}, format="json").status_code == 200


def test_an_anonymous_caller_gets_401_before_any_field_check(api, db):
    assert api().get("/api/v1/feed", {"author": "1"}).status_code == 401


def test_every_api_view_holds_requests_to_the_contract():
    """New routes inherit the check: every view under /api/ (except the schema's own) is ours."""
    outside = []
    for pattern, entry in _walk(get_resolver().url_patterns):
        view_class = getattr(entry.callback, "view_class", None) or getattr(entry.callback, "cls", None)
        if not pattern.startswith("api/v1/") or view_class is None or pattern in ("api/v1/schema/", "api/v1/docs/"):
            continue
        if not issubclass(view_class, APIView):
            outside.append(pattern)
    assert not outside, outside


def test_every_query_parameter_the_schema_lists_is_accepted(api, admin_user):
    client = api(admin_user)
    refused = []
    for path, operations in openapi()["paths"].items():
        operation = operations.get("get")
        if operation is None or "{" in path:
            continue
        for parameter in operation.get("parameters", []):
            if parameter["in"] != "query" or parameter["name"] == "cursor":
                continue
            response = client.get(path, {parameter["name"]: "1"})
            if response.status_code == 400 and response.json()["error"]["code"] == "unknown_field":
                refused.append(f"{path}?{parameter['name']}")
    assert not refused, refused


@pytest.mark.parametrize(
    "path, params, field",
    [
        ("/api/v1/feed", {"group": ""}, "group"),
        ("/api/v1/feed", {"group": "abc"}, "group"),
        ("/api/v1/feed", {"kind": "gossip"}, "kind"),
        ("/api/v1/feed", {"page_size": "0"}, "page_size"),
        ("/api/v1/feed", {"page_size": "101"}, "page_size"),
        ("/api/v1/notifications", {"unread": "maybe"}, "unread"),
    ],
)
def test_query_values_are_held_to_their_schema(api, employee, path, params, field):
    # An empty or wrong-typed value was accepted and ignored (?group= showed the whole feed).
    response = api(employee).get(path, params)
    assert response.status_code == 400 and list(response.json()["error"]["fields"]) == [field], response.content
