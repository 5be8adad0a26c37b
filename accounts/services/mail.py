"""E-mail we send (invitations, reset codes): queued in the writer's transaction, sent by a task.

The request that invites 5,000 people only writes rows; after its commit one task per chunk
sends them (accounts.tasks). Each message has its own OutgoingEmail row with its status and
attempts: an SMTP failure is recorded on that message and retried by its own task with a
back-off, and the rest of the chunk goes on (issue #22, #25 item 6).
"""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from accounts.models import EmailStatus, LoginCode, OutgoingEmail

logger = logging.getLogger(__name__)

# Errors worth another attempt: the SMTP server or the network, not a message we built wrong.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (smtplib.SMTPException, OSError, TimeoutError)
MAX_ATTEMPTS = 5
SEND_CHUNK = 200


class EmailKind:
    INVITATION = "invitation"
    PASSWORD_RESET = "password_reset"  # noqa: S105  a kind of message, not a password


def outgoing_email_queue(*, emails: list[OutgoingEmail], codes: list[str]) -> list[OutgoingEmail]:
    """Write the rows and send them after the commit (one task per chunk of SEND_CHUNK).

    Called inside the writer's transaction: if it rolls back, no row and no message exist. The
    codes travel in the task's arguments only: at rest they exist as hashes.
    """
    from accounts import tasks  # the tasks module imports this one

    created = OutgoingEmail.objects.bulk_create(emails)
    pairs = [(email.pk, code) for email, code in zip(created, codes, strict=True)]
    for start in range(0, len(pairs), SEND_CHUNK):
        tasks.outgoing_emails_send_task.delay_on_commit(pairs[start : start + SEND_CHUNK])
    return created


def _render(email: OutgoingEmail, code: str) -> tuple[str, str]:
    organization = email.organization
    if email.kind == EmailKind.INVITATION:
        invitation = email.invitation
        return (
            _("You are invited to %(org)s") % {"org": organization.name},
            _("Hello %(name)s,\n\nOpen the app and activate your account with this code: %(code)s\nThe code expires on %(expires)s.")
            % {"name": invitation.name, "code": code, "expires": invitation.expires_at.date().isoformat()},
        )
    login_code: LoginCode = email.login_code
    return (
        _("Your password reset code for %(org)s") % {"org": organization.name},
        _(
            "Hello %(name)s,\n\nSomeone asked to reset the password of your account. Your code is %(code)s; it is valid for "
            "%(minutes)d minutes and works once.\nIf it was not you, ignore this message: your password stays as it is."
        )
        % {"name": login_code.user.name, "code": code, "minutes": settings.PASSWORD_RESET_TTL.total_seconds() // 60},
    )


def outgoing_email_send(*, email_id: int, code: str) -> str:
    """Send one queued message once; its status afterwards (`sent`, `failed`, `retry`, `gone`).

    Claimed with a guarded update (status queued → attempts + 1), so two workers holding the
    same message (a redelivered task) never both send it after one of them succeeded.
    """
    claimed = OutgoingEmail.objects.filter(pk=email_id, status=EmailStatus.QUEUED).update(attempts=F("attempts") + 1)
    if not claimed:
        return "gone"
    email = OutgoingEmail.objects.select_related("organization", "invitation", "login_code__user").filter(pk=email_id).first()
    if email is None:
        return "gone"
    language = email.login_code.user.effective_language if email.login_code_id else email.organization.default_language
    with override(language):
        subject, body = _render(email, code)
    try:
        # No database transaction is open here: a slow SMTP server holds no row lock.
        send_mail(subject=subject, message=body, from_email=settings.DEFAULT_FROM_EMAIL, recipient_list=[email.to])
    except TRANSIENT_ERRORS as error:
        final = email.attempts >= MAX_ATTEMPTS
        OutgoingEmail.objects.filter(pk=email_id).update(
            status=EmailStatus.FAILED if final else EmailStatus.QUEUED, last_error=repr(error)[:300]
        )
        logger.warning("e-mail %s attempt %s failed: %r", email_id, email.attempts, error)
        return "failed" if final else "retry"
    OutgoingEmail.objects.filter(pk=email_id).update(status=EmailStatus.SENT, sent_at=timezone.now(), last_error="")
    return "sent"


def retry_delay(attempt: int) -> timedelta:
    """Back-off before attempt `attempt + 1`: 30 s, 2 min, 8 min, 32 min."""
    return timedelta(seconds=30 * 4 ** max(0, attempt - 1))


def outgoing_email_attempts(*, email_id: int) -> int:
    return OutgoingEmail.objects.filter(pk=email_id).values_list("attempts", flat=True).first() or 0
