"""Shapes of the feed's event payloads (the `data` of their WebSocket frames), for feed/events.py.

Output only: they document what the services put in the payload (feed.cards and the
services build it as plain dicts) for the AsyncAPI document; the catalogue test holds
each sample payload to its shape.
"""

from __future__ import annotations

from rest_framework import serializers

from accounts.serializers import UserSummarySerializer
from feed.models import GoalStatus, ReactionType
from feed.serializers import PostCardSerializer, ReactionCountsSerializer


class PersonRefSerializer(serializers.Serializer):
    """A person named in an event: id and name (the avatar is on their cards)."""

    id = serializers.IntegerField()
    name = serializers.CharField()


class ReminderSerializer(serializers.Serializer):
    deadline = serializers.DateTimeField()
    offset_minutes = serializers.IntegerField(help_text="This reminder goes this long before the deadline.")


class EscalationSerializer(serializers.Serializer):
    deadline = serializers.DateTimeField()
    audience_count = serializers.IntegerField()
    acknowledged_count = serializers.IntegerField()
    not_acknowledged_count = serializers.IntegerField()
    not_acknowledged = UserSummarySerializer(many=True, help_text="The first 50 by name; the CSV export has them all.")


class PostUpdatedSerializer(PostCardSerializer):
    reminder = ReminderSerializer(required=False, help_text="Only in a reminder to acknowledge (sent to those still to do it).")
    escalation = EscalationSerializer(required=False, help_text="Only in the summary after the deadline (author and group managers).")


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
    position = serializers.IntegerField()
    change = serializers.ChoiceField(choices=["created", "updated"])


class KeyMomentUpdatedSerializer(serializers.Serializer):
    key_moment = KeyMomentEventCardSerializer()
