from django.contrib import admin

from recognition.models import AwardCategory, AwardResult, AwardRound, CompanyValue, Kudos, Nomination, RecognitionAuditEntry


@admin.register(CompanyValue)
class CompanyValueAdmin(admin.ModelAdmin):
    list_display = ["name", "organization", "emoji", "active", "position"]
    list_filter = ["active", "organization"]
    search_fields = ["name"]


@admin.register(AwardCategory)
class AwardCategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "organization", "method", "confidential", "max_nominations_per_nominator", "active"]
    list_filter = ["method", "confidential", "active", "organization"]
    filter_horizontal = ["groups"]


class AwardResultInline(admin.TabularInline):
    model = AwardResult
    extra = 0
    can_delete = False
    readonly_fields = ["nominee", "rank", "nomination_count", "endorsement_count", "first_nominated_at", "is_winner", "reason"]


@admin.register(AwardRound)
class AwardRoundAdmin(admin.ModelAdmin):
    list_display = ["category", "month", "status", "closes_at", "decided_by"]
    list_filter = ["status", "organization"]
    # State changes go through the services (close, pick); the admin site only shows them.
    readonly_fields = ["status", "closed_at", "closed_by", "pick_deadline", "decided_by", "picked_by", "announced_at"]
    inlines = [AwardResultInline]


@admin.register(Kudos)
class KudosAdmin(admin.ModelAdmin):
    list_display = ["giver", "value", "created_at"]
    list_select_related = ["giver", "value"]
    raw_id_fields = ["giver"]


@admin.register(Nomination)
class NominationAdmin(admin.ModelAdmin):
    list_display = ["round", "nominee", "nominator", "created_at"]
    raw_id_fields = ["nominee", "nominator", "evidence_kudos"]


@admin.register(RecognitionAuditEntry)
class RecognitionAuditEntryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "organization", "action", "actor", "round"]
    list_filter = ["action", "organization"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
