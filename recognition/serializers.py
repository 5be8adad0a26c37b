from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.serializers import GroupRefSerializer, PersonRefSerializer, UserSummarySerializer
from media.serializers import MediaSerializer
from recognition.models import AwardCategory, AwardRound, CompanyValue, DecisionMethod, Kudos, Nomination, RoundStatus
from recognition.months import month_name
from recognition.services.awards import NOMINATION_REASON_MIN_LENGTH
from server.api.fields import IdField, IdListField, RuleTextField
from server.api.pagination import OnePageSerializer

# --- Values -----------------------------------------------------------------------------------------


class ValueSerializer(serializers.ModelSerializer):
    class Meta:
        model = CompanyValue
        fields = ["id", "name", "description", "emoji", "active", "position"]


class ValueWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    description = serializers.CharField(max_length=2000, allow_blank=True, default="")
    emoji = serializers.CharField(max_length=16, allow_blank=True, default="")
    active = serializers.BooleanField(default=True)
    position = serializers.IntegerField(min_value=0, max_value=10_000, default=0)


class ValueCardSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    emoji = serializers.CharField()


# --- Kudos ------------------------------------------------------------------------------------------


class KeyMomentCardSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()


class KudosSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    giver = UserSummarySerializer()
    recipients = serializers.SerializerMethodField()
    message = serializers.CharField()
    value = ValueCardSerializer(allow_null=True)
    image = MediaSerializer(allow_null=True)
    key_moment = KeyMomentCardSerializer(allow_null=True, help_text="The customer-journey step this kudos is about.")
    post_id = serializers.IntegerField(allow_null=True, help_text="The kudos' card in the feed.")
    created_at = serializers.DateTimeField()

    @extend_schema_field(UserSummarySerializer(many=True))
    def get_recipients(self, kudos: Kudos) -> list[dict]:
        return UserSummarySerializer([link.recipient for link in kudos.recipient_links.all()], many=True).data


class KudosCardSerializer(serializers.Serializer):
    """A kudos inside its feed card (`kudos`) and its `kudos.created` event (recognition.services.kudos.kudos_card)."""

    id = serializers.IntegerField()
    giver = PersonRefSerializer()
    recipients = PersonRefSerializer(many=True)
    value = ValueCardSerializer(allow_null=True)
    message = serializers.CharField()
    image_id = serializers.IntegerField(allow_null=True)
    image = MediaSerializer(allow_null=True, help_text="The photo `image_id` names, as every image is shown.")
    key_moment = KeyMomentCardSerializer(allow_null=True, help_text="The customer-journey step this kudos is about.")


class KudosCreatedPayloadSerializer(KudosCardSerializer):
    post_id = serializers.IntegerField(help_text="The kudos' card in the feed.")
    created_at = serializers.DateTimeField()


class KudosCreateSerializer(serializers.Serializer):
    recipient_ids = IdListField(min_length=1, max_length=10)
    message = serializers.CharField(max_length=60_000)
    value_id = IdField(required=False, allow_null=True, default=None)
    image_id = IdField(required=False, allow_null=True, default=None, help_text="An upload of yours (POST /media).")
    key_moment_id = IdField(required=False, allow_null=True, default=None, help_text="A key moment of the customer journey.")


class KudosNominateSerializer(serializers.Serializer):
    round_id = IdField()
    reason = serializers.CharField(max_length=60_000, required=False, allow_blank=True, default="", help_text="Empty = the kudos message.")
    nominee_id = IdField(required=False, allow_null=True, default=None, help_text="Needed only when the kudos has several recipients.")


# --- Categories and rounds --------------------------------------------------------------------------


class RoundBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    month = serializers.CharField(source="month_label")
    status = serializers.ChoiceField(choices=RoundStatus.choices)


class CategorySerializer(serializers.ModelSerializer):
    group_ids = serializers.SerializerMethodField()

    class Meta:
        model = AwardCategory
        fields = [
            "id",
            "name",
            "description",
            "icon",
            "method",
            "confidential",
            "max_nominations_per_nominator",
            "leader_pick_days",
            "group_ids",
            "active",
        ]

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_group_ids(self, category: AwardCategory) -> list[int]:
        return sorted(g.pk for g in category.groups.all())


class CategoryWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    description = serializers.CharField(max_length=2000, allow_blank=True, default="")
    icon = serializers.CharField(max_length=16, allow_blank=True, default="")
    method = serializers.ChoiceField(choices=DecisionMethod.choices, default=DecisionMethod.MOST_NOMINATIONS)
    confidential = serializers.BooleanField(default=False)
    max_nominations_per_nominator = serializers.IntegerField(min_value=1, max_value=100, default=3)
    leader_pick_days = serializers.IntegerField(min_value=1, max_value=60, default=7)
    group_ids = IdListField(max_length=200, default=list)
    active = serializers.BooleanField(default=True)


class CategoryCardSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    icon = serializers.CharField()
    method = serializers.ChoiceField(choices=DecisionMethod.choices)
    confidential = serializers.BooleanField()


class RoundSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    category = CategoryCardSerializer()
    month = serializers.CharField(source="month_label", help_text="YYYY-MM in the organisation's calendar.")
    month_name = serializers.SerializerMethodField(help_text='The month in your language: "december 2026", "December 2026".')
    status = serializers.ChoiceField(choices=RoundStatus.choices)
    opens_at = serializers.DateTimeField()
    closes_at = serializers.DateTimeField()
    pick_deadline = serializers.DateTimeField(allow_null=True, help_text="Leader-pick rounds: when most nominations decides instead.")
    announced_at = serializers.DateTimeField(allow_null=True)
    post_id = serializers.IntegerField(allow_null=True, help_text="The announcement's card in the feed, once announced.")
    my_nomination_count = serializers.IntegerField(help_text="Nominations you made in this round.")

    def get_month_name(self, round: AwardRound) -> str:
        return month_name(round.month)


# --- Nominations --------------------------------------------------------------------------------


class NominationCreateSerializer(serializers.Serializer):
    nominee_id = IdField()
    # The service's rule (graphemes, after stripping) in the schema too (issue #25 item 5).
    reason = RuleTextField(
        max_length=60_000,
        service_min_length=NOMINATION_REASON_MIN_LENGTH,
        help_text=f"At least {NOMINATION_REASON_MIN_LENGTH} characters (not counting surrounding spaces).",
    )


class NominationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    round_id = serializers.IntegerField()
    nominee = UserSummarySerializer()
    nominator = serializers.SerializerMethodField(help_text="Null in confidential categories, except for admins and the nominator.")
    reason = serializers.CharField()
    evidence_kudos_ids = serializers.SerializerMethodField()
    endorsement_count = serializers.IntegerField()
    endorsed_by_me = serializers.BooleanField()
    created_at = serializers.DateTimeField()

    def _shows_nominator(self, nomination: Nomination) -> bool:
        viewer = self.context["request"].user
        return viewer.pk == nomination.nominator_id or viewer.is_org_admin or not nomination.round.category.confidential

    @extend_schema_field(UserSummarySerializer(allow_null=True))
    def get_nominator(self, nomination: Nomination) -> dict | None:
        return UserSummarySerializer(nomination.nominator).data if self._shows_nominator(nomination) else None

    @extend_schema_field(
        serializers.ListField(
            child=serializers.IntegerField(),
            help_text="Kudos attached as evidence; where the nominator is hidden, not the kudos they gave themselves.",
        )
    )
    def get_evidence_kudos_ids(self, nomination: Nomination) -> list[int]:
        kudos = nomination.evidence_kudos.all()
        if not self._shows_nominator(nomination):
            # Kudos are public with their giver: a kudos the nominator gave, promoted by them, would name them.
            kudos = [k for k in kudos if k.giver_id != nomination.nominator_id]
        return sorted(k.pk for k in kudos)


class PickWinnerSerializer(serializers.Serializer):
    nominee_id = IdField()
    reason = serializers.CharField(
        max_length=60_000,
        required=False,
        allow_blank=True,
        default="",
        help_text="Why you picked them, quoted on the award card and in the results (up to 2,000 characters). Default: none, "
        "the card quotes the nomination colleagues backed most.",
    )


# --- Results ----------------------------------------------------------------------------------------


class StandingSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    nominee = UserSummarySerializer()
    nomination_count = serializers.IntegerField(help_text="Distinct colleagues who nominated this person.")
    endorsement_count = serializers.IntegerField()
    first_nominated_at = serializers.DateTimeField()
    is_winner = serializers.BooleanField()


class WinnerSerializer(StandingSerializer):
    reason = serializers.CharField(
        help_text="The reason quoted in the announcement: the leader's own words when they picked with one, "
        "else the nomination reason colleagues backed most."
    )
    why = serializers.CharField(help_text='"Why this winner": the rule that decided, in words.')


class ResultsSerializer(OnePageSerializer):
    """A round's results: the standings as a list (`results`, every nominee, complete in one page), with the round and its winners."""

    round = RoundSerializer()
    decided_by = serializers.ChoiceField(
        choices=["most_nominations", "leader_pick", "most_nominations_fallback", ""],
        help_text="Empty while a leader-pick round waits for its pick.",
    )
    rule = serializers.CharField(help_text="How this category decides, in words.")
    pick_reason = serializers.CharField(
        allow_null=True, help_text="The leader's reason for their pick; null unless a leader picked with one."
    )
    winners = WinnerSerializer(many=True)
    results = StandingSerializer(many=True, help_text="Every nominee by rank; a leader's pick is rank 1.")


class AwardCardCategorySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    icon = serializers.CharField()


class AwardCardWinnerSerializer(PersonRefSerializer):
    reason = serializers.CharField(
        help_text="The reason quoted in the announcement: the leader's own words when they picked with one, "
        "else the nomination reason colleagues backed most."
    )


class AwardCardSerializer(serializers.Serializer):
    """An announced award inside its feed card (`award`) and its event (recognition.services.closing.award_card)."""

    round_id = serializers.IntegerField()
    category = AwardCardCategorySerializer()
    month = serializers.CharField(help_text="YYYY-MM in the organisation's calendar.")
    month_name = serializers.CharField(
        help_text='The month as people say it, in the reader\'s language: "december 2026", "December 2026" '
        "(in events and notifications: the organisation's language)."
    )
    winners = AwardCardWinnerSerializer(many=True)


# --- Wall of fame, leaderboard, insights -------------------------------------------------------------


class ValueCountSerializer(serializers.Serializer):
    value = ValueCardSerializer()
    count = serializers.IntegerField()


class AwardWonSerializer(serializers.Serializer):
    round_id = serializers.IntegerField()
    category = CategoryCardSerializer()
    month = serializers.CharField()
    month_name = serializers.CharField(help_text="The month in your language.")
    reason = serializers.CharField()


class WallOfFameSerializer(serializers.Serializer):
    user = UserSummarySerializer()
    kudos_received_count = serializers.IntegerField()
    kudos_given_count = serializers.IntegerField()
    by_value = ValueCountSerializer(many=True)
    awards = AwardWonSerializer(many=True)
    recent_kudos = KudosSerializer(many=True)


class WallWinnerSerializer(serializers.Serializer):
    round_id = serializers.IntegerField()
    category = CategoryCardSerializer()
    month = serializers.CharField(help_text="The award's month, YYYY-MM in the organisation's calendar.")
    month_name = serializers.CharField(help_text='The award\'s month in your language: "december 2026", "December 2026".')
    winner = UserSummarySerializer()
    reason = serializers.CharField(help_text="The reason quoted in the announcement.")
    announced_at = serializers.DateTimeField()


class RecognitionWallSerializer(serializers.Serializer):
    """The organisation's wall of fame for one month (the staff-room screen)."""

    month = serializers.CharField(help_text="YYYY-MM in the organisation's calendar.")
    month_name = serializers.CharField(help_text="The month in your language.")
    winners = WallWinnerSerializer(
        many=True, help_text="Award winners announced this month (a month's round is announced after it ends), by category."
    )
    top_values = ValueCountSerializer(many=True, help_text="The values colleagues thanked each other for most this month (up to 5).")
    kudos_count = serializers.IntegerField(help_text="Kudos given this month.")


class LeaderboardEntrySerializer(serializers.Serializer):
    rank = serializers.IntegerField(help_text="Competition ranking: equal counts share a rank, the next skips (1, 1, 3).")
    user = UserSummarySerializer()
    kudos_received = serializers.IntegerField()


class LeaderboardSerializer(OnePageSerializer):
    month = serializers.CharField()
    group_id = serializers.IntegerField(allow_null=True)
    results = LeaderboardEntrySerializer(many=True, help_text="The top 20 by kudos received that month, ties by id (complete in one page).")


class GroupMonthSerializer(serializers.Serializer):
    month = serializers.CharField()
    group = GroupRefSerializer()
    kudos_count = serializers.IntegerField()
    nomination_count = serializers.IntegerField()


class ReciprocalPairSerializer(serializers.Serializer):
    a = UserSummarySerializer()
    b = UserSummarySerializer()
    a_to_b = serializers.IntegerField()
    b_to_a = serializers.IntegerField()


class InsightsSerializer(serializers.Serializer):
    group_ids = serializers.ListField(child=serializers.IntegerField(), help_text="The groups this report covers.")
    per_group = GroupMonthSerializer(many=True, help_text="Kudos received and nominations per group per month (last 6 months).")
    values_used = ValueCountSerializer(many=True, help_text="Last 90 days.")
    not_recognised_count = serializers.IntegerField()
    not_recognised = UserSummarySerializer(many=True, help_text="Up to 50 people with no kudos or award in 90 days, by name.")
    reciprocal_pairs = ReciprocalPairSerializer(many=True, help_text="Pairs who gave each other kudos in the last 90 days.")
