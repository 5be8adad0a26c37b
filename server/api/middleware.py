"""Django's session, user and message middleware, skipped on `/api/`.

They serve the admin site. The API authenticates with bearer tokens only (DRF's views
are CSRF-exempt, nothing under /api/ reads a session, a cookie user or a message), so on
/api/ they would only cost time. Elsewhere (the admin) they run unchanged. CSRF stays
as it is: `check --deploy` looks for it by name, and DRF's views are exempt, which it
notices at once.
"""

from __future__ import annotations

from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware

API_PREFIX = "/api/"


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
