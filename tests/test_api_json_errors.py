"""Every answer under /api/ is JSON, with DEBUG on (the `make run` default) as well as off; the API
has an index and `/` a page with links.

With DEBUG on Django answered an unknown route, a non-numeric id and `/api/v1/` itself with its
HTML 404 page, and a crash with its HTML 500 page: a phone app could not parse them.
"""

from __future__ import annotations

import logging

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture(params=[True, False], ids=["debug", "production"])
def debug(request, settings):
    settings.DEBUG = request.param
    return request.param


def _assert_envelope(response, status: int, code: str) -> None:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json"), response.content[:300]
    assert response.json()["error"]["code"] == code


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/no-such-route",
        "/api/v1/posts/abc",
        "/api/v1/posts/12/no-such-action",
        "/api/v2/feed",
        "/api/",
        "/api/v1/users/%00",
    ],
)
def test_unknown_routes_and_non_numeric_ids_are_json_404s(api, employee, debug, path):
    _assert_envelope(api(employee).get(path), 404, "not_found")
    _assert_envelope(api().post(path, {"a": 1}, format="json"), 404, "not_found")


def test_the_404_speaks_the_users_language(api, employee, debug):
    employee.language = "nl"
    employee.save(update_fields=["language"])
    response = api(employee).get("/api/v1/posts/abc")
    assert response.json()["error"]["message"] == "Niet gevonden."


def test_a_crash_under_api_is_a_json_500_and_still_logged(api, employee, debug, monkeypatch, caplog):
    from accounts import views

    def crash(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(views.MeView, "get", crash)
    client = api(employee)
    client.raise_request_exception = False
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = client.get("/api/v1/me")
    _assert_envelope(response, 500, "server_error")
    assert "boom" not in response.content.decode()
    assert any(record.exc_info and "boom" in str(record.exc_info[1]) for record in caplog.records)


def test_a_suspicious_request_is_a_json_400(api, employee, debug):
    client = api(employee)
    client.raise_request_exception = False
    response = client.get("/api/v1/me", HTTP_HOST="evil.example")  # not in ALLOWED_HOSTS
    _assert_envelope(response, 400, "bad_request")


def test_the_api_index_links_to_docs_and_schema(api, debug):
    response = api().get("/api/v1/")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["version"] and body["links"]["docs"].endswith("/api/v1/docs/") and body["links"]["schema"].endswith("/api/v1/schema/")


def test_a_missing_trailing_slash_on_docs_still_finds_them(api, debug):
    response = api().get("/api/v1/docs")
    assert response.status_code == 301 and response["Location"].endswith("/api/v1/docs/")


def test_the_front_page_links_to_the_api_and_admin(client, debug):
    response = client.get("/")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert 'href="/api/v1/docs/"' in page and 'href="/admin/"' in page and 'href="/api/v1/"' in page


def test_non_api_pages_keep_their_html_errors(client, debug):
    response = client.get("/no-such-page")
    assert response.status_code == 404


def test_pages_outside_the_api_answer_html_errors(client, debug, settings):
    settings.DEBUG = False  # with DEBUG on, Django shows its own technical pages there
    response = client.get("/admin/no-such-page/")
    assert response.status_code in (302, 404)  # the admin sends a stranger to its login first
    response = client.get("/no-such-page")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")
