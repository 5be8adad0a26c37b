"""Bearer tokens for phones: one opaque token per device session, stored hashed."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication

from accounts.models import AuthToken, User

_CACHE_ATTR = "_bearer_auth_result"
_NO_CREDENTIALS = object()


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def new_raw_token() -> str:
    return secrets.token_urlsafe(32)


def authenticate_token(raw: str) -> tuple[User, AuthToken]:
    """The user and session for a raw token, or AuthenticationFailed (bad, expired, revoked, inactive)."""
    token = AuthToken.objects.select_related("user", "user__organization").filter(key_hash=hash_token(raw)).first()
    # One message for every failure: do not tell an attacker which part was wrong.
    if token is None or token.is_expired or not token.user.is_active:
        raise exceptions.AuthenticationFailed(_("Invalid or expired token."))
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > settings.AUTH_TOKEN_TOUCH_INTERVAL:
        AuthToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token.user, token


def _raw_from_header(request: HttpRequest) -> str | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if not header:
        return None
    scheme, _sep, raw = header.partition(" ")
    if scheme.lower() != "bearer" or not raw.strip() or " " in raw.strip():
        raise exceptions.AuthenticationFailed(_("Use the header Authorization: Bearer <token>."))
    return raw.strip()


def authenticate_request_once(request: HttpRequest) -> tuple[User, AuthToken] | None:
    """Authenticate a Django request at most once (middleware and DRF share the result)."""
    cached = getattr(request, _CACHE_ATTR, None)
    if cached is None:
        try:
            raw = _raw_from_header(request)
            cached = _NO_CREDENTIALS if raw is None else authenticate_token(raw)
        except exceptions.AuthenticationFailed as failure:
            cached = failure
        setattr(request, _CACHE_ATTR, cached)
    if cached is _NO_CREDENTIALS:
        return None
    if isinstance(cached, exceptions.AuthenticationFailed):
        if getattr(request, "_bearer_for_drf", False):
            raise cached
        return None
    return cached


class BearerTokenAuthentication(BaseAuthentication):
    def authenticate(self, request):
        django_request = request._request
        django_request._bearer_for_drf = True
        result = authenticate_request_once(django_request)
        if result is None:
            return None
        user, token = result
        # Accept-Language wins; without it the user's saved language picks messages.
        if "HTTP_ACCEPT_LANGUAGE" not in django_request.META:
            translation.activate(user.effective_language)
            django_request.LANGUAGE_CODE = user.effective_language
        return user, token

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'
