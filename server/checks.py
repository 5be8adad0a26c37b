"""System checks for what would lose or duplicate work in production.

- The Redis that carries Celery's queues must not evict keys: under memory pressure
  an `allkeys-*`/`volatile-*` policy silently drops queued tasks (and the
  unacknowledged-task bookkeeping, which turns into duplicate deliveries). Checked at
  start-up (every manage.py command, the workers, the ASGI server's first check) with
  a warning, never an error: a read-only replica or a managed Redis that refuses
  CONFIG GET must not stop the service.
- No task may wait (countdown/ETA, retry backoff) or run (time limit) as long as the
  broker's visibility timeout: Redis would hand the still-reserved task to a second
  worker, and the work would happen twice.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

from django.conf import settings
from django.core import checks

REDIS_DEFAULT_VISIBILITY_TIMEOUT = 3600
# Celery's own defaults when a task sets retry_backoff without retry_backoff_max.
CELERY_DEFAULT_RETRY_BACKOFF_MAX = 600
CELERY_DEFAULT_RETRY_DELAY = 180


def _is_redis_broker(url: str) -> bool:
    return url.startswith(("redis://", "rediss://", "unix://"))


@checks.register(checks.Tags.compatibility, deploy=False)
def broker_eviction_policy(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    url = settings.CELERY_BROKER_URL
    if settings.CELERY_TASK_ALWAYS_EAGER or not _is_redis_broker(url):
        return []
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        policy = client.config_get("maxmemory-policy").get("maxmemory-policy")
    except redis.RedisError as error:
        return [
            checks.Warning(
                f"Could not read maxmemory-policy of the Celery broker ({error}).",
                hint="Make sure the broker Redis runs with maxmemory-policy noeviction (docs/reliability.md).",
                id="server.W002",
            )
        ]
    if policy != "noeviction":
        return [
            checks.Warning(
                f"The Redis used as Celery broker has maxmemory-policy {policy!r}: queued tasks can be evicted.",
                hint="Set maxmemory-policy noeviction on the broker Redis (docs/reliability.md, docker-compose.yml).",
                id="server.W001",
            )
        ]
    return []


def visibility_timeout() -> float:
    return float(settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout", REDIS_DEFAULT_VISIBILITY_TIMEOUT))


def task_delays() -> dict[str, float]:
    """Every way a task can be held back or kept running, in seconds, by where it comes from."""
    from django.apps import apps as django_apps

    from notifications import push
    from server.celery import app

    # Not app.loader.import_default_modules(): Celery's Django fix-up runs the system
    # checks from there, which would call this check again.
    for config in django_apps.get_app_configs():
        if config.module is not None and importlib.util.find_spec(f"{config.name}.tasks") is not None:
            importlib.import_module(f"{config.name}.tasks")
    delays: dict[str, float] = {
        "notifications.push backoff cap": push.BACKOFF_CAP_SECONDS,
        "notifications.push Retry-After cap": push.RETRY_AFTER_CAP_SECONDS,
        "CELERY_TASK_TIME_LIMIT": float(settings.CELERY_TASK_TIME_LIMIT),
    }
    for name, task in app.tasks.items():
        if name.startswith("celery."):
            continue
        if task.time_limit:
            delays[f"{name} time_limit"] = float(task.time_limit)
        if getattr(task, "autoretry_for", ()):
            if getattr(task, "retry_backoff", False):
                delays[f"{name} retry_backoff_max"] = float(getattr(task, "retry_backoff_max", CELERY_DEFAULT_RETRY_BACKOFF_MAX))
            else:
                delays[f"{name} default_retry_delay"] = float(task.default_retry_delay or CELERY_DEFAULT_RETRY_DELAY)
    return delays


@checks.register(checks.Tags.compatibility)
def countdowns_within_visibility_timeout(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    limit = visibility_timeout()
    too_long = {source: delay for source, delay in task_delays().items() if delay >= limit}
    return [
        checks.Error(
            f"{source} is {delay:.0f} s, not below the broker visibility timeout ({limit:.0f} s): "
            "the broker would hand the task to a second worker.",
            hint="Lower the delay or raise CELERY_BROKER_TRANSPORT_OPTIONS['visibility_timeout'].",
            id="server.E001",
        )
        for source, delay in sorted(too_long.items())
    ]


@checks.register(checks.Tags.database)
def pool_holds_every_http_thread(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Each HTTP worker thread (server/http.py) holds a connection while it runs a request: a
    smaller pool makes requests queue for a connection and fail after DATABASE_POOL_TIMEOUT."""
    return pool_warnings(settings.DATABASES["default"], settings.HTTP_THREADS)


def pool_warnings(database: dict, threads: int) -> list[checks.CheckMessage]:
    pool = database.get("OPTIONS", {}).get("pool")
    if not isinstance(pool, dict) or pool.get("max_size", 0) >= threads:
        return []
    return [
        checks.Warning(
            f"DATABASE_POOL_MAX_SIZE ({pool['max_size']}) is below HTTP_THREADS ({threads}): requests will wait for a database connection.",
            hint="Set DATABASE_POOL_MAX_SIZE to at least HTTP_THREADS (docs/operations.md).",
            id="server.W003",
        )
    ]


@checks.register(checks.Tags.security)
def forwarded_header_needs_trusted_proxies(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """NUM_PROXIES without TRUSTED_PROXIES: X-Forwarded-For is ignored (anyone can send it), so
    every client behind the load balancer shares the balancer's address in the rate limits."""
    if not settings.REST_FRAMEWORK.get("NUM_PROXIES") or settings.TRUSTED_PROXIES:
        return []
    return [
        checks.Warning(
            "NUM_PROXIES is set but TRUSTED_PROXIES is empty: X-Forwarded-For is ignored, every client has the proxy's address.",
            hint="Set TRUSTED_PROXIES to the load balancer's addresses or network (docs/operations.md).",
            id="server.W004",
        )
    ]
