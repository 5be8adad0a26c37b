from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VoiceConfig(AppConfig):
    """Employee voice: signals (frictions and ideas) and pulse surveys. Above `feed`, beside `recognition`."""

    name = "voice"
    verbose_name = _("Employee voice")

    def ready(self) -> None:
        # Signals and surveys register their events, card payloads and hooks here.
        from notifications import catalogue
        from voice import events

        catalogue.register(*events.SURVEY_EVENT_TYPES, reasons=events.SURVEY_REASONS)
