"""A worker hands a task it has not registered back to the queue instead of dropping it (#25).

Found by the rolling-deploy rehearsal (`python -m tests.chaos.run rolling`): old workers took
62 of 225 messages of a task the new release added and Celery's consumer deleted them
("Received unregistered task"). A real worker on Redis, as in production: an old worker
(the task unknown) must leave the message in the queue, and a new one (the task registered)
then runs it. Needs Redis (REDIS_URL).
"""

from __future__ import annotations

import logging
import os
import time
import uuid

import pytest
import redis
from celery import Celery
from celery.contrib.testing.worker import start_worker

from server import worker as worker_module

REDIS_URL = os.environ.get("REDIS_URL")
pytestmark = pytest.mark.skipif(not REDIS_URL, reason="SKIPPED: no REDIS_URL (a real worker on the Redis broker)")
NEW_TASK = "release.next.note_task"


def release_app(queue: str, *, consumer: str | None) -> Celery:
    app = Celery(f"release-{queue}", broker=REDIS_URL, set_as_current=False)
    app.conf.update(
        worker_hijack_root_logger=False,
        task_default_queue=queue,
        task_acks_late=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=False,
    )
    if consumer:
        app.conf.worker_consumer = consumer
    return app


def queued(queue: str) -> int:
    return redis.Redis.from_url(REDIS_URL).llen(queue)


def run_worker_for(app: Celery, seconds: float) -> None:
    # start_worker makes its app the current and default one and sets up logging: both are put
    # back, so later tests in this process still queue through the project's (eager) app.
    from server.celery import app as project_app

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            time.sleep(seconds)
    finally:
        root.handlers[:], root.level = handlers, level
        project_app.set_current()
        project_app.set_default()


@pytest.fixture
def queue(settings):
    settings.UNKNOWN_TASK_REQUEUE_PAUSE_SECONDS = 0.2
    name = f"unknown-{uuid.uuid4().hex[:8]}"
    yield name
    redis.Redis.from_url(REDIS_URL).delete(name)


def test_an_old_worker_leaves_a_new_task_for_a_new_worker(queue):
    old = release_app(queue, consumer="server.worker:HandOnUnknownTaskConsumer")
    old.send_task(NEW_TASK, args=[42], kwargs={"note": "noted"}, queue=queue)
    run_worker_for(old, 1.5)  # takes it several times, each time hands it back
    assert queued(queue) == 1

    new = release_app(queue, consumer="server.worker:HandOnUnknownTaskConsumer")
    ran: list = []

    @new.task(name=NEW_TASK)
    def note_task(post_id: int, note: str = "") -> None:
        ran.append((post_id, note))

    run_worker_for(new, 1.5)
    assert ran == [(42, "noted")]
    assert queued(queue) == 0


def test_celerys_own_consumer_drops_it(queue):
    # Why the consumer exists: the default deletes the message, so the work is lost.
    old = release_app(queue, consumer=None)
    old.send_task(NEW_TASK, args=[42], queue=queue)
    run_worker_for(old, 1.5)
    assert queued(queue) == 0


def test_the_production_worker_uses_the_handing_on_consumer():
    from server.celery import app

    assert app.conf.worker_consumer == "server.worker:HandOnUnknownTaskConsumer"


class Message:
    def __init__(self, task_id: str) -> None:
        self.headers, self.payload = {"id": task_id, "task": NEW_TASK}, {}

    def reject(self, requeue: bool = False) -> None:
        raise AssertionError("rejected at once, not after the pause")


def test_a_task_no_worker_registers_is_dropped_after_the_window(settings):
    settings.UNKNOWN_TASK_REQUEUE_SECONDS = 900
    scheduled: list = []
    message = Message(uuid.uuid4().hex)
    later = lambda seconds, fun, args: scheduled.append((seconds, fun, args))  # noqa: E731
    assert worker_module.hand_on_unknown(message, later=later, now=1000.0)
    assert worker_module.hand_on_unknown(message, later=later, now=1899.0)
    assert [(seconds, args) for seconds, _, args in scheduled] == [(settings.UNKNOWN_TASK_REQUEUE_PAUSE_SECONDS, (True,))] * 2
    assert all(fun == message.reject for _, fun, _ in scheduled)  # requeue=True: back on the queue
    # A removed or misspelt task is not handed around for ever: Celery's error and drop.
    assert not worker_module.hand_on_unknown(message, later=later, now=1901.0)
    assert len(scheduled) == 2
