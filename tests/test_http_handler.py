"""The HTTP handler (server/http.py): Django's whole request on one of a fixed set of threads.

It must answer exactly what Django's own ASGI handler answers (compared header for header
and byte for byte below), keep each request's language to itself although threads are
reused, never run more requests at once than it has threads, iterate a streamed response on
the thread that opened it, and fire `request_finished` once per request (that is what hands
the database connection back).
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import threading
import time
from pathlib import Path

import pytest
from django.core import signals
from django.core.handlers.asgi import ASGIHandler
from django.http import HttpResponse, StreamingHttpResponse

from moderation.audit import AuditEntry
from server.http import ThreadedASGIHandler
from tests.factories import AdminFactory, OrganizationFactory, UserFactory, issue_token

pytestmark = pytest.mark.django_db(transaction=True)


def _scope(method: str, path: str, headers: list[tuple[bytes, bytes]], query: bytes = b"") -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }


async def _call(app, method: str, path: str, headers=(), body: bytes = b"", query: bytes = b"") -> tuple[int, list, bytes]:
    sent: list[dict] = []
    delivered = False

    async def receive() -> dict:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # the client stays connected
        return {}

    async def send(message: dict) -> None:
        sent.append(message)

    await app(_scope(method, path, list(headers), query), receive, send)
    start = sent[0]
    assert start["type"] == "http.response.start"
    assert all(message["type"] == "http.response.body" for message in sent[1:])
    assert not sent[-1].get("more_body", False), "the last body message closes the response"
    return start["status"], start["headers"], b"".join(message.get("body", b"") for message in sent[1:])


def _length(body: bytes) -> tuple[bytes, bytes]:
    return (b"content-length", str(len(body)).encode())


def _comparable(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    # Per-response values: the time taken and the generated request id (server/obs/middleware.py).
    return sorted((name.lower(), value) for name, value in headers if name.lower() not in (b"server-timing", b"x-request-id"))


@pytest.fixture
def handler():
    created: list[ThreadedASGIHandler] = []

    def make(threads: int = 4) -> ThreadedASGIHandler:
        created.append(ThreadedASGIHandler(threads=threads))
        return created[-1]

    yield make
    for each in created:
        each.close()


@pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators")  # Django's own, buffering
def test_answers_exactly_what_djangos_own_handler_answers(handler):
    org = OrganizationFactory()
    employee = UserFactory(organization=org, language="nl")
    admin = AdminFactory(organization=org)
    AuditEntry.objects.create(organization=org, actor=admin, action="user.deactivate", target_type="user", target_id=employee.pk)
    employee_auth = (b"authorization", f"Bearer {issue_token(employee)}".encode())
    admin_auth = (b"authorization", f"Bearer {issue_token(admin)}".encode())
    login = json.dumps({"email": employee.email, "password": "wrong"}).encode()
    requests = [
        ("GET", "/healthz", [], b"", b""),
        ("GET", "/api/v1/me", [employee_auth], b"", b""),
        ("GET", "/api/v1/me", [employee_auth, (b"accept-language", b"en")], b"", b""),
        ("GET", "/api/v1/notifications/unread-count", [employee_auth], b"", b""),
        ("GET", "/api/v1/feed", [employee_auth], b"", b"page_size=5"),
        ("GET", "/api/v1/feed", [employee_auth], b"", b"cursor=forged"),
        ("GET", "/api/v1/me", [], b"", b""),
        ("GET", "/api/v1/me", [(b"authorization", b"Bearer nope"), (b"accept-language", b"nl")], b"", b""),
        ("GET", "/api/v1/no-such-route", [employee_auth], b"", b""),
        # With Content-Length, as clients send it (a chunked body: test_a_chunked_body_is_parsed).
        ("POST", "/api/v1/auth/login", [(b"content-type", b"application/json"), _length(login)], login, b""),
        ("POST", "/api/v1/posts", [employee_auth, (b"content-type", b"application/json"), _length(b"{not json")], b"{not json", b""),
        ("GET", "/api/v1/moderation/audit-log.csv", [admin_auth], b"", b""),
        ("GET", "/api/v1/moderation/audit-log.csv", [employee_auth], b"", b""),
    ]
    ours, djangos = handler(), ASGIHandler()
    for method, path, headers, body, query in requests:
        expected = asyncio.run(_call(djangos, method, path, headers, body, query))
        got = asyncio.run(_call(ours, method, path, headers, body, query))
        label = f"{method} {path}?{query.decode()}"
        assert got[0] == expected[0], label
        assert got[2] == expected[2], label
        assert _comparable(got[1]) == _comparable(expected[1]), label
    statuses = [asyncio.run(_call(ours, m, p, h, b, q))[0] for m, p, h, b, q in requests]
    assert statuses == [200, 200, 200, 200, 200, 400, 401, 401, 404, 401, 400, 200, 403]


def test_a_chunked_body_is_parsed(handler):
    # No Content-Length (Transfer-Encoding: chunked): Django's own handler hands the view an empty
    # body (login: 400 "required"); ours counts what it read (issue #25 item 5).
    UserFactory(email="chunked@example.com")
    login = json.dumps({"email": "chunked@example.com", "password": "wrong"}).encode()
    headers = [(b"content-type", b"application/json"), (b"transfer-encoding", b"chunked")]
    assert asyncio.run(_call(ASGIHandler(), "POST", "/api/v1/auth/login", headers, login))[0] == 400
    assert asyncio.run(_call(handler(), "POST", "/api/v1/auth/login", headers, login))[0] == 401


def test_a_request_language_stays_with_that_request_on_a_reused_thread(handler):
    app = handler(threads=1)  # every request on the same thread
    bad = (b"authorization", b"Bearer nope")
    dutch = asyncio.run(_call(app, "GET", "/api/v1/me", [bad, (b"accept-language", b"nl")]))[2]
    english = asyncio.run(_call(app, "GET", "/api/v1/me", [bad]))[2]
    assert json.loads(dutch)["error"]["message"] != json.loads(english)["error"]["message"]
    assert json.loads(english)["error"]["message"] == "Invalid or expired token."


_PROBE: contextvars.ContextVar[str] = contextvars.ContextVar("probe")


def test_what_one_request_sets_in_its_context_is_gone_for_the_next(handler, monkeypatch):
    app = handler(threads=1)
    seen: list[str | None] = []

    def view(request):
        seen.append(_PROBE.get(None))
        _PROBE.set(request.path)
        return HttpResponse(b"ok")

    monkeypatch.setattr(app, "get_response", view)
    for path in ("/first", "/second"):
        assert asyncio.run(_call(app, "GET", path))[0] == 200
    assert seen == [None, None]


def test_never_more_requests_at_once_than_threads(handler, monkeypatch):
    app = handler(threads=2)
    running, most, lock = 0, 0, threading.Lock()

    def slow(request):
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.05)
        with lock:
            running -= 1
        return HttpResponse(b"ok")

    monkeypatch.setattr(app, "get_response", slow)

    async def burst():
        return await asyncio.gather(*(_call(app, "GET", "/healthz") for _ in range(6)))

    answers = asyncio.run(burst())
    assert [status for status, _headers, _body in answers] == [200] * 6
    assert most == 2


def test_a_streamed_response_is_read_on_its_own_thread_then_closed_once(handler, monkeypatch):
    app = handler(threads=3)
    threads: set[int] = set()
    finished: list[int] = []

    def receiver(**kwargs):
        finished.append(threading.get_ident())

    def rows():
        for number in range(3):
            threads.add(threading.get_ident())
            yield f"row {number}\n".encode()

    def streaming(request):
        threads.add(threading.get_ident())
        return StreamingHttpResponse(rows(), content_type="text/csv")

    monkeypatch.setattr(app, "get_response", streaming)
    signals.request_finished.connect(receiver)
    try:
        status, headers, body = asyncio.run(_call(app, "GET", "/export"))
    finally:
        signals.request_finished.disconnect(receiver)
    assert (status, body) == (200, b"row 0\nrow 1\nrow 2\n")
    assert (b"Content-Type", b"text/csv") in headers
    assert len(threads) == 1 and threading.get_ident() not in threads
    assert finished == list(threads)  # once, on the request's thread, after the last row


def test_request_finished_fires_once_per_request_on_the_requests_thread(handler):
    app = handler(threads=2)
    started: list[int] = []
    finished: list[int] = []

    def on_start(**kwargs):
        started.append(threading.get_ident())

    def on_finish(**kwargs):
        finished.append(threading.get_ident())

    signals.request_started.connect(on_start)
    signals.request_finished.connect(on_finish)
    try:
        for _ in range(3):
            assert asyncio.run(_call(app, "GET", "/healthz"))[0] == 200
        assert asyncio.run(_call(app, "GET", "/api/v1/me"))[0] == 401
    finally:
        signals.request_started.disconnect(on_start)
        signals.request_finished.disconnect(on_finish)
    assert len(started) == len(finished) == 4
    assert started == finished  # each request finished on the thread it started on
    assert threading.get_ident() not in started


def test_a_client_gone_before_its_body_arrives_gets_nothing(handler):
    app = handler()
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    asyncio.run(app(_scope("POST", "/api/v1/posts", []), receive, send))
    assert sent == []


def test_only_http_is_served(handler):
    with pytest.raises(ValueError):
        asyncio.run(handler()({"type": "websocket"}, None, None))


def test_the_asgi_application_serves_http_with_this_handler():
    from server.asgi import application, django_asgi_app

    assert isinstance(django_asgi_app, ThreadedASGIHandler)
    assert application.application_mapping["http"] is django_asgi_app


@pytest.mark.django_db(transaction=False)
def test_a_pool_smaller_than_the_threads_is_a_warning():
    from server.checks import pool_warnings

    assert [message.id for message in pool_warnings({"OPTIONS": {"pool": {"max_size": 4}}}, 8)] == ["server.W003"]
    assert pool_warnings({"OPTIONS": {"pool": {"max_size": 8}}}, 8) == []
    assert pool_warnings({"OPTIONS": {}}, 8) == []  # no pool: connections per thread, none to wait for


def test_long_lived_objects_are_frozen_once_after_the_first_requests(monkeypatch):
    import server.http

    frozen: list[int] = []
    monkeypatch.setattr(server.http, "freeze_long_lived_objects", lambda: frozen.append(app.requests))
    app = ThreadedASGIHandler(threads=2, freeze_after=3)
    try:
        for _ in range(6):
            assert asyncio.run(_call(app, "GET", "/healthz"))[0] == 200
    finally:
        app.close()
    assert frozen == [3]


@pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators")  # Django's own, buffering
def test_a_static_file_streams_whole_and_equal(handler, settings):
    # A file response (whitenoise) is streamed in 64 KiB chunks, each read on the request's thread.
    from django.contrib.staticfiles import finders

    path = "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"
    on_disk = Path(finders.find(path)).read_bytes()
    assert len(on_disk) > 3 * ASGIHandler.chunk_size
    ours = asyncio.run(_call(handler(), "GET", f"/static/{path}"))
    if ours[0] == 404 and not settings.DEBUG:
        pytest.skip("SKIPPED: static files are served from STATIC_ROOT when DEBUG is off (collectstatic)")
    assert ours[0] == 200 and ours[2] == on_disk
    djangos = asyncio.run(_call(ASGIHandler(), "GET", f"/static/{path}"))
    assert _comparable(ours[1]) == _comparable(djangos[1]) and djangos[2] == on_disk


def test_async_code_called_from_a_view_runs_on_the_servers_event_loop(handler, monkeypatch):
    # As under Django's own handler: the in-memory channel layer of the embedded default and
    # Channels' group_send from a view (async_to_sync) must run on the loop the sockets are on.
    from asgiref.sync import async_to_sync

    app = handler(threads=2)
    loops: list[asyncio.AbstractEventLoop] = []

    async def where() -> None:
        loops.append(asyncio.get_running_loop())

    def view(request):
        async_to_sync(where)()
        return HttpResponse(b"ok")

    monkeypatch.setattr(app, "get_response", view)

    async def serve() -> asyncio.AbstractEventLoop:
        assert (await _call(app, "GET", "/anything"))[0] == 200
        return asyncio.get_running_loop()

    assert loops == [asyncio.run(serve())]
