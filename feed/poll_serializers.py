"""Shapes of polls in the API (issue #21): the card's `poll`, the `poll.updated` frame, input."""

from __future__ import annotations

from rest_framework import serializers

from accounts.serializers import UserSummarySerializer
from feed.poll_models import MAX_POLL_OPTION_LENGTH, MAX_POLL_OPTIONS, MIN_POLL_OPTIONS, PollResults
from server.api.fields import IdListField


class PollOptionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    text = serializers.CharField()
    votes = serializers.IntegerField(required=False, help_text="People who chose it; absent while the results are hidden from you.")


class PollStateSerializer(serializers.Serializer):
    """A poll as everyone who has not voted sees it: what a `poll.updated` frame carries."""

    options = PollOptionSerializer(many=True, help_text="In the author's order.")
    total_votes = serializers.IntegerField(
        allow_null=True, help_text="People who voted (a multiple-choice voter counts once); null while the results are hidden from you."
    )
    results_visible = serializers.BooleanField(help_text="The counts are shown (`results` allows it for you now).")
    multiple = serializers.BooleanField(help_text="Several options may be chosen.")
    results = serializers.ChoiceField(choices=PollResults.choices, help_text="When counts are shown: always, after voting, after closing.")
    anonymous = serializers.BooleanField(help_text="Nobody sees who chose what; otherwise the post's author does.")
    closes_at = serializers.DateTimeField(allow_null=True)
    closed = serializers.BooleanField(help_text="Closed early or past closes_at: no more votes, results shown to everyone.")


class PollCardSerializer(PollStateSerializer):
    """A post's poll on its card, for the viewer."""

    my_votes = serializers.ListField(child=serializers.IntegerField(), help_text="The option ids I chose (empty: I have not voted).")


class PollUpdatedSerializer(serializers.Serializer):
    """`poll.updated`: votes or the poll's state changed (at most one frame per post per second)."""

    post_id = serializers.IntegerField()
    poll = PollStateSerializer(
        help_text="Counts only when everyone may see them (`always`, or closed). Otherwise, if you voted under "
        "`after_vote` and the card is on screen, refetch GET /posts/{id}."
    )


class PollCreateSerializer(serializers.Serializer):
    options = serializers.ListField(
        child=serializers.CharField(max_length=MAX_POLL_OPTION_LENGTH, trim_whitespace=False),
        min_length=MIN_POLL_OPTIONS,
        max_length=MAX_POLL_OPTIONS,
        help_text=f"{MIN_POLL_OPTIONS} to {MAX_POLL_OPTIONS} distinct texts, in the order shown.",
    )
    multiple = serializers.BooleanField(default=False, help_text="Several options may be chosen.")
    closes_at = serializers.DateTimeField(
        required=False, allow_null=True, default=None, help_text="In the future; absent: open until closed."
    )
    results = serializers.ChoiceField(choices=PollResults.choices, default=PollResults.ALWAYS)
    anonymous = serializers.BooleanField(default=True, help_text="Default true. False: the post's author sees who chose what.")


class PollVoteSerializer(serializers.Serializer):
    option_ids = IdListField(
        max_length=MAX_POLL_OPTIONS,
        help_text="Options of this poll: exactly one unless it is multiple choice. Replaces my earlier choice.",
    )


class PollVoterSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The vote's id (the list's order).")
    option_id = serializers.IntegerField()
    user = UserSummarySerializer()
    voted_at = serializers.DateTimeField()


__all__ = [
    "PollCardSerializer",
    "PollCreateSerializer",
    "PollOptionSerializer",
    "PollStateSerializer",
    "PollUpdatedSerializer",
    "PollVoteSerializer",
    "PollVoterSerializer",
]
