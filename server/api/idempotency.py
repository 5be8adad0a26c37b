"""`Idempotency-Key` on POST: a retry of the same request replays the first response.

Phones on a bad connection retry; without this a retry after a lost response
creates a second post. Records are per user, kept 24 hours (pruned by beat).
A key reused with a different body answers 422; a retry that arrives while the
first request is still running waits for it and replays its answer.
"""

from __future__ import annotations

import hashlib
import time
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.translation import gettext as _

from server.api.exceptions import error_body

HEADER = "HTTP_IDEMPOTENCY_KEY"
MAX_KEY_LENGTH = 255
WAIT_FOR_FIRST_SECONDS = 10.0
# A record still "in progress" after this long belongs to a request that died.
STALE_IN_PROGRESS = timedelta(seconds=120)
# Bodies larger than this (uploads) are fingerprinted by size and type only:
# reading them here would defeat streaming uploads to disk.
MAX_HASHED_BODY = 1024 * 1024
# Answers that must not be replayed: the client should be able to try again.
NOT_STORED_STATUSES = {401, 408, 429}


def _hashes_body(request: HttpRequest) -> bool:
    """False for a view that sets `idempotency_hashes_body = False`: its body must not be kept, even
    hashed, beside the user (an anonymous survey's answers: a hash of a few scale values is easily reversed)."""
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return True
    return getattr(getattr(match.func, "view_class", None), "idempotency_hashes_body", True)


def _fingerprint(request: HttpRequest) -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(b"\0" + request.get_full_path().encode())
    content_type = request.META.get("CONTENT_TYPE", "")
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    media_type, _sep, params = content_type.partition(";")
    if not _hashes_body(request):
        digest.update(b"\0" + media_type.strip().encode())
    elif length <= MAX_HASHED_BODY:
        body = request.body
        boundary = next((p.strip()[9:].strip('"') for p in params.split(";") if p.strip().startswith("boundary=")), "")
        if boundary:
            # A retried multipart upload is rebuilt with a new random boundary: same request.
            body = body.replace(boundary.encode(), b"")
        digest.update(b"\0" + media_type.strip().encode() + b"\0" + body)
    else:
        digest.update(b"\0" + content_type.split(";")[0].encode() + b"\0" + str(length).encode())
    return digest.hexdigest()


def _replay(record) -> HttpResponse:
    response = HttpResponse(bytes(record.response_body or b""), status=record.status_code, content_type=record.content_type or None)
    response["Idempotent-Replayed"] = "true"
    return response


class IdempotencyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = request.META.get(HEADER)
        if request.method != "POST" or key is None or not request.path.startswith("/api/"):
            return self.get_response(request)
        from server.api.authentication import authenticate_request

        # Authentication first: an unauthenticated request is a 401 whatever its key (the key
        # only matters per user; a public route such as login ignores it).
        auth = authenticate_request(request)
        if auth is None:
            return self.get_response(request)  # the view answers 401
        if not key.strip() or len(key) > MAX_KEY_LENGTH:
            return JsonResponse(
                error_body("invalid", _("Idempotency-Key must be 1 to 255 characters."), {"Idempotency-Key": [_("Invalid key.")]}),
                status=400,
            )
        user = auth[0]
        return self._handle(request, user, key, _fingerprint(request))

    def _handle(self, request: HttpRequest, user, key: str, fingerprint: str) -> HttpResponse:
        from server.models import IdempotencyRecord

        deadline = time.monotonic() + WAIT_FOR_FIRST_SECONDS
        while True:
            try:
                with transaction.atomic():
                    record = IdempotencyRecord.objects.create(user=user, key=key, request_fingerprint=fingerprint)
                break
            except IntegrityError:
                existing = IdempotencyRecord.objects.filter(user=user, key=key).first()
                if existing is None:
                    continue  # deleted between our insert and read: try again
                now = timezone.now()
                expired = existing.created_at < now - settings.IDEMPOTENCY_TTL
                stale = existing.state == IdempotencyRecord.State.IN_PROGRESS and existing.created_at < now - STALE_IN_PROGRESS
                if expired or stale:
                    IdempotencyRecord.objects.filter(pk=existing.pk).delete()
                    continue
                if existing.request_fingerprint != fingerprint:
                    return JsonResponse(
                        error_body(
                            "idempotency_key_reused",
                            _("This Idempotency-Key was already used for a different request."),
                        ),
                        status=422,
                    )
                if existing.state == IdempotencyRecord.State.DONE:
                    return _replay(existing)
                if time.monotonic() >= deadline:
                    response = JsonResponse(
                        error_body("idempotency_in_progress", _("The first request with this key is still running.")),
                        status=409,
                    )
                    response["Retry-After"] = "1"
                    return response
                time.sleep(0.05)

        try:
            response = self.get_response(request)
        except BaseException:
            IdempotencyRecord.objects.filter(pk=record.pk).delete()
            raise

        if response.status_code >= 500 or response.status_code in NOT_STORED_STATUSES or response.streaming:
            IdempotencyRecord.objects.filter(pk=record.pk).delete()
            return response
        IdempotencyRecord.objects.filter(pk=record.pk).update(
            state=IdempotencyRecord.State.DONE,
            status_code=response.status_code,
            response_body=response.content,
            content_type=response.get("Content-Type", ""),
        )
        return response
