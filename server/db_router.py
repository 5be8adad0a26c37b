"""Read replicas for the heavy reads, with read-your-writes (issue #26, docs/scaling.md).

Off unless `DATABASE_REPLICA_URLS` names at least one replica: then `settings.DATABASE_REPLICAS`
lists their aliases and this router sends a read to a replica only when all of these hold:

- it happens inside a request that `ReplicaReadMiddleware` marked: GET or HEAD on one of
  `DATABASE_REPLICA_PATHS` (the feed, search, the console; not the catch-up after a reconnect,
  whose "nothing lost" promise must not depend on a replica's lag);
- the person is known (authentication itself reads the primary: a token made a moment ago on the
  primary must work at once) and has not written anything in the last `READ_YOUR_WRITES_SECONDS`
  (every unsafe request of theirs sets a key in the cache for that long);
- the primary connection is not inside a transaction (`atomic`, `select_for_update`).

Everything else reads the primary, and every write, migration and test goes to it. A person's reads
go to one replica (chosen by their id), so their reads do not go back in time between replicas.
Celery tasks, management commands and WebSocket consumers run outside a marked request: primary.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connections

logger = logging.getLogger(__name__)

PRIMARY = "default"
SAFE_METHODS = frozenset({"GET", "HEAD"})


def recent_write_key(user_id: int) -> str:
    return f"db:wrote:{user_id}"


@dataclass
class _ReadState:
    request: Any
    # None until decided: the replica alias for this request's reads, or PRIMARY.
    alias: str | None = None
    deciding: bool = False


_state: ContextVar[_ReadState | None] = ContextVar("replica_read_state", default=None)


def _eligible(request: Any) -> bool:
    """GET or HEAD on a replica path: an entry ending in "/" is a prefix, any other the path itself."""
    if request.method not in SAFE_METHODS:
        return False
    path = request.path
    return any(path.startswith(entry) if entry.endswith("/") else path == entry for entry in settings.DATABASE_REPLICA_PATHS)


def _decide(state: _ReadState) -> str | None:
    """The alias for this request's reads, or None while it cannot be known yet (no user yet)."""
    user = getattr(state.request, "user", None)  # DRF sets it on the Django request when it authenticates
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    try:
        wrote_recently = cache.get(recent_write_key(user.pk)) is not None
    except Exception:  # cache down: the primary is always right
        logger.warning("read-your-writes check failed; reading the primary", exc_info=True)
        return PRIMARY
    if wrote_recently:
        return PRIMARY
    replicas = settings.DATABASE_REPLICAS
    return replicas[user.pk % len(replicas)]


class ReplicaRouter:
    """DATABASE_ROUTERS entry; answers None (Django's default: the primary) whenever no replica is set."""

    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        if not settings.DATABASE_REPLICAS:
            return None
        state = _state.get()
        if state is None or state.deciding or connections[PRIMARY].in_atomic_block:
            return None
        if state.alias is None:
            # Reading request.user may itself read (a session's user): those reads take the primary.
            state.deciding = True
            try:
                state.alias = _decide(state)
            finally:
                state.deciding = False
        return None if state.alias in (None, PRIMARY) else state.alias

    def db_for_write(self, model: Any, **hints: Any) -> str | None:
        return PRIMARY if settings.DATABASE_REPLICAS else None

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        # Rows read from a replica are the primary's rows: they may be related and saved.
        return True if settings.DATABASE_REPLICAS else None

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool | None:
        return False if db in settings.DATABASE_REPLICAS else None


class ReplicaReadMiddleware:
    """Marks the heavy reads that may go to a replica, and remembers who just wrote."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        if not settings.DATABASE_REPLICAS:
            return self.get_response(request)
        token = _state.set(_ReadState(request) if _eligible(request) else None)
        try:
            response = self.get_response(request)
        finally:
            _state.reset(token)
        if request.method not in SAFE_METHODS:
            user = getattr(request, "user", None)
            if user is not None and getattr(user, "is_authenticated", False):
                try:
                    cache.set(recent_write_key(user.pk), 1, timeout=settings.READ_YOUR_WRITES_SECONDS)
                except Exception:
                    logger.warning("could not record a write for read-your-writes", exc_info=True)
        return response
