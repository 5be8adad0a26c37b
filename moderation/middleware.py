"""The client address of the request being served, for the audit entries it causes."""

from __future__ import annotations

import ipaddress
from contextvars import ContextVar
from typing import Any

from django.conf import settings

# None outside a request (Celery tasks, the beat scheduler, management commands).
_client_ip: ContextVar[str | None] = ContextVar("audit_client_ip", default=None)


def current_client_ip() -> str | None:
    return _client_ip.get()


def client_ip(request: Any) -> str | None:
    """The client's address as the rate limits see it: REMOTE_ADDR, or X-Forwarded-For behind NUM_PROXIES proxies."""
    num_proxies = settings.REST_FRAMEWORK.get("NUM_PROXIES") or 0
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    address = request.META.get("REMOTE_ADDR")
    if num_proxies and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            address = hops[-min(num_proxies, len(hops))]
    try:
        return str(ipaddress.ip_address(address)) if address else None
    except ValueError:
        return None


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
