from django.urls import path

from notifications import push_views

urlpatterns: list = [
    path("devices", push_views.DeviceRegisterView.as_view(), name="device-register"),
    path("devices/<int:device_id>", push_views.DeviceDetailView.as_view(), name="device-detail"),
    path("notification-preferences", push_views.PreferenceView.as_view(), name="notification-preferences"),
]
