"""Bearer tokens for phones: one opaque token per device session, stored hashed."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import router
from django.http import HttpRequest
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import trans_real
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication

from accounts.models import AuthToken, User
from server.db import CompiledModelQuery, Slot
from server.obs import context as obs_context

_CACHE_ATTR = "_bearer_auth_result"
_NO_CREDENTIALS = object()


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def new_raw_token() -> str:
    return secrets.token_urlsafe(32)


def _token_query(alias: str) -> CompiledModelQuery[AuthToken]:
    """`AuthToken.objects.select_related("user", "user__organization").filter(key_hash=…).first()`,
    compiled once per process and database: every API request runs it, and compiling it through
    the ORM cost more CPU than the rest of authentication together (request_cost.py). Always read
    from the database: a revoked token, a deactivated user or a changed role counts from the next
    request on."""
    query = _token_queries.get(alias)
    if query is None:
        queryset = AuthToken.objects.select_related("user", "user__organization").filter(
            key_hash=Slot("key_hash", AuthToken._meta.get_field("key_hash"))
        )
        query = _token_queries[alias] = CompiledModelQuery.of(queryset.order_by()[:1], alias)
    return query


_token_queries: dict[str, CompiledModelQuery[AuthToken]] = {}


def _token_by_hash(key_hash: str) -> AuthToken | None:
    tokens = _token_query(router.db_for_read(AuthToken)).fetch({"key_hash": key_hash})
    return tokens[0] if tokens else None


def authenticate_token(raw: str) -> tuple[User, AuthToken]:
    """The user and session for a raw token, or AuthenticationFailed (bad, expired, revoked, inactive)."""
    token = _token_by_hash(hash_token(raw))
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


def language_from_header(request: HttpRequest) -> str | None:
    """The supported language the Accept-Language header asks for, or None.

    None when the header is absent, empty, `*` or names only languages we do not offer
    (a phone set to French): then the user's saved language decides.
    """
    header = request.META.get("HTTP_ACCEPT_LANGUAGE", "")
    for code, _quality in trans_real.parse_accept_lang_header(header):
        if code == "*":
            break
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return None


def activate_user_language(request: HttpRequest, user: User) -> None:
    """Accept-Language wins when it names a language we offer; otherwise the user's saved one."""
    language = language_from_header(request) or user.effective_language
    translation.activate(language)
    request.LANGUAGE_CODE = translation.get_language()


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
        if isinstance(cached, tuple):
            # Before any message is built: the idempotency middleware's errors and the view's alike.
            activate_user_language(request, cached[0])
            obs_context.bind(user_id=cached[0].pk, organization_id=cached[0].organization_id)
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
        return result

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'
