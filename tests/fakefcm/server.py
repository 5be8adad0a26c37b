"""The fake FCM server: OAuth token endpoint plus `POST /v1/projects/{project}/messages:send`.

Error answers follow the shape Google sends (status + `FcmError` detail), because
that is what firebase-admin parses into `UnregisteredError`, `QuotaExceededError`,
`InvalidArgumentError`, `UnavailableError` and `InternalError`.
"""

from __future__ import annotations

import base64
import itertools
import json
import random
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

ACCESS_TOKEN = "fake-fcm-access-token"
SEND_PATH = re.compile(r"^/v1/projects/(?P<project>[^/]+)/messages:send$")

# errorCode → (HTTP status, canonical status, message), as FCM answers them.
ERRORS: dict[str, tuple[int, str, str]] = {
    "UNREGISTERED": (404, "NOT_FOUND", "Requested entity was not found."),
    "INVALID_ARGUMENT": (400, "INVALID_ARGUMENT", "The registration token is not a valid FCM registration token"),
    "UNAVAILABLE": (503, "UNAVAILABLE", "The service is currently unavailable."),
    "INTERNAL": (500, "INTERNAL", "Internal error encountered."),
    "QUOTA_EXCEEDED": (429, "RESOURCE_EXHAUSTED", "Quota exceeded for quota metric 'Messages sent'."),
}


@dataclass(frozen=True)
class ReceivedMessage:
    project: str
    message: dict[str, Any]
    validate_only: bool
    answered: str  # "OK" or the errorCode sent back
    at: float

    @property
    def token(self) -> str:
        return self.message.get("token", "")


@dataclass
class _Rule:
    code: str
    remaining: int | None  # None: every time
    retry_after: int | None


@dataclass
class _State:
    lock: threading.Lock = field(default_factory=threading.Lock)
    received: list[ReceivedMessage] = field(default_factory=list)
    rules: dict[str, _Rule] = field(default_factory=dict)
    token_requests: int = 0
    delivered: int = 0
    latency: float = 0.0
    public_key: Any = None
    counter: itertools.count = field(default_factory=itertools.count)
    # (errorCode, rate): answer that share of messages without a rule with the error (chaos runs).
    random_failure: tuple[str, float] | None = None
    rng: random.Random = field(default_factory=random.Random)


class FakeFCM:
    def __init__(self, *, project_id: str = "fake-project", latency: float = 0.0) -> None:
        self.project_id = project_id
        self._state = _State(latency=latency)
        self._private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._state.public_key = self._private_key.public_key()
        handler = type("Handler", (_Handler,), {"state": self._state})
        self._httpd = _Server(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------------
    def start(self) -> FakeFCM:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="fake-fcm", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> FakeFCM:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    # --- configuration ---------------------------------------------------------------
    def service_account(self) -> dict[str, str]:
        """A service-account JSON whose key is local and whose token_uri is this server."""
        pem = self._private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        return {
            "type": "service_account",
            "project_id": self.project_id,
            "private_key_id": "fake-key-1",
            "private_key": pem,
            "client_email": f"push@{self.project_id}.iam.gserviceaccount.com",
            "client_id": "1",
            "token_uri": f"{self.url}/token",
        }

    def write_service_account(self, directory: Path | str) -> str:
        path = Path(directory) / f"fake-fcm-{self._httpd.server_address[1]}.json"
        path.write_text(json.dumps(self.service_account()))
        return str(path)

    def fail(self, token: str, code: str, *, times: int | None = None, retry_after: int | None = None) -> None:
        """Answer `token` with the FCM error `code`: `times` times, or always when None."""
        if code not in ERRORS:
            raise ValueError(f"unknown FCM error code {code!r}")
        with self._state.lock:
            self._state.rules[token] = _Rule(code=code, remaining=times, retry_after=retry_after)

    def fail_randomly(self, code: str | None, rate: float = 0.5, *, seed: int | None = None) -> None:
        """Answer a `rate` share of all messages with `code` (None: stop)."""
        if code is not None and code not in ERRORS:
            raise ValueError(f"unknown FCM error code {code!r}")
        with self._state.lock:
            self._state.random_failure = (code, rate) if code else None
            self._state.rng.seed(seed)

    def delivered_keys(self, data_field: str = "event_id") -> list[tuple[str, str]]:
        """(token, data[data_field]) of every message answered OK: duplicates are repeats."""
        return [(m.token, m.message.get("data", {}).get(data_field, "")) for m in self.delivered]

    def set_latency(self, seconds: float) -> None:
        self._state.latency = seconds

    def reset(self) -> None:
        with self._state.lock:
            self._state.received.clear()
            self._state.rules.clear()
            self._state.token_requests = 0
            self._state.random_failure = None
            self._state.delivered = 0
            self._state.latency = 0.0

    # --- inspection ------------------------------------------------------------------
    @property
    def received(self) -> list[ReceivedMessage]:
        with self._state.lock:
            return list(self._state.received)

    @property
    def delivered(self) -> list[ReceivedMessage]:
        return [m for m in self.received if m.answered == "OK"]

    # Plain methods for use through a multiprocessing proxy (benchmarks run the fake in
    # its own process so it does not share a GIL with the code being measured).
    def serve(self) -> None:
        self.start()

    def base_url(self) -> str:
        return self.url

    def delivered_count(self) -> int:
        with self._state.lock:
            return self._state.delivered

    def duplicate_count(self) -> int:
        tokens = [m.token for m in self.delivered]
        return len(tokens) - len(set(tokens))

    def received_count(self) -> int:
        with self._state.lock:
            return len(self._state.received)

    def messages_for(self, token: str) -> list[ReceivedMessage]:
        return [m for m in self.delivered if m.token == token]

    @property
    def token_requests(self) -> int:
        return self._state.token_requests


class _Server(ThreadingHTTPServer):
    # Senders open dozens of connections at once; the default backlog of 5 resets them.
    request_queue_size = 256


class _Handler(BaseHTTPRequestHandler):
    # Keep-alive, like Google's front end: firebase-admin reuses pooled connections.
    protocol_version = "HTTP/1.1"
    # One write per response and no Nagle: headers and body in separate segments would
    # meet the client's delayed ACK and cost ~40 ms per request (a fake, not a real, limit).
    wbufsize = -1
    disable_nagle_algorithm = True
    state: _State

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path == "/token":
            self._token(body)
            return
        match = SEND_PATH.match(self.path)
        if not match:
            self._error(404, "NOT_FOUND", f"No route {self.path}")
            return
        if self.headers.get("Authorization") != f"Bearer {ACCESS_TOKEN}":
            self._error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
            return
        try:
            request = json.loads(body)
            message = request["message"]
        except (ValueError, KeyError, TypeError):
            self._error(400, "INVALID_ARGUMENT", "Invalid JSON payload received.")
            return
        if sum(1 for target in ("token", "topic", "condition") if message.get(target)) != 1:
            self._error(400, "INVALID_ARGUMENT", "Exactly one of token, topic or condition is required.")
            return
        if self.state.latency:
            time.sleep(self.state.latency)
        token = message.get("token", "")
        with self.state.lock:
            rule = self.state.rules.get(token)
            if rule is not None and rule.remaining is not None:
                rule.remaining -= 1
                if rule.remaining < 0:
                    del self.state.rules[token]
                    rule = None
            answered = rule.code if rule else "OK"
            if rule is None and self.state.random_failure and self.state.rng.random() < self.state.random_failure[1]:
                code = self.state.random_failure[0]
                rule = _Rule(code=code, remaining=None, retry_after=None)
                answered = code
            self.state.received.append(
                ReceivedMessage(
                    project=match["project"],
                    message=message,
                    validate_only=bool(request.get("validate_only")),
                    answered=answered,
                    at=time.monotonic(),
                )
            )
            sequence = next(self.state.counter)
            self.state.delivered += answered == "OK"
        if rule is None:
            self._json(200, {"name": f"projects/{match['project']}/messages/{sequence}"})
            return
        status, canonical, text = ERRORS[rule.code]
        headers = {"Retry-After": str(rule.retry_after)} if rule.retry_after is not None else {}
        self._error(status, canonical, text, fcm_code=rule.code, headers=headers)

    def _token(self, body: bytes) -> None:
        form = {key: values[0] for key, values in parse_qs(body.decode()).items()}
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" or not self._valid_assertion(form.get("assertion", "")):
            self._json(400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."})
            return
        with self.state.lock:
            self.state.token_requests += 1
        self._json(200, {"access_token": ACCESS_TOKEN, "expires_in": 3600, "token_type": "Bearer"})

    def _valid_assertion(self, assertion: str) -> bool:
        # The signed JWT proves the client used the service account's private key.
        try:
            header, claims, signature = assertion.split(".")
            self.state.public_key.verify(_b64decode(signature), f"{header}.{claims}".encode(), padding.PKCS1v15(), hashes.SHA256())
            scopes = json.loads(_b64decode(claims)).get("scope", "").split()
            # FCM accepts either scope; firebase-admin asks for a list that includes both.
            return any(s.endswith(("/auth/firebase.messaging", "/auth/cloud-platform")) for s in scopes)
        except Exception:
            return False

    def _error(self, status: int, canonical: str, text: str, *, fcm_code: str | None = None, headers=None) -> None:
        error: dict[str, Any] = {"code": status, "message": text, "status": canonical}
        if fcm_code:
            error["details"] = [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": fcm_code}]
        self._json(status, {"error": error}, headers=headers)

    def _json(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
