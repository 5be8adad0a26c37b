from django.contrib import admin
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from feed.admin import LIST_TEXT_CHARS, attach_mention_names, readable_text
from moderation.models import AuditEntry
from server.admin_site import ReadOnlyOrganizationAdmin, person_column
from server.api.text import MAX_TEXT_GRAPHEMES


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyOrganizationAdmin):
    """The audit log, read only for everyone: no add, change or delete, not even for superusers."""

    list_display = ["created_at", "organization", "action", person_column("actor", _("done by")), "target_type", "target_label"]
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

from moderation import services  # noqa: E402
from moderation.models import Mute, Report, ReportCase  # noqa: E402
from server.admin_site import is_org_admin  # noqa: E402
from server.api.exceptions import ApplicationError  # noqa: E402


class ReportInline(admin.TabularInline):
    model = Report
    fields = ["created_at", "source", "reason", "note", "reporter_name"]
    readonly_fields = fields

    @admin.display(description=_("reported by"))
    def reporter_name(self, report: Report) -> str | None:
        return report.reporter.name if report.reporter_id else None

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("reporter")

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

    list_display = ["first_reported_at", "target_type", "reported", "report_count", "status", "resolution"]
    list_display_links = ["first_reported_at", "reported"]
    list_select_related = ["post", "comment", "target_user"]
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
    # The change page reads top down: what, where, how often, what was decided.
    fields = [
        "status",
        "target_type",
        "reported_content",
        "post",
        "comment",
        "target_user",
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
    readonly_fields = fields

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        # The reported post or comment in a few words, mentions named: one query for the page.
        for case in changelist.result_list:
            target = case.comment if case.comment_id else case.post
            case.reported_text = target.body if target is not None else ""
        attach_mention_names(changelist.result_list, text="reported_text")
        return changelist

    @admin.display(description=_("reported"))
    def reported(self, case: ReportCase) -> str:
        return self._reported(case, chars=LIST_TEXT_CHARS)

    @admin.display(description=_("reported"))
    def reported_content(self, case: ReportCase) -> str:
        return self._reported(case, chars=MAX_TEXT_GRAPHEMES)

    @staticmethod
    def _reported(case: ReportCase, *, chars: int) -> str:
        if case.target_type == "user":
            return case.target_user.name if case.target_user_id else gettext("someone")
        if not hasattr(case, "mention_names"):  # the change page: one case
            target = case.comment if case.comment_id else case.post
            case.reported_text = target.body if target is not None else ""
            attach_mention_names([case], text="reported_text")
        return readable_text(case.reported_text, case.mention_names, chars=chars)


@admin.register(Mute)
class MuteAdmin(ReadOnlyOrganizationAdmin):
    """Mute history (mute and unmute through the moderation API, which notifies and audits)."""

    list_display = [person_column("user", _("person")), "starts_at", "ends_at", "ended_early_at", person_column("muted_by", _("muted by"))]
    list_select_related = ["user", "muted_by"]
    search_fields = ["user__name", "note"]
    readonly_fields = ["user", "muted_by", "starts_at", "ends_at", "note", "ended_early_at", "ended_early_by"]
