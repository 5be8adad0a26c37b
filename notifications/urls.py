from django.urls import path

from notifications import push_views, views

urlpatterns = [
    path("notifications", views.NotificationListView.as_view(), name="notification-list"),
    path("notifications/unread-count", views.NotificationUnreadCountView.as_view(), name="notification-unread-count"),
    path("notifications/read", views.NotificationsReadView.as_view(), name="notifications-read"),
    path("devices", push_views.DeviceRegisterView.as_view(), name="device-register"),
    path("devices/<int:device_id>", push_views.DeviceDetailView.as_view(), name="device-detail"),
    path("notification-preferences", push_views.PreferenceView.as_view(), name="notification-preferences"),
    path("asyncapi.json", views.AsyncApiView.as_view(), name="asyncapi"),
]
