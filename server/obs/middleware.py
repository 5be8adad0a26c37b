"""One request id per request, and the HTTP metrics, around everything else.

First in MIDDLEWARE: the id is set before any other middleware can log, and the metric sees
every answer (the error envelopes and 429s of the middleware below it included).
"""

from __future__ import annotations

import time

from django.conf import settings
from django.db import connection

from server.obs import context, metrics

HEADER = "X-Request-ID"


def route_label(request) -> str:
    """The URL pattern that answered (`api/v1/posts/<int:post_id>`), never the raw path."""
    match = getattr(request, "resolver_match", None)
    if match is None or not match.route:
        return "unmatched"
    return "/" + match.route.lstrip("^").rstrip("$")


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.record = settings.METRICS_ENABLED

    def __call__(self, request):
        request_id = context.clean_request_id(request.headers.get(HEADER))
        request.request_id = request_id
        started = time.perf_counter()
        with context.scope(context.RequestContext(request_id=request_id)):
            response = self.get_response(request)
            response[HEADER] = request_id
        if self.record:
            route, method = route_label(request), request.method or "-"
            metrics.http_requests.labels(route=route, method=method, status=str(response.status_code)).inc()
            metrics.http_duration.labels(route=route, method=method).observe(time.perf_counter() - started)
            if settings.DATABASE_POOL_MAX_SIZE:
                _pool_observe()
        return response


def _pool_observe() -> None:
    pool = getattr(connection, "pool", None)
    if pool is None:
        return
    stats = pool.get_stats()
    size, available = stats.get("pool_size", 0), stats.get("pool_available", 0)
    metrics.db_pool.labels(state="in_use").set(size - available)
    metrics.db_pool.labels(state="idle").set(available)
    metrics.db_pool.labels(state="waiting").set(stats.get("requests_waiting", 0))
