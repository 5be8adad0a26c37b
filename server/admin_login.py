"""The admin site's login form: organisation admins by role, and the API login's lockout."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import authenticate
from django.utils.translation import gettext_lazy as _

from accounts import services
from server.admin_site import may_use_admin_site
from server.api.exceptions import Throttled


class AdminLoginForm(AdminAuthenticationForm):
    """Django's admin login, with two differences.

    Who may sign in is `may_use_admin_site` (an organisation admin by role; Django's form asks for
    is_staff, which org admins do not have). Each attempt counts against the per-account lockout
    of the API's login, so the admin form is no way around it.
    """

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "invalid_login": _("Please enter the e-mail address and password of an organisation admin. Both fields may be case-sensitive."),
    }

    def clean(self) -> dict[str, Any]:
        email = (self.cleaned_data.get("username") or "").strip()
        password = self.cleaned_data.get("password")
        if email and password:
            try:
                services.login_attempt_record(email=email)
            except Throttled as error:
                raise forms.ValidationError(error.message, code="throttled")
            self.user_cache = authenticate(self.request, username=email, password=password)
            if self.user_cache is None:
                raise self.get_invalid_login_error()
            services.login_attempts_clear(email=email)
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data

    def confirm_login_allowed(self, user: Any) -> None:
        if not may_use_admin_site(user):
            raise self.get_invalid_login_error()
