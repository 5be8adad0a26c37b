from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedConfig(AppConfig):
    name = "feed"
    verbose_name = _("Feed")

    def ready(self) -> None:
        from feed import events
        from notifications import catalogue

        catalogue.register(*events.EVENT_TYPES, reasons=events.REASONS)
