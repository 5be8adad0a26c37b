from __future__ import annotations

import functools
import logging

from celery import shared_task
from celery.contrib.django.task import DjangoTask
from django.db import transaction

logger = logging.getLogger(__name__)


def _publish(task: DjangoTask, args: tuple) -> None:
    try:
        task.delay(*args)
    except Exception:
        # The job row is committed as queued: the sweeper (erasure_jobs_resume_task) runs it.
        logger.exception("Could not enqueue %s%r; the sweeper will run it", task.name, args)


class AfterCommitTask(DjangoTask):
    def delay_on_commit(self, *args) -> None:
        transaction.on_commit(functools.partial(_publish, self, args))


@shared_task(base=AfterCommitTask, acks_late=True, time_limit=1800, soft_time_limit=1750, ignore_result=True)
def user_erasure_run_task(job_id: int) -> str:
    from moderation import erasure

    # A failing step is recorded on the job (last_error, attempts); the sweeper resumes it from that step.
    return erasure.erasure_run(job_id=job_id)


@shared_task(time_limit=300, soft_time_limit=280, ignore_result=True)
def erasure_jobs_resume_task() -> int:
    from moderation import erasure

    return erasure.erasure_jobs_resume()
