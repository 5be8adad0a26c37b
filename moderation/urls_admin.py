from django.urls import path

from moderation import views_admin

urlpatterns = [
    path("moderation/audit-log", views_admin.AuditLogView.as_view(), name="moderation-audit-log"),
    path("moderation/audit-log.csv", views_admin.AuditLogCsvView.as_view(), name="moderation-audit-log-csv"),
    path("moderation/users/<int:user_id>/export", views_admin.UserExportView.as_view(), name="moderation-user-export"),
    path("moderation/users/<int:user_id>/erase", views_admin.UserEraseView.as_view(), name="moderation-user-erase"),
    path("me/export", views_admin.MeExportView.as_view(), name="me-export"),
    path("me/erasure-request", views_admin.MeErasureRequestView.as_view(), name="me-erasure-request"),
]
