"""Liveness and readiness probes; the front page and the API index; the error pages outside the API."""

from django.conf import settings
from django.db import connection
from django.http import HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import render
from django.template.response import TemplateResponse
from django.urls import Resolver404, resolve, reverse
from django.utils.translation import gettext as _
from django.views import defaults

from server.api import exceptions as api_exceptions

API_PREFIX = "/api/"


def healthz(request):
    return JsonResponse({"status": "ok"})


def readyz(request):
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as error:  # any failure means "not ready"
        checks["database"] = f"error: {error.__class__.__name__}"
    if settings.REDIS_URL:
        try:
            import redis

            redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1).ping()
            checks["redis"] = "ok"
        except Exception as error:
            checks["redis"] = f"error: {error.__class__.__name__}"
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503)


def home(request):
    """`/`: where things are, for a person who opened the server in a browser."""
    return render(request, "server/home.html", {"version": settings.SPECTACULAR_SETTINGS["VERSION"]})


def api_index(request):
    """`/api/v1/`: the API's version and where its documentation and schema are."""
    return JsonResponse(
        {
            "name": settings.SPECTACULAR_SETTINGS["TITLE"],
            "version": settings.SPECTACULAR_SETTINGS["VERSION"],
            "links": {
                "docs": request.build_absolute_uri(reverse("docs")),
                "schema": request.build_absolute_uri(reverse("schema")),
                "login": request.build_absolute_uri(reverse("auth-login")),
                "stream": "/ws/v1/stream",
            },
        }
    )


def api_not_found(request, unmatched: str = ""):
    """Every path under /api/ that no route takes (an unknown route, a non-numeric id): the
    JSON 404 in every setting, where Django would answer its HTML page with DEBUG on."""
    if request.method in ("GET", "HEAD") and not request.path_info.endswith("/"):
        # What APPEND_SLASH did before this catch-all took every path: /api/v1/docs -> /api/v1/docs/.
        try:
            match = resolve(request.path_info + "/")
        except Resolver404:
            match = None
        if match is not None and match.func is not api_not_found:
            return HttpResponsePermanentRedirect(request.get_full_path(force_append_slash=True))
    return api_exceptions.handler404(request)


# --- Error pages outside the API ----------------------------------------------------
# Under /api/ every error is the JSON envelope (server/api/exceptions.py). Elsewhere is the admin
# site, read in a browser: a refused page is a page, in the admin's frame and language.


def _refused_page(request, *, title: str, message: str) -> TemplateResponse:
    from django.contrib import admin

    context = {**admin.site.each_context(request), "title": title, "message": message}
    response = TemplateResponse(request, "server/refused.html", context, status=403)
    return response.render()


def handler403(request, exception=None):
    if request.path.startswith(API_PREFIX):
        return api_exceptions.handler403(request, exception)
    return _refused_page(request, title=_("Not allowed"), message=_("You are not allowed to open this page."))


def csrf_failure(request, reason=""):
    if request.path.startswith(API_PREFIX):
        return api_exceptions.csrf_failure(request, reason)
    return _refused_page(
        request,
        title=_("The form has expired"),
        message=_("The page was open too long or your browser refused the cookie. Go back, reload the page and try again."),
    )


# Django's own pages for the rest (a missing admin page, a crash in the admin): plain HTML.
def handler400(request, exception=None):
    if request.path.startswith(API_PREFIX):
        return api_exceptions.handler400(request, exception)
    return defaults.bad_request(request, exception)


def handler404(request, exception=None):
    if request.path.startswith(API_PREFIX):
        return api_exceptions.handler404(request, exception)
    return defaults.page_not_found(request, exception)


def handler500(request):
    if request.path.startswith(API_PREFIX):
        return api_exceptions.handler500(request)
    return defaults.server_error(request)
