"""Log lines carry their request id, as JSON in production, and never a secret (issue #27)."""

from __future__ import annotations

import io
import json
import logging
import re
from datetime import timedelta
from types import SimpleNamespace
from unittest import mock

import pytest
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from notifications import services
from notifications.models import OutboxEvent
from server.obs import context
from server.obs import tasks as obs_tasks
from server.obs.logging import JsonFormatter, RequestContextFilter
from tests.factories import AdminFactory, LeaderFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def json_log():
    """Every record of every logger, at DEBUG, through the production formatter and filter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestContextFilter())
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    quiet = logging.getLogger("django.db.backends")
    quiet_level = quiet.level
    quiet.setLevel(logging.DEBUG)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        quiet.setLevel(quiet_level)


def test_every_response_carries_a_request_id(db):
    generated = APIClient().get("/healthz")["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    assert APIClient().get("/healthz", HTTP_X_REQUEST_ID="lb-7f3a.2")["X-Request-ID"] == "lb-7f3a.2"
    # An id that is not a sane token is replaced, never echoed into logs or headers.
    replaced = APIClient().get("/healthz", HTTP_X_REQUEST_ID="<script>alert(1)</script>")["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", replaced)
    assert APIClient().get("/api/v1/nope")["X-Request-ID"]  # the JSON 404 too


def test_the_request_id_travels_from_the_response_into_the_delivery_logs(api, org, json_log):
    leader = LeaderFactory(organization=org)
    # The delivery task is not run by the request: the sweeper finds the event later, in
    # another context, as a worker would after a broker outage.
    with mock.patch("notifications.tasks._publish_or_leave_to_sweeper"):
        response = api(leader).post("/api/v1/posts", {"body": "Nieuwe kassa's", "kind": "announcement"}, HTTP_X_REQUEST_ID="req-travel-1")
    assert response.status_code == 201
    assert response["X-Request-ID"] == "req-travel-1"
    event = OutboxEvent.objects.get()
    assert event.request_id == "req-travel-1"
    assert context.request_id() == ""  # the request's context is gone
    services.outbox_sweep(now=timezone.now() + timedelta(minutes=10))
    delivery_lines = [line for line in json_log() if line["logger"] == "notifications.services" and str(event.pk) in line["message"]]
    assert delivery_lines, "the delivery logs a line per event"
    assert {line["request_id"] for line in delivery_lines} == {"req-travel-1"}
    assert {line["organization_id"] for line in delivery_lines} == {org.pk}


def test_request_lines_name_the_person_and_organisation(api, org, json_log):
    employee = UserFactory(organization=org)
    logger = logging.getLogger("tests.observability")

    def view_logging(*args, **kwargs):
        logger.warning("inside the view")
        return original(*args, **kwargs)

    from accounts import views

    original = views.MeView.get
    with mock.patch.object(views.MeView, "get", view_logging):
        api(employee).get("/api/v1/me", HTTP_X_REQUEST_ID="me-1")
    [line] = [line for line in json_log() if line["message"] == "inside the view"]
    assert (line["request_id"], line["user_id"], line["organization_id"]) == ("me-1", employee.pk, org.pk)
    assert line["level"] == "WARNING" and line["ts"].endswith("+00:00")


def test_celery_tasks_carry_the_request_id_in_a_header_and_run_under_it():
    headers: dict = {}
    with context.scope(context.RequestContext(request_id="req-task-1")):
        obs_tasks._add_request_id(headers=headers)
    assert headers == {"request_id": "req-task-1"}
    task = SimpleNamespace(request=SimpleNamespace(request_id="req-task-1", is_eager=False))
    obs_tasks._enter_task_context(task_id="t1", task=task)
    try:
        assert context.request_id() == "req-task-1"
    finally:
        obs_tasks._leave_task_context(task_id="t1")
    assert context.request_id() == ""


def test_a_session_logs_no_password_token_code_or_message_body(api, org, json_log, settings, django_capture_on_commit_callbacks):
    """Login (wrong and right), an invitation and its activation, a post, a comment, a refused
    request and an error: the secrets and bodies of all of them appear in no log line."""
    settings.DEBUG = False
    password = "Pw-NeverLogged-8841"
    admin = AdminFactory(organization=org)
    admin.set_password(password)
    admin.save()
    client = APIClient()
    assert client.post("/api/v1/auth/login", {"email": admin.email, "password": "Wrong-Guess-5512"}, format="json").status_code == 401
    login = client.post("/api/v1/auth/login", {"email": admin.email, "password": password}, format="json")
    assert login.status_code == 200
    token = login.json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    with django_capture_on_commit_callbacks(execute=True):
        invited = client.post("/api/v1/invitations", {"email": "new.colleague@example.com", "name": "Nieuw"}, format="json")
    assert invited.status_code == 201, invited.content
    code = re.search(r"code: (\S+)", mail.outbox[-1].body).group(1)
    activated = APIClient().post("/api/v1/auth/activate", {"code": code, "password": "Activate-Secret-3307"}, format="json")
    assert activated.status_code in (200, 201), activated.content
    new_token = activated.json()["token"]
    with django_capture_on_commit_callbacks(execute=True):
        post = client.post("/api/v1/posts", {"body": "BODY-MARKER-post-77 vertrouwelijk", "kind": "announcement"}, format="json")
        client.post(f"/api/v1/posts/{post.json()['id']}/comments", {"body": "BODY-MARKER-comment-78"}, format="json")
    APIClient(HTTP_AUTHORIZATION=f"Bearer {token}x").get("/api/v1/me")  # a refused, mistyped token
    logging.getLogger("django.request").error("an error page", exc_info=False)

    lines = [json.dumps(line) for line in json_log()]
    assert lines, "the session logged something"
    for secret in (
        password,
        "Wrong-Guess-5512",
        "Activate-Secret-3307",
        token,
        new_token,
        code,
        "BODY-MARKER-post-77",
        "BODY-MARKER-comment-78",
    ):
        leaks = [line for line in lines if secret in line]
        assert not leaks, f"{secret[:6]}… found in the logs: {leaks}"
