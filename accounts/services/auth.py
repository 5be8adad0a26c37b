"""Signing in and out: device tokens, login with its per-account lockout, logout, expiry."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import signals
from accounts.authentication import hash_token, new_raw_token
from accounts.emails import canonical_email
from accounts.models import AuthToken, User
from server.api import throttling
from server.api.exceptions import Throttled, ValidationFailed


@dataclass(frozen=True)
class IssuedToken:
    raw: str
    token: AuthToken


def token_issue(*, user: User, device_name: str = "") -> IssuedToken:
    raw = new_raw_token()
    token = AuthToken.objects.create(
        user=user,
        key_hash=hash_token(raw),
        device_name=device_name[:100],
        expires_at=timezone.now() + settings.AUTH_TOKEN_TTL,
    )
    return IssuedToken(raw=raw, token=token)


def _login_account_key(email: str) -> str:
    # The canonical form (issue #25): every spelling that reaches an account counts against that
    # account's lockout, and a spelling that reaches no account locks out nobody real.
    return "login-account:" + hashlib.sha256(canonical_email(email).encode()).hexdigest()


def employee_login_name(*, organization_slug: str, employee_number: str) -> str:
    """What the lockout counts for a login by employee number (never a valid e-mail address)."""
    return f"#{organization_slug.strip().lower()}/{employee_number.strip()}"


def login_attempt_record(*, email: str) -> None:
    """Count one login attempt on the account; Throttled past the limit (the API and the admin site).

    Every attempt is counted per account in the shared cache *before* the password
    is checked, with one atomic increment: parallel guesses cannot all pass a check
    made before any of them was recorded. Past the limit the account answers 429
    until the window ends, right password or not; a successful login resets it.
    """
    # durable: counted in the database while Redis is down (issue #25), not failing open.
    wait = throttling.hit(
        _login_account_key(email), limit=settings.LOGIN_FAILURE_LIMIT, window=settings.LOGIN_FAILURE_WINDOW_SECONDS, durable=True
    )
    if wait is not None:
        raise Throttled(wait_seconds=wait, message=_("Too many failed logins. Try again later."))


def login_attempts_clear(*, email: str) -> None:
    throttling.clear(_login_account_key(email), window=settings.LOGIN_FAILURE_WINDOW_SECONDS, durable=True)


def login(*, email: str = "", password: str, device_name: str = "", employee_number: str = "", organization_slug: str = "") -> IssuedToken:
    """A new device session, or one error for every kind of wrong credentials (login_attempt_record).

    By e-mail address, or by employee number within the organisation named by its slug (staff
    without e-mail, issue #22); both count against the same kind of per-account lockout.
    """
    people = User.objects.select_related("organization")
    if employee_number:
        email = employee_login_name(organization_slug=organization_slug, employee_number=employee_number)
        login_attempt_record(email=email)
        user = people.filter(organization__slug=organization_slug.strip().lower(), employee_number=employee_number.strip()).first()
    else:
        login_attempt_record(email=email)
        # Exact match on the canonical form: `admın@` is nobody, `ſam@` is sam@ (issue #25).
        canonical = canonical_email(email)
        user = people.filter(email=canonical).first() if canonical else None
    if user is None:
        # Hash anyway: an unknown e-mail must cost as much time as a known one.
        User().set_password(password)
        valid = False
    else:
        valid = user.check_password(password)
    if user is None or not valid or not user.is_active:
        raise NotAuthenticated()
    login_attempts_clear(email=email)
    return token_issue(user=user, device_name=device_name)


class NotAuthenticated(ValidationFailed):
    status_code = 401
    default_code = "invalid_credentials"
    default_message = gettext_lazy("E-mail address or password is wrong.")

    def __init__(self) -> None:
        super().__init__(_("E-mail address or password is wrong."))


def logout(*, token: AuthToken) -> None:
    user_id, token_id = token.user_id, token.pk
    with transaction.atomic():
        AuthToken.objects.filter(pk=token_id).delete()
        transaction.on_commit(lambda: signals.auth_tokens_revoked.send(sender=AuthToken, user_id=user_id, token_ids=[token_id]))


def tokens_purge_expired(*, now: datetime | None = None) -> int:
    now = now or timezone.now()
    expired = list(AuthToken.objects.filter(expires_at__lte=now).values_list("pk", "user_id")[:10_000])
    if not expired:
        return 0
    AuthToken.objects.filter(pk__in=[pk for pk, _ in expired]).delete()
    by_user: dict[int, list[int]] = {}
    for pk, user_id in expired:
        by_user.setdefault(user_id, []).append(pk)
    for user_id, token_ids in by_user.items():
        signals.auth_tokens_revoked.send(sender=AuthToken, user_id=user_id, token_ids=token_ids)
    return len(expired)
