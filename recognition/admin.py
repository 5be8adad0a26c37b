from django.contrib import admin

from recognition.models import AwardCategory, AwardResult, AwardRound, CompanyValue, Kudos, Nomination, RecognitionAuditEntry
from server.admin_site import OrganizationScopedAdmin, OrganizationScopedInline, ReadOnlyOrganizationAdmin


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

    readonly_fields = ["nominee", "rank", "nomination_count", "endorsement_count", "first_nominated_at", "is_winner", "reason"]


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
    list_display = ["giver", "value", "created_at"]
    list_select_related = ["giver", "value"]
    raw_id_fields = ["giver"]


@admin.register(Nomination)
class NominationAdmin(OrganizationScopedAdmin):
    organization_lookup = "round__organization"
    org_admin_can_add = False
    org_admin_can_change = False
    list_display = ["round", "nominee", "nominator", "created_at"]
    raw_id_fields = ["nominee", "nominator", "evidence_kudos"]


@admin.register(RecognitionAuditEntry)
class RecognitionAuditEntryAdmin(ReadOnlyOrganizationAdmin):
    list_display = ["created_at", "organization", "action", "actor", "round"]
    list_filter = ["action", "organization"]
