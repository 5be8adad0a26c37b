from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ModerationConfig(AppConfig):
    name = "moderation"
    verbose_name = _("Moderation")

    def ready(self) -> None:
        from feed import signals as feed_signals
        from feed.services import interactions
        from moderation import serializers, services
        from notifications.serializers import register_notification_payload

        # New posts and comments with a listed keyword go to the queue (after their commit).
        feed_signals.content_published.connect(services.on_content_published, dispatch_uid="moderation.keyword_flag")
        if services.comment_lock_guard not in interactions.comment_create_guards:
            interactions.comment_create_guards.append(services.comment_lock_guard)
        # What moderation sends to people's inboxes, for the OpenAPI schema.
        register_notification_payload(event_type="report.created", serializer=serializers.ReportCreatedPayloadSerializer)
        register_notification_payload(event_type="report.resolved", serializer=serializers.ReportResolvedPayloadSerializer)
        register_notification_payload(event_type="moderation.decided", serializer=serializers.ModerationDecidedPayloadSerializer)
