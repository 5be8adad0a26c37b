"""Shapes of the voice API. Signal cards are dicts from voice.signal_cards; these document them and read input."""

from __future__ import annotations

from rest_framework import serializers

from accounts.serializers import GroupRefSerializer, UserSummarySerializer
from media.serializers import MediaSerializer
from server.api.fields import IdField, IdListField
from voice.models.signals import SETTABLE_STATUS_CHOICES, SignalEntryKind, SignalKind, SignalStatus, SignalVisibility
from voice.services.signals import MAX_IMAGES_PER_SIGNAL, MAX_NOTE_GRAPHEMES, MAX_TITLE_GRAPHEMES

# --- Signals: output ----------------------------------------------------------------------------


class KeyMomentRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()


class SignalSummarySerializer(serializers.Serializer):
    """A signal as every event carries it: the same for everyone who receives it."""

    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=SignalKind.choices)
    title = serializers.CharField()
    author = UserSummarySerializer(allow_null=True, help_text="Null when anonymous (on a card: except to the author).")
    anonymous = serializers.BooleanField()
    visibility = serializers.ChoiceField(choices=SignalVisibility.choices)
    status = serializers.ChoiceField(choices=SignalStatus.choices)
    key_moment = KeyMomentRefSerializer(allow_null=True)
    group = GroupRefSerializer(allow_null=True, help_text="Where it happens (one of the author's groups).")
    owner = UserSummarySerializer(allow_null=True, help_text="Who answers it; null while it waits in the admins' triage list.")
    support_count = serializers.IntegerField(help_text="Colleagues who support it (never the author).")
    group_count = serializers.IntegerField(help_text="Distinct groups named by supporters, plus the signal's own group.")
    merged_into = serializers.IntegerField(allow_null=True, help_text="The signal it was merged into.")
    created_at = serializers.DateTimeField()
    first_response_at = serializers.DateTimeField(allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)


class SignalEntrySerializer(serializers.Serializer):
    """One line of the public timeline."""

    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=SignalEntryKind.choices)
    status = serializers.ChoiceField(
        choices=SignalStatus.choices, allow_null=True, help_text="The status it moved to (`status`, `merged`)."
    )
    message = serializers.CharField(help_text="What was done, or why not; may be empty for acknowledged/in_progress.")
    actor = UserSummarySerializer(allow_null=True)
    owner = UserSummarySerializer(allow_null=True, help_text="The new owner (`assigned`).")
    other_signal_id = serializers.IntegerField(allow_null=True, help_text="`merged`: the other signal of the merge.")
    created_at = serializers.DateTimeField()


class MySupportSerializer(serializers.Serializer):
    group_id = serializers.IntegerField(allow_null=True)
    note = serializers.CharField()


class SignalSerializer(SignalSummarySerializer):
    """A signal card (list and detail)."""

    mine = serializers.BooleanField(help_text="I raised it (also when anonymous).")
    body = serializers.CharField()
    images = MediaSerializer(many=True)
    supported_by_me = serializers.BooleanField()
    my_support = MySupportSerializer(allow_null=True)
    announcement_post_id = serializers.IntegerField(allow_null=True, help_text="Its `you_said_we_did` post, once announced.")
    thanks_to = UserSummarySerializer(
        allow_null=True, help_text="A resolved signal's owner, whom the app may offer to thank with an ordinary POST /kudos."
    )
    timeline = SignalEntrySerializer(many=True)


class SignalCardPayloadSerializer(serializers.Serializer):
    """The `signal` of a `you_said_we_did` post."""

    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=SignalKind.choices)
    title = serializers.CharField()
    message = serializers.CharField(help_text="What was done.")
    support_count = serializers.IntegerField()
    group_count = serializers.IntegerField()
    key_moment = KeyMomentRefSerializer(allow_null=True)


# --- Signals: event payloads --------------------------------------------------------------------


class SignalCreatedPayloadSerializer(SignalSummarySerializer):
    body = serializers.CharField()


class SignalStatusChangedPayloadSerializer(SignalSummarySerializer):
    signal_id = serializers.IntegerField()
    entry = SignalEntrySerializer()
    message = serializers.CharField()
    post_id = serializers.IntegerField(required=False, help_text="The `you_said_we_did` post, when the resolution was announced.")


class SignalPromisePayloadSerializer(SignalSummarySerializer):
    step = serializers.ChoiceField(choices=["reminder", "escalation"])
    promise_hours = serializers.IntegerField(help_text="The organisation's `voice_first_response_hours`.")
    due_at = serializers.DateTimeField(help_text="When the first response was due.")


# --- Signals: input -----------------------------------------------------------------------------


class SignalCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=SignalKind.choices)
    title = serializers.CharField(max_length=2000, help_text=f"At most {MAX_TITLE_GRAPHEMES} characters.")
    body = serializers.CharField(max_length=50000, help_text="At most 5,000 characters.")
    key_moment_id = IdField(required=False, allow_null=True, default=None)
    group_id = IdField(required=False, allow_null=True, default=None, help_text="Where it happens: one of my groups.")
    image_ids = IdListField(required=False, default=list, max_length=MAX_IMAGES_PER_SIGNAL)
    visibility = serializers.ChoiceField(choices=SignalVisibility.choices, default=SignalVisibility.ORGANIZATION)
    anonymous = serializers.BooleanField(required=False, default=False, help_text="Shown to nobody as mine but me.")


class SignalUpdateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=SignalKind.choices, required=False)
    title = serializers.CharField(max_length=2000, required=False)
    body = serializers.CharField(max_length=50000, required=False)
    key_moment_id = IdField(required=False, allow_null=True)
    group_id = IdField(required=False, allow_null=True)
    visibility = serializers.ChoiceField(choices=SignalVisibility.choices, required=False)


class SignalSupportSerializer(serializers.Serializer):
    group_id = IdField(required=False, allow_null=True, default=None, help_text="Where it happens to me: one of my groups.")
    note = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=5000, help_text=f"At most {MAX_NOTE_GRAPHEMES} characters."
    )


class SignalAssignSerializer(serializers.Serializer):
    owner_id = IdField(help_text="A leader or admin of the organisation.")


class SignalStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=SETTABLE_STATUS_CHOICES)
    message = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=50000, help_text="At least 20 characters for resolved and declined."
    )
    announce = serializers.BooleanField(required=False, default=False, help_text="Resolved only: publish a `you_said_we_did` post.")


class SignalMergeSerializer(serializers.Serializer):
    into_id = IdField(help_text="The signal it joins.")


# --- Insights -----------------------------------------------------------------------------------


class InsightsRowSerializer(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True, help_text="Null: signals without a key moment (or group).")
    name = serializers.CharField(allow_null=True)
    open = serializers.IntegerField()
    resolved = serializers.IntegerField()
    support = serializers.IntegerField(help_text="Support of its signals, summed.")


class InsightsSignalSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=SignalKind.choices)
    title = serializers.CharField()
    status = serializers.ChoiceField(choices=SignalStatus.choices)
    support_count = serializers.IntegerField()
    group_count = serializers.IntegerField()
    group = GroupRefSerializer(allow_null=True)
    owner = UserSummarySerializer(allow_null=True)
    created_at = serializers.DateTimeField()


class SignalInsightsSerializer(serializers.Serializer):
    computed_at = serializers.DateTimeField(help_text="When these figures were computed (they are kept up to a minute).")
    promise_hours = serializers.IntegerField()
    total = serializers.IntegerField()
    by_key_moment = InsightsRowSerializer(many=True)
    by_group = InsightsRowSerializer(many=True)
    most_supported_open = InsightsSignalSerializer(many=True)
    oldest_unanswered = InsightsSignalSerializer(many=True)
    median_hours_to_first_response = serializers.FloatField(allow_null=True)
    median_days_to_resolution = serializers.FloatField(allow_null=True)
    share_answered_within_promise = serializers.FloatField(
        allow_null=True, help_text="0..1: of the signals answered or overdue, those answered within the promise."
    )
