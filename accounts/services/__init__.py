"""Writes about organisations and people. One module per use case, re-exported here."""

from accounts.services.auth import (
    IssuedToken,
    NotAuthenticated,
    login,
    login_attempt_record,
    login_attempts_clear,
    logout,
    token_issue,
    tokens_purge_expired,
)
from accounts.services.groups import group_create, group_update, membership_add, membership_remove
from accounts.services.invitations import ImportRow, invitation_activate, invitation_create, users_import
from accounts.services.organizations import organization_create
from accounts.services.people import admin_site_user_changed, me_update, user_deactivate, user_update

__all__ = [
    "ImportRow",
    "IssuedToken",
    "NotAuthenticated",
    "admin_site_user_changed",
    "group_create",
    "group_update",
    "invitation_activate",
    "invitation_create",
    "login",
    "login_attempt_record",
    "login_attempts_clear",
    "logout",
    "me_update",
    "membership_add",
    "membership_remove",
    "organization_create",
    "token_issue",
    "tokens_purge_expired",
    "user_deactivate",
    "user_update",
    "users_import",
]
