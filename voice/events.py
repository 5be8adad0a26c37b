"""Voice's events. Registered in `VoiceConfig.ready()`; services raise them with `notifications.services.emit`.

Signal payloads are viewer-neutral (voice.signal_cards.signal_summary): an anonymous signal's
author is in none of them, whoever receives the frame. Payload shapes are named by path
(voice.serializers imports the services, which import this module).
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from notifications.catalogue import EventType, Push, PushContext, PushText, Reason
from notifications.push_texts import excerpt, named

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
