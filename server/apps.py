from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServerConfig(AppConfig):
    name = "server"
    verbose_name = _("API conventions")

    def ready(self) -> None:
        from server import checks  # noqa: F401  registers the system checks
