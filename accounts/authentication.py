"""Bearer tokens for phones: one opaque token per device session, stored hashed."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import connections, router
from django.http import HttpRequest
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import trans_real
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication

from accounts.models import AuthToken, Organization, User

_CACHE_ATTR = "_bearer_auth_result"
_NO_CREDENTIALS = object()


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def new_raw_token() -> str:
    return secrets.token_urlsafe(32)


class _TokenQuery:
    """`AuthToken.objects.select_related("user", "user__organization").filter(key_hash=…).first()`,
    compiled once per process.

    Every API request runs it, and compiling it through the ORM cost more CPU than the
    rest of authentication together (request_cost.py: ~1.2 ms of ~2 ms). The statement
    is built from the models' metadata, rows go through the same converters the ORM
    applies (SQLite booleans and datetimes) and `Model.from_db`, so the objects are what
    the ORM would have built. Always read from the database: a revoked token, a
    deactivated user or a changed role counts from the next request on.
    """

    def __init__(self, connection) -> None:
        quote = connection.ops.quote_name
        self.models = (AuthToken, User, Organization)
        columns, self.converters, self.attnames = [], [], []
        for alias, model in zip(("t", "u", "o"), self.models, strict=True):
            fields = model._meta.concrete_fields
            self.attnames.append([field.attname for field in fields])
            for field in fields:
                columns.append(f"{alias}.{quote(field.column)}")
                column = field.get_col(alias)
                self.converters.append((column, connection.ops.get_db_converters(column) + field.get_db_converters(connection)))
        token_meta, user_meta, org_meta = (model._meta for model in self.models)
        token_user = quote(token_meta.get_field("user").column)
        user_org = quote(user_meta.get_field("organization").column)
        key_hash = quote(token_meta.get_field("key_hash").column)
        # Only quoted names from the models' metadata are formatted in; the hash is a parameter.
        self.sql = (
            f"SELECT {', '.join(columns)} FROM {quote(token_meta.db_table)} t "  # noqa: S608
            f"INNER JOIN {quote(user_meta.db_table)} u ON u.{quote(user_meta.pk.column)} = t.{token_user} "
            f"LEFT OUTER JOIN {quote(org_meta.db_table)} o ON o.{quote(org_meta.pk.column)} = u.{user_org} "
            f"WHERE t.{key_hash} = %s LIMIT 1"
        )

    def run(self, connection, key_hash: str) -> AuthToken | None:
        with connection.cursor() as cursor:
            cursor.execute(self.sql, [key_hash])
            row = cursor.fetchone()
        if row is None:
            return None
        values = list(row)
        for index, (column, converters) in enumerate(self.converters):
            for converter in converters:
                values[index] = converter(values[index], column, connection)
        token_count, user_count = len(self.attnames[0]), len(self.attnames[1])
        token = AuthToken.from_db(connection.alias, self.attnames[0], values[:token_count])
        user = User.from_db(connection.alias, self.attnames[1], values[token_count : token_count + user_count])
        organization = None
        if user.organization_id is not None:
            organization = Organization.from_db(connection.alias, self.attnames[2], values[token_count + user_count :])
        User.organization.field.set_cached_value(user, organization)
        AuthToken.user.field.set_cached_value(token, user)
        return token


_token_queries: dict[str, _TokenQuery] = {}


def _token_by_hash(key_hash: str) -> AuthToken | None:
    connection = connections[router.db_for_read(AuthToken)]
    query = _token_queries.get(connection.alias)
    if query is None:
        query = _token_queries[connection.alias] = _TokenQuery(connection)
    return query.run(connection, key_hash)


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
