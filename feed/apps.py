from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedConfig(AppConfig):
    name = "feed"
    verbose_name = _("Feed")

    def ready(self) -> None:
        from feed import events
        from feed.search import register_search
        from notifications import catalogue

        catalogue.register(*events.EVENT_TYPES, reasons=events.REASONS)
        # Posts, comments, goals and key moments are found by GET /search (search.registry).
        register_search()
