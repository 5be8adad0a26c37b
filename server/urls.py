from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from server import views
from server.metrics_view import metrics_view

api_v1 = [
    path("", include("accounts.urls")),
    path("", include("feed.urls")),
    path("", include("notifications.urls")),
    path("", include("media.urls")),
    path("", include("recognition.urls")),
    path("", include("voice.urls")),
    path("", include("moderation.urls")),
    path("", include("search.urls")),
    path("", include("moderation.urls_admin")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("", views.api_index, name="api-index"),
]

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
    path("api/v1/", include(api_v1)),
    # Whatever no API route takes is the JSON 404, with DEBUG on too (server/views.py).
    re_path(r"^api/(?P<unmatched>.*)$", views.api_not_found, name="api-not-found"),
    # Browsers ask every site for /favicon.ico; a 404 there is an error in every page's console.
    path("favicon.ico", RedirectView.as_view(url=static("console/favicon.svg"), permanent=True)),
    path("admin/", admin.site.urls),
    path("console/", include("console.urls")),
    path("", views.home, name="home"),
]

# The JSON envelope under /api/, HTML pages elsewhere (the admin site).
handler400 = "server.views.handler400"
handler403 = "server.views.handler403"
handler404 = "server.views.handler404"
handler500 = "server.views.handler500"
