"""Moderation's events: a report for moderators, a decision for the author, the outcome for reporters.

Registered in `ModerationConfig.ready()`. Their pushes are service messages: no preference
switch (quiet hours still apply).
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import serializers

from moderation.models import ReportReason, ReportSource, Resolution, TargetType
from notifications.catalogue import EventType, Push, PushContext, PushText, Reason
from notifications.push_texts import excerpt

DECISIONS = ("hide", "remove", "restore", "auto_hide", "mute", "unmute")

# --- Payloads (the frames' `data`) ------------------------------------------------------------


class ReportCreatedPayloadSerializer(serializers.Serializer):
    report_id = serializers.IntegerField(help_text="The queue row (`GET /moderation/reports/{id}`).")
    target_type = serializers.ChoiceField(choices=TargetType.choices)
    target_id = serializers.IntegerField()
    post_id = serializers.IntegerField(allow_null=True)
    comment_id = serializers.IntegerField(allow_null=True)
    reason = serializers.ChoiceField(choices=ReportReason.choices)
    source = serializers.ChoiceField(choices=ReportSource.choices, help_text="`keyword`: the organisation's keyword filter flagged it.")
    report_count = serializers.IntegerField()
    excerpt = serializers.CharField(help_text="The reported text, on one line, at most 200 characters.")


class ReportResolvedPayloadSerializer(serializers.Serializer):
    target_type = serializers.ChoiceField(choices=TargetType.choices)
    target_id = serializers.IntegerField()
    action = serializers.ChoiceField(choices=Resolution.choices)


class ModerationDecidedPayloadSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=DECISIONS)
    target_type = serializers.ChoiceField(choices=TargetType.choices)
    target_id = serializers.IntegerField()
    post_id = serializers.IntegerField(allow_null=True, required=False, help_text="Decisions about a post or comment.")
    comment_id = serializers.IntegerField(allow_null=True, required=False)
    note = serializers.CharField(allow_blank=True, help_text="The moderator's note to you.")
    muted_until = serializers.DateTimeField(required=False, help_text="Only with `mute`.")


# --- The push ---------------------------------------------------------------------------------


def _report_reason(reason: str) -> str:
    return {
        "harassment": _("harassment"),
        "inappropriate": _("inappropriate content"),
        "spam": _("spam"),
        "confidential": _("confidential information"),
        "other": _("other"),
    }.get(reason, reason)


def _content_name(target_type: str) -> str:
    return {"post": _("Your post"), "comment": _("Your comment")}.get(target_type, _("Your content"))


def _report_created_text(payload: dict) -> PushText:
    if payload.get("source") == "keyword":
        title = _("Flagged for review: matched keywords")
    else:
        title = _("New report: %(reason)s") % {"reason": _report_reason(payload.get("reason", ""))}
    return PushText(title, excerpt({"excerpt": payload.get("excerpt", "")}))


def _decided_text(payload: dict) -> PushText:
    note = excerpt({"note": payload.get("note", "")})
    action = payload.get("action", "")
    if action == "mute":
        return PushText(_("You are muted until %(until)s") % {"until": str(payload.get("muted_until", ""))[:10]}, note)
    if action == "unmute":
        return PushText(_("You can post again"), note)
    title = {
        "hide": _("%(content)s was hidden by a moderator"),
        "remove": _("%(content)s was removed by a moderator"),
        "restore": _("%(content)s is visible again"),
        "auto_hide": _("%(content)s is hidden while a moderator looks at reports"),
    }.get(action, _("%(content)s was reviewed by a moderator"))
    return PushText(title % {"content": _content_name(payload.get("target_type", ""))}, note)


def _resolved_text(payload: dict) -> PushText:
    body = _("Action was taken. Thank you for reporting.") if payload.get("action") in ("hide", "remove") else _("No action was needed.")
    return PushText(_("Your report was reviewed"), body)


def _moderation_text(context: PushContext) -> PushText:
    """One push kind for the three events: the queue for moderators, a decision, an outcome."""
    text = {
        "report.created": _report_created_text,
        "moderation.decided": _decided_text,
        "report.resolved": _resolved_text,
    }[context.event_type]
    return text(context.payload)


MODERATION_PUSH = Push(
    kind="moderation",
    channel="moderation",
    preference=None,
    text=_moderation_text,
    links=("moderation/reports/{report_id}", "posts/{post_id}"),
)
MODERATION = Reason("moderation", "Moderation", push=MODERATION_PUSH)

# --- Event types ----------------------------------------------------------------------------------

REPORT_CREATED = EventType(
    name="report.created",
    summary="A post, comment or person was reported, or the keyword filter flagged content: a queue row to look at.",
    payload=ReportCreatedPayloadSerializer,
    audience="the organisation's admins and the managers of the content's groups (not the reporter)",
    reasons=(MODERATION,),
    push_ids=("report_id", "post_id", "comment_id"),
)
REPORT_RESOLVED = EventType(
    name="report.resolved",
    summary="A moderator decided on what you reported (never who else reported, nor what was said to the author).",
    payload=ReportResolvedPayloadSerializer,
    audience="the people who reported it",
    reasons=(MODERATION,),
)
MODERATION_DECIDED = EventType(
    name="moderation.decided",
    summary="A moderator (or the report threshold) hid, removed or restored your content, or muted or unmuted you.",
    payload=ModerationDecidedPayloadSerializer,
    audience="the author (or the person muted)",
    reasons=(MODERATION,),
    push_ids=("post_id", "comment_id"),
)

EVENT_TYPES = (REPORT_CREATED, REPORT_RESOLVED, MODERATION_DECIDED)
