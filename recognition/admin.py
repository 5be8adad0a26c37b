from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from feed.admin import readable_text
from recognition.models import AwardCategory, AwardResult, AwardRound, CompanyValue, Kudos, Nomination, RecognitionAuditEntry
from server.admin_site import OrganizationScopedAdmin, OrganizationScopedInline, ReadOnlyOrganizationAdmin, person_column


@admin.register(CompanyValue)
class CompanyValueAdmin(OrganizationScopedAdmin):
    list_display = ["name", "organization", "emoji", "active", "position"]
    list_filter = ["active", "organization"]
    search_fields = ["name"]


@admin.register(AwardCategory)
class AwardCategoryAdmin(OrganizationScopedAdmin):
    list_display = ["name", "organization", "method", "confidential", "max_nominations_per_nominator", "active"]
    list_filter = ["method", "confidential", "active", "organization"]
    filter_horizontal = ["groups"]


class AwardResultInline(OrganizationScopedInline):
    model = AwardResult
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    fields = ["nominee_name", "rank", "nomination_count", "endorsement_count", "first_nominated_at", "is_winner", "reason"]
    readonly_fields = fields

    @admin.display(description=_("nominee"))
    def nominee_name(self, result: AwardResult) -> str:
        return result.nominee.name

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("nominee")


@admin.register(AwardRound)
class AwardRoundAdmin(OrganizationScopedAdmin):
    org_admin_can_add = False
    list_display = ["category", "month", "status", "closes_at", "decided_by"]
    list_filter = ["status", "organization"]
    # State changes go through the services (close, pick); the admin site only shows them.
    readonly_fields = ["status", "closed_at", "closed_by", "pick_deadline", "decided_by", "picked_by", "announced_at"]
    inlines = [AwardResultInline]


@admin.register(Kudos)
class KudosAdmin(OrganizationScopedAdmin):
    org_admin_can_add = False
    org_admin_can_change = False
    list_display = [person_column("giver", _("from")), "to", "message_text", "value", "created_at"]
    list_select_related = ["giver", "value"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("recipient_links__recipient")

    @admin.display(description=_("to"))
    def to(self, kudos: Kudos) -> str:
        return ", ".join(recipient.recipient.name for recipient in kudos.recipient_links.all())

    @admin.display(description=_("message"))
    def message_text(self, kudos: Kudos) -> str:
        return readable_text(kudos.message, None)

    raw_id_fields = ["giver"]


@admin.register(Nomination)
class NominationAdmin(OrganizationScopedAdmin):
    organization_lookup = "round__organization"
    org_admin_can_add = False
    org_admin_can_change = False
    list_display = ["round", person_column("nominee", _("nominee")), person_column("nominator", _("nominated by")), "created_at"]
    list_select_related = ["round__category", "nominee", "nominator"]
    raw_id_fields = ["nominee", "nominator", "evidence_kudos"]


@admin.register(RecognitionAuditEntry)
class RecognitionAuditEntryAdmin(ReadOnlyOrganizationAdmin):
    list_display = ["created_at", "organization", "action", person_column("actor", _("done by")), "round"]
    list_select_related = ["actor", "organization", "round__category"]
    list_filter = ["action", "organization"]
