from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from accounts.models import Group, Invitation, Membership, Organization, User


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "timezone", "default_language", "created_at"]
    search_fields = ["name", "slug"]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["group"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["organization", "name"]
    list_display = ["email", "name", "organization", "role", "is_active"]
    list_filter = ["role", "is_active", "organization"]
    search_fields = ["email", "name"]
    inlines = [MembershipInline]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Profile", {"fields": ["name", "organization", "role", "language", "timezone"]}),
        ("Status", {"fields": ["is_active", "deactivated_at", "is_staff", "is_superuser", "last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "name", "organization", "role", "password1", "password2"]})]
    readonly_fields = ["deactivated_at", "last_login", "date_joined"]
    filter_horizontal: list = []


@admin.register(Group)
class GroupAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "organization", "allow_member_posts"]
    list_filter = ["kind", "organization"]
    search_fields = ["name"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "name", "role", "organization", "created_at", "expires_at", "accepted_at"]
    exclude = ["code_hash"]
    readonly_fields = ["accepted_at", "accepted_user", "invited_by"]
