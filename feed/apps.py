from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedConfig(AppConfig):
    name = "feed"
    verbose_name = _("Feed")

    def ready(self) -> None:
        from feed.serializers import CommentSerializer, PostCardSerializer, PostNoticeSerializer
        from notifications.serializers import register_notification_payload
        from server.api.schema import AllOfField

        # The inbox's `data` per event type that feed sends to people (mentions, comments,
        # mandatory reads), for the OpenAPI schema.
        register_notification_payload(event_type="post.created", serializer=PostCardSerializer)
        register_notification_payload(event_type="post.updated", serializer=AllOfField(PostCardSerializer, PostNoticeSerializer))
        register_notification_payload(event_type="comment.created", serializer=CommentSerializer)
