from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VoiceConfig(AppConfig):
    """Employee voice: signals (frictions and ideas) and pulse surveys. Above `feed`, beside `recognition`."""

    name = "voice"
    verbose_name = _("Employee voice")

    def ready(self) -> None:
        self._ready_surveys()
        self._ready_signals()
        self._ready_me()

    def _ready_me(self) -> None:
        """What /me tells the app about voice (accounts.capabilities; accounts imports no voice)."""
        from accounts import capabilities

        capabilities.register_capability("create_surveys", lambda user: user.role in ("leader", "admin"))
        capabilities.register_organization_setting("survey_min_group_size", lambda organization: organization.survey_min_group_size)
        capabilities.register_organization_setting(
            "voice_first_response_hours", lambda organization: organization.voice_first_response_hours
        )

    def _ready_surveys(self) -> None:
        from notifications import catalogue
        from voice import events

        catalogue.register(*events.SURVEY_EVENT_TYPES, reasons=events.SURVEY_REASONS)

    def _ready_signals(self) -> None:
        from feed.models import PostKind
        from feed.serializers import register_card_payload
        from notifications import catalogue
        from voice import events, serializers
        from voice.search import register_search

        catalogue.register(*events.SIGNAL_EVENT_TYPES, reasons=events.SIGNAL_REASONS)
        # The `signal` of a "you said, we did" post, for the OpenAPI schema.
        register_card_payload(kind=PostKind.YOU_SAID_WE_DID, serializer=serializers.SignalCardPayloadSerializer)
        register_search()
