"""Liveness and readiness probes for load balancers and orchestrators; the front page and the API index."""

from django.conf import settings
from django.db import connection
from django.http import HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve, reverse

from server.api.exceptions import handler404


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
    return handler404(request)
