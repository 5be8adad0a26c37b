from rest_framework.permissions import BasePermission

from accounts.models import Role


class IsOrgAdmin(BasePermission):
    message = "Only admins of your organisation may do this."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.role == Role.ADMIN)


class IsLeaderOrAdmin(BasePermission):
    message = "Only leaders and admins may do this."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.role in (Role.LEADER, Role.ADMIN))
