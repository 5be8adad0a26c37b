"""The Django admin site, usable by an organisation's admins and limited to their organisation.

Who may sign in: an organisation admin (role `admin`, active) and the deployment's operators
(superusers). The role decides for organisation admins, not Django's `is_staff`: employees and
leaders never get in, whatever their flags. An org admin sees only the models whose ModelAdmin
subclasses OrganizationScopedAdmin, and within them only rows of their own organisation:
querysets, the choices of related objects, search, actions and change forms all go through the
scoped queryset, and `organization` is set on save and never editable by them. Every change
they make also goes to the audit log. The login form counts attempts against the same
per-account lockout as the API's login (accounts.services.login_attempt_record).

Installed as the default admin site through OrganizationAdminConfig (settings), so the
`@admin.register` decorators of every app register here.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.db import models
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.audit import audit_record

# This module is also the admin app's AppConfig (INSTALLED_APPS): it may not import models at load time.
ORG_ADMIN_ROLE = "admin"  # accounts.models.Role.ADMIN


def may_use_admin_site(user: Any) -> bool:
    """Operators (superusers) and organisation admins; the role decides, not is_staff."""
    return bool(user.is_active and (user.is_superuser or _is_org_admin_user(user)))


def _is_org_admin_user(user: Any) -> bool:
    return bool(
        user.is_active
        and not user.is_superuser
        and getattr(user, "role", None) == ORG_ADMIN_ROLE
        and getattr(user, "organization_id", None)
    )


def is_org_admin(request: HttpRequest) -> bool:
    return _is_org_admin_user(request.user)


class OrganizationAdminSite(admin.AdminSite):
    site_header = _("Frontline administration")
    site_title = _("Frontline admin")
    index_title = _("Your organisation")
    # The sidebar took a fifth of a 1280-pixel screen from the list pages; breadcrumbs and the
    # start page lead everywhere it did.
    enable_nav_sidebar = False

    def has_permission(self, request: HttpRequest) -> bool:
        return may_use_admin_site(request.user)

    @property
    def login_form(self) -> type:
        # Imported on use: this module loads before the models (it is the admin's AppConfig).
        from server.admin_login import AdminLoginForm

        return AdminLoginForm


def person_column(field: str, description: Any) -> Any:
    """A list column with the person in `field` by name.

    A person's __str__ is "Name <email>", right in a choice list where two people may share a
    name, too wide for a column. Put `field` in the admin's list_select_related.
    """

    def column(obj: Any) -> str | None:
        person = getattr(obj, field)
        return person.name if person is not None else None

    column.__name__ = f"{field}_name"
    column.short_description = description  # type: ignore[attr-defined]
    column.admin_order_field = f"{field}__name"  # type: ignore[attr-defined]
    return column


class OrganizationAdminConfig(AdminConfig):
    default_site = "server.admin_site.OrganizationAdminSite"


# Models without an `organization` field of their own that appear as related choices.
INDIRECT_ORGANIZATION_PATHS = {
    "accounts.Membership": "group__organization",
    "feed.Comment": "post__organization",
    "recognition.Nomination": "round__organization",
}


def organization_path(model: type[models.Model]) -> str | None:
    """The lookup from `model` to its Organization, or None for a model outside every organisation."""
    if model._meta.label == "accounts.Organization":
        return "pk"
    if model._meta.label in INDIRECT_ORGANIZATION_PATHS:
        return INDIRECT_ORGANIZATION_PATHS[model._meta.label]
    names = {field.name for field in model._meta.get_fields()}
    if "organization" in names:
        return "organization"
    return None


class _Scoped:
    """What ModelAdmin and inlines share: related choices limited to the organisation."""

    def _limit(self, queryset: models.QuerySet, request: HttpRequest) -> models.QuerySet:
        path = organization_path(queryset.model)
        if path is None:
            # A model we cannot tie to an organisation is never offered to an org admin.
            return queryset.none()
        return queryset.filter(**{path: request.user.organization_id})

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if is_org_admin(request):
            kwargs["queryset"] = self._limit(db_field.remote_field.model._default_manager.all(), request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if is_org_admin(request):
            kwargs["queryset"] = self._limit(db_field.remote_field.model._default_manager.all(), request)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class OrganizationScopedAdmin(_Scoped, admin.ModelAdmin):
    """Base of every admin an organisation admin may use.

    `organization_lookup` is the path from the model to its organisation when the model
    has no `organization` field of its own (a comment: `post__organization`).
    Org admins may not use bulk delete: deleting people, posts or awards must go through
    the services (events, files, the audit log); `org_admin_actions` lists what they may run.
    """

    organization_lookup = "organization"
    org_admin_actions: tuple[str, ...] = ()
    org_admin_can_add = True
    org_admin_can_change = True
    org_admin_can_delete = False

    # --- scope ---------------------------------------------------------------------------------

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        if not is_org_admin(request):
            return queryset.none()
        return queryset.filter(**{self.organization_lookup: request.user.organization_id})

    def _has_direct_organization(self) -> bool:
        return self.organization_lookup == "organization" and any(f.name == "organization" for f in self.model._meta.fields)

    def get_exclude(self, request: HttpRequest, obj: Any = None) -> Any:
        exclude = list(super().get_exclude(request, obj) or [])
        if not request.user.is_superuser and self._has_direct_organization():
            exclude.append("organization")
        return exclude

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_fields(request, obj))
        if not request.user.is_superuser:
            fields = [f for f in fields if f != "organization"]
        return fields

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser:
            return fieldsets
        hidden = {"organization", *self.superuser_only_fields}
        return [(name, {**options, "fields": [f for f in options["fields"] if f not in hidden]}) for name, options in fieldsets]

    superuser_only_fields: tuple[str, ...] = ()

    def get_list_filter(self, request: HttpRequest) -> Any:
        filters = super().get_list_filter(request)
        if request.user.is_superuser:
            return filters
        return [f for f in filters if f != "organization"]

    def get_list_display(self, request: HttpRequest) -> Any:
        display = super().get_list_display(request)
        if request.user.is_superuser:
            return display
        return [f for f in display if f != "organization"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not request.user.is_superuser and self._has_direct_organization():
            # Never from the form: an org admin cannot move a row into another organisation.
            obj.organization_id = request.user.organization_id
        super().save_model(request, obj, form, change)

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        if request.user.is_superuser:
            return actions
        return {name: action for name, action in actions.items() if name in self.org_admin_actions}

    # --- permissions: org admins have no Django permissions; their role decides ------------------

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_org_admin(request) or super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_org_admin(request) or super().has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        if is_org_admin(request):
            return self.org_admin_can_add
        return super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if is_org_admin(request):
            return self.org_admin_can_change
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if is_org_admin(request):
            return self.org_admin_can_delete
        return super().has_delete_permission(request, obj)

    # --- the audit log ----------------------------------------------------------------------------

    def _audit(self, request: HttpRequest, obj: Any, action: str, message: Any) -> None:
        organization_id = request.user.organization_id or getattr(obj, "organization_id", None)
        if organization_id is None:
            return  # a platform-level change outside every organisation
        audit_record(
            sender=type(self),
            organization_id=organization_id,
            actor=request.user,
            action=f"admin_site.{action}",
            target_type=self.model._meta.model_name,
            target_id=obj.pk if isinstance(obj.pk, int) else None,
            target_label=str(obj)[:200],
            after={"change": message} if message else None,
        )

    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        self._audit(request, obj, "added", message)
        return super().log_addition(request, obj, message)

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        self._audit(request, obj, "changed", message)
        return super().log_change(request, obj, message)

    def log_deletions(self, request: HttpRequest, queryset: Any) -> Any:
        for obj in queryset:
            self._audit(request, obj, "deleted", None)
        return super().log_deletions(request, queryset)


class OrganizationScopedInline(_Scoped, admin.TabularInline):
    """An inline under an OrganizationScopedAdmin; its own foreign-key choices are scoped too."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_org_admin(request) or super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_org_admin(request) or super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_org_admin(request) or super().has_delete_permission(request, obj)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_org_admin(request) or super().has_view_permission(request, obj)


class ReadOnlyOrganizationAdmin(OrganizationScopedAdmin):
    """Rows nobody edits through the admin (logs, results): view only, for superusers too."""

    org_admin_can_add = False
    org_admin_can_change = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
