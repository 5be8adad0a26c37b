"""One Redis connection pool per process for the cache (and so for the rate limits).

Django keeps a cache object per async context, and under ASGI every request is a new
context: with the stock pool class each request built a pool, opened a TCP connection
to Redis, and closed it again (request_cost.py showed a connect and a disconnect per
request). `RedisCacheClient` asks its pool class for a pool with `from_url`; this one
hands back the pool made earlier for the same address and options, so connections are
reused across requests. redis-py's pool is thread-safe and resets itself after a fork.
"""

from __future__ import annotations

import threading

import redis

_pools: dict[tuple, redis.ConnectionPool] = {}
_pools_lock = threading.Lock()


class ProcessConnectionPool(redis.ConnectionPool):
    @classmethod
    def from_url(cls, url: str, **options) -> redis.ConnectionPool:  # type: ignore[override]
        key = (url, tuple(sorted((name, repr(value)) for name, value in options.items())))
        pool = _pools.get(key)
        if pool is None:
            with _pools_lock:
                pool = _pools.get(key)
                if pool is None:
                    pool = _pools[key] = redis.ConnectionPool.from_url(url, **options)
        return pool


_clients: dict[int, redis.Redis] = {}


def write_client(backend) -> redis.Redis:
    """A redis-py client on the cache's write pool, built once per pool (Django builds one per call)."""
    pool = backend._cache._get_connection_pool(True)
    client = _clients.get(id(pool))
    if client is None or client.connection_pool is not pool:
        client = _clients[id(pool)] = redis.Redis(connection_pool=pool)
    return client
