from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from accounts.models import Group, Invitation, Membership, Organization, User
from server.admin_site import OrganizationScopedAdmin, OrganizationScopedInline


@admin.register(Organization)
class OrganizationAdmin(OrganizationScopedAdmin):
    # An org admin sees their own organisation (its settings); only platform staff add or rename tenants.
    organization_lookup = "pk"
    org_admin_can_add = False
    list_display = ["name", "slug", "timezone", "default_language", "created_at"]
    search_fields = ["name", "slug"]

    def get_readonly_fields(self, request, obj=None):
        if request.user.is_superuser:
            return super().get_readonly_fields(request, obj)
        return ["name", "slug"]


class MembershipInline(OrganizationScopedInline):
    model = Membership

    extra = 0
    raw_id_fields = ["group"]


@admin.register(User)
class UserAdmin(OrganizationScopedAdmin, DjangoUserAdmin):
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
    # Granting platform powers is for platform staff only.
    superuser_only_fields = ("is_superuser",)


@admin.register(Group)
class GroupAdmin(OrganizationScopedAdmin):
    list_display = ["name", "kind", "organization", "allow_member_posts"]
    list_filter = ["kind", "organization"]
    search_fields = ["name"]


@admin.register(Invitation)
class InvitationAdmin(OrganizationScopedAdmin):
    # Invitations are created through the API (code, e-mail); the admin site shows them.
    org_admin_can_add = False
    list_display = ["email", "name", "role", "organization", "created_at", "expires_at", "accepted_at"]
    exclude = ["code_hash"]
    readonly_fields = ["accepted_at", "accepted_user", "invited_by"]
