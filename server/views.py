"""Liveness and readiness probes for load balancers and orchestrators; the error pages outside the API."""

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

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
