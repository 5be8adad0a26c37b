"""Passwords: change mine, forget it (a code by e-mail), and a code handed over in person.

A forgotten password answers the same whatever the address (202, the same statements): the
request only counts the attempt and queues a task; the task looks the person up, writes the
code and sends it (issue #22: no account enumeration by answer or by timing).
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import signals
from accounts.audit import audit_record
from accounts.authentication import hash_token
from accounts.emails import canonical_email
from accounts.models import AuthToken, LoginCode, LoginCodePurpose, Membership, MembershipRole, OutgoingEmail, User
from accounts.services.auth import IssuedToken, login_attempt_record, login_attempts_clear, token_issue
from accounts.services.invitations import new_code, normalize_code
from accounts.services.mail import EmailKind, outgoing_email_queue
from server.api import throttling
from server.api.exceptions import NotAllowed, Throttled, ValidationFailed

CHANGE_LIMIT = 5  # wrong current passwords per person per window (a stolen phone's token)
RESET_WINDOW_SECONDS = 3600


def _validate_new_password(password: str, *, user: User, field: str = "new_password") -> None:
    try:
        password_validation.validate_password(password, user=user)
    except DjangoValidationError as error:
        raise ValidationFailed(error.messages[0], fields={field: error.messages})


def _revoke_tokens(*, user: User, keep: AuthToken | None = None) -> None:
    tokens = AuthToken.objects.filter(user=user)
    if keep is not None:
        tokens = tokens.exclude(pk=keep.pk)
    token_ids = list(tokens.values_list("pk", flat=True))
    if not token_ids:
        return
    AuthToken.objects.filter(pk__in=token_ids).delete()
    transaction.on_commit(lambda: signals.auth_tokens_revoked.send(sender=AuthToken, user_id=user.pk, token_ids=token_ids))


def password_change(
    *, user: User, token: AuthToken | None, current_password: str, new_password: str, sign_out_other_devices: bool = False
) -> None:
    """Other device sessions are kept unless `sign_out_other_devices`; this one always is."""
    wait = throttling.hit(f"password-change:{user.pk}", limit=CHANGE_LIMIT, window=settings.LOGIN_FAILURE_WINDOW_SECONDS)
    if wait is not None:
        raise Throttled(wait_seconds=wait)
    if not user.check_password(current_password):
        message = _("Your current password is wrong.")
        raise ValidationFailed(message, code="wrong_password", fields={"current_password": [message]})
    _validate_new_password(new_password, user=user)
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        user.set_password(new_password)
        user.save(update_fields=["password"])
        # Codes issued before the change must not undo it.
        LoginCode.objects.filter(user=user, used_at__isnull=True).update(used_at=timezone.now())
        if sign_out_other_devices:
            _revoke_tokens(user=user, keep=token)
    throttling.clear(f"password-change:{user.pk}", window=settings.LOGIN_FAILURE_WINDOW_SECONDS)


def _reset_address_key(email: str) -> str:
    return "password-reset:" + hashlib.sha256(canonical_email(email).encode()).hexdigest()


def password_reset_request(*, email: str) -> None:
    """Count the request against the address and queue the task; the same work for every address.

    The per-address limit counts whatever the address is, so a 429 tells nothing either.
    """
    from accounts import tasks  # the tasks module imports the services

    wait = throttling.hit(_reset_address_key(email), limit=settings.PASSWORD_RESET_ADDRESS_LIMIT, window=RESET_WINDOW_SECONDS)
    if wait is not None:
        raise Throttled(wait_seconds=wait)
    tasks.password_reset_issue_task.delay_on_commit(canonical_email(email))


def _issue(*, user: User, purpose: str, ttl, issued_by: User | None = None) -> tuple[LoginCode, str]:
    # One live code per person and purpose: a new one ends the old.
    LoginCode.objects.filter(user=user, purpose=purpose, used_at__isnull=True).update(used_at=timezone.now())
    code = new_code()
    login_code = LoginCode.objects.create(
        user=user, purpose=purpose, code_hash=hash_token(code), issued_by=issued_by, expires_at=timezone.now() + ttl
    )
    return login_code, code


@transaction.atomic
def password_reset_issue(*, email: str) -> bool:
    """In the task: a reset code for the active person with this address, e-mailed; False for nobody."""
    canonical = canonical_email(email)
    user = User.objects.filter(email=canonical, is_active=True).select_related("organization").first() if canonical else None
    if user is None or user.organization_id is None:
        return False
    login_code, code = _issue(user=user, purpose=LoginCodePurpose.RESET, ttl=settings.PASSWORD_RESET_TTL)
    outgoing_email_queue(
        emails=[OutgoingEmail(organization_id=user.organization_id, kind=EmailKind.PASSWORD_RESET, to=user.email, login_code=login_code)],
        codes=[code],
    )
    return True


def password_reset_confirm(*, email: str = "", code: str, new_password: str, device_name: str = "") -> tuple[User, IssuedToken]:
    """Set a new password with a code (e-mailed, or handed over in person); signs out every other device.

    Each try counts against the address's login lockout: guessing codes is guessing passwords.
    """
    invalid = ValidationFailed(
        _("This code is not valid or has expired."), code="invalid_code", fields={"code": [_("Invalid or expired code.")]}
    )
    if email:
        login_attempt_record(email=email)
    with transaction.atomic():
        login_code = (
            LoginCode.objects.select_for_update(of=("self",))
            .select_related("user__organization")
            .filter(code_hash=hash_token(normalize_code(code)))
            .first()
        )
        now = timezone.now()
        if login_code is None or login_code.used_at is not None or login_code.expires_at <= now or not login_code.user.is_active:
            raise invalid
        user = login_code.user
        # An e-mailed code goes with its address; a handed-over code may come without one.
        if (email or login_code.purpose == LoginCodePurpose.RESET) and canonical_email(email) != user.email:
            raise invalid
        _validate_new_password(new_password, user=user)
        user.set_password(new_password)
        user.save(update_fields=["password"])
        login_code.used_at = now
        login_code.save(update_fields=["used_at"])
        _revoke_tokens(user=user)
        issued = token_issue(user=user, device_name=device_name)
    if email:
        login_attempts_clear(email=email)
    return user, issued


def _manages(actor: User, user: User) -> bool:
    return Membership.objects.filter(
        user=actor, role=MembershipRole.MANAGER, group__organization_id=actor.organization_id, group__memberships__user=user
    ).exists()


@transaction.atomic
def login_code_issue(*, actor: User, user: User) -> tuple[str, datetime]:
    """A code to hand over in person (staff without e-mail, or a forgotten password): valid 14
    days, single use, shown once to the admin or to a manager of one of the person's groups."""
    if user.organization_id != actor.organization_id or not user.is_active:
        raise NotAllowed()
    if not (actor.is_org_admin or _manages(actor, user)):
        raise NotAllowed()
    if user.pk == actor.pk:
        raise ValidationFailed(_("Change your own password instead."), code="not_on_self")
    login_code, code = _issue(user=user, purpose=LoginCodePurpose.HANDOVER, ttl=settings.LOGIN_CODE_TTL, issued_by=actor)
    audit_record(actor=actor, action="user.login_code_issued", target_type="user", target_id=user.pk, organization_id=user.organization_id)
    return code, login_code.expires_at
