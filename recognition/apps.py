from django.apps import AppConfig


class RecognitionConfig(AppConfig):
    name = "recognition"
    verbose_name = "Recognition"

    def ready(self) -> None:
        from feed import selectors as feed_selectors
        from notifications import catalogue
        from recognition import events, selectors

        catalogue.register(*events.EVENT_TYPES, reasons=events.REASONS)
        # The journey shows how many kudos cite each key moment this month (the feed imports no recognition).
        feed_selectors.key_moment_counts["kudos_this_month"] = selectors.key_moment_kudos_since
