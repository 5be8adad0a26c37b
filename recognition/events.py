"""Recognition's events: kudos given, award rounds announced. Registered in `RecognitionConfig.ready()`."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import PolymorphicProxySerializer
from rest_framework import serializers

from notifications.catalogue import AudiencePush, EventType, Push, PushContext, PushText, Reason
from notifications.push_texts import colleague, excerpt, named
from recognition.models import DecisionMethod
from recognition.serializers import KudosCreatedPayloadSerializer

# --- Payloads (the frames' `data`) ------------------------------------------------------------


class AwardCategoryRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    icon = serializers.CharField()


class AwardWinnerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    reason = serializers.CharField(
        help_text="Quoted in the announcement: the leader's own words when they picked with one, else a nomination."
    )


class AwardAnnouncementSerializer(serializers.Serializer):
    """The announcement, to the category's audience and the winner."""

    round_id = serializers.IntegerField()
    category = AwardCategoryRefSerializer()
    month = serializers.CharField(help_text="YYYY-MM in the organisation's calendar.")
    month_name = serializers.CharField(help_text='The month in the organisation\'s language: "december 2026", "December 2026".')
    winners = AwardWinnerSerializer(many=True)
    post_id = serializers.IntegerField(allow_null=True, help_text="The announcement's card in the feed.")
    decided_by = serializers.ChoiceField(
        choices=[*DecisionMethod.values, "most_nominations_fallback"],
        help_text="`most_nominations_fallback`: the leader did not pick in time.",
    )


class NominationTallySerializer(serializers.Serializer):
    """To a nominee who did not win, alone: how often they were nominated (never by whom)."""

    round_id = serializers.IntegerField()
    category = AwardCategoryRefSerializer()
    month = serializers.CharField(help_text="YYYY-MM in the organisation's calendar.")
    month_name = serializers.CharField(help_text="The month in the organisation's language.")
    nomination_count = serializers.IntegerField()


class AwardAnnouncedSerializer(PolymorphicProxySerializer):
    """Either shape (`winners` tells them apart): one type in the catalogue, a union for clients."""

    def __init__(self, *args, **kwargs):
        super().__init__(
            *args,
            component_name="AwardAnnounced",
            serializers=[AwardAnnouncementSerializer, NominationTallySerializer],
            resource_type_field_name=None,
            **kwargs,
        )


# --- Pushes -----------------------------------------------------------------------------------


def _award_text(context: PushContext) -> PushText:
    award, snippet = named(context.payload, "award", "category", "award_name"), excerpt(context.payload)
    if not context.personal:
        winner = named(context.payload, "winner", "nominee") or colleague(context.payload)
        return PushText(_("%(winner)s won %(award)s") % {"winner": winner, "award": award}, snippet)
    return PushText(_("You won %(award)s!") % {"award": award}, snippet or _("Congratulations!"))


_ROUND_LINKS = ("awards/rounds/{round_id}", "posts/{post_id}")

KUDOS_PUSH = Push(
    kind="kudos",
    channel="recognition",
    preference="kudos",
    text=lambda c: PushText(_("%(actor)s gave you kudos") % {"actor": colleague(c.payload)}, excerpt(c.payload)),
    links=("kudos/{kudos_id}", "posts/{post_id}"),
)
AWARD_PUSH = Push(kind="award", channel="recognition", preference="award", text=_award_text, links=_ROUND_LINKS)
NOMINATION_PUSH = Push(
    kind="nomination",
    channel="recognition",
    preference="award",  # a kind of award news: one switch for both
    text=lambda c: PushText(
        _("You were nominated for %(award)s") % {"award": named(c.payload, "award", "category", "award_name")}, excerpt(c.payload)
    ),
    links=_ROUND_LINKS,
)

KUDOS = Reason("kudos", "Kudos received", push=KUDOS_PUSH)
AWARD = Reason("award", "Award won", push=AWARD_PUSH)
NOMINATION = Reason("nomination", "Nominated", push=NOMINATION_PUSH)

# --- Event types ----------------------------------------------------------------------------------

KUDOS_CREATED = EventType(
    name="kudos.created",
    summary="Someone gave kudos (also a `post.created` of kind `kudos` in the feed).",
    payload=KudosCreatedPayloadSerializer,
    audience="the organisation (kudos are public to it)",
    reasons=(KUDOS,),
    push_ids=("post_id", "kudos_id", "key_moment_id"),
)
AWARD_ANNOUNCED = EventType(
    name="award.announced",
    summary="An award round was decided: its winners, or (to a nominee alone) how often they were nominated.",
    payload=AwardAnnouncedSerializer,
    audience="the category's audience (the organisation, or members of its groups) and the winner; a nominee's own event only them",
    reasons=(AWARD, NOMINATION),
    audience_pushes=(AudiencePush(AWARD_PUSH),),
    push_ids=("post_id", "round_id", "category_id"),
)

EVENT_TYPES = (KUDOS_CREATED, AWARD_ANNOUNCED)
REASONS = (KUDOS, AWARD, NOMINATION)
