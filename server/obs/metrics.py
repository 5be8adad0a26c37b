"""Prometheus metrics (prometheus-client), safe across processes.

Every uvicorn worker and Celery worker counts into its own files under
`PROMETHEUS_MULTIPROC_DIR` when that is set (docker-compose sets it; empty the directory when
the deployment starts); `/metrics` then sums all processes (`MultiProcessCollector`). Without
it (`make run`, tests) the process's own registry is served.

Labels stay bounded: route templates (`/api/v1/posts/<int:post_id>`), never raw paths, user
or organisation ids; error classes are a fixed set. What is read at scrape time (outbox
backlog, queue depths) comes from `collect_backlog()` through a custom collector, so no
process has to keep it up to date.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))

# Latency buckets in seconds: most API calls take 2-50 ms; pushes and deliveries up to seconds.
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
STEP_BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0, 120.0)

http_requests = Counter(
    "app_http_requests_total", "HTTP requests answered, by route template, method and status.", ["route", "method", "status"]
)
http_duration = Histogram(
    "app_http_request_duration_seconds",
    "Server time of HTTP requests, by route template and method.",
    ["route", "method"],
    buckets=HTTP_BUCKETS,
)
ws_open = Gauge("app_websocket_connections", "WebSocket connections open.", multiprocess_mode="livesum")
ws_connects = Counter("app_websocket_connects_total", "WebSocket connections accepted.")
ws_closes = Counter("app_websocket_closes_total", "WebSocket connections closed, by close code.", ["code"])
ws_frames = Counter("app_websocket_frames_sent_total", "Event frames written to sockets.")
ws_dropped = Counter("app_websocket_frames_dropped_total", "Frames not written because the socket was too slow (closed with 1013).")
delivery_step = Histogram(
    "app_delivery_step_seconds",
    "Time of one outbox delivery step (inbox, realtime, push_plan, push_batch).",
    ["step"],
    buckets=STEP_BUCKETS,
)
push_results = Counter("app_push_messages_total", "Push messages by outcome (sent, dead, retry, failed).", ["outcome"])
push_tokens_invalidated = Counter("app_push_tokens_invalidated_total", "Device tokens deleted because FCM called them dead.")
rate_limited = Counter("app_rate_limited_total", "Requests refused by a rate limit, by limit (throttle scope).", ["limit"])
db_pool = Gauge(
    "app_db_pool_connections",
    "Database pool connections by state (in_use, idle, waiting) in web processes.",
    ["state"],
    multiprocess_mode="livesum",
)

# Which close codes get their own label value; anything else is "other" (bounded cardinality).
KNOWN_CLOSE_CODES = frozenset({1000, 1001, 1006, 1008, 1011, 1012, 1013, 4001, 4003, 4008, 4029})


def close_code_label(code: int | None) -> str:
    if code is None:
        return "none"
    return str(code) if code in KNOWN_CLOSE_CODES else "other"


class timed:
    """`with timed(delivery_step, step="inbox"):` observes the block's wall time."""

    def __init__(self, histogram: Histogram, **labels: str) -> None:
        self.metric = histogram.labels(**labels) if labels else histogram

    def __enter__(self) -> None:
        self.started = time.perf_counter()

    def __exit__(self, *exc) -> None:
        self.metric.observe(time.perf_counter() - self.started)


class BacklogCollector:
    """Gauges read at scrape time: outbox rows pending, age of the oldest, Celery queue depths."""

    def __init__(self, read: callable) -> None:
        self.read = read

    def collect(self) -> Iterable[GaugeMetricFamily]:
        backlog = self.read()
        pending = GaugeMetricFamily("app_outbox_pending_events", "Outbox events not yet delivered.")
        pending.add_metric([], backlog.get("outbox_pending", 0))
        yield pending
        oldest = GaugeMetricFamily("app_outbox_oldest_age_seconds", "Age of the oldest undelivered outbox event (0: none).")
        oldest.add_metric([], backlog.get("outbox_oldest_age_seconds", 0.0))
        yield oldest
        queues = GaugeMetricFamily("app_celery_queue_depth", "Tasks waiting in a Celery queue.", labels=["queue"])
        for queue, depth in sorted(backlog.get("queues", {}).items()):
            queues.add_metric([queue], depth)
        yield queues


def render(read_backlog: callable) -> bytes:
    """The text exposition of every process's metrics plus the scrape-time gauges."""
    backlog = CollectorRegistry()
    backlog.register(BacklogCollector(read_backlog))
    if MULTIPROCESS:
        processes = CollectorRegistry()
        MultiProcessCollector(processes)
    else:
        from prometheus_client import REGISTRY as processes
    return generate_latest(processes) + generate_latest(backlog)


class FrameTally:
    """Frames counted with plain integer adds on the WebSocket hot path (one broadcast writes
    to thousands of sockets) and added to the counters once per broadcast by `frames_flush`."""

    sent = 0
    dropped = 0


def frames_flush() -> None:
    sent, dropped = FrameTally.sent, FrameTally.dropped
    FrameTally.sent = FrameTally.dropped = 0
    if sent:
        ws_frames.inc(sent)
    if dropped:
        ws_dropped.inc(dropped)
