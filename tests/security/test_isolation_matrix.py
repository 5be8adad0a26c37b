"""Isolation matrix: every object route × method × role outside the object's reach
answers 404 (or 403 for a role refused before any lookup) and changes **zero rows**.

Roles: the employee, leader and admin of another organisation, and an employee of the
same organisation who is in none of its groups (for objects addressed to a group or
owned by one person). Routes come from the URLconf, bodies from the OpenAPI request
schemas: a route added by any app is in the matrix by existing. Write requests carry a
plausible body, so a missing check would show up as a changed row, not hide behind a
validation error on an empty body.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.security.harness import PUBLIC_ROUTES, all_routes, fixtures, object_routes
from tests.security.matrix import changed_tables, make_world, openapi, request_schema, sample_body, schema_path, snapshot

OTHER_ORGANISATION = ("admin_b", "leader_b", "employee_b")
# URL kwargs naming something addressed to group_a or owned by one person of org A:
# a colleague outside group_a must not reach them either. Registries of new apps may
# add theirs here when their objects are group- or person-scoped.
GROUP_OR_PERSON_SCOPED = {"post_id", "comment_id", "goal_id", "key_moment_id", "media_id", "device_id", "survey_id", "signal_id"}
PROBE = "Matrix probe: must never be stored"


@pytest.fixture
def world(db):
    return make_world()


def _operation(route, method: str) -> dict:
    return openapi()["paths"].get(schema_path(route), {}).get(method, {})


def _call(client, route, method: str, path: str):
    if method in ("post", "put", "patch"):
        body = sample_body(request_schema(_operation(route, method)), PROBE)
        return getattr(client, method)(path, body, format="json")
    return getattr(client, method)(path)


def _run_matrix(world, api, role: str, routes) -> list[str]:
    registry = fixtures()
    # Build every object first: the snapshot must see the world complete.
    ids = {kwarg: registry[kwarg](world) for route in routes for kwarg in route.kwargs}
    user = getattr(world, role)
    client = api(user)
    client.get("/api/v1/me")  # first use of a token records last_used_at: not part of the matrix
    failures = []
    allowed = {404} if role == "admin_b" else {403, 404}
    calls = [
        (route, method, reverse(route.name, kwargs={kwarg: ids[kwarg] for kwarg in route.kwargs}))
        for route in routes
        for method in route.methods
    ]

    def check(route, method, path):
        response = _call(client, route, method, path)
        if response.status_code not in allowed:
            failures.append(f"{method.upper()} {path} as {role}: {response.status_code} {response.content[:160]!r}")

    # Reads first, one snapshot around all of them; then one snapshot per write, so a
    # changed row names the request that changed it.
    before = snapshot()
    for route, method, path in calls:
        if method == "get":
            check(route, method, path)
    after = snapshot()
    if changes := changed_tables(before, after):
        failures.append(f"GET requests as {role} changed rows: {changes}")
    for route, method, path in calls:
        if method != "get":
            before = after
            check(route, method, path)
            after = snapshot()
            if changes := changed_tables(before, after):
                failures.append(f"{method.upper()} {path} as {role} changed rows: {changes}")
    return failures


@pytest.mark.parametrize("role", OTHER_ORGANISATION)
def test_another_organisation_reaches_nothing_and_changes_nothing(world, api, role):
    failures = _run_matrix(world, api, role, object_routes())
    assert not failures, "\n".join(failures)


def test_a_colleague_outside_the_group_reaches_nothing_and_changes_nothing(world, api):
    routes = [route for route in object_routes() if set(route.kwargs) <= GROUP_OR_PERSON_SCOPED]
    assert {"post-detail", "comment-detail", "goal-detail", "media-detail", "device-detail"} <= {route.name for route in routes}
    failures = _run_matrix(world, api, "outsider_a", routes)
    assert not failures, "\n".join(failures)


def test_the_matrix_covers_every_route_and_every_operation_of_the_schema():
    """Fails when a route escapes the matrix: no fixture for its kwarg, no name, or not in
    the OpenAPI schema (then neither the fuzzer nor the mass-assignment walk sees it)."""
    registry = fixtures()
    public_api = {"auth-login", "auth-activate", "auth-password-reset", "auth-password-reset-confirm"}
    api_routes = [route for route in all_routes() if route.is_api and route.name not in PUBLIC_ROUTES - public_api]
    problems = [f"unnamed route {route.pattern}" for route in api_routes if not route.name]
    problems += [
        f"{route.name}: URL kwarg {kwarg!r} has no TENANCY_FIXTURES entry in tests/security/tenancy_<app>.py"
        for route in object_routes()
        for kwarg in route.kwargs
        if kwarg not in registry
    ]
    schema_paths = openapi()["paths"]
    routed = {}
    for route in api_routes:
        if route.name in {"schema", "docs"}:
            continue
        operations = schema_paths.get(schema_path(route))
        if operations is None:
            problems.append(f"{route.name} ({route.pattern}) is not in the OpenAPI schema")
            continue
        routed[schema_path(route)] = route
        for method in route.methods:
            if method not in operations:
                problems.append(f"{method.upper()} {route.pattern} is routed but not in the schema")
    problems += [f"schema path {path} has no route" for path in schema_paths if path not in routed]
    assert not problems, "\n".join(problems)


def test_the_snapshot_sees_an_edited_row_and_a_new_one(world):
    from feed import services as feed_services

    post = feed_services.post_create(author=world.leader_a, body="Before")
    before = snapshot()
    type(post).objects.filter(pk=post.pk).update(body="After")  # same row count, other content
    edited = snapshot()
    assert changed_tables(before, edited) == ["feed_post: 1 -> 1 rows"]
    feed_services.post_create(author=world.leader_a, body="Another")
    assert any(change.startswith("feed_post: 1 -> 2") for change in changed_tables(edited, snapshot()))
