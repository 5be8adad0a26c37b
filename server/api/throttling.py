"""Rate limits. Counters live in the cache (Redis when REDIS_URL is set), so all
processes share them. Rates are settings (REST_FRAMEWORK.DEFAULT_THROTTLE_RATES).

Counting is one atomic `incr` on a fixed-window key (`<scope>:<ident>:<window>`):
parallel requests can never all read the same old count and slip through together,
which DRF's read-modify-write history list allows. A fixed window lets a client
spend at most twice the limit across a window boundary; that is the price of one
atomic counter instead of a lock.

The limits protect the service; they must never take it down. When the cache is
unreachable every limit **fails open** (the request is served, a warning logged)
and the cache is left alone for `THROTTLE_CACHE_RETRY_SECONDS`, so requests during
a Redis outage do not each pay a connect timeout (see docs/reliability.md).
"""

from __future__ import annotations

import logging
import math
import threading
import time

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from server.api.client_ip import client_ip
from server.cache import write_client
from server.obs import metrics

logger = logging.getLogger(__name__)

_breaker_lock = threading.Lock()
_cache_down_until = 0.0


def _cache_available() -> bool:
    return time.monotonic() >= _cache_down_until


def _cache_failed(error: Exception) -> None:
    global _cache_down_until
    with _breaker_lock:
        already_down = not _cache_available()
        _cache_down_until = time.monotonic() + settings.THROTTLE_CACHE_RETRY_SECONDS
    if not already_down:
        logger.warning("rate limits fail open (login limits count in the database): cache unreachable (%r)", error)


def reset_breaker() -> None:
    global _cache_down_until
    _cache_down_until = 0.0


def retry_after(seconds: float) -> int:
    """A Retry-After a client can act on: whole seconds, at least 1, never absurd."""
    return max(1, min(math.ceil(seconds), settings.THROTTLE_RETRY_AFTER_MAX_SECONDS))


def hit(key: str, *, limit: int, window: int, durable: bool = False) -> int | None:
    """Count one attempt against `limit` per `window` seconds.

    Returns None when allowed, else the seconds until the window ends. Fails open, except a
    `durable` limit (login: per account and per IP), which counts in the database while the cache
    is down, so an outage of Redis is not a window for password guessing.
    """
    now = time.time()
    window_index = int(now // window)
    count = None
    if _cache_available():
        bucket = f"throttle:{key}:{window_index}"
        try:
            count = _count(bucket, timeout=window + 1)
        except Exception as error:  # any cache failure must fail open
            _cache_failed(error)
    if count is None and durable:
        count = _count_in_database(key, window_index=window_index, window=window)
    if count is None or count <= limit:
        return None
    return retry_after((window_index + 1) * window - now)


def _count_in_database(key: str, *, window_index: int, window: int) -> int | None:
    """One atomic upsert (INSERT ... ON CONFLICT DO UPDATE ... RETURNING): parallel attempts are
    each counted once, as with the cache's INCR. Login counts outside any transaction (autocommit),
    so the 401 that follows does not roll the count back."""
    from datetime import timedelta

    from django.db import connection, transaction
    from django.utils import timezone

    from server.models import ThrottleCounter

    quote = connection.ops.quote_name
    table, key_column, window_column, count_column = (quote(name) for name in (ThrottleCounter._meta.db_table, "key", "window", "count"))
    sql = (
        f"INSERT INTO {table} ({key_column}, {window_column}, {count_column}, {quote('expires_at')}) "  # noqa: S608 (names, quoted)
        f"VALUES (%s, %s, 1, %s) ON CONFLICT ({key_column}, {window_column}) "
        f"DO UPDATE SET {count_column} = {table}.{count_column} + 1 RETURNING {count_column}"
    )
    expires_at = timezone.now() + timedelta(seconds=window + 1)
    try:
        # A savepoint inside a transaction (a failure here must not break the caller's).
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [key[:200], window_index, expires_at])
            return int(cursor.fetchone()[0])
    except Exception as error:  # the database too: nothing can count, fail open (and say so)
        logger.error("login rate limit fails open: neither cache nor database could count (%r)", error)
        return None


def _count(bucket: str, *, timeout: int) -> int:
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        # One round trip: SET NX (the window's first request creates the key with its
        # expiry) and INCR in one MULTI/EXEC, atomic like add() + incr() below but without
        # their three round trips. Same key and value format as the cache API.
        key = backend.make_and_validate_key(bucket)
        pipeline = write_client(backend).pipeline(transaction=True)
        pipeline.set(key, 0, ex=timeout, nx=True)
        pipeline.incr(key)
        return int(pipeline.execute()[1])
    # add() is a no-op when the key exists, incr() is atomic (a lock in locmem):
    # together they count every parallel request exactly once.
    backend.add(bucket, 0, timeout=timeout)
    try:
        return backend.incr(bucket)
    except ValueError:  # expired between add and incr: a new window has begun
        backend.add(bucket, 1, timeout=timeout)
        return 1


def clear(key: str, *, window: int, durable: bool = False) -> None:
    window_index = int(time.time() // window)
    if _cache_available():
        try:
            cache.delete(f"throttle:{key}:{window_index}")
            return
        except Exception as error:
            _cache_failed(error)
    if durable:  # the count of this outage's window is in the database
        from server.models import ThrottleCounter

        try:
            ThrottleCounter.objects.filter(key=key[:200], window=window_index).delete()
        except Exception as error:
            logger.error("could not clear a login rate-limit counter (%r)", error)


def prune_database_counters() -> int:
    from django.utils import timezone

    from server.models import ThrottleCounter

    deleted, _ = ThrottleCounter.objects.filter(expires_at__lt=timezone.now()).delete()
    return deleted


class ConfiguredRateThrottle(SimpleRateThrottle):
    """Reads its rate when used, not at import, so changed settings take effect."""

    # Counted in the database while the cache is down (login only), instead of failing open.
    durable = False

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view) -> bool:
        # DRF builds a throttle per request, so the rate read in __init__ is current.
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self._wait = hit(self.key, limit=self.num_requests, window=self.duration, durable=self.durable)
        if self._wait is not None:
            metrics.rate_limited.labels(limit=self.scope or type(self).__name__).inc()
        return self._wait is None

    def wait(self):
        return getattr(self, "_wait", None)

    def get_ident(self, request):
        # One rule for the client address everywhere (server/api/client_ip.py), not DRF's,
        # which believes X-Forwarded-For from any peer once NUM_PROXIES is set.
        return client_ip(request) or "unknown"


class UserRateThrottle(ConfiguredRateThrottle):
    """General per-user limit; anonymous requests are limited per IP."""

    scope = "user"

    def get_cache_key(self, request, view):
        if request.user and request.user.is_authenticated:
            ident = request.user.pk
        else:
            ident = self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


class IPRateThrottle(ConfiguredRateThrottle):
    """Per-IP limit for a public route; subclass with a scope."""

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class LoginIPThrottle(IPRateThrottle):
    scope = "login_ip"
    durable = True


class ActivateIPThrottle(IPRateThrottle):
    scope = "activate_ip"


class ScopedUserThrottle(UserRateThrottle):
    """Per-user limit for one kind of write; subclass with a scope (uploads, kudos...)."""


class UploadThrottle(ScopedUserThrottle):
    scope = "uploads"


class KudosThrottle(ScopedUserThrottle):
    scope = "kudos"


class NominationThrottle(ScopedUserThrottle):
    scope = "nominations"


class ReportThrottle(ScopedUserThrottle):
    scope = "reports"
