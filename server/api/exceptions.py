"""One error type for services, one envelope for every error the API returns.

Envelope: {"error": {"code": "<machine_code>", "message": "<human text>", "fields": {...}}}
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions as drf_exceptions
from rest_framework import status
from rest_framework.response import Response


class ApplicationError(Exception):
    """Raised by services and access helpers; the API layer turns it into the envelope."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid"
    default_message = gettext_lazy("The request is not valid.")

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        fields: dict[str, Any] | None = None,
        status_code: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or str(self.default_message)
        self.code = code or self.default_code
        self.fields = fields or {}
        self.headers = headers or {}
        if status_code is not None:
            self.status_code = status_code
        super().__init__(self.message)


class ValidationFailed(ApplicationError):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid"


class NotFound(ApplicationError):
    status_code = status.HTTP_404_NOT_FOUND
    default_code = "not_found"
    default_message = gettext_lazy("Not found.")


class NotAllowed(ApplicationError):
    status_code = status.HTTP_403_FORBIDDEN
    default_code = "not_allowed"
    default_message = gettext_lazy("You are not allowed to do this.")


class Muted(NotAllowed):
    """A moderator muted this person: no posts, comments or kudos until `muted_until`."""

    default_code = "muted"
    default_message = gettext_lazy("You are muted and cannot post, comment or give kudos for now.")


class Conflict(ApplicationError):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"
    default_message = gettext_lazy("This conflicts with the current state.")


class Throttled(ApplicationError):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "throttled"

    def __init__(self, *, wait_seconds: int, message: str | None = None) -> None:
        wait_seconds = max(1, int(wait_seconds))
        super().__init__(
            message or _("Too many requests. Try again in %(seconds)d seconds.") % {"seconds": wait_seconds},
            headers={"Retry-After": str(wait_seconds)},
        )


_DRF_CODES = {
    drf_exceptions.ParseError: "malformed_request",
    drf_exceptions.AuthenticationFailed: "not_authenticated",
    drf_exceptions.NotAuthenticated: "not_authenticated",
    drf_exceptions.PermissionDenied: "not_allowed",
    drf_exceptions.NotFound: "not_found",
    drf_exceptions.MethodNotAllowed: "method_not_allowed",
    drf_exceptions.NotAcceptable: "not_acceptable",
    drf_exceptions.UnsupportedMediaType: "unsupported_media_type",
    drf_exceptions.Throttled: "throttled",
}


def error_body(code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": str(message), "fields": fields or {}}}


def _flatten_detail(detail: Any) -> Any:
    if isinstance(detail, dict):
        return {key: _flatten_detail(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_flatten_detail(item) for item in detail]
    return str(detail)


def _first_message(fields: Any) -> str | None:
    if isinstance(fields, dict):
        for value in fields.values():
            found = _first_message(value)
            if found:
                return found
    elif isinstance(fields, list):
        for value in fields:
            found = _first_message(value)
            if found:
                return found
    elif fields:
        return str(fields)
    return None


# While the database is down (restart, fail-over) a request answers this at once.
DATABASE_RETRY_AFTER_SECONDS = 5


def is_database_unavailable(exc: BaseException | None) -> bool:
    """The database cannot be reached or dropped the connection (restart, fail-over, pool timeout):
    Django's OperationalError / InterfaceError. Not a bug in the request, and worth a retry."""
    from django.db import InterfaceError, OperationalError

    return isinstance(exc, (OperationalError, InterfaceError))


def database_unavailable_response() -> JsonResponse:
    response = JsonResponse(
        error_body("service_unavailable", _("The service is briefly unavailable. Please try again in a moment.")), status=503
    )
    response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
    return response


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if is_database_unavailable(exc):
        # A 503 the phone retries (same Idempotency-Key), not a 500 with a traceback (issue #25).
        response = Response(
            error_body("service_unavailable", _("The service is briefly unavailable. Please try again in a moment.")), status=503
        )
        response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
        return response
    if isinstance(exc, ApplicationError):
        response = Response(error_body(exc.code, exc.message, exc.fields), status=exc.status_code)
        for header, value in exc.headers.items():
            response[header] = value
        return response

    if isinstance(exc, Http404):
        exc = drf_exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf_exceptions.PermissionDenied()

    if not isinstance(exc, drf_exceptions.APIException):
        return None  # a real server error: Django's handler500 answers with the envelope

    headers: dict[str, str] = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None) is not None:
        headers["Retry-After"] = str(max(1, int(exc.wait)))

    if isinstance(exc, drf_exceptions.ValidationError):
        detail = exc.detail
        if isinstance(detail, dict):
            fields = _flatten_detail(detail)
            non_field = fields.pop("non_field_errors", None)
            message = _first_message(non_field) or _first_message(fields) or _("The request is not valid.")
        else:
            fields = {}
            message = _first_message(_flatten_detail(detail)) or _("The request is not valid.")
        code = "invalid"
    else:
        code = next((c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), None)
        if code is None:
            code = exc.get_codes() if isinstance(exc.get_codes(), str) else "error"
        message = str(exc.detail) if not isinstance(exc.detail, (dict, list)) else _first_message(exc.detail)
        fields = {}

    if isinstance(exc, (drf_exceptions.NotAuthenticated, drf_exceptions.AuthenticationFailed)):
        status_code = status.HTTP_401_UNAUTHORIZED
    else:
        status_code = exc.status_code
    response = Response(error_body(code, message or "", fields), status=status_code)
    for header, value in headers.items():
        response[header] = value
    return response


# Django-level handlers: errors raised before or outside DRF (unknown URL, CSRF,
# oversized body, crashes) get the same envelope.
def handler400(request, exception=None):
    return JsonResponse(error_body("bad_request", _("The request could not be understood.")), status=400)


def handler403(request, exception=None):
    return JsonResponse(error_body("not_allowed", _("You are not allowed to do this.")), status=403)


def handler404(request, exception=None):
    if request.path.startswith("/api/"):
        # An unknown URL never reaches a view, so nobody authenticated the request: do it
        # here (a bad token stays a 404) so that the message speaks the user's saved language.
        from server.api.authentication import authenticate_request

        authenticate_request(request)
    return JsonResponse(error_body("not_found", _("Not found.")), status=404)


_STATUS_ERRORS = {
    400: ("bad_request", gettext_lazy("The request could not be understood.")),
    403: ("not_allowed", gettext_lazy("You are not allowed to do this.")),
    404: ("not_found", gettext_lazy("Not found.")),
    405: ("method_not_allowed", gettext_lazy("This method is not allowed here.")),
    413: ("too_large", gettext_lazy("The request is too large.")),
    500: ("server_error", gettext_lazy("Something went wrong on our side.")),
}
# Headers an error keeps when ApiJsonErrorsMiddleware rewrites its body.
_KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")


def error_response_for_status(request, status_code: int, *, headers=None) -> JsonResponse:
    """The envelope for an error that reached us without one (server/api/middleware.py)."""
    if status_code == 404:
        response = handler404(request)
    else:
        code, message = _STATUS_ERRORS.get(status_code, ("error" if status_code < 500 else "server_error", _STATUS_ERRORS[500][1]))
        response = JsonResponse(error_body(code, str(message)), status=status_code)
    for header in _KEPT_HEADERS:
        if headers is not None and header in headers:
            response[header] = headers[header]
    return response


def handler500(request):
    # Called inside Django's `except`: a database outage outside a view (authentication, the
    # idempotency middleware) is a 503 too.
    if is_database_unavailable(sys.exc_info()[1]):
        return database_unavailable_response()
    return JsonResponse(error_body("server_error", _("Something went wrong on our side.")), status=500)


def csrf_failure(request, reason=""):
    return JsonResponse(error_body("csrf_failed", _("CSRF verification failed.")), status=403)
