"""ASGI entry point: HTTP goes to Django (one worker thread per request, server/http.py),
WebSocket to the Channels router, and the server's start and stop (`lifespan`) start and stop
the embedded scheduler (server/scheduler.py; on in the embedded default only).

WebSocket routes are collected in `server.routing.websocket_urlpatterns`.
"""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")

# Django must be set up before anything imports models.
django.setup(set_prefix=False)

# Traces and error reports when the environment asks (OTEL_*, SENTRY_DSN): before the handler
# below loads the middleware, which the Django instrumentation extends.
from server.obs import tracing  # noqa: E402

tracing.configure()

from server.http import ThreadedASGIHandler, freeze_long_lived_objects  # noqa: E402

django_asgi_app = ThreadedASGIHandler()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from server.routing import websocket_urlpatterns  # noqa: E402
from server.scheduler import Lifespan  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": URLRouter(websocket_urlpatterns),
        "lifespan": Lifespan(),
    }
)

# What each operation accepts (server/api/contract.py) is read from the OpenAPI schema: built
# now, not by the first request, and frozen below with the rest.
from server.api.contract import contract  # noqa: E402

contract()

# Everything imported so far lives as long as the process: keep it out of the collector's
# full scans (server/http.py).
freeze_long_lived_objects()
