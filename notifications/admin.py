from django.contrib import admin

from notifications.models import Notification, OutboxEvent


@admin.register(OutboxEvent)
class OutboxEventAdmin(admin.ModelAdmin):
    list_display = ["id", "type", "organization", "created_at", "delivered_at", "attempts"]
    list_filter = ["type"]
    readonly_fields = [field.name for field in OutboxEvent._meta.fields]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["id", "recipient", "reason", "type", "created_at", "read_at"]
    list_filter = ["reason"]
    raw_id_fields = ["recipient"]
