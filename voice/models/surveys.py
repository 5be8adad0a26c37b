"""Pulse surveys: questions asked of an audience, once or every week or month, answered anonymously by default.

Anonymous by construction (docs/voice.md, "Surveys"): who has answered an instance
(`SurveyParticipation`, for the one-submission rule and reminders) and what was answered
(`SurveyResponse` and its `SurveyAnswer` rows) are stored apart with no key that joins
them. The answer side holds no user id for an anonymous survey, no time finer than the
day, and random UUID keys, so neither its columns nor its key order tell who answered
or in what order. Named surveys fill `SurveyResponse.respondent`: personal data, exported
and erased with the person (moderation.privacy).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import Group, Organization


class QuestionKind(models.TextChoices):
    SCALE_0_10 = "scale_0_10", _("Scale 0-10 (eNPS)")
    SCALE_1_5 = "scale_1_5", _("Scale 1-5")
    SINGLE_CHOICE = "single_choice", _("Single choice")
    MULTIPLE_CHOICE = "multiple_choice", _("Multiple choice")
    TEXT = "text", _("Text")


SCALE_RANGES = {QuestionKind.SCALE_0_10: (0, 10), QuestionKind.SCALE_1_5: (1, 5)}
CHOICE_KINDS = (QuestionKind.SINGLE_CHOICE, QuestionKind.MULTIPLE_CHOICE)


class Every(models.TextChoices):
    WEEK = "week", _("Every week")
    MONTH = "month", _("Every month")


class Survey(models.Model):
    """What is asked, of whom, and when the first instance runs; a recurring survey repeats it."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+", verbose_name=_("organisation"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("created by")
    )
    title = models.CharField(max_length=200, verbose_name=_("title"))
    intro = models.TextField(blank=True, verbose_name=_("introduction"))
    anonymous = models.BooleanField(default=True, verbose_name=_("anonymous"))
    # No groups: the whole organisation.
    groups = models.ManyToManyField(Group, blank=True, related_name="+", verbose_name=_("groups"))
    every = models.CharField(max_length=8, choices=Every.choices, blank=True, verbose_name=_("repeats"))
    # The first instance's window; instance n runs n-1 periods later (voice.services.surveys.instance_window).
    opens_at = models.DateTimeField(verbose_name=_("opens"))
    closes_at = models.DateTimeField(verbose_name=_("closes"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created"))

    class Meta:
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")
        constraints = [models.CheckConstraint(condition=models.Q(closes_at__gt=models.F("opens_at")), name="survey_closes_after_open")]
        indexes = [models.Index(fields=["organization", "-id"], name="survey_org_recent_idx")]

    def __str__(self) -> str:
        return self.title


class SurveyQuestion(models.Model):
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions", verbose_name=_("survey"))
    position = models.PositiveSmallIntegerField(verbose_name=_("position"))
    kind = models.CharField(max_length=16, choices=QuestionKind.choices, verbose_name=_("kind"))
    text = models.CharField(max_length=500, verbose_name=_("question"))
    required = models.BooleanField(default=True, verbose_name=_("required"))

    class Meta:
        verbose_name = _("survey question")
        verbose_name_plural = _("survey questions")
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["survey", "position"], name="survey_question_position_unique")]

    def __str__(self) -> str:
        return self.text


class SurveyOption(models.Model):
    question = models.ForeignKey(SurveyQuestion, on_delete=models.CASCADE, related_name="options", verbose_name=_("question"))
    position = models.PositiveSmallIntegerField(verbose_name=_("position"))
    text = models.CharField(max_length=200, verbose_name=_("option"))

    class Meta:
        verbose_name = _("survey option")
        verbose_name_plural = _("survey options")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.text


class SurveyInstance(models.Model):
    """One period of a survey: its window and what the scheduler has done about it (each done once)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+", verbose_name=_("organisation"))
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="instances", verbose_name=_("survey"))
    number = models.PositiveIntegerField(verbose_name=_("number"))
    opens_at = models.DateTimeField(verbose_name=_("opens"))
    closes_at = models.DateTimeField(verbose_name=_("closes"))
    remind_at = models.DateTimeField(verbose_name=_("reminder due"))
    # Guarded markers: the scheduler sets each with a conditional UPDATE, so its event goes out once.
    opened_at = models.DateTimeField(null=True, blank=True, verbose_name=_("opening announced"))
    reminded_at = models.DateTimeField(null=True, blank=True, verbose_name=_("reminder sent"))
    closed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("closed"))
    # The audience's size when it opened, refreshed when it closes: the response rate's denominator,
    # which does not drift with staff changes after the instance is over.
    audience_size = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("audience size"))

    class Meta:
        verbose_name = _("survey instance")
        verbose_name_plural = _("survey instances")
        constraints = [models.UniqueConstraint(fields=["survey", "number"], name="survey_instance_number_unique")]
        indexes = [
            models.Index(fields=["survey", "-opens_at"], name="survey_instance_recent_idx"),
            models.Index(fields=["closes_at"], name="survey_instance_closes_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.survey} #{self.number}"


class SurveyParticipation(models.Model):
    """That a person has answered an instance: nothing about what, nor when (no key into the answers)."""

    instance = models.ForeignKey(SurveyInstance, on_delete=models.CASCADE, related_name="participations", verbose_name=_("instance"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("person"))

    class Meta:
        verbose_name = _("survey participation")
        verbose_name_plural = _("survey participations")
        # The one-submission rule, in the database: a concurrent second submission fails here.
        constraints = [models.UniqueConstraint(fields=["instance", "user"], name="survey_participation_once")]
        indexes = [models.Index(fields=["user", "instance"], name="survey_participation_user_idx")]


class SurveyResponse(models.Model):
    """One submission's answers. Random key, the day only, no person unless the survey is named."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    instance = models.ForeignKey(SurveyInstance, on_delete=models.CASCADE, related_name="responses", verbose_name=_("instance"))
    submitted_on = models.DateField(verbose_name=_("submitted on"))
    # Only for a named survey; always empty for an anonymous one.
    respondent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("respondent")
    )
    # The respondent's groups when they answered: what `?group=` breaks results down by.
    groups = models.ManyToManyField(Group, through="SurveyResponseGroup", related_name="+", verbose_name=_("groups"))

    class Meta:
        verbose_name = _("survey response")
        verbose_name_plural = _("survey responses")
        indexes = [models.Index(fields=["instance"], name="survey_response_instance_idx")]


class SurveyResponseGroup(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    response = models.ForeignKey(SurveyResponse, on_delete=models.CASCADE, related_name="+")
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="+")
    # The response's (shared by all of the instance's): a group's responses are found by index alone.
    instance = models.ForeignKey(SurveyInstance, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "response"], name="survey_response_group_unique")]
        indexes = [models.Index(fields=["group", "instance", "response"], name="survey_response_group_idx")]


class SurveyAnswer(models.Model):
    """One answer: a scale value, one chosen option (a multiple choice has a row per option) or a text."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    response = models.ForeignKey(SurveyResponse, on_delete=models.CASCADE, related_name="answers", verbose_name=_("response"))
    # A copy of the response's (shared by every answer of the instance, so no key to anyone): results
    # aggregate an instance's answers without joining 20,000 responses.
    instance = models.ForeignKey(SurveyInstance, on_delete=models.CASCADE, related_name="+", verbose_name=_("instance"))
    question = models.ForeignKey(SurveyQuestion, on_delete=models.CASCADE, related_name="+", verbose_name=_("question"))
    value = models.SmallIntegerField(null=True, blank=True, verbose_name=_("value"))
    option = models.ForeignKey(SurveyOption, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("option"))
    text = models.TextField(blank=True, verbose_name=_("text"))

    class Meta:
        verbose_name = _("survey answer")
        verbose_name_plural = _("survey answers")
        indexes = [models.Index(fields=["instance", "question", "value", "option"], name="survey_answer_tally_idx")]
