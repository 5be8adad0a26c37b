"""A database outage answers 503 with Retry-After, never a 500 with a traceback (issue #25).

During a PostgreSQL restart every query fails with OperationalError (connection refused or
terminated); connects give up after DATABASE_CONNECT_TIMEOUT_SECONDS (2). Whether the error comes
from a view (DRF's exception handler) or from a middleware before it (Django's handler500), the
phone gets the envelope and a Retry-After, and the log one line instead of a traceback per request.
The real thing under load: `python -m tests.chaos.run postgres` (docs/reliability.md).
"""

from __future__ import annotations

import logging

import pytest
from django.db import InterfaceError, OperationalError


def _no_traceback(caplog) -> None:
    assert not [record for record in caplog.records if record.exc_info], "a traceback was logged"


@pytest.mark.parametrize("error", [OperationalError("connection refused"), InterfaceError("connection already closed")])
def test_a_view_meeting_a_database_outage_answers_503(api, employee, monkeypatch, caplog, error):
    from accounts import views

    def down(*args, **kwargs):
        raise error

    monkeypatch.setattr(views.MeView, "get", down)
    with caplog.at_level(logging.INFO):
        response = api(employee).get("/api/v1/me")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "service_unavailable"
    assert response["Retry-After"] == "5"
    _no_traceback(caplog)


def test_a_middleware_meeting_a_database_outage_answers_503(api, employee, monkeypatch, caplog):
    from server.api.idempotency import IdempotencyMiddleware

    def down(*args, **kwargs):
        raise OperationalError("terminating connection due to administrator command")

    monkeypatch.setattr(IdempotencyMiddleware, "_handle", down)
    client = api(employee)
    client.raise_request_exception = False
    with caplog.at_level(logging.INFO):
        response = client.post("/api/v1/posts", {"body": "hi"}, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "service_unavailable"
    assert response["Retry-After"] == "5"
    _no_traceback(caplog)
    assert any("database unavailable" in record.getMessage() for record in caplog.records)


def test_with_debug_on_a_middleware_outage_is_a_503_too(api, employee, monkeypatch, settings):
    # DEBUG answers uncaught exceptions with the technical 500 page, not handler500.
    import server.api.authentication as authentication

    def down(*args, **kwargs):
        raise OperationalError("connection refused")

    settings.DEBUG = True
    monkeypatch.setattr(authentication, "authenticate_request", down)
    client = api(employee)
    client.raise_request_exception = False
    response = client.post("/api/v1/posts", {"body": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"


def test_other_errors_are_still_500s(api, employee, monkeypatch):
    from accounts import views

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(views.MeView, "get", broken)
    client = api(employee)
    client.raise_request_exception = False
    assert client.get("/api/v1/me").status_code == 500


def test_connects_give_up_within_two_seconds(settings):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("SKIPPED ON SQLITE: connect_timeout is a PostgreSQL option")
    from server import settings as project_settings

    assert project_settings.DATABASES["default"]["OPTIONS"]["connect_timeout"] == 2
