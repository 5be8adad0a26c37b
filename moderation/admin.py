from django.contrib import admin

from moderation.models import AuditEntry
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


# --- The moderation queue -------------------------------------------------------------------
# Cases are decided through the moderation services (events, notifications, audit log), never by
# editing rows: the change form is read only and the decisions are admin actions.

from django.contrib import messages  # noqa: E402
from django.utils.translation import gettext_lazy as _  # noqa: E402

from moderation import services  # noqa: E402
from moderation.models import Mute, Report, ReportCase  # noqa: E402
from server.admin_site import is_org_admin  # noqa: E402
from server.api.exceptions import ApplicationError  # noqa: E402


class ReportInline(admin.TabularInline):
    model = Report
    fields = ["created_at", "source", "reason", "note", "reporter"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_view_permission(self, request, obj=None) -> bool:
        return is_org_admin(request) or super().has_view_permission(request, obj)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


def _decide(action: str, label: str):
    def decide(modeladmin, request, queryset):
        done = 0
        for case in queryset.filter(status="open"):
            try:
                services.case_resolve(actor=request.user, case_id=case.pk, action=action, note=str(_("Decided in the admin site")))
                done += 1
            except ApplicationError as error:
                modeladmin.message_user(request, f"{case}: {error}", level=messages.WARNING)
        modeladmin.message_user(request, _("%(count)d report(s) decided.") % {"count": done})

    decide.__name__ = f"resolve_{action}"
    decide.short_description = label
    return decide


@admin.register(ReportCase)
class ReportCaseAdmin(ReadOnlyOrganizationAdmin):
    """The queue: open cases oldest first, decided with the actions (hide, remove, dismiss)."""

    list_display = ["first_reported_at", "target_type", "target_id", "status", "report_count", "resolution"]
    list_filter = ["status", "target_type", "organization"]
    ordering = ["status", "first_reported_at", "id"]
    search_fields = ["reports__note", "flagged_keywords"]
    inlines = [ReportInline]
    actions = [
        _decide("hide", _("Hide the reported content")),
        _decide("remove", _("Remove the reported content")),
        _decide("dismiss", _("Dismiss the reports")),
    ]
    org_admin_actions = ("resolve_hide", "resolve_remove", "resolve_dismiss")
    readonly_fields = [
        "target_type",
        "target_id",
        "post",
        "comment",
        "target_user",
        "status",
        "report_count",
        "reason_counts",
        "flagged_keywords",
        "first_reported_at",
        "last_reported_at",
        "auto_hidden_at",
        "resolution",
        "resolution_note",
        "resolved_by",
        "resolved_at",
    ]


@admin.register(Mute)
class MuteAdmin(ReadOnlyOrganizationAdmin):
    """Mute history (mute and unmute through the moderation API, which notifies and audits)."""

    list_display = ["user", "starts_at", "ends_at", "ended_early_at", "muted_by"]
    list_select_related = ["user", "muted_by"]
    search_fields = ["user__name", "note"]
    readonly_fields = ["user", "muted_by", "starts_at", "ends_at", "note", "ended_early_at", "ended_early_by"]
