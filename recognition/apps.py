from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RecognitionConfig(AppConfig):
    name = "recognition"
    verbose_name = _("Recognition")

    def ready(self) -> None:
        from feed import cards as feed_cards
        from feed import selectors as feed_selectors
        from feed.models import PostKind
        from feed.serializers import register_card_payload
        from notifications import catalogue
        from recognition import events, selectors, serializers
        from recognition.search import register_search

        catalogue.register(*events.EVENT_TYPES, reasons=events.REASONS)
        # /me tells the app how many kudos are left this month (accounts imports no recognition).
        from accounts import capabilities

        capabilities.register_person_value("kudos_left", selectors.kudos_left)
        # The journey shows how many kudos cite each key moment this month (the feed imports no recognition).
        feed_selectors.key_moment_counts["kudos_this_month"] = selectors.key_moment_kudos_since
        # The shapes recognition writes into feed cards, for the OpenAPI schema.
        register_card_payload(kind=PostKind.KUDOS, serializer=serializers.KudosCardSerializer)
        register_card_payload(kind=PostKind.AWARD, serializer=serializers.AwardCardSerializer)
        # Kudos are found by their message by GET /search (search.registry).
        register_search()
        # An award post names its month in each reader's language, at read time.
        from recognition.services.closing import award_card_read

        feed_cards.card_readers[PostKind.AWARD] = award_card_read
