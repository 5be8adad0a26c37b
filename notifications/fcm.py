"""Push backends: `log` (embedded default) and `fcm` (firebase-admin, FCM HTTP v1).

A backend takes up to 500 prepared messages and answers one outcome per message;
it never touches the database, so the caller decides what a dead token or a
transient failure means for its rows.
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from django.conf import settings

logger = logging.getLogger("notifications.push")

FCM_MAX_BATCH = 500  # firebase-admin refuses more per send_each call; FCM's own limit.


@dataclass(frozen=True)
class PushMessage:
    device_id: int
    token: str
    platform: str
    title: str
    body: str
    data: dict[str, str]
    channel_id: str
    collapse_key: str
    badge: int | None = None
    high_priority: bool = False
    ttl_seconds: int = 24 * 3600


class Outcome(StrEnum):
    SENT = "sent"
    DEAD = "dead"  # the token will never work again: delete the device
    RETRY = "retry"  # transient: try again later
    FAILED = "failed"  # permanent for this message, the token may still be fine


@dataclass(frozen=True)
class SendResult:
    device_id: int
    outcome: Outcome
    error: str = ""
    retry_after: float | None = None


class PushBackend(Protocol):
    def send(self, messages: list[PushMessage]) -> list[SendResult]: ...


# --- log -----------------------------------------------------------------------------


@dataclass
class LogBackend:
    """Writes what it would send. The embedded default: nothing leaves the machine."""

    sent: list[PushMessage] = field(default_factory=list)

    def send(self, messages: list[PushMessage]) -> list[SendResult]:
        for message in messages:
            logger.info(
                "push (log backend) to device %s [%s] %s: %s — %s",
                message.device_id,
                message.platform,
                message.channel_id,
                message.title,
                json.dumps(message.data, sort_keys=True),
            )
        return [SendResult(device_id=message.device_id, outcome=Outcome.SENT) for message in messages]


# --- fcm -----------------------------------------------------------------------------


def to_fcm_message(message: PushMessage):
    from firebase_admin import messaging

    return messaging.Message(
        token=message.token,
        notification=messaging.Notification(title=message.title, body=message.body),
        data=message.data,
        android=messaging.AndroidConfig(
            collapse_key=message.collapse_key,
            priority="high" if message.high_priority else "normal",
            ttl=message.ttl_seconds,
            notification=messaging.AndroidNotification(channel_id=message.channel_id, tag=message.collapse_key),
        ),
        apns=messaging.APNSConfig(
            headers={
                "apns-collapse-id": message.collapse_key[:64],
                "apns-priority": "10" if message.high_priority else "5",
            },
            payload=messaging.APNSPayload(
                aps=messaging.Aps(
                    badge=message.badge,
                    sound="default" if message.high_priority else None,
                    thread_id=message.channel_id,
                )
            ),
        ),
        webpush=messaging.WebpushConfig(headers={"Urgency": "high" if message.high_priority else "normal"}),
    )


def classify(device_id: int, error: Exception | None) -> SendResult:
    from firebase_admin import exceptions, messaging
    from google.auth.exceptions import TransportError

    if error is None:
        return SendResult(device_id=device_id, outcome=Outcome.SENT)
    text = f"{type(error).__name__}: {error}"[:500]
    if isinstance(error, (messaging.UnregisteredError, messaging.SenderIdMismatchError, exceptions.InvalidArgumentError)):
        # INVALID_ARGUMENT on a single-token send means the token is malformed or
        # expired: our payloads are built by code, a bad one would fail every token.
        return SendResult(device_id=device_id, outcome=Outcome.DEAD, error=text)
    if isinstance(
        error,
        (
            messaging.QuotaExceededError,
            exceptions.ResourceExhaustedError,
            exceptions.UnavailableError,
            exceptions.InternalError,
            exceptions.DeadlineExceededError,
            exceptions.UnknownError,
            # The OAuth token request failed on the network: nothing is wrong with the message.
            TransportError,
        ),
    ):
        return SendResult(device_id=device_id, outcome=Outcome.RETRY, error=text, retry_after=_retry_after(error))
    return SendResult(device_id=device_id, outcome=Outcome.FAILED, error=text)


def _retry_after(error: Exception) -> float | None:
    response = getattr(error, "http_response", None)
    value = response.headers.get("Retry-After") if response is not None else None
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        # An HTTP date: rare from FCM; treat as "some time", the backoff decides.
        from email.utils import parsedate_to_datetime

        from django.utils import timezone

        try:
            return max(0.0, (parsedate_to_datetime(value) - timezone.now()).total_seconds())
        except (TypeError, ValueError):
            return None


class FcmBackend:
    """firebase-admin with the service account in FIREBASE_CREDENTIALS.

    Two send modes, measured in bench/push_fanout.py:
    - `pool` (default): one fixed, process-wide thread pool sends each message
      with `messaging.send`, over one connection pool of the same size;
    - `send_each`: firebase-admin's `messaging.send_each`, which starts a new
      thread per message (500 per call).
    """

    APP_NAME = "feedapp-push"

    def __init__(self, *, credentials_path: str, endpoint_override: str = "", pool_size: int = 32, mode: str = "pool") -> None:
        import firebase_admin
        from firebase_admin import credentials, messaging

        if mode not in ("pool", "send_each"):
            raise ValueError(f"unknown FCM send mode {mode!r}")
        self.mode = mode
        self.pool_size = pool_size
        name = f"{self.APP_NAME}-{id(self)}"
        self.app = firebase_admin.initialize_app(credentials.Certificate(credentials_path), name=name)
        service = messaging._get_messaging_service(self.app)
        self._tune(service, endpoint_override=endpoint_override)
        self._executor = ThreadPoolExecutor(max_workers=pool_size, thread_name_prefix="fcm-send")

    def _tune(self, service, *, endpoint_override: str) -> None:
        # firebase-admin 7.1 exposes neither the endpoint nor the HTTP adapter; both are
        # attributes of its messaging service (pinned in requirements.txt, checked in tests).
        import requests
        from urllib3.util.retry import Retry

        if endpoint_override:
            service._fcm_url = f"{endpoint_override.rstrip('/')}/v1/projects/{self.app.project_id}/messages:send"
            # google-auth would also look up the service account's "regional access
            # boundary" at iamcredentials.googleapis.com; a test credential has none and
            # tests and benchmarks must never call Google.
            service._credential._is_regional_access_boundary_lookup_required = lambda: False
        # Its default adapter retries 500/503 four times inside the call, sleeping in the
        # sender thread; our task retries with backoff and jitter instead, off the pool.
        # The connection pool matches the sender pool, so no connection is thrown away.
        adapter = requests.adapters.HTTPAdapter(
            # Connect errors only: a read error may follow a message FCM already took, and
            # resending it at once here would skip the (event, device) bookkeeping's backoff.
            max_retries=Retry(connect=1, read=0, status=0, total=1, raise_on_status=False, allowed_methods=None),
            pool_connections=1,
            pool_maxsize=self.pool_size,
        )
        session = service._client.session
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        # requests re-reads proxy variables and ~/.netrc on every call (a fifth of a send's
        # CPU, measured); without a proxy configured at start there is nothing to find.
        if not urllib.request.getproxies():
            session.trust_env = False

    def close(self) -> None:
        import firebase_admin

        self._executor.shutdown(wait=True)
        firebase_admin.delete_app(self.app)

    def send(self, messages: list[PushMessage]) -> list[SendResult]:
        from firebase_admin import messaging

        if len(messages) > FCM_MAX_BATCH:
            raise ValueError(f"at most {FCM_MAX_BATCH} messages per call")
        if not messages:
            return []
        fcm_messages = [to_fcm_message(message) for message in messages]
        if self.mode == "send_each":
            batch = messaging.send_each(fcm_messages, app=self.app)
            return [classify(m.device_id, r.exception) for m, r in zip(messages, batch.responses, strict=True)]

        def send_one(fcm_message) -> Exception | None:
            try:
                messaging.send(fcm_message, app=self.app)
            except Exception as error:  # classified below, one bad message must not stop the batch
                return error
            return None

        errors = list(self._executor.map(send_one, fcm_messages))
        return [classify(m.device_id, error) for m, error in zip(messages, errors, strict=True)]


# --- selection -------------------------------------------------------------------------

_backend_lock = threading.Lock()
_backend_cache: dict[tuple, PushBackend] = {}


def get_backend() -> PushBackend:
    """The configured backend, one per process and configuration (kept across tasks)."""
    key = (
        settings.PUSH_BACKEND,
        settings.FIREBASE_CREDENTIALS,
        settings.FCM_ENDPOINT_OVERRIDE,
        settings.PUSH_SENDER_POOL_SIZE,
        settings.PUSH_FCM_SEND_MODE,
    )
    backend = _backend_cache.get(key)
    if backend is None:
        with _backend_lock:
            backend = _backend_cache.get(key)
            if backend is None:
                backend = _BACKENDS[settings.PUSH_BACKEND]()
                _backend_cache[key] = backend
    return backend


def reset_backends() -> None:
    """Forget cached backends (tests switch fake servers and settings)."""
    with _backend_lock:
        for backend in _backend_cache.values():
            close = getattr(backend, "close", None)
            if close:
                close()
        _backend_cache.clear()


def _fcm() -> FcmBackend:
    if not settings.FIREBASE_CREDENTIALS:
        raise RuntimeError("PUSH_BACKEND=fcm needs FIREBASE_CREDENTIALS (path to the service-account JSON).")
    return FcmBackend(
        credentials_path=settings.FIREBASE_CREDENTIALS,
        endpoint_override=settings.FCM_ENDPOINT_OVERRIDE,
        pool_size=settings.PUSH_SENDER_POOL_SIZE,
        mode=settings.PUSH_FCM_SEND_MODE,
    )


_BACKENDS: dict[str, Callable[[], PushBackend]] = {"log": LogBackend, "fcm": _fcm}
