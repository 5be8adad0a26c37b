"""Shapes of the feed API. Cards are built as dicts in feed.cards; these document them and read input."""

from __future__ import annotations

from drf_spectacular.utils import PolymorphicProxySerializer
from rest_framework import serializers

from accounts.models import GroupKind
from accounts.serializers import UserSummarySerializer
from feed.models import MEMBER_KIND_CHOICES, PostKind, ReactionType
from feed.services.interactions import MAX_SEEN_BATCH
from feed.services.posts import MAX_GROUPS_PER_POST, MAX_IMAGES_PER_POST
from media.serializers import MediaSerializer
from server.api.fields import IdListField

# --- Output -----------------------------------------------------------------------------------


class PostGroupSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=GroupKind.choices)


class ReactionCountsSerializer(serializers.Serializer):
    like = serializers.IntegerField()
    heart = serializers.IntegerField()
    clap = serializers.IntegerField()
    celebrate = serializers.IntegerField()
    insightful = serializers.IntegerField()


class PostCardSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=PostKind.choices)
    author = UserSummarySerializer()
    body = serializers.CharField()
    audience = serializers.ChoiceField(choices=["organization", "groups"], help_text="`groups`: only members of `groups` see it.")
    groups = PostGroupSerializer(many=True)
    images = MediaSerializer(many=True, help_text="In the order the author chose; see docs/media.md.")
    created_at = serializers.DateTimeField()
    publish_at = serializers.DateTimeField(allow_null=True, help_text="Scheduled time while not yet published (author only).")
    published_at = serializers.DateTimeField(allow_null=True)
    edited_at = serializers.DateTimeField(allow_null=True)
    pinned = serializers.BooleanField()
    comment_count = serializers.IntegerField()
    reaction_counts = ReactionCountsSerializer()
    my_reaction = serializers.ChoiceField(choices=ReactionType.choices, allow_null=True)
    requires_acknowledgement = serializers.BooleanField()
    acknowledged_by_me = serializers.BooleanField()
    my_acknowledged_at = serializers.DateTimeField(allow_null=True)
    kudos = serializers.DictField(allow_null=True, help_text="Kudos card data (kind `kudos`), written by recognition.")
    award = serializers.DictField(allow_null=True, help_text="Award card data (kind `award`), written by recognition.")
    goal = serializers.DictField(allow_null=True, help_text="Goal or key-moment card data (kinds `goal_update`, `key_moment`).")


class RemovedPostSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    removed = serializers.BooleanField(help_text="Always true: drop this post from the screen.")


class FeedUpdatesSerializer(serializers.Serializer):
    results = PolymorphicProxySerializer(
        component_name="PostChange",
        serializers=[PostCardSerializer, RemovedPostSerializer],
        resource_type_field_name=None,
        many=True,
    )
    cursor = serializers.CharField(help_text="Pass as `since` next time.")
    has_more = serializers.BooleanField(help_text="More changes are waiting: call again with the new cursor now.")


class CommentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    post_id = serializers.IntegerField()
    author = UserSummarySerializer()
    body = serializers.CharField()
    mentions = UserSummarySerializer(many=True, help_text="People mentioned with `@[user:ID]` who can see the post.")
    created_at = serializers.DateTimeField()


class GroupRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ReachGroupSerializer(serializers.Serializer):
    group = GroupRefSerializer()
    audience_count = serializers.IntegerField()
    seen_count = serializers.IntegerField()
    acknowledged_count = serializers.IntegerField()


class ReachSerializer(serializers.Serializer):
    audience_count = serializers.IntegerField(help_text="People the post was addressed to when it was published (still active).")
    seen_count = serializers.IntegerField()
    acknowledged_count = serializers.IntegerField()
    by_group = ReachGroupSerializer(many=True)


# --- Input ------------------------------------------------------------------------------------


class BodyField(serializers.CharField):
    """The body as typed; feed.text.clean_body applies the real rules (graphemes, NUL, bidi)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("trim_whitespace", False)
        # A generous byte-level cap against abuse; the 5,000-grapheme rule is in the service.
        kwargs.setdefault("max_length", 100_000)
        super().__init__(**kwargs)
        # NUL gets our own message and code from clean_body, not DRF's generic one.
        self.validators = [v for v in self.validators if type(v).__name__ != "ProhibitNullCharactersValidator"]


class PostCreateSerializer(serializers.Serializer):
    body = BodyField(help_text="Plain text, at most 5,000 characters (grapheme clusters). `@[user:ID]` mentions a colleague.")
    group_ids = IdListField(
        required=False,
        default=list,
        max_length=MAX_GROUPS_PER_POST,
        help_text="Empty: the whole organisation.",
    )
    image_ids = IdListField(
        required=False,
        default=list,
        max_length=MAX_IMAGES_PER_POST,
        help_text="Your own unused uploads (POST /media), shown in this order. With images the body may be empty.",
    )
    kind = serializers.ChoiceField(choices=MEMBER_KIND_CHOICES, default=PostKind.POST)
    requires_acknowledgement = serializers.BooleanField(default=False)
    publish_at = serializers.DateTimeField(required=False, allow_null=True, default=None, help_text="In the future: scheduled.")


class PostUpdateSerializer(serializers.Serializer):
    body = BodyField()


class AcknowledgeSerializer(serializers.Serializer):
    acknowledged_at = serializers.DateTimeField(
        required=False, allow_null=True, default=None, help_text="When it was tapped, if offline; clamped to [published_at, now]."
    )


class SeenSerializer(serializers.Serializer):
    ids = IdListField(max_length=MAX_SEEN_BATCH)


class CommentCreateSerializer(serializers.Serializer):
    body = BodyField()


class ReactionSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=ReactionType.choices)
