"""The client address of the request being served, for the audit entries it causes."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from server.api.client_ip import client_ip

# None outside a request (Celery tasks, the beat scheduler, management commands).
_client_ip: ContextVar[str | None] = ContextVar("audit_client_ip", default=None)


def current_client_ip() -> str | None:
    return _client_ip.get()


class AuditClientIPMiddleware:
    """Makes the request's client address available to the audit receiver."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        token = _client_ip.set(client_ip(request))
        try:
            return self.get_response(request)
        finally:
            _client_ip.reset(token)
