"""Schema and behaviour agree where the fuzzer found them apart (issue #25 item 5).

- `Idempotency-Key`: its limits are in the schema; an unauthenticated request with a bad key is a
  401 (authentication first), an authenticated one a 400.
- E-mail addresses: the schema's format is `idn-email`, which the non-ASCII addresses the API
  accepts and returns meet (RFC 5322 `email` does not).
- Rules the server enforces are in the schema: a nomination reason of at least 20 characters,
  `body` required on `PATCH /posts/{id}`.
- A variant fetched before the photo is ready: 404 `not_ready`, documented on both routes.
- A chunked upload past the limit (no Content-Length) is a 413, not a 400; a chunked upload within
  it is parsed (it used to reach the multipart parser as an empty body).
"""

from __future__ import annotations

import asyncio
import json
import uuid

import jsonschema
import pytest

from feed.models import Post
from server.http import ThreadedASGIHandler
from tests.factories import UserFactory, issue_token
from tests.media.images import phone_jpeg
from tests.test_openapi_contract import component, openapi, walk


def _post_operations():
    for path, methods in openapi()["paths"].items():
        if "post" in methods:
            yield path, methods["post"]


def test_idempotency_key_limits_are_in_the_schema():
    for path, operation in _post_operations():
        [header] = [p for p in operation.get("parameters", []) if p["in"] == "header" and p["name"] == "Idempotency-Key"]
        assert header["schema"]["minLength"] == 1, path
        assert header["schema"]["maxLength"] == 255, path
        assert header["schema"]["pattern"] == r"\S", path


@pytest.mark.parametrize("key", ["", "   ", "k" * 256])
def test_a_bad_idempotency_key_is_401_unauthenticated_and_400_authenticated(api, admin_user, key):
    body = {"body": "hello"}
    anonymous = api().post("/api/v1/posts", body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert anonymous.status_code == 401, anonymous.content
    signed_in = api(admin_user).post("/api/v1/posts", body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert signed_in.status_code == 400
    assert "Idempotency-Key" in signed_in.json()["error"]["fields"]
    assert not Post.objects.exists()


def test_a_255_character_key_is_accepted(api, admin_user):
    response = api(admin_user).post("/api/v1/posts", {"body": "hello"}, format="json", HTTP_IDEMPOTENCY_KEY="k" * 255)
    assert response.status_code == 201


def test_no_address_is_held_to_the_ascii_email_format():
    formats = {node.get("format") for _path, node in walk(openapi()) if "format" in node}
    assert "email" not in formats
    assert "idn-email" in formats


def test_the_non_ascii_addresses_the_api_returns_meet_the_schema(api, employee):
    colleague = UserFactory(organization=employee.organization, email="ana@bücher.example")
    me = api(colleague).get("/api/v1/me").json()
    assert me["email"] == "ana@bücher.example"
    # As strict as the fuzzer: RFC 5322 `email` is ASCII; RFC 6531 `idn-email` is not.
    checker = jsonschema.FormatChecker(formats=())
    checker.checks("email")(lambda value: value.isascii() and "@" in value)
    checker.checks("idn-email")(lambda value: "@" in value)
    for name in ("Me", "Colleague"):
        jsonschema.validate(me["email"], component(name)["properties"]["email"], format_checker=checker)
    # The login form takes the same address.
    login = api().post("/api/v1/auth/login", {"email": "ana@bücher.example", "password": "wrong"}, format="json")
    assert login.status_code == 401  # the credentials, not the format


def test_the_nomination_reason_minimum_is_in_the_schema():
    from recognition.services.awards import NOMINATION_REASON_MIN_LENGTH

    assert component("NominationCreateRequest")["properties"]["reason"]["minLength"] == NOMINATION_REASON_MIN_LENGTH


def test_patch_post_requires_nothing_in_the_schema_as_it_does_in_fact(api, admin_user):
    # Since #22 a post's groups, photos, schedule or deadline change without its text.
    operation = openapi()["paths"]["/api/v1/posts/{post_id}"]["patch"]
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert component(ref).get("required", []) == []
    post_id = api(admin_user).post("/api/v1/posts", {"body": "hello"}, format="json").json()["id"]
    moved = api(admin_user).patch(f"/api/v1/posts/{post_id}", {"group_ids": []}, format="json")
    assert moved.status_code == 200, moved.content
    assert moved.json()["body"] == "hello"


def test_a_variant_before_the_photo_is_ready_is_a_documented_404_not_ready(api, employee, settings, django_capture_on_commit_callbacks):
    for operation_id in ("/api/v1/media/{media_id}/thumbnail", "/api/v1/media/{media_id}/large"):
        description = openapi()["paths"][operation_id]["get"]["responses"]["404"]["description"]
        assert "not_ready" in description, operation_id
    upload = ("photo.jpg", phone_jpeg())
    from django.core.files.uploadedfile import SimpleUploadedFile

    # Processing is queued on commit; capturing without running it keeps the photo `processing`.
    with django_capture_on_commit_callbacks(execute=False):
        created = api(employee).post("/api/v1/media", {"file": SimpleUploadedFile(*upload, content_type="image/jpeg")}, format="multipart")
    assert created.status_code == 201 and created.json()["status"] == "processing"
    thumbnail = api(employee).get(f"/api/v1/media/{created.json()['id']}/thumbnail")
    assert thumbnail.status_code == 404
    assert thumbnail.json()["error"]["code"] == "not_ready"
    assert thumbnail["Retry-After"] == "1"


# --- chunked uploads, through the ASGI handler as uvicorn calls it --------------------------------


def _multipart(content: bytes) -> tuple[bytes, bytes]:
    boundary = uuid.uuid4().hex
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="photo.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'.encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}".encode()


async def _send_chunked(app, token: str, body: bytes, content_type: bytes, *, chunk: int = 1024 * 1024, declared: int | None = None):
    chunks = [body[i : i + chunk] for i in range(0, len(body), chunk)] or [b""]
    received = 0
    sent: list[dict] = []

    async def receive() -> dict:
        nonlocal received
        if received < len(chunks):
            received += 1
            return {"type": "http.request", "body": chunks[received - 1], "more_body": received < len(chunks)}
        await asyncio.Event().wait()
        return {}

    async def send(message: dict) -> None:
        sent.append(message)

    headers = [(b"host", b"testserver"), (b"authorization", f"Bearer {token}".encode()), (b"content-type", content_type)]
    headers.append((b"content-length", str(declared).encode()) if declared is not None else (b"transfer-encoding", b"chunked"))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/v1/media",
        "raw_path": b"/api/v1/media",
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    await app(scope, receive, send)
    status = sent[0]["status"]
    payload = b"".join(message.get("body", b"") for message in sent[1:])
    return status, json.loads(payload), received, len(chunks)


@pytest.mark.django_db(transaction=True)
def test_a_chunked_20_mib_upload_is_413_and_not_read_to_the_end():
    employee = UserFactory()
    handler = ThreadedASGIHandler(threads=2)
    try:
        body, content_type = _multipart(b"\xff" * (20 * 1024 * 1024))
        status, payload, received, chunks = asyncio.run(_send_chunked(handler, issue_token(employee), body, content_type))
        assert status == 413
        assert payload["error"]["code"] == "too_large"
        assert received < chunks  # refused once past the limit, not after spooling it all
        # Declared too large: refused before the first byte is read.
        status, payload, received, _ = asyncio.run(_send_chunked(handler, issue_token(employee), body, content_type, declared=len(body)))
        assert (status, payload["error"]["code"], received) == (413, "too_large", 0)
    finally:
        handler.close()


@pytest.mark.django_db(transaction=True)
def test_a_chunked_upload_within_the_limit_is_parsed(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    employee = UserFactory()
    handler = ThreadedASGIHandler(threads=2)
    try:
        body, content_type = _multipart(phone_jpeg())
        status, payload, _received, _chunks = asyncio.run(_send_chunked(handler, issue_token(employee), body, content_type, chunk=4096))
        assert status == 201, payload
        assert payload["id"]
    finally:
        handler.close()
