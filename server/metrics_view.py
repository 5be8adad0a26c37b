"""`GET /metrics`: the Prometheus exposition (server/obs/metrics.py), for the operator's scraper.

Answered only with `Authorization: Bearer <METRICS_TOKEN>`, or to anyone with DEBUG on and no
token set (`make run`); otherwise 404, so the endpoint is invisible on a public deployment
that has not configured it. docs/operations.md "Observability".
"""

from __future__ import annotations

import hmac
import logging
from datetime import datetime

from django.conf import settings
from django.http import Http404, HttpResponse
from django.utils import timezone
from prometheus_client import CONTENT_TYPE_LATEST

from notifications.models import OutboxEvent
from server.obs import metrics

logger = logging.getLogger(__name__)


def _authorized(request) -> bool:
    token = settings.METRICS_TOKEN
    if not token:
        return settings.DEBUG
    given = request.headers.get("Authorization", "")
    return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


def read_backlog() -> dict:
    backlog: dict = {"queues": {}}
    try:
        pending = OutboxEvent.objects.filter(delivered_at__isnull=True)
        backlog["outbox_pending"] = pending.count()
        oldest: datetime | None = pending.order_by("created_at").values_list("created_at", flat=True).first()
        backlog["outbox_oldest_age_seconds"] = (timezone.now() - oldest).total_seconds() if oldest else 0.0
    except Exception:
        logger.warning("Could not read the outbox backlog for /metrics", exc_info=True)
    broker = settings.CELERY_BROKER_URL
    if broker.startswith(("redis://", "rediss://")):
        try:
            import redis

            client = redis.Redis.from_url(broker, socket_connect_timeout=1, socket_timeout=1)
            for queue in sorted({"celery", settings.PUSH_QUEUE}):
                backlog["queues"][queue] = client.llen(queue)
        except Exception:
            logger.warning("Could not read the Celery queue depths for /metrics", exc_info=True)
    return backlog


def metrics_view(request):
    if not _authorized(request):
        raise Http404
    return HttpResponse(metrics.render(read_backlog), content_type=CONTENT_TYPE_LATEST)
