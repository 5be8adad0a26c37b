from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

from accounts import services
from accounts.models import Group, Invitation, Membership, Organization, OutgoingEmail, User
from server.admin_site import OrganizationScopedAdmin, OrganizationScopedInline, person_column


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
    # A choice of the organisation's groups (a handful), not an id box.
    fields = ["group", "role"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("group")


@admin.register(User)
class UserAdmin(OrganizationScopedAdmin, DjangoUserAdmin):
    ordering = ["organization", "name"]
    list_display = ["name", "email", "organization", "role", "is_active"]
    list_filter = ["role", "is_active", "organization"]
    search_fields = ["email", "name"]
    inlines = [MembershipInline]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Profile"), {"fields": ["name", "organization", "role", "language", "timezone"]}),
        (_("Status"), {"fields": ["is_active", "deactivated_at", "is_staff", "is_superuser", "last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "name", "organization", "role", "password1", "password2"]})]
    readonly_fields = ["deactivated_at", "last_login", "date_joined"]
    filter_horizontal: list = []
    # The deployment's operators only: platform powers, and the password hash (algorithm, salt)
    # with Django's "reset password" form. An org admin resets no one's password, as in the API:
    # a person's password is theirs (chosen on activation), and a reset would leave their
    # signed-in phones signed in.
    superuser_only_fields = ("is_superuser", "is_staff", "password")

    def user_change_password(self, request, id, form_url=""):
        if not request.user.is_superuser:
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.pk == request.user.pk:
            # As in the API: nobody deactivates themselves or gives up their own role here.
            fields += ["is_active", "role"]
        return fields

    # Saving goes through the services for what is more than a row: a deactivation ends the
    # person's sessions, sockets and push registrations; membership changes reach their sockets.
    def save_model(self, request, obj, form, change):
        deactivated = change and "is_active" in form.changed_data and not obj.is_active
        if deactivated:
            obj.is_active = True  # switched off by the service below, with its effects
        elif change and "is_active" in form.changed_data:
            obj.deactivated_at = None  # reactivated: they log in again (their sessions ended)
        super().save_model(request, obj, form, change)
        request._user_admin_deactivated = deactivated

    def save_related(self, request, form, formsets, change):
        user = form.instance
        groups_before = set(Membership.objects.filter(user=user).values_list("group_id", flat=True)) if change else set()
        super().save_related(request, form, formsets, change)
        services.admin_site_user_changed(
            actor=request.user,
            user=user,
            deactivated=getattr(request, "_user_admin_deactivated", False),
            groups_before=groups_before,
        )


@admin.register(Group)
class GroupAdmin(OrganizationScopedAdmin):
    list_display = ["name", "kind", "organization", "allow_member_posts"]
    list_filter = ["kind", "organization"]
    search_fields = ["name"]


@admin.register(Invitation)
class InvitationAdmin(OrganizationScopedAdmin):
    # Invitations are created through the API (code, e-mail); the admin site shows them.
    org_admin_can_add = False
    list_display = [
        "email",
        "employee_number",
        "name",
        "role",
        "organization",
        person_column("invited_by", _("invited by")),
        "expires_at",
        "accepted_at",
        "revoked_at",
    ]
    list_select_related = ["invited_by", "organization"]
    exclude = ["code_hash"]
    readonly_fields = ["accepted_at", "accepted_user", "invited_by"]


@admin.register(OutgoingEmail)
class OutgoingEmailAdmin(OrganizationScopedAdmin):
    # What was sent and what failed, attempt by attempt (docs/operations.md); written by the services.
    org_admin_can_add = False
    org_admin_can_change = False
    list_display = ["to", "kind", "status", "attempts", "created_at", "sent_at", "last_error"]
    list_filter = ["status", "kind"]
    search_fields = ["to"]
    readonly_fields = ["kind", "to", "invitation", "status", "attempts", "last_error", "created_at", "sent_at"]
    exclude = ["login_code"]
