"""Voice's events, registered in `VoiceConfig.ready()`; services raise them with `notifications.services.emit`."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import serializers

from notifications.catalogue import EventType, Push, PushContext, PushText, Reason
from notifications.push_texts import named

# --- Surveys ----------------------------------------------------------------------------------
# No event is ever raised by a submission: an event (a frame, an inbox row, a log line) with the
# time someone answered would be a key into the anonymous answers (docs/voice.md, "Surveys").


class SurveyEventSerializer(serializers.Serializer):
    """The frame's `data`: the same for everyone it reaches (nothing viewer-specific, no results)."""

    survey_id = serializers.IntegerField()
    instance_id = serializers.IntegerField()
    number = serializers.IntegerField(help_text="Which instance of a recurring survey (1 for a one-off).")
    title = serializers.CharField()
    anonymous = serializers.BooleanField()
    opens_at = serializers.DateTimeField()
    closes_at = serializers.DateTimeField()
    question_count = serializers.IntegerField()


def _opened_text(context: PushContext) -> PushText:
    title = named(context.payload, "title")
    if context.payload.get("anonymous"):
        return PushText(_("New survey: %(title)s") % {"title": title}, _("It takes a minute, and your answers are anonymous."))
    return PushText(_("New survey: %(title)s") % {"title": title}, _("It takes a minute."))


SURVEY_LINKS = ("surveys/{survey_id}",)

SURVEY_OPENED_PUSH = Push(kind="survey", channel="surveys", text=_opened_text, links=SURVEY_LINKS, collapse="survey-{instance_id}")
SURVEY_REMINDER_PUSH = Push(
    kind="survey_reminder",
    channel="surveys",
    text=lambda c: PushText(
        _("Reminder: %(title)s") % {"title": named(c.payload, "title")}, _("The survey closes soon and you have not answered yet.")
    ),
    links=SURVEY_LINKS,
    # Replaces the opening push on the phone: one survey, one notification.
    collapse="survey-{instance_id}",
)
SURVEY_CLOSED_PUSH = Push(
    kind="survey_closed",
    channel="surveys",
    text=lambda c: PushText(_("Survey closed: %(title)s") % {"title": named(c.payload, "title")}, _("The results are ready.")),
    links=("surveys/{survey_id}/results",),
)

REASON_SURVEY = Reason("survey", "A survey opened for you", push=SURVEY_OPENED_PUSH)
REASON_SURVEY_REMINDER = Reason("survey_reminder", "A survey you have not answered closes soon", push=SURVEY_REMINDER_PUSH)
REASON_SURVEY_CLOSED = Reason("survey_closed", "Your survey closed: results are ready", push=SURVEY_CLOSED_PUSH)

_SURVEY_PUSH_IDS = ("survey_id", "instance_id")

SURVEY_OPENED = EventType(
    name="survey.opened",
    summary="A survey (or the next instance of a recurring one) opened: answer it with POST /surveys/{id}/responses.",
    payload=SurveyEventSerializer,
    audience="the survey's audience (the organisation, or members of its groups); each of them gets an inbox item and a push",
    reasons=(REASON_SURVEY,),
    push_ids=_SURVEY_PUSH_IDS,
)
SURVEY_REMINDER = EventType(
    name="survey.reminder",
    summary="A survey closes soon: sent once per instance, only to the people of its audience who have not answered.",
    payload=SurveyEventSerializer,
    audience="the audience members who have not answered (each gets an inbox item and a push; quiet hours hold the push back)",
    reasons=(REASON_SURVEY_REMINDER,),
    push_ids=_SURVEY_PUSH_IDS,
)
SURVEY_CLOSED = EventType(
    name="survey.closed",
    summary="A survey instance closed: its results are final (GET /surveys/{id}/results).",
    payload=SurveyEventSerializer,
    audience="the survey's creator",
    reasons=(REASON_SURVEY_CLOSED,),
    push_ids=_SURVEY_PUSH_IDS,
)

SURVEY_EVENT_TYPES = (SURVEY_OPENED, SURVEY_REMINDER, SURVEY_CLOSED)
SURVEY_REASONS = (REASON_SURVEY, REASON_SURVEY_REMINDER, REASON_SURVEY_CLOSED)
