from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RecognitionConfig(AppConfig):
    name = "recognition"
    verbose_name = _("Recognition")

    def ready(self) -> None:
        from feed.models import PostKind
        from feed.serializers import register_card_payload
        from notifications.serializers import register_notification_payload
        from recognition import serializers

        # The shapes recognition writes into feed cards and people's inboxes, for the OpenAPI schema.
        register_card_payload(kind=PostKind.KUDOS, serializer=serializers.KudosCardSerializer)
        register_card_payload(kind=PostKind.AWARD, serializer=serializers.AwardCardSerializer)
        register_notification_payload(event_type="kudos.created", serializer=serializers.KudosCreatedPayloadSerializer)
        register_notification_payload(event_type="award.announced", serializer=serializers.AwardAnnouncedPayloadSerializer)
        register_notification_payload(event_type="award.announced", serializer=serializers.NominationTallyPayloadSerializer)
