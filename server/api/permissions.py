from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission

from accounts.models import Role


class IsOrgAdmin(BasePermission):
    message = _("Only admins of your organisation may do this.")

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.role == Role.ADMIN)


class IsLeaderOrAdmin(BasePermission):
    message = _("Only leaders and admins may do this.")

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.role in (Role.LEADER, Role.ADMIN))
