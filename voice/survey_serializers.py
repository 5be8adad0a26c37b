"""The shapes of the survey API; no rules beyond the shape (voice.services.surveys checks the rest)."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.serializers import GroupRefSerializer, PersonRefSerializer
from server.api.fields import IdField, IdListField
from voice.models import Every, QuestionKind
from voice.models.surveys import CHOICE_KINDS

MAX_QUESTIONS = 50
SURVEY_STATUS_CHOICES = [("scheduled", "scheduled"), ("open", "open"), ("closed", "closed")]
MY_STATUS_CHOICES = [("not_started", "not_started"), ("submitted", "submitted")]
MIN_OPTIONS, MAX_OPTIONS = 2, 10


# --- Input ---------------------------------------------------------------------------------------


class QuestionInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=QuestionKind.choices)
    text = serializers.CharField(max_length=2000, trim_whitespace=False)
    options = serializers.ListField(
        child=serializers.CharField(max_length=1000, trim_whitespace=False),
        required=False,
        max_length=MAX_OPTIONS,
        help_text="2-10 texts, for single_choice and multiple_choice only.",
    )
    required = serializers.BooleanField(default=True)

    def validate(self, attrs):
        options = attrs.get("options") or []
        if attrs["kind"] in CHOICE_KINDS:
            if not MIN_OPTIONS <= len(options) <= MAX_OPTIONS:
                raise serializers.ValidationError({"options": [_("A choice question has 2 to 10 options.")]})
        elif options:
            raise serializers.ValidationError({"options": [_("Only choice questions have options.")]})
        return attrs


class RecurrenceSerializer(serializers.Serializer):
    every = serializers.ChoiceField(choices=Every.choices)


class SurveyWriteSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=1000, trim_whitespace=False)
    intro = serializers.CharField(required=False, allow_blank=True, max_length=20000, trim_whitespace=False)
    group_ids = IdListField(required=False, help_text="Empty or absent: the whole organisation (admins only).")
    anonymous = serializers.BooleanField(default=True)
    questions = serializers.ListField(child=QuestionInputSerializer(), min_length=1, max_length=MAX_QUESTIONS)
    opens_at = serializers.DateTimeField(required=False, allow_null=True, help_text="Default: now.")
    closes_at = serializers.DateTimeField()
    recurrence = RecurrenceSerializer(required=False, allow_null=True, help_text="Repeat every week or month (null: once).")


class AnswerInputSerializer(serializers.Serializer):
    question_id = IdField()
    value = serializers.IntegerField(required=False, allow_null=True, min_value=-1000, max_value=1000, help_text="For scale questions.")
    option_ids = IdListField(required=False, max_length=MAX_OPTIONS, help_text="For choice questions.")
    text = serializers.CharField(required=False, allow_blank=True, max_length=20000, trim_whitespace=False, help_text="For text questions.")


class ResponseInputSerializer(serializers.Serializer):
    answers = serializers.ListField(child=AnswerInputSerializer(), max_length=MAX_QUESTIONS)


# --- Output --------------------------------------------------------------------------------------


class InstanceRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.IntegerField(help_text="1 for a one-off survey; counts up for a recurring one.")
    opens_at = serializers.DateTimeField()
    closes_at = serializers.DateTimeField()


class OptionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    text = serializers.CharField()


class QuestionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=QuestionKind.choices)
    text = serializers.CharField()
    required = serializers.BooleanField()
    options = OptionSerializer(many=True, source="options.all")


class SurveySerializer(serializers.Serializer):
    """A survey as its audience sees it; `opens_at`/`closes_at`/`my_status` are of its current instance."""

    id = serializers.IntegerField()
    title = serializers.CharField()
    intro = serializers.CharField()
    anonymous = serializers.BooleanField()
    groups = GroupRefSerializer(many=True, source="groups.all", help_text="Empty: the whole organisation.")
    recurrence = serializers.SerializerMethodField()
    status = serializers.SerializerMethodField()
    opens_at = serializers.DateTimeField(source="current_opens_at")
    closes_at = serializers.DateTimeField(source="current_closes_at")
    instance = serializers.SerializerMethodField()
    my_status = serializers.SerializerMethodField()
    question_count = serializers.IntegerField()
    created_by = PersonRefSerializer(allow_null=True)
    can_edit = serializers.SerializerMethodField(help_text="PATCH and DELETE are allowed (creator or admin, before it opens).")

    @extend_schema_field(RecurrenceSerializer(allow_null=True))
    def get_recurrence(self, survey) -> dict | None:
        return {"every": survey.every} if survey.every else None

    @extend_schema_field(serializers.ChoiceField(choices=SURVEY_STATUS_CHOICES))
    def get_status(self, survey) -> str:
        now = self.context.get("now") or timezone.now()
        if survey.current_opens_at > now:
            return "scheduled"
        return "open" if survey.current_closes_at > now else "closed"

    @extend_schema_field(InstanceRefSerializer)
    def get_instance(self, survey) -> dict:
        return {name: getattr(survey, f"current_{name}") for name in ("id", "number", "opens_at", "closes_at")}

    @extend_schema_field(serializers.ChoiceField(choices=MY_STATUS_CHOICES))
    def get_my_status(self, survey) -> str:
        return "submitted" if survey.answered else "not_started"

    def get_can_edit(self, survey) -> bool:
        user = self.context["request"].user
        now = self.context.get("now") or timezone.now()
        return (user.is_org_admin or survey.created_by_id == user.pk) and survey.current_number == 1 and survey.current_opens_at > now


class SurveyDetailSerializer(SurveySerializer):
    questions = QuestionSerializer(many=True, source="questions.all")


class ResultsInstanceSerializer(InstanceRefSerializer):
    closed = serializers.BooleanField()


class DistributionSerializer(serializers.Serializer):
    value = serializers.IntegerField(allow_null=True, help_text="The scale value (scale questions).")
    option_id = serializers.IntegerField(allow_null=True, help_text="The option (choice questions).")
    text = serializers.CharField(allow_null=True, help_text="The option's text.")
    count = serializers.IntegerField()


class QuestionResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=QuestionKind.choices)
    text = serializers.CharField()
    answer_count = serializers.IntegerField()
    distribution = DistributionSerializer(many=True)
    mean = serializers.FloatField(allow_null=True, help_text="Scale questions.")
    enps = serializers.FloatField(allow_null=True, help_text="scale_0_10: % answering 9-10 minus % answering 0-6.")
    texts = serializers.ListField(child=serializers.CharField(), help_text="Text questions, in random order (at most 500, sampled).")


class SurveyResultsSerializer(serializers.Serializer):
    """`suppressed: true` (and no numbers) when built from fewer responses than the organisation's minimum, or when
    the rest of the survey outside `group` is below it."""

    survey_id = serializers.IntegerField()
    instance = ResultsInstanceSerializer()
    group_id = serializers.IntegerField(allow_null=True)
    min_group_size = serializers.IntegerField()
    suppressed = serializers.BooleanField()
    response_count = serializers.IntegerField(required=False)
    audience_size = serializers.IntegerField(required=False)
    response_rate = serializers.FloatField(required=False, help_text="A fraction, 0..1.")
    questions = QuestionResultSerializer(many=True, required=False)


class TrendQuestionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    text = serializers.CharField()
    mean = serializers.FloatField(allow_null=True)
    enps = serializers.FloatField(allow_null=True)


class TrendPointSerializer(serializers.Serializer):
    instance = ResultsInstanceSerializer()
    suppressed = serializers.BooleanField()
    response_count = serializers.IntegerField(required=False)
    response_rate = serializers.FloatField(required=False)
    questions = TrendQuestionSerializer(many=True, required=False, help_text="The scale questions.")


class TrendSerializer(serializers.Serializer):
    survey_id = serializers.IntegerField()
    group_id = serializers.IntegerField(allow_null=True)
    min_group_size = serializers.IntegerField()
    every = serializers.ChoiceField(choices=Every.choices, allow_null=True)
    instances = TrendPointSerializer(many=True)
