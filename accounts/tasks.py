from __future__ import annotations

import functools
import logging

from celery import shared_task
from celery.contrib.django.task import DjangoTask
from django.db import transaction

from accounts import services
from accounts.services import mail

logger = logging.getLogger(__name__)


def _publish(task: DjangoTask, args: tuple, kwargs: dict) -> None:
    try:
        task.delay(*args, **kwargs)
    except Exception:
        # The rows are committed and stay `queued`: a broker outage must not fail the request
        # that wrote them; `resend` (or the operator, docs/operations.md) sends them again.
        logger.exception("Could not enqueue %s", task.name)


class AfterCommitTask(DjangoTask):
    """`delay_on_commit` that never breaks the committed request that called it."""

    def delay_on_commit(self, *args, **kwargs) -> None:
        transaction.on_commit(functools.partial(_publish, self, args, kwargs))


@shared_task(name="accounts.tasks.auth_tokens_purge_task", time_limit=300)
def auth_tokens_purge_task() -> int:
    """Delete expired device sessions (their push devices go with them)."""
    return services.tokens_purge_expired()


@shared_task(base=AfterCommitTask, acks_late=True, time_limit=600, soft_time_limit=580, ignore_result=True)
def outgoing_emails_send_task(pairs: list[list]) -> dict[str, int]:
    """Send a chunk of queued messages; one that fails is retried alone and the rest go on."""
    outcome: dict[str, int] = {}
    for email_id, code in pairs:
        try:
            status = mail.outgoing_email_send(email_id=email_id, code=code)
        except Exception:  # a bug in one message must not cost the others theirs
            logger.exception("e-mail %s could not be sent", email_id)
            status = "error"
        if status == "retry":
            attempts = mail.outgoing_email_attempts(email_id=email_id)
            outgoing_email_retry_task.apply_async((email_id, code), countdown=mail.retry_delay(attempts).total_seconds())
        outcome[status] = outcome.get(status, 0) + 1
    return outcome


@shared_task(acks_late=True, time_limit=120, soft_time_limit=100, ignore_result=True)
def outgoing_email_retry_task(email_id: int, code: str) -> str:
    status = mail.outgoing_email_send(email_id=email_id, code=code)
    if status == "retry":
        attempts = mail.outgoing_email_attempts(email_id=email_id)
        outgoing_email_retry_task.apply_async((email_id, code), countdown=mail.retry_delay(attempts).total_seconds())
    return status


@shared_task(base=AfterCommitTask, acks_late=True, time_limit=60, soft_time_limit=50, ignore_result=True)
def password_reset_issue_task(email: str) -> bool:
    # Looking the address up here, not in the request, is what makes the request's answer and
    # timing the same for every address (accounts.services.passwords).
    from accounts.services import passwords

    return passwords.password_reset_issue(email=email)
