"""The Celery worker's consumer: a task this worker does not know is handed on, not dropped (#25).

During a rolling deploy old and new workers read the same queues. Celery's own consumer
*rejects* (deletes) a message whose task name it has not registered, so a task the new
release adds, queued by a new web process, was lost whenever an old worker took it: the
rehearsal (`python -m tests.chaos.run rolling`) measured 62 of 225 dropped. This consumer
puts such a message back at the end of its queue after a pause (UNKNOWN_TASK_REQUEUE_PAUSE_SECONDS:
with prefetch 1 the worker takes no other message meanwhile, so it does not spin on one it
cannot run), for a worker that knows the task, for UNKNOWN_TASK_REQUEUE_SECONDS after this worker first saw it; then (a task nobody
registers: removed, misspelt) it is dropped with Celery's error, as before.

Set as `worker_consumer` (CELERY_WORKER_CONSUMER) in server/settings.py.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict

from celery.worker.consumer import Consumer
from django.conf import settings

logger = logging.getLogger(__name__)

# Task id -> monotonic time this process first handed it on (bounded: oldest forgotten first).
_first_seen: OrderedDict[str, float] = OrderedDict()
_REMEMBERED = 10_000


def hand_on_unknown(message, *, later, now: float | None = None) -> bool:
    """Put an unregistered task's message back on its queue (after `later`'s pause); False when it
    has been handed on for longer than UNKNOWN_TASK_REQUEUE_SECONDS and should be dropped."""
    now = time.monotonic() if now is None else now
    headers = message.headers or {}
    task_id, name = headers.get("id") or (message.payload or {}).get("id"), headers.get("task")
    first = _first_seen.setdefault(task_id, now)
    _first_seen.move_to_end(task_id)
    while len(_first_seen) > _REMEMBERED:
        _first_seen.popitem(last=False)
    if now - first > settings.UNKNOWN_TASK_REQUEUE_SECONDS:
        _first_seen.pop(task_id, None)
        return False
    logger.warning("Task %s[%s] is not registered here: handed back to the queue for a worker that knows it", name, task_id)
    # Back at the end of the queue (Redis transport: a rejected message is restored leftmost).
    later(settings.UNKNOWN_TASK_REQUEUE_PAUSE_SECONDS, message.reject, (True,))
    return True


class HandOnUnknownTaskConsumer(Consumer):
    def on_unknown_task(self, body, message, exc):
        if hand_on_unknown(message, later=self.timer.call_after):
            return
        super().on_unknown_task(body, message, exc)
