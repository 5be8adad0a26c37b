"""Rate limits. Counters live in the cache (Redis when REDIS_URL is set), so all
processes share them. Rates are settings (REST_FRAMEWORK.DEFAULT_THROTTLE_RATES)."""

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle


class ConfiguredRateThrottle(SimpleRateThrottle):
    """Reads its rate when used, not at import, so changed settings take effect."""

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class UserRateThrottle(ConfiguredRateThrottle):
    """General per-user limit; anonymous requests are limited per IP."""

    scope = "user"

    def get_cache_key(self, request, view):
        if request.user and request.user.is_authenticated:
            ident = request.user.pk
        else:
            ident = self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


class IPRateThrottle(ConfiguredRateThrottle):
    """Per-IP limit for a public route; subclass with a scope."""

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class LoginIPThrottle(IPRateThrottle):
    scope = "login_ip"


class ActivateIPThrottle(IPRateThrottle):
    scope = "activate_ip"


class ScopedUserThrottle(UserRateThrottle):
    """Per-user limit for one kind of write; subclass with a scope (uploads, kudos...)."""


class UploadThrottle(ScopedUserThrottle):
    scope = "uploads"


class KudosThrottle(ScopedUserThrottle):
    scope = "kudos"


class NominationThrottle(ScopedUserThrottle):
    scope = "nominations"


class ReportThrottle(ScopedUserThrottle):
    scope = "reports"
