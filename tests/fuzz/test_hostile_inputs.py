"""Hostile input classes against every operation of the schema: none may reach a 500.

Found by an attacker's probe (issue #25): a NUL byte in a query parameter or inside a cursor,
a JSON body nested 1,000 deep (on the unauthenticated login too), a lone surrogate echoed in an
error message. The guards are request-level (server/api/parsers.py, server/api/contract.py,
server/api/pagination.py), and this walks the schema, so a new route inherits the test.
"""

from __future__ import annotations

import base64
import json
import logging

import pytest
from django.urls import reverse

from tests.security.harness import all_routes, fixtures
from tests.security.matrix import make_world, openapi, request_schema, sample_body, schema_path

PROBE = "Hostile input probe"
DEEP = "[" * 1000 + "]" * 1000


@pytest.fixture
def world(db, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": dict.fromkeys(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "100000/min"),
    }
    return make_world()


def _operations(world):
    registry = fixtures()
    for route in all_routes():
        if not route.is_api:
            continue
        operations = openapi()["paths"].get(schema_path(route), {})
        path = reverse(route.name, kwargs={kwarg: registry[kwarg](world) for kwarg in route.kwargs})
        for method in route.methods:
            if method in operations:
                yield path, method, operations[method]


def _assert_client_error(response, what: str) -> None:
    assert response.status_code < 500, f"{what}: {response.status_code} {response.content[:300]!r}"
    assert response["Content-Type"].startswith("application/json"), what
    assert "error" in response.json(), what


def test_nul_bytes_in_query_parameters_and_cursors_are_400s(api, world, caplog):
    client = api(world.admin_a)
    nul_cursor = base64.urlsafe_b64encode(json.dumps({"v": ["a\u0000b", 1], "r": False}).encode()).decode().rstrip("=")
    with caplog.at_level(logging.ERROR):
        for path, method, operation in _operations(world):
            if method != "get":
                continue
            for parameter in operation.get("parameters", []):
                if parameter["in"] != "query":
                    continue
                value = nul_cursor if parameter["name"] == "cursor" else "a\x00b"
                response = client.get(path, {parameter["name"]: value})
                _assert_client_error(response, f"GET {path}?{parameter['name']}=<NUL>")
                assert response.status_code == 400, f"GET {path}?{parameter['name']}=<NUL>: {response.status_code}"
    assert not [record for record in caplog.records if record.exc_info], "a traceback was logged"


def test_deeply_nested_json_is_a_400_on_every_write_including_login(api, world, caplog):
    clients = {"admin": api(world.admin_a), "anonymous": api()}
    with caplog.at_level(logging.ERROR):
        for path, method, _operation in _operations(world):
            if method not in ("post", "put", "patch"):
                continue
            for who, client in clients.items():
                response = getattr(client, method)(path, DEEP, content_type="application/json")
                _assert_client_error(response, f"{method.upper()} {path} as {who}")
    assert not [record for record in caplog.records if record.exc_info], "a traceback was logged"
    login = api().post("/api/v1/auth/login", DEEP, content_type="application/json")
    assert login.status_code == 400 and login.json()["error"]["code"] == "malformed_request"


def test_lone_surrogates_in_any_string_field_are_400s(api, world, caplog):
    client = api(world.admin_a)
    with caplog.at_level(logging.ERROR):
        for path, method, operation in _operations(world):
            if method not in ("post", "put", "patch"):
                continue
            body = sample_body(request_schema(operation), PROBE)
            for name, value in body.items():
                if not isinstance(value, str):
                    continue
                # json.dumps writes the surrogate as the escape "\ud800", as a hostile client would.
                raw = json.dumps({**body, name: "\ud800"})
                response = getattr(client, method)(path, raw, content_type="application/json")
                _assert_client_error(response, f"{method.upper()} {path} {name}=<lone surrogate>")
    assert not [record for record in caplog.records if record.exc_info], "a traceback was logged"
    response = client.patch("/api/v1/me", '{"timezone": "\\ud800"}', content_type="application/json")
    assert response.status_code == 400 and "\\ud800" not in response.content.decode()


# Look-alike spellings of an existing address (issue #25 item 1): each must reach that account
# or nobody, on every route that takes an address, and none may become a second account.
CONFUSABLES = ("adm\u0131n", "ADM\u0130N", "\uff41\uff44\uff4d\uff49\uff4e", "adm\u0456n", "admin\u200b", "\u0430dmin", "\u212a\u0131m")


def test_confusable_email_spellings_reach_no_other_account_on_any_route(api, world, caplog):
    from accounts.models import AuthToken, Invitation, User

    world.admin_a.email = "admin@fuzz.example"
    world.admin_a.save(update_fields=["email"])
    client = api(world.admin_a)
    tokens_before = AuthToken.objects.filter(user=world.admin_a).count()
    walked = []
    with caplog.at_level(logging.ERROR):
        for path, method, operation in _operations(world):
            if method not in ("post", "put", "patch"):
                continue
            schema = request_schema(operation) or {}
            if "email" not in schema.get("properties", {}):
                continue
            walked.append(path)
            body = sample_body(schema, PROBE)
            for local in CONFUSABLES:
                payload = {**body, "email": f"{local}@fuzz.example", "password": "correct horse battery staple"}
                payload = {key: value for key, value in payload.items() if key in schema["properties"]}
                response = getattr(client, method)(path, payload, format="json")
                assert response.status_code < 500, f"{method.upper()} {path} email={local!r}: {response.status_code}"
                if response.status_code < 300 and "token" in response.content.decode():
                    raise AssertionError(f"{path} email={local!r} signed someone in")
    assert {"/api/v1/auth/login", "/api/v1/invitations"} <= set(walked)
    assert AuthToken.objects.filter(user=world.admin_a).count() == tokens_before + 0
    stored = set(User.objects.values_list("email", flat=True)) | set(Invitation.objects.values_list("email", flat=True))
    assert not [email for email in stored if email and email.endswith("@fuzz.example") and not email.isascii()]
    assert not [record for record in caplog.records if record.exc_info], "a traceback was logged"


FORWARDED_VALUES = [
    "203.0.113.7",
    "203.0.113.7, 10.0.0.1",
    "a\x00b",
    "999.999.999.999",
    "[::1",
    "2001:db8::1%eth0",
    "\u0661\u0662\u0667.0.0.1",  # Arabic-Indic digits
    "," * 3000,
    "1.1.1.1, " * 500,
    "unknown, _hidden",
]


@pytest.mark.parametrize("trusted", [False, True], ids=["untrusted-peer", "trusted-peer"])
def test_forwarded_headers_are_never_an_error_and_never_believed_from_an_untrusted_peer(api, world, settings, caplog, trusted):
    """Every operation with hostile forwarding headers (issue #25 item 2): no 5xx, no traceback;
    from a peer outside TRUSTED_PROXIES the audit log records the peer, whatever the headers say."""
    from moderation.models import AuditEntry

    settings.TRUSTED_PROXIES = ["127.0.0.1"] if trusted else ["10.0.0.0/8"]
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 0 if trusted else 1}
    clients = {"admin": api(world.admin_a), "anonymous": api()}
    before = set(AuditEntry.objects.values_list("pk", flat=True))
    sent = 0
    with caplog.at_level(logging.ERROR):
        for path, method, operation in _operations(world):
            for who, client in clients.items():
                value = FORWARDED_VALUES[sent % len(FORWARDED_VALUES)]
                headers = {
                    "HTTP_X_FORWARDED_FOR": value,
                    "HTTP_FORWARDED": f"for={value!r}",
                    "HTTP_X_REAL_IP": value,
                    "HTTP_X_FORWARDED_HOST": "evil.example",
                }
                if method in ("post", "put", "patch"):
                    body = json.dumps(sample_body(request_schema(operation), PROBE))
                    response = getattr(client, method)(path, body, content_type="application/json", **headers)
                else:
                    response = getattr(client, method)(path, **headers)
                sent += 1
                assert response.status_code < 500, f"{method.upper()} {path} as {who} XFF={value[:30]!r}: {response.status_code}"
    assert not [record for record in caplog.records if record.exc_info], "a traceback was logged"
    recorded = set(AuditEntry.objects.exclude(pk__in=before).values_list("ip", flat=True))
    assert recorded, "no write was audited: the probe proves nothing"
    allowed = {"203.0.113.7", "127.0.0.1", "1.1.1.1", None} if trusted else {"127.0.0.1", None}
    assert recorded <= allowed, recorded
