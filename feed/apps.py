from django.apps import AppConfig


class FeedConfig(AppConfig):
    name = "feed"
    verbose_name = "Feed"

    def ready(self) -> None:
        from feed import events
        from notifications import catalogue

        catalogue.register(*events.EVENT_TYPES, reasons=events.REASONS)
