from django.contrib import admin

from moderation.audit import AuditEntry
from server.admin_site import ReadOnlyOrganizationAdmin


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyOrganizationAdmin):
    """The audit log, read only for everyone: no add, change or delete, not even for superusers."""

    list_display = ["created_at", "organization", "action", "actor", "target_type", "target_id", "target_label"]
    list_filter = ["action", "target_type", "organization"]
    list_select_related = ["actor", "organization"]
    search_fields = ["action", "target_label", "note"]
    readonly_fields = [
        "organization",
        "actor",
        "action",
        "target_type",
        "target_id",
        "target_label",
        "before",
        "after",
        "note",
        "ip",
        "created_at",
    ]
