from django.apps import AppConfig


class RecognitionConfig(AppConfig):
    name = "recognition"
    verbose_name = "Recognition"

    def ready(self) -> None:
        from notifications import catalogue
        from recognition import events

        catalogue.register(*events.EVENT_TYPES, reasons=events.REASONS)
