"""The beat schedule inside the web process, for the embedded default.

With `REDIS_URL` a `celery beat` process sends the periodic jobs of `CELERY_BEAT_SCHEDULE`
(scheduled posts, acknowledgement reminders, award rounds, the outbox sweeper...) to the
workers. The embedded default has neither beat nor workers: tasks run eagerly in the web
process. There the ASGI server's `lifespan` (server/asgi.py) starts Celery's own beat service
on a thread of the web process, and the due jobs run on that thread, eagerly, as a request's
tasks do. `EMBEDDED_SCHEDULER` decides (default: on without `REDIS_URL`, off with it).

One scheduler per deployment: the processes of one deployment on one machine (uvicorn
workers, a second `make run` against the same database) take a file lock named after the
database, and only its holder schedules. A process that dies releases it with its file
descriptors; its restarted successor takes it again.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

from asgiref.sync import sync_to_async
from celery import beat
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import close_old_connections, connections

try:
    import fcntl
except ImportError:  # pragma: no cover - not Linux or macOS: one process, no lock to take
    fcntl = None  # type: ignore[assignment]

logger = logging.getLogger(__name__)

# How long the beat loop sleeps at most between looks at the schedule; also the longest a
# shutdown waits for it (a job that is running is finished first).
DEFAULT_MAX_INTERVAL = 1.0


class EmbeddedScheduler(beat.Scheduler):
    """Celery's in-memory scheduler over the given schedule, every job due at start.

    Due at start: the jobs are idempotent, and a restart (every code change under `--reload`)
    must not put an hourly job, such as closing last month's award rounds, off by another hour.
    """

    def __init__(self, *args: Any, beat_schedule: dict[str, dict], **kwargs: Any) -> None:
        self.beat_schedule = beat_schedule
        super().__init__(*args, **kwargs)

    def setup_schedule(self) -> None:
        # Only our jobs: no `celery.backend_cleanup` entry, results are not stored.
        self.merge_inplace(self.beat_schedule)
        for entry in self.schedule.values():
            run_every = getattr(entry.schedule, "run_every", None)
            if isinstance(run_every, timedelta):
                entry.last_run_at = entry.default_now() - run_every

    def apply_entry(self, entry: beat.ScheduleEntry, producer: Any = None) -> None:
        # This thread is a long-lived "request": connections are checked out and closed around
        # each job as Django does around a request (CONN_MAX_AGE, a broken connection, the pool).
        close_old_connections()
        try:
            super().apply_entry(entry, producer=producer)
        finally:
            close_old_connections()


class EmbeddedBeat:
    """Celery's beat service (celery.beat.Service) over EmbeddedScheduler, run on the caller's thread."""

    def __init__(self, *, schedule: dict[str, dict], max_interval: float) -> None:
        from server.celery import app

        # What a worker does at start: import every app's tasks module. Eager jobs run from the
        # task registry; an unknown name would go to the in-memory broker and be lost unseen.
        app.loader.import_default_modules()
        if app.conf.task_always_eager:
            unknown = sorted({entry["task"] for entry in schedule.values()} - set(app.tasks))
            if unknown:
                raise ImproperlyConfigured(f"CELERY_BEAT_SCHEDULE names unknown tasks: {', '.join(unknown)}")
        self.service = beat.Service(
            app, max_interval=max_interval, scheduler_cls=functools.partial(EmbeddedScheduler, beat_schedule=schedule)
        )

    def run(self) -> None:
        try:
            self.service.start()
        finally:
            connections.close_all()

    def stop(self) -> None:
        self.service.stop()


def default_lock_path() -> Path:
    """The lock file of this deployment: one per database, in the temporary directory."""
    database = settings.DATABASES["default"]
    identity = "|".join(str(database.get(key) or "") for key in ("ENGINE", "HOST", "PORT", "NAME"))
    return Path(tempfile.gettempdir()) / f"frontline-scheduler-{hashlib.sha256(identity.encode()).hexdigest()[:16]}.lock"


def _take_lock(path: Path) -> int | None:
    """An open descriptor holding the exclusive lock on `path`, or None when another process holds it."""
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    if fcntl is None:  # pragma: no cover
        return descriptor
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        return None
    return descriptor


class Lifespan:
    """The ASGI `lifespan` application: the embedded scheduler starts and stops with the server.

    `schedule`, `max_interval` and `lock_path` default to the settings; tests give a short tick.
    """

    def __init__(
        self, *, schedule: dict[str, dict] | None = None, max_interval: float | None = None, lock_path: Path | None = None
    ) -> None:
        self.schedule = schedule
        self.max_interval = max_interval
        self.lock_path = lock_path
        self.beat: EmbeddedBeat | None = None
        self._running: asyncio.Future | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._lock: int | None = None

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    self.startup()
                except Exception as error:
                    logger.exception("The embedded scheduler did not start")
                    await send({"type": "lifespan.startup.failed", "message": str(error)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    @property
    def running(self) -> bool:
        return self._running is not None and not self._running.done()

    def startup(self) -> None:
        if not settings.EMBEDDED_SCHEDULER:
            return
        self._lock = _take_lock(self.lock_path or default_lock_path())
        if self._lock is None:
            logger.info("Embedded scheduler: another process of this deployment runs it.")
            return
        schedule = settings.CELERY_BEAT_SCHEDULE if self.schedule is None else self.schedule
        self.beat = EmbeddedBeat(schedule=schedule, max_interval=self.max_interval or DEFAULT_MAX_INTERVAL)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embedded-scheduler")
        # asgiref's thread entry, as for requests (server/http.py): async_to_sync inside a job
        # (Channels' group_send to the in-memory layer) runs on the server's event loop.
        self._running = asyncio.ensure_future(sync_to_async(self.beat.run, thread_sensitive=False, executor=self._executor)())
        logger.info("Embedded scheduler: %d periodic jobs run in this process (EMBEDDED_SCHEDULER).", len(schedule))

    async def shutdown(self) -> None:
        if self.beat is not None and self._running is not None:
            self.beat.stop()
            try:
                await self._running
            finally:
                self._executor.shutdown()
                self.beat, self._running, self._executor = None, None, None
        if self._lock is not None:
            os.close(self._lock)  # releases the lock
            self._lock = None
