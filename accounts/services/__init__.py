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
from accounts.services.groups import group_archive, group_create, group_update, membership_add, membership_remove
from accounts.services.invitations import (
    ImportRow,
    invitation_activate,
    invitation_create,
    invitation_resend,
    invitation_revoke,
    invitation_status,
    users_import,
)
from accounts.services.organizations import organization_create
from accounts.services.passwords import (
    login_code_issue,
    password_change,
    password_reset_confirm,
    password_reset_issue,
    password_reset_request,
)
from accounts.services.people import admin_site_user_changed, me_update, user_deactivate, user_reactivate, user_update

__all__ = [
    "ImportRow",
    "IssuedToken",
    "NotAuthenticated",
    "admin_site_user_changed",
    "group_archive",
    "group_create",
    "group_update",
    "invitation_activate",
    "invitation_create",
    "invitation_resend",
    "invitation_revoke",
    "invitation_status",
    "login",
    "login_attempt_record",
    "login_attempts_clear",
    "login_code_issue",
    "logout",
    "me_update",
    "membership_add",
    "membership_remove",
    "organization_create",
    "password_change",
    "password_reset_confirm",
    "password_reset_issue",
    "password_reset_request",
    "token_issue",
    "tokens_purge_expired",
    "user_deactivate",
    "user_reactivate",
    "user_update",
    "users_import",
]
