from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from server import views

api_v1 = [
    path("", include("accounts.urls")),
    path("", include("feed.urls")),
    path("", include("notifications.urls")),
    path("", include("media.urls")),
    path("", include("recognition.urls")),
    path("", include("moderation.urls")),
    path("", include("moderation.urls_admin")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
]

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("api/v1/", include(api_v1)),
    path("admin/", admin.site.urls),
]

handler400 = "server.api.exceptions.handler400"
handler403 = "server.views.handler403"  # HTML outside /api/
handler404 = "server.api.exceptions.handler404"
handler500 = "server.api.exceptions.handler500"
