"""API conventions: error envelope, idempotency keys, pagination, query counts."""

import threading
import uuid

import pytest
from django.db import connection

from accounts.models import Group, Invitation
from server.models import IdempotencyRecord
from tests.conftest import requires_postgres
from tests.factories import GroupFactory, MembershipFactory, UserFactory


def assert_envelope(response, status, code=None):
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert set(error) == {"code", "message", "fields"}
    assert error["message"]
    if code:
        assert error["code"] == code
    return error


# --- error envelope -----------------------------------------------------------------


def test_envelope_400_validation_with_fields(api, admin_user):
    error = assert_envelope(api(admin_user).post("/api/v1/groups", {"kind": "nonsense"}, format="json"), 400, "invalid")
    assert set(error["fields"]) == {"name", "kind"}


def test_envelope_401(api, db):
    assert_envelope(api().get("/api/v1/me"), 401, "not_authenticated")


def test_envelope_403(api, employee):
    assert_envelope(api(employee).post("/api/v1/groups", {"name": "X"}, format="json"), 403, "not_allowed")


def test_envelope_404_unknown_url_and_unknown_object(api, employee):
    assert_envelope(api(employee).get("/api/v1/no-such-thing"), 404, "not_found")
    assert_envelope(api(employee).get("/api/v1/users/999999"), 404, "not_found")


def test_envelope_405(api, employee):
    assert_envelope(api(employee).delete("/api/v1/me"), 405, "method_not_allowed")


def test_envelope_415(api, employee):
    response = api().post("/api/v1/auth/login", "email=x", content_type="text/plain")
    assert_envelope(response, 415, "unsupported_media_type")


def test_envelope_400_malformed_json(api, employee):
    response = api(employee).patch("/api/v1/me", "{not json", content_type="application/json")
    assert_envelope(response, 400, "malformed_request")


def test_envelope_429_with_retry_after(api, employee, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "user": "2/min"},
    }
    client = api(employee)
    client.get("/api/v1/me")
    client.get("/api/v1/me")
    response = client.get("/api/v1/me")
    assert_envelope(response, 429, "throttled")
    assert int(response["Retry-After"]) >= 1


def test_envelope_in_dutch(api, employee):
    error = assert_envelope(api(employee, language="nl").get("/api/v1/users/999999"), 404)
    assert error["message"] == "Niet gevonden."


# --- Idempotency-Key ----------------------------------------------------------------------


def test_idempotent_retry_replays_the_first_response(api, admin_user):
    client = api(admin_user)
    key = str(uuid.uuid4())
    first = client.post("/api/v1/groups", {"name": "Bakkerij"}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    again = client.post("/api/v1/groups", {"name": "Bakkerij"}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Group.objects.filter(name="Bakkerij").count() == 1


def test_idempotency_key_reused_with_another_body_is_422(api, admin_user):
    client = api(admin_user)
    key = str(uuid.uuid4())
    client.post("/api/v1/groups", {"name": "Bakkerij"}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    response = client.post("/api/v1/groups", {"name": "Slagerij"}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert_envelope(response, 422, "idempotency_key_reused")
    assert not Group.objects.filter(name="Slagerij").exists()


def test_idempotency_keys_are_per_user(api, admin_user):
    other_admin = UserFactory(organization=admin_user.organization, role="admin")
    key = str(uuid.uuid4())
    assert api(admin_user).post("/api/v1/groups", {"name": "Een"}, format="json", HTTP_IDEMPOTENCY_KEY=key).status_code == 201
    assert api(other_admin).post("/api/v1/groups", {"name": "Twee"}, format="json", HTTP_IDEMPOTENCY_KEY=key).status_code == 201


def test_server_errors_are_not_stored_so_a_retry_runs_again(api, admin_user, monkeypatch):
    from accounts import services

    def boom(**kwargs):
        raise RuntimeError("database fell over")

    monkeypatch.setattr(services, "group_create", boom)
    client = api(admin_user)
    client.raise_request_exception = False
    key = str(uuid.uuid4())
    assert client.post("/api/v1/groups", {"name": "Bakkerij"}, format="json", HTTP_IDEMPOTENCY_KEY=key).status_code == 500
    assert not IdempotencyRecord.objects.exists()
    monkeypatch.undo()
    assert client.post("/api/v1/groups", {"name": "Bakkerij"}, format="json", HTTP_IDEMPOTENCY_KEY=key).status_code == 201


def test_idempotency_key_must_be_sane(api, admin_user):
    response = api(admin_user).post("/api/v1/groups", {"name": "X"}, format="json", HTTP_IDEMPOTENCY_KEY="x" * 300)
    assert_envelope(response, 400, "invalid")


@requires_postgres()
@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_are_answered_once(api, admin_user):
    key = str(uuid.uuid4())
    clients = [api(admin_user) for _ in range(8)]
    results: list[int] = []
    barrier = threading.Barrier(len(clients))

    def send(client):
        barrier.wait()
        try:
            results.append(
                client.post(
                    "/api/v1/invitations", {"email": "race@example.com", "name": "Race"}, format="json", HTTP_IDEMPOTENCY_KEY=key
                ).status_code
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [201] * len(clients)
    assert Invitation.objects.filter(email="race@example.com").count() == 1


# --- pagination and query counts -----------------------------------------------------------


def test_cursor_pagination_walks_everyone_once(api, employee):
    for index in range(25):
        UserFactory(organization=employee.organization, name=f"Colleague {index:02d}")
    client = api(employee)
    seen, url = [], "/api/v1/users?page_size=7"
    while url:
        body = client.get(url).json()
        seen += [user["id"] for user in body["results"]]
        url = body["next"]
    assert len(seen) == len(set(seen)) == 26


def test_previous_link_goes_back(api, employee):
    for index in range(10):
        UserFactory(organization=employee.organization, name=f"Colleague {index:02d}")
    client = api(employee)
    first = client.get("/api/v1/users?page_size=4").json()
    assert first["previous"] is None
    second = client.get(first["next"]).json()
    back = client.get(second["previous"]).json()
    assert [u["id"] for u in back["results"]] == [u["id"] for u in first["results"]]


def test_page_size_above_the_maximum_and_bad_cursor_are_400(api, employee):
    client = api(employee)
    for _ in range(3):
        UserFactory(organization=employee.organization)
    assert len(client.get("/api/v1/users?page_size=100").json()["results"]) == 4
    # Refused, not silently clamped: the schema says at most 100 (issue #25, item 5).
    assert client.get("/api/v1/users?page_size=1000").json()["error"]["fields"] == {"page_size": ["Must be between 1 and 100."]}
    assert_envelope(client.get("/api/v1/users?cursor=garbage"), 400, "invalid_cursor")
    assert_envelope(client.get("/api/v1/users?page_size=abc"), 400, "invalid")


def _populate(org, group, count):
    for _ in range(count):
        user = UserFactory(organization=org)
        MembershipFactory(group=group, user=user)
        MembershipFactory(group=GroupFactory(organization=org), user=user)


@pytest.mark.parametrize("count", [3, 30])
def test_directory_query_count_is_fixed(api, employee, group, count, django_assert_num_queries):
    _populate(employee.organization, group, count)
    client = api(employee)
    client.get("/api/v1/me")  # first use of a token records last_used_at once
    # auth (token + user + org), users page, memberships prefetch
    with django_assert_num_queries(3):
        response = client.get("/api/v1/users?page_size=100")
    assert len(response.json()["results"]) == count + 1


@pytest.mark.parametrize("count", [3, 30])
def test_groups_query_count_is_fixed(api, employee, count, django_assert_num_queries):
    for _ in range(count):
        MembershipFactory(group=GroupFactory(organization=employee.organization))
    client = api(employee)
    client.get("/api/v1/me")
    with django_assert_num_queries(2):
        response = client.get("/api/v1/groups?page_size=100")
    assert len(response.json()["results"]) == count


@pytest.mark.parametrize("count", [3, 30])
def test_group_members_query_count_is_fixed(api, employee, group, count, django_assert_num_queries):
    _populate(employee.organization, group, count)
    client = api(employee)
    client.get("/api/v1/me")
    # auth, group access, members page
    with django_assert_num_queries(3):
        response = client.get(f"/api/v1/groups/{group.pk}/members?page_size=100")
    assert len(response.json()["results"]) == count


# --- regressions found by the fuzzer (tests/fuzz) ---------------------------------------


def test_ids_beyond_bigint_are_a_400_not_a_server_error(api, admin_user):
    response = api(admin_user).post(
        "/api/v1/invitations", {"email": "a@example.com", "name": "A", "group_ids": [29489640938269319168]}, format="json"
    )
    assert_envelope(response, 400, "invalid")
    assert "group_ids" in response.json()["error"]["fields"]


def test_every_post_documents_conflict_and_idempotency_errors():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(public=True)
    for path, operations in schema["paths"].items():
        if "post" in operations:
            assert {"409", "422"} <= set(operations["post"]["responses"]), path
            assert any(p["name"] == "Idempotency-Key" for p in operations["post"].get("parameters", [])), path


def test_multipart_retry_with_a_new_boundary_is_the_same_request(api, admin_user):
    client = api(admin_user)
    key = str(uuid.uuid4())
    body = "email,name\nretry@example.com,Retry\n"

    def send(boundary):
        header = 'Content-Disposition: form-data; name="file"; filename="s.csv"\r\nContent-Type: text/csv'
        payload = f"--{boundary}\r\n{header}\r\n\r\n{body}\r\n--{boundary}--\r\n"
        return client.post(
            "/api/v1/users/import", payload, content_type=f"multipart/form-data; boundary={boundary}", HTTP_IDEMPOTENCY_KEY=key
        )

    first, retry = send("aaaaBOUNDARY1"), send("zzzzBOUNDARY2")
    assert first.status_code == retry.status_code == 200
    assert retry["Idempotent-Replayed"] == "true"
    assert Invitation.objects.filter(email="retry@example.com").count() == 1


@pytest.mark.parametrize("path", ["/api/v1/users", "/api/v1/feed", "/api/v1/notifications"])
@pytest.mark.parametrize("values", [[None, 5], [None, None], ["2026-01-01T00:00:00+00:00", None]])
def test_a_forged_cursor_with_null_is_400_not_500(api, employee, path, values):
    import base64
    import json

    raw = base64.urlsafe_b64encode(json.dumps({"v": values}).encode()).decode().rstrip("=")
    assert_envelope(api(employee).get(f"{path}?cursor={raw}"), 400, "invalid_cursor")
