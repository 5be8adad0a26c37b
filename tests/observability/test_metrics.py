"""/metrics after a scripted session: every metric family with its label sets (issue #27)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap

import pytest
from asgiref.sync import async_to_sync
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from rest_framework.test import APIClient

from server.routing import websocket_urlpatterns
from tests.factories import LeaderFactory, UserFactory, issue_token
from tests.notifications.factories import emit_post
from tests.notifications.push_factories import DeviceFactory


def scrape(token: str = "scrape-token") -> str:
    response = APIClient().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return response.content.decode()


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample of the exposition, or None when absent."""
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        match = re.match(r"^([a-zA-Z_:][\w:]*)(\{(.*)\})? (\S+)$", line)
        if not match or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(3) or ""))
        if all(found.get(key) == value for key, value in labels.items()):
            return float(match.group(4))
    return None


@pytest.fixture
def metrics_token(settings):
    settings.METRICS_TOKEN = "scrape-token"
    settings.DEBUG = False


@pytest.mark.django_db
def test_metrics_are_refused_without_the_token(settings, metrics_token):
    assert APIClient().get("/metrics").status_code == 404
    assert APIClient().get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 404


@pytest.mark.django_db
def test_metrics_are_open_under_debug_without_a_token(settings):
    settings.DEBUG = True
    settings.METRICS_TOKEN = ""
    assert APIClient().get("/metrics").status_code == 200
    settings.DEBUG = False
    assert APIClient().get("/metrics").status_code == 404


@pytest.mark.django_db
def test_a_scripted_session_shows_in_every_http_push_and_delivery_metric(
    fake_fcm, api, org, settings, metrics_token, django_capture_on_commit_callbacks
):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "login_ip": "1/min"},
    }
    before = scrape()
    leader = LeaderFactory(organization=org)
    reader = UserFactory(organization=org)
    DeviceFactory(user=reader)
    with django_capture_on_commit_callbacks(execute=True):
        created = api(leader).post("/api/v1/posts", {"body": "Nieuwe kassa's", "kind": "announcement", "requires_acknowledgement": True})
    assert created.status_code == 201, created.content
    post_id = created.json()["id"]
    with django_capture_on_commit_callbacks(execute=True):
        assert api(reader).post(f"/api/v1/posts/{post_id}/comments", {"body": "Gelezen"}).status_code == 201
    assert api(reader).get(f"/api/v1/posts/{post_id}").status_code == 200
    for _ in range(2):  # the second is refused by the per-IP login limit
        last = APIClient().post("/api/v1/auth/login", {"email": "x@example.com", "password": "x"}, format="json")
    assert last.status_code == 429

    after = scrape()
    route = "/api/v1/posts/<int:post_id>"
    assert sample(after, "app_http_requests_total", route=route, method="GET", status="200") == (
        (sample(before, "app_http_requests_total", route=route, method="GET", status="200") or 0) + 1
    )
    assert sample(after, "app_http_requests_total", route="/api/v1/posts", method="POST", status="201") >= 1
    assert sample(after, "app_http_request_duration_seconds_count", route=route, method="GET") >= 1
    assert sample(after, "app_rate_limited_total", limit="login_ip") >= 1
    assert sample(after, "app_push_messages_total", outcome="sent") >= 1
    for step in ("inbox", "realtime", "push_plan", "push_batch"):
        assert sample(after, "app_delivery_step_seconds_count", step=step) >= 1, step
    assert sample(after, "app_outbox_pending_events") == 0
    assert sample(after, "app_outbox_oldest_age_seconds") == 0
    # Bounded labels: routes are templates, never a raw path with an id in it.
    assert f'route="/api/v1/posts/{post_id}"' not in after
    for family in (
        "app_websocket_connections",
        "app_websocket_connects_total",
        "app_websocket_frames_sent_total",
        "app_websocket_frames_dropped_total",
        "app_push_tokens_invalidated_total",
        "app_db_pool_connections",
        "app_celery_queue_depth",
    ):
        assert f"# TYPE {family}" in after, family


@pytest.mark.django_db
def test_an_undelivered_event_shows_as_outbox_backlog(org, metrics_token):
    emit_post(organization_id=org.pk)  # no on_commit callbacks run: it stays undelivered
    text = scrape()
    assert sample(text, "app_outbox_pending_events") == 1
    assert sample(text, "app_outbox_oldest_age_seconds") >= 0


@pytest.mark.django_db
def test_a_dead_token_counts_as_an_invalidation(fake_fcm, api, org, metrics_token, django_capture_on_commit_callbacks):
    leader = LeaderFactory(organization=org)
    device = DeviceFactory(user=UserFactory(organization=org))
    fake_fcm.fail(device.token, "UNREGISTERED")
    before = sample(scrape(), "app_push_tokens_invalidated_total") or 0
    with django_capture_on_commit_callbacks(execute=True):
        api(leader).post("/api/v1/posts", {"body": "Hallo", "kind": "announcement", "requires_acknowledgement": True})
    after = scrape()
    assert sample(after, "app_push_tokens_invalidated_total") == before + 1
    assert sample(after, "app_push_messages_total", outcome="dead") >= 1


@pytest.mark.django_db(transaction=True)
def test_sockets_count_connects_frames_and_closes(org, metrics_token):
    member = UserFactory(organization=org)
    token = issue_token(member)
    before = scrape()

    async def scenario():
        communicator = WebsocketCommunicator(URLRouter(websocket_urlpatterns), f"/ws/v1/stream?token={token}")
        connected, _ = await communicator.connect()
        assert connected
        from asgiref.sync import sync_to_async

        from notifications import services

        event = await sync_to_async(emit_post)(organization_id=org.pk)
        await sync_to_async(services.outbox_event_deliver)(event_id=event.pk)
        assert json.loads(await communicator.receive_from(timeout=2))["type"] == "post.created"
        during = await sync_to_async(scrape)()
        await communicator.disconnect(code=1000)
        return during

    during = async_to_sync(scenario)()
    after = scrape()
    assert sample(during, "app_websocket_connections") == (sample(before, "app_websocket_connections") or 0) + 1
    assert sample(after, "app_websocket_connections") == sample(before, "app_websocket_connections")
    assert sample(after, "app_websocket_connects_total") == (sample(before, "app_websocket_connects_total") or 0) + 1
    assert sample(after, "app_websocket_frames_sent_total") >= (sample(before, "app_websocket_frames_sent_total") or 0) + 1
    assert sample(after, "app_websocket_closes_total", code="1000") == (sample(before, "app_websocket_closes_total", code="1000") or 0) + 1


def test_two_worker_processes_are_summed(tmp_path):
    """Multi-process mode: what two processes counted is one sum at /metrics."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "server.settings"}
    count = textwrap.dedent(
        """
        import os, sys
        from prometheus_client import multiprocess
        from server.obs import metrics
        metrics.rate_limited.labels(limit="login_ip").inc(int(sys.argv[1]))
        metrics.ws_open.inc(int(sys.argv[1]))
        if sys.argv[2] == "exits":  # a worker that shut down (server/obs/tasks.py marks it dead)
            multiprocess.mark_process_dead(os.getpid())
        """
    )
    for amount, fate in (("2", "lives"), ("3", "exits")):
        subprocess.run([sys.executable, "-c", count, amount, fate], env=env, check=True, timeout=60)
    render = textwrap.dedent(
        """
        from server.obs import metrics
        print(metrics.render(lambda: {}).decode())
        """
    )
    text = subprocess.run([sys.executable, "-c", render], env=env, check=True, timeout=60, capture_output=True, text=True).stdout
    assert sample(text, "app_rate_limited_total", limit="login_ip") == 5
    # Open sockets are a gauge of live processes: the one marked dead no longer counts.
    assert sample(text, "app_websocket_connections") == 2
