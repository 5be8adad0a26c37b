from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission


class IsOrgAdmin(BasePermission):
    message = _("Only admins of your organisation may do this.")

    def has_permission(self, request, view) -> bool:
        # The user model's own properties: server/api imports no app (accounts defines them).
        return bool(request.user and request.user.is_authenticated and request.user.is_org_admin)


class IsLeaderOrAdmin(BasePermission):
    message = _("Only leaders and admins may do this.")

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_leader_or_admin)
