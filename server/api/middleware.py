"""Django's session, user and message middleware, skipped on `/api/`.

They serve the admin site. The API authenticates with bearer tokens only (DRF's views
are CSRF-exempt, nothing under /api/ reads a session, a cookie user or a message), so on
/api/ they would only cost time. Elsewhere (the admin) they run unchanged. CSRF stays
as it is: `check --deploy` looks for it by name, and DRF's views are exempt, which it
notices at once.
"""

from __future__ import annotations

import sys

from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.core.signals import got_request_exception
from django.dispatch import receiver

API_PREFIX = "/api/"


@receiver(got_request_exception, dispatch_uid="server.api.middleware.note_database_outage")
def note_database_outage(sender, request=None, **kwargs) -> None:
    """Marks a request whose uncaught exception is a database outage (sent inside Django's except)."""
    from server.api.exceptions import is_database_unavailable

    if request is not None and is_database_unavailable(sys.exc_info()[1]):
        request.database_unavailable = True


class _NotOnApi:
    def __call__(self, request):
        if request.path_info.startswith(API_PREFIX):
            return self.get_response(request)
        return super().__call__(request)


class AdminSessionMiddleware(_NotOnApi, SessionMiddleware):
    pass


class AdminAuthenticationMiddleware(_NotOnApi, AuthenticationMiddleware):
    pass


class AdminMessageMiddleware(_NotOnApi, MessageMiddleware):
    pass


class ApiJsonErrorsMiddleware:
    """Every error under /api/ is the JSON envelope, in every setting.

    With DEBUG on (the `make run` default) Django answers what never reached DRF in HTML: its
    technical 404 and 500 pages, and the 400 of a suspicious request. A phone app must be able
    to parse every answer, so an HTML error on /api/ is replaced by the envelope with the same
    status (Django has already logged it). Unknown routes are answered by the URLconf's
    catch-all (server/urls.py) and never get here as HTML.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 500 and getattr(request, "database_unavailable", False) and request.path_info.startswith(API_PREFIX):
            # handler500 answers 503 itself; with DEBUG on, Django's technical page came instead.
            from server.api.exceptions import database_unavailable_response

            return database_unavailable_response()
        if response.status_code >= 400 and request.path_info.startswith(API_PREFIX):
            content_type = response.get("Content-Type", "")
            if not content_type.startswith("application/json"):
                from server.api.exceptions import error_response_for_status

                return error_response_for_status(request, response.status_code, headers=response)
        return response
