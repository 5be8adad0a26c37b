"""Every object route answers 404 to another organisation; every private route 401 without a token."""

import pytest
from django.urls import reverse

from tests.security.harness import PUBLIC_ROUTES, all_routes, fixtures, object_routes
from tests.security.matrix import make_world


@pytest.fixture
def world(db):
    return make_world()


def _call(client, method: str, path: str):
    if method in ("post", "put", "patch"):
        return getattr(client, method)(path, {}, format="json")
    return getattr(client, method)(path)


def test_every_route_is_named_and_every_object_kwarg_has_a_fixture():
    registry = fixtures()
    unnamed = [route.pattern for route in all_routes() if route.is_api and not route.name]
    missing = sorted({kwarg for route in object_routes() for kwarg in route.kwargs if kwarg not in registry})
    assert not unnamed, f"API routes need a name for the harness: {unnamed}"
    assert not missing, f"Add these URL kwargs to a tests/security/tenancy_<app>.py TENANCY_FIXTURES: {missing}"


def test_harness_sees_the_accounts_routes():
    names = {route.name for route in object_routes()}
    assert {"user-detail", "group-detail", "group-member-detail"} <= names


@pytest.mark.parametrize("role", ["admin_b", "leader_b", "employee_b"])
def test_other_organisation_gets_404_on_every_object_route(world, api, role):
    registry = fixtures()
    outsider = api(getattr(world, role))
    failures = []
    for route in object_routes():
        kwargs = {kwarg: registry[kwarg](world) for kwarg in route.kwargs}
        path = reverse(route.name, kwargs=kwargs)
        for method in route.methods:
            response = _call(outsider, method, path)
            # An admin-only route may refuse a non-admin before looking anything up (403
            # for every id says nothing about org A); an admin of B must always see 404.
            allowed = {404} if role == "admin_b" else {403, 404}
            if response.status_code not in allowed:
                failures.append(f"{method.upper()} {path} as {role}: {response.status_code} {response.content[:200]!r}")
    assert not failures, "\n".join(failures)


def test_every_private_route_needs_a_token(world, api):
    registry = fixtures()
    anonymous = api()
    failures = []
    for route in all_routes():
        if route.name in PUBLIC_ROUTES or not route.is_api:
            continue
        kwargs = {kwarg: registry[kwarg](world) for kwarg in route.kwargs}
        path = reverse(route.name, kwargs=kwargs)
        for method in route.methods:
            response = _call(anonymous, method, path)
            if response.status_code != 401 or response.json()["error"]["code"] != "not_authenticated":
                failures.append(f"{method.upper()} {path}: {response.status_code}")
    assert not failures, "\n".join(failures)


def test_public_routes_answer_without_a_token(db, api):
    client = api()
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert client.get("/api/v1/schema/").status_code == 200
    assert client.get("/api/v1/docs/").status_code == 200
    assert client.post("/api/v1/auth/login", {"email": "x@example.com", "password": "nope"}, format="json").status_code == 401
