"""Voice's events. Registered in `VoiceConfig.ready()`; services raise them with `notifications.services.emit`.

Signal payloads are viewer-neutral (voice.signal_cards.signal_summary): an anonymous signal's
author is in none of them, whoever receives the frame. Payload shapes are named by path
(voice.serializers imports the services, which import this module).
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import serializers

from notifications.catalogue import EventType, Push, PushContext, PushText, Reason
from notifications.push_texts import excerpt, named

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


# --- Signals: pushes --------------------------------------------------------------------------

_SIGNAL_LINKS = ("signals/{signal_id}",)


def _title(context: PushContext) -> str:
    return named(context.payload, "title") or named(context.payload, "signal")


def _status_text(context: PushContext) -> PushText:
    status = context.payload.get("status")
    labels = {
        "acknowledged": _("Seen: %(title)s"),
        "in_progress": _("Being worked on: %(title)s"),
        "resolved": _("Resolved: %(title)s"),
        "declined": _("Declined: %(title)s"),
        "merged": _("Merged with a similar signal: %(title)s"),
    }
    title = labels.get(status, _("Update on: %(title)s")) % {"title": _title(context)}
    return PushText(title, excerpt(context.payload))


SIGNAL_NEW_PUSH = Push(
    kind="signal_new",
    channel="voice",
    text=lambda c: PushText(_("New signal: %(title)s") % {"title": _title(c)}, excerpt(c.payload)),
    links=_SIGNAL_LINKS,
)
SIGNAL_SUPPORTED_PUSH = Push(
    kind="signal_supported",
    channel="voice",
    text=lambda c: PushText(
        _("More colleagues recognise: %(title)s") % {"title": _title(c)},
        _("%(count)d colleagues at %(groups)d locations")
        % {"count": c.payload.get("support_count", 0), "groups": c.payload.get("group_count", 0)},
    ),
    links=_SIGNAL_LINKS,
    collapse="signal-support-{signal_id}",
)
SIGNAL_UPDATE_PUSH = Push(kind="signal_update", channel="voice", text=_status_text, links=_SIGNAL_LINKS, collapse="signal-{signal_id}")
SIGNAL_REMINDER_PUSH = Push(
    kind="signal_reminder",
    channel="voice",
    text=lambda c: PushText(_("Waiting for your answer: %(title)s") % {"title": _title(c)}, _("Colleagues are waiting to hear from you.")),
    links=_SIGNAL_LINKS,
)
SIGNAL_ESCALATED_PUSH = Push(
    kind="signal_escalated",
    channel="voice",
    text=lambda c: PushText(
        _("Unanswered signal: %(title)s") % {"title": _title(c)}, _("Nobody has answered it within the promised time.")
    ),
    links=_SIGNAL_LINKS,
)

SIGNAL_NEW = Reason("signal_new", "A signal to answer", push=SIGNAL_NEW_PUSH)
MORE_SUPPORT = Reason("signal_supported", "Support for a signal I answer", push=SIGNAL_SUPPORTED_PUSH)
SIGNAL_UPDATE = Reason("signal_update", "Update on a signal I raised or support", push=SIGNAL_UPDATE_PUSH)
ANSWER_DUE = Reason("signal_reminder", "A signal waiting for my answer", push=SIGNAL_REMINDER_PUSH)
UNANSWERED = Reason("signal_escalated", "A signal nobody answered in time", push=SIGNAL_ESCALATED_PUSH)

# --- Signals: event types ---------------------------------------------------------------------

_SIGNAL_IDS = ("signal_id",)

SIGNAL_CREATED = EventType(
    name="signal.created",
    summary="A signal was raised: to its owner, or to the admins while it has none.",
    payload="voice.serializers.SignalCreatedPayloadSerializer",
    audience="the signal's owner, else the organisation's admins",
    reasons=(SIGNAL_NEW,),
    push_ids=_SIGNAL_IDS,
)
SIGNAL_SUPPORTED = EventType(
    name="signal.supported",
    summary="A colleague supported a signal or withdrew: its live counts. Pushed at most once per signal per hour.",
    payload="voice.serializers.SignalSummarySerializer",
    audience="the signal's owner",
    reasons=(MORE_SUPPORT,),
    push_ids=_SIGNAL_IDS,
)
SIGNAL_STATUS_CHANGED = EventType(
    name="signal.status_changed",
    summary="A signal's status changed (with the leader's message), or it was assigned or merged.",
    payload="voice.serializers.SignalStatusChangedPayloadSerializer",
    audience="the signal's author and supporters (and its new owner on an assignment)",
    reasons=(SIGNAL_UPDATE, SIGNAL_NEW),
    push_ids=(*_SIGNAL_IDS, "post_id"),
)
SIGNAL_REMINDER = EventType(
    name="signal.reminder",
    summary="A signal is still open after the organisation's first-response promise.",
    payload="voice.serializers.SignalPromisePayloadSerializer",
    audience="the signal's owner",
    reasons=(ANSWER_DUE,),
    push_ids=_SIGNAL_IDS,
)
SIGNAL_ESCALATED = EventType(
    name="signal.escalated",
    summary="A signal is still open after twice the first-response promise.",
    payload="voice.serializers.SignalPromisePayloadSerializer",
    audience="the organisation's admins",
    reasons=(UNANSWERED,),
    push_ids=_SIGNAL_IDS,
)

SIGNAL_EVENT_TYPES = (SIGNAL_CREATED, SIGNAL_SUPPORTED, SIGNAL_STATUS_CHANGED, SIGNAL_REMINDER, SIGNAL_ESCALATED)
SIGNAL_REASONS = (SIGNAL_NEW, MORE_SUPPORT, SIGNAL_UPDATE, ANSWER_DUE, UNANSWERED)
