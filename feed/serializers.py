"""Shapes of the feed API. Cards are built as dicts in feed.cards; these document them and read input."""

from __future__ import annotations

import functools
from decimal import Decimal

from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers

from accounts.serializers import GroupRefSerializer, UserSummarySerializer
from feed.cards import user_summary
from feed.models import CARD_PAYLOAD_KEYS, MEMBER_KIND_CHOICES, MEMBER_KINDS, GoalStatus, PostKind, ReactionType
from feed.poll_serializers import PollCardSerializer, PollCreateSerializer
from feed.services.interactions import MAX_SEEN_BATCH
from feed.services.posts import MAX_GROUPS_PER_POST, MAX_IMAGES_PER_POST
from media.serializers import MediaSerializer
from server.api.fields import IdField, IdListField

# --- Output -----------------------------------------------------------------------------------


class ReactionCountsSerializer(serializers.Serializer):
    like = serializers.IntegerField()
    heart = serializers.IntegerField()
    clap = serializers.IntegerField()
    celebrate = serializers.IntegerField()
    insightful = serializers.IntegerField()


class PostCardBaseSerializer(serializers.Serializer):
    """What every card has; `PostCardSerializer` adds the kind and its payload."""

    id = serializers.IntegerField()
    author = UserSummarySerializer()
    body = serializers.CharField()
    audience = serializers.ChoiceField(choices=["organization", "groups"], help_text="`groups`: only members of `groups` see it.")
    groups = GroupRefSerializer(many=True)
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
    acknowledgement_deadline = serializers.DateTimeField(allow_null=True, help_text="Mandatory read: acknowledge before this time.")
    acknowledged_by_me = serializers.BooleanField()
    my_acknowledged_at = serializers.DateTimeField(allow_null=True)
    poll = PollCardSerializer(allow_null=True, help_text="The post's poll (docs/feed.md, Polls); null: none.")


# Kind → the shape of its payload, declared by the app that writes posts of that kind
# (post_create_system) in its AppConfig.ready: feed renders the payload, it does not own it.
_card_payloads: dict[str, type[serializers.Serializer]] = {}


def register_card_payload(*, kind: str, serializer: type[serializers.Serializer]) -> None:
    if kind not in CARD_PAYLOAD_KEYS:
        raise ValueError(f"Posts of kind {kind!r} carry no payload")
    _card_payloads[kind] = serializer


@functools.cache
def post_card_variants() -> dict[str, type[serializers.Serializer]]:
    """One card shape per kind (post and announcement share one): `kind` names exactly the kind(s)
    of the variant, and the variant declares its own payload key only. The card also carries the
    other kinds' keys as null (feed.cards), left out here: a property whose type is null alone is
    dropped by openapi-fetch's response types, and JSON Schema takes them as additional properties.
    Built once, after every app has registered its payload (the schema is generated after
    AppConfig.ready)."""

    def variant(name: str, kinds: list[str], payload_kind: str | None) -> type[serializers.Serializer]:
        fields: dict[str, serializers.Field] = {"kind": serializers.ChoiceField(choices=[(k, PostKind(k).label) for k in kinds])}
        if payload_kind is None:
            doc = "A post card of kind " + " or ".join(f"`{k}`" for k in kinds) + ": no kind payload."
        else:
            fields[CARD_PAYLOAD_KEYS[payload_kind]] = _card_payloads[payload_kind]()
            doc = f"A post card of kind `{payload_kind}`: its payload under `{CARD_PAYLOAD_KEYS[payload_kind]}`."
        return type(f"{name}Serializer", (PostCardBaseSerializer,), {**fields, "__doc__": doc})

    missing = set(CARD_PAYLOAD_KEYS) - set(_card_payloads)
    if missing:
        raise RuntimeError(f"No payload shape registered for post kinds {sorted(missing)}")
    plain = variant("PostCardPlain", [str(kind) for kind in MEMBER_KINDS], None)
    variants = {str(kind): plain for kind in MEMBER_KINDS}
    for kind in CARD_PAYLOAD_KEYS:
        variants[str(kind)] = variant("PostCard" + "".join(part.title() for part in kind.split("_")), [kind], kind)
    return variants


class PostCardSerializer(PolymorphicProxySerializer):
    """A post card, for OpenAPI: a union discriminated by `kind` (cards are dicts from feed.cards)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, component_name="PostCard", serializers=post_card_variants, resource_type_field_name="kind", **kwargs)


# --- Kind payloads written by feed itself ---------------------------------------------------------


class GoalCardUpdateSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    note = serializers.CharField()
    previous_value = serializers.FloatField()
    current_value = serializers.FloatField()
    reached_target = serializers.BooleanField()


class GoalCardSerializer(serializers.Serializer):
    """A goal as of the update that posted it (feed.services.goals.goal_card)."""

    id = serializers.IntegerField()
    title = serializers.CharField()
    why = serializers.CharField()
    how_to_help = serializers.CharField()
    target_value = serializers.FloatField(allow_null=True)
    current_value = serializers.FloatField()
    unit = serializers.CharField()
    progress = serializers.FloatField(allow_null=True, help_text="current_value / target_value, 0..1; null without a target.")
    status = serializers.ChoiceField(choices=GoalStatus.choices)
    due_date = serializers.DateField(allow_null=True)
    achieved_at = serializers.DateTimeField(allow_null=True)
    update = GoalCardUpdateSerializer()


class KeyMomentPostCardSerializer(serializers.Serializer):
    """A key moment as published or changed (feed.services.goals.key_moment_card)."""

    id = serializers.IntegerField()
    title = serializers.CharField()
    description = serializers.CharField()
    expected_behaviour = serializers.CharField()
    position = serializers.IntegerField()
    change = serializers.ChoiceField(choices=["created", "updated"], help_text="Why it was posted.")


register_card_payload(kind=PostKind.GOAL_UPDATE, serializer=GoalCardSerializer)
register_card_payload(kind=PostKind.KEY_MOMENT, serializer=KeyMomentPostCardSerializer)


# --- Notification payloads (registered in FeedConfig.ready) -----------------------------------------


class PostReminderSerializer(serializers.Serializer):
    deadline = serializers.DateTimeField(allow_null=True, help_text="null: a reminder sent by hand for a post without a deadline.")
    offset_minutes = serializers.IntegerField(
        allow_null=True, help_text="How long before the deadline this reminder was due; null: sent by hand (remind now)."
    )


class PostEscalationSerializer(serializers.Serializer):
    deadline = serializers.DateTimeField()
    audience_count = serializers.IntegerField()
    acknowledged_count = serializers.IntegerField()
    not_acknowledged_count = serializers.IntegerField()
    not_acknowledged = UserSummarySerializer(many=True, help_text="The first of them by name; the reach routes list all.")


class PostNoticeSerializer(serializers.Serializer):
    """Why a mandatory read comes back to you: a reminder before its deadline (you have not
    acknowledged it), or the summary after it (you wrote it or manage its groups)."""

    reminder = PostReminderSerializer(required=False)
    escalation = PostEscalationSerializer(required=False)


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
    up_to_date = serializers.BooleanField(
        help_text="Every change up to this moment is in `results` (with the pages before it). False only after a full page: "
        "with `has_more` call again at once; without it (a burst of changes in the last seconds) call once more 6 s later."
    )


class CommentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    post_id = serializers.IntegerField()
    parent_id = serializers.IntegerField(allow_null=True, help_text="The comment this one replies to; null for a comment on the post.")
    author = UserSummarySerializer()
    body = serializers.CharField()
    mentions = UserSummarySerializer(many=True, help_text="People mentioned with `@[user:ID]` who can see the post.")
    created_at = serializers.DateTimeField()
    edited_at = serializers.DateTimeField(allow_null=True)


class ReactorSerializer(serializers.Serializer):
    """Who reacted to a post, and how."""

    user = UserSummarySerializer()
    type = serializers.ChoiceField(choices=ReactionType.choices)
    created_at = serializers.DateTimeField(help_text="When they first reacted.")


class ReachGroupSerializer(serializers.Serializer):
    group = GroupRefSerializer()
    audience_count = serializers.IntegerField()
    seen_count = serializers.IntegerField()
    acknowledged_count = serializers.IntegerField()


class NotAcknowledgedSerializer(serializers.Serializer):
    """Someone in a mandatory read's audience who has not acknowledged it yet."""

    user = UserSummarySerializer()
    seen_at = serializers.DateTimeField(allow_null=True, help_text="When it was first on their screen; null: not yet.")


class RemindResultSerializer(serializers.Serializer):
    reminded_count = serializers.IntegerField(help_text="People notified; 0: everyone had acknowledged (nothing sent).")
    sent_at = serializers.DateTimeField()
    next_remind_at = serializers.DateTimeField(help_text="The next reminder of this post can go from this time.")


class ReachSerializer(serializers.Serializer):
    audience_count = serializers.IntegerField(help_text="People the post was addressed to when it was published (still active).")
    seen_count = serializers.IntegerField()
    acknowledged_count = serializers.IntegerField()
    by_group = ReachGroupSerializer(many=True)


# --- Input ------------------------------------------------------------------------------------


class BodyField(serializers.CharField):
    """The body as typed; server.api.text.clean_text applies the real rules (graphemes, NUL, bidi)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("trim_whitespace", False)
        # A generous byte-level cap against abuse; the 5,000-grapheme rule is in the service.
        kwargs.setdefault("max_length", 100_000)
        super().__init__(**kwargs)
        # NUL gets our own message and code from clean_text, not DRF's generic one.
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
    acknowledgement_deadline = serializers.DateTimeField(
        required=False,
        allow_null=True,
        default=None,
        help_text="With requires_acknowledgement: reminders go out before it, leaders get a summary after it.",
    )
    poll = PollCreateSerializer(required=False, allow_null=True, default=None, help_text="A poll on the post (docs/feed.md, Polls).")


class PostUpdateSerializer(serializers.Serializer):
    """Only what is sent changes; the rules are those of `POST /posts`."""

    body = BodyField(required=False)
    group_ids = IdListField(required=False, max_length=MAX_GROUPS_PER_POST, help_text="The new audience; `[]`: the whole organisation.")
    image_ids = IdListField(
        required=False,
        max_length=MAX_IMAGES_PER_POST,
        help_text="All the photos, in order: ids already on the post stay, new ones are your unused uploads, left-out ones go.",
    )
    acknowledgement_deadline = serializers.DateTimeField(required=False, allow_null=True, help_text="null: no deadline.")
    publish_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="Before publishing only (else 400 `already_published`): in the future reschedules, null or past publishes now.",
    )


class AcknowledgeSerializer(serializers.Serializer):
    acknowledged_at = serializers.DateTimeField(
        required=False, allow_null=True, default=None, help_text="When it was tapped, if offline; clamped to [published_at, now]."
    )


class SeenSerializer(serializers.Serializer):
    ids = IdListField(max_length=MAX_SEEN_BATCH)


class CommentCreateSerializer(serializers.Serializer):
    body = BodyField()
    parent_id = IdField(
        required=False, allow_null=True, default=None, help_text="Reply to this comment of the post (itself not a reply: 400 otherwise)."
    )


class CommentUpdateSerializer(serializers.Serializer):
    body = BodyField()


class ReactionSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=ReactionType.choices)


# --- Goals and key moments -----------------------------------------------------------------------


class GoalSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    why = serializers.CharField()
    how_to_help = serializers.CharField()
    target_value = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True, coerce_to_string=False)
    current_value = serializers.DecimalField(max_digits=14, decimal_places=2, coerce_to_string=False)
    unit = serializers.CharField()
    progress = serializers.FloatField(allow_null=True, help_text="current_value / target_value, 0..1; null without a target.")
    due_date = serializers.DateField(allow_null=True)
    status = serializers.ChoiceField(choices=GoalStatus.choices)
    owner = UserSummarySerializer()
    audience = serializers.SerializerMethodField()
    groups = GroupRefSerializer(many=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    achieved_at = serializers.DateTimeField(allow_null=True)

    def get_audience(self, goal) -> str:
        return "organization" if goal.org_wide else "groups"

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["owner"] = user_summary(instance.owner)
        return data


class GoalCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, trim_whitespace=False)
    why = BodyField(help_text="Why the goal matters: required, never empty.")
    how_to_help = BodyField(help_text="What each person can do to help: required, never empty.")
    target_value = serializers.DecimalField(
        max_digits=14, decimal_places=2, coerce_to_string=False, required=False, allow_null=True, default=None, min_value=Decimal("0.01")
    )
    current_value = serializers.DecimalField(
        max_digits=14, decimal_places=2, coerce_to_string=False, required=False, allow_null=True, default=None
    )
    unit = serializers.CharField(max_length=32, required=False, default="", allow_blank=True)
    due_date = serializers.DateField(required=False, allow_null=True, default=None)
    group_ids = IdListField(required=False, default=list, max_length=MAX_GROUPS_PER_POST, help_text="Empty: the whole organisation.")


class GoalPatchSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False, trim_whitespace=False)
    why = BodyField(required=False)
    how_to_help = BodyField(required=False)
    target_value = serializers.DecimalField(
        max_digits=14, decimal_places=2, coerce_to_string=False, required=False, allow_null=True, min_value=Decimal("0.01")
    )
    current_value = serializers.DecimalField(max_digits=14, decimal_places=2, coerce_to_string=False, required=False)
    unit = serializers.CharField(max_length=32, required=False, allow_blank=True)
    due_date = serializers.DateField(required=False, allow_null=True)
    status = serializers.ChoiceField(choices=GoalStatus.choices, required=False)


class GoalProgressSerializer(serializers.Serializer):
    current_value = serializers.DecimalField(
        max_digits=14, decimal_places=2, coerce_to_string=False, required=False, allow_null=True, default=None
    )
    note = BodyField(required=False, default="", help_text="What happened; the text of the feed post.")


class GoalHistorySerializer(serializers.Serializer):
    """One progress report of a goal, as `GET /goals/{id}/updates` lists them."""

    id = serializers.IntegerField()
    note = serializers.CharField()
    previous_value = serializers.DecimalField(max_digits=14, decimal_places=2, coerce_to_string=False)
    current_value = serializers.DecimalField(max_digits=14, decimal_places=2, coerce_to_string=False)
    reached_target = serializers.BooleanField()
    post_id = serializers.IntegerField(allow_null=True, help_text="The goal_update post in the feed; null once it is deleted.")
    author = UserSummarySerializer()
    created_at = serializers.DateTimeField()

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["author"] = user_summary(instance.author)
        return data


class GoalUpdateResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    note = serializers.CharField()
    previous_value = serializers.DecimalField(max_digits=14, decimal_places=2, coerce_to_string=False)
    current_value = serializers.DecimalField(max_digits=14, decimal_places=2, coerce_to_string=False)
    reached_target = serializers.BooleanField(help_text="This update reached the target: the goal is now achieved.")
    post_id = serializers.IntegerField(help_text="The goal_update post in the feed.")
    goal = GoalSerializer()
    created_at = serializers.DateTimeField()


class KeyMomentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    description = serializers.CharField()
    expected_behaviour = serializers.CharField(help_text="What staff may and must do at this moment.")
    position = serializers.IntegerField(help_text="1 is the first step of the journey.")
    audience = serializers.SerializerMethodField()
    groups = GroupRefSerializer(many=True)
    kudos_this_month = serializers.SerializerMethodField()
    updated_at = serializers.DateTimeField()
    archived_at = serializers.DateTimeField(allow_null=True, help_text="Set: out of the journey (leaders and admins list these).")

    def get_audience(self, key_moment) -> str:
        return "organization" if key_moment.org_wide else "groups"

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_kudos_this_month(self, key_moment) -> int | None:
        # Null while recognition does not link kudos to key moments (see feed.models.KeyMoment).
        return getattr(key_moment, "kudos_this_month", None)


class KeyMomentWriteSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, trim_whitespace=False)
    description = BodyField(required=False, default="")
    expected_behaviour = BodyField(help_text="What staff may and must do at this moment: required, never empty.")
    position = serializers.IntegerField(min_value=1, max_value=10_000, required=False, allow_null=True, default=None)
    group_ids = IdListField(required=False, default=list, max_length=MAX_GROUPS_PER_POST, help_text="Empty: the whole organisation.")


class KeyMomentPatchSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False, trim_whitespace=False)
    description = BodyField(required=False)
    expected_behaviour = BodyField(required=False)
    position = serializers.IntegerField(min_value=1, max_value=10_000, required=False, help_text="Move to this place; the others shift.")
    group_ids = IdListField(required=False, max_length=MAX_GROUPS_PER_POST)
    archived = serializers.BooleanField(
        required=False, help_text="true: out of the journey and the tab; false: back, at the end of the journey."
    )
