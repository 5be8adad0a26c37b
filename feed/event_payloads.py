"""Shapes of the feed's event payloads (the `data` of their WebSocket frames), for feed/events.py.

Output only: they document what the services put in the payload (feed.cards and the
services build it as plain dicts) for the AsyncAPI document; the catalogue test holds
each sample payload to its shape.
"""

from __future__ import annotations

import functools

from drf_spectacular.utils import PolymorphicProxySerializer
from rest_framework import serializers

from accounts.serializers import PersonRefSerializer, UserSummarySerializer
from feed.models import GoalStatus, ReactionType
from feed.serializers import ReactionCountsSerializer, post_card_variants


class ReminderSerializer(serializers.Serializer):
    deadline = serializers.DateTimeField(allow_null=True, help_text="null: a reminder sent by hand for a post without a deadline.")
    offset_minutes = serializers.IntegerField(
        allow_null=True, help_text="This reminder goes this long before the deadline; null: sent by hand (remind now)."
    )


class EscalationSerializer(serializers.Serializer):
    deadline = serializers.DateTimeField()
    audience_count = serializers.IntegerField()
    acknowledged_count = serializers.IntegerField()
    not_acknowledged_count = serializers.IntegerField()
    not_acknowledged = UserSummarySerializer(many=True, help_text="The first 50 by name; the CSV export has them all.")


@functools.cache
def post_updated_variants() -> dict[str, type[serializers.Serializer]]:
    """The post card's variants (one per kind), each with the notices a mandatory read may carry."""
    made: dict[type, type[serializers.Serializer]] = {}
    for card in post_card_variants().values():
        if card not in made:
            fields = {
                "reminder": ReminderSerializer(required=False, help_text="Only in a reminder to acknowledge (to those still to do it)."),
                "escalation": EscalationSerializer(required=False, help_text="Only in the summary after the deadline (author, managers)."),
            }
            name = card.__name__.replace("PostCard", "PostUpdated")
            made[card] = type(name, (card,), {**fields, "__doc__": f"{card.__doc__} With the notices of a mandatory read."})
    return {kind: made[card] for kind, card in post_card_variants().items()}


class PostUpdatedSerializer(PolymorphicProxySerializer):
    """`post.updated`: the post's card (a union by `kind`, as PostCard), with a mandatory read's notices."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, component_name="PostUpdated", serializers=post_updated_variants, resource_type_field_name="kind", **kwargs)


class RemovedCommentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    post_id = serializers.IntegerField()
    removed = serializers.BooleanField(help_text="Always true: drop this comment from the screen.")


class ReactionUpdatedSerializer(serializers.Serializer):
    post_id = serializers.IntegerField()
    user_id = serializers.IntegerField(help_text="Who reacted: your own taps come back too.")
    type = serializers.ChoiceField(choices=ReactionType.choices, allow_null=True, help_text="null: the reaction was taken back.")
    reaction_counts = ReactionCountsSerializer()


class AcknowledgedSerializer(serializers.Serializer):
    post_id = serializers.IntegerField()
    user = PersonRefSerializer()
    acknowledged_at = serializers.DateTimeField()


class GoalEventCardSerializer(serializers.Serializer):
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


class GoalUpdatedSerializer(serializers.Serializer):
    goal = GoalEventCardSerializer()


class KeyMomentEventCardSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    description = serializers.CharField()
    expected_behaviour = serializers.CharField()
    position = serializers.IntegerField(help_text="In the journey; an archived one keeps its last position.")
    change = serializers.ChoiceField(
        choices=["created", "updated", "archived", "restored"], help_text="archived: drop it from the tab; restored: it is back, last."
    )


class KeyMomentUpdatedSerializer(serializers.Serializer):
    key_moment = KeyMomentEventCardSerializer()
