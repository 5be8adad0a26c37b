"""The console's sign-in: leaders and admins, with the API login's lockout and per-IP limit."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from accounts import services
from server.api.exceptions import Throttled
from server.api.throttling import LoginIPThrottle


class ConsoleLoginForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("Please enter the e-mail address and password of a leader or admin."),
        "throttled": _("Too many attempts. Try again later."),
    }

    def clean(self) -> dict[str, Any]:
        email = (self.cleaned_data.get("username") or "").strip().lower()
        password = self.cleaned_data.get("password")
        if email and password:
            if self.request is not None and not LoginIPThrottle().allow_request(self.request, None):
                raise forms.ValidationError(self.error_messages["throttled"], code="throttled")
            try:
                services.login_attempt_record(email=email)
            except Throttled as error:
                raise forms.ValidationError(error.message, code="throttled") from None
            self.user_cache = authenticate(self.request, username=email, password=password)
            if self.user_cache is None:
                raise self.get_invalid_login_error()
            services.login_attempts_clear(email=email)
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data

    def confirm_login_allowed(self, user: Any) -> None:
        super().confirm_login_allowed(user)
        if not getattr(user, "is_leader_or_admin", False):
            raise self.get_invalid_login_error()
