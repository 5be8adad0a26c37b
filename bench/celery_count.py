"""The project's Celery app, plus a count of every task a worker runs (C1: tasks per broadcast).

    celery -A bench.celery_count worker ...   with BENCH_TASK_COUNTER=<redis key>

Each task that starts increments the Redis key `BENCH_TASK_COUNTER` (and a per-task-name
hash `<key>:names`), so the benchmark reads how many tasks one broadcast cost.
"""

from __future__ import annotations

import os

from celery.signals import task_prerun

from server.celery import app

__all__ = ["app"]

_client = None


@task_prerun.connect
def _count(sender=None, task=None, **_kwargs) -> None:
    global _client
    key = os.environ.get("BENCH_TASK_COUNTER")
    if not key:
        return
    if _client is None:
        import redis

        _client = redis.Redis.from_url(os.environ["REDIS_URL"])
    pipe = _client.pipeline()
    pipe.incr(key)
    pipe.hincrby(f"{key}:names", getattr(task, "name", str(sender)), 1)
    pipe.execute()
