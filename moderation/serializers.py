"""Shapes of the moderation API. Queue rows are built as dicts here; the serializers document them and read input."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from accounts.serializers import PersonRefSerializer, UserSummarySerializer
from feed.cards import iso, user_summary
from moderation.models import CaseStatus, ReportCase, ReportReason, ReportSource, Resolution, TargetType
from moderation.services import MAX_KEYWORDS, MAX_MUTE_DAYS
from server.api.fields import IdField

EXCERPT = 500

# --- Input ----------------------------------------------------------------------------------------


class ReportCreateSerializer(serializers.Serializer):
    target_type = serializers.ChoiceField(choices=TargetType.choices)
    target_id = IdField()
    reason = serializers.ChoiceField(choices=ReportReason.choices)
    note = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class ResolveSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=[(r.value, r.label) for r in (Resolution.HIDE, Resolution.REMOVE, Resolution.DISMISS)])
    note = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class MuteSerializer(serializers.Serializer):
    days = serializers.IntegerField(min_value=1, max_value=MAX_MUTE_DAYS)
    note = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class KeywordsSerializer(serializers.Serializer):
    keywords = serializers.ListField(child=serializers.CharField(max_length=100, allow_blank=True), max_length=MAX_KEYWORDS)


# --- Output ---------------------------------------------------------------------------------------


class ReportCreatedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    target_type = serializers.ChoiceField(choices=TargetType.choices)
    target_id = serializers.IntegerField()
    reason = serializers.ChoiceField(choices=ReportReason.choices)
    note = serializers.CharField()
    created_at = serializers.DateTimeField()


class ReasonCountsSerializer(serializers.Serializer):
    harassment = serializers.IntegerField()
    inappropriate = serializers.IntegerField()
    spam = serializers.IntegerField()
    confidential = serializers.IntegerField()
    other = serializers.IntegerField()


class TargetSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=TargetType.choices)
    id = serializers.IntegerField()
    post_id = serializers.IntegerField(allow_null=True)
    comment_id = serializers.IntegerField(allow_null=True)
    signal_id = serializers.IntegerField(allow_null=True, help_text="A reported signal, or the signal of a reported timeline entry.")
    body = serializers.CharField(help_text="The reported text (first 500 characters); empty for a person.")
    author = UserSummarySerializer(allow_null=True, help_text="Who wrote it, or the reported person; null for a signal or timeline entry.")
    hidden = serializers.BooleanField()
    removed = serializers.BooleanField()


class ResolutionSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=Resolution.choices)
    note = serializers.CharField()
    resolved_at = serializers.DateTimeField()
    resolved_by = PersonRefSerializer(allow_null=True, help_text="The moderator who decided.")


class CaseSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The queue row: every open report on one target. `resolve` acts on it.")
    status = serializers.ChoiceField(choices=CaseStatus.choices)
    target = TargetSerializer()
    report_count = serializers.IntegerField()
    reasons = ReasonCountsSerializer(help_text="How many reports gave each reason.")
    flagged_keywords = serializers.ListField(child=serializers.CharField())
    first_reported_at = serializers.DateTimeField()
    last_reported_at = serializers.DateTimeField()
    auto_hidden = serializers.BooleanField(help_text="Hidden by the organisation's report threshold until a moderator decides.")
    resolution = ResolutionSerializer(allow_null=True)


class ReportSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    source = serializers.ChoiceField(choices=ReportSource.choices)
    reason = serializers.ChoiceField(choices=ReportReason.choices)
    note = serializers.CharField()
    created_at = serializers.DateTimeField()
    reporter = UserSummarySerializer(allow_null=True, help_text="Empty for the keyword filter.")


class CaseDetailSerializer(CaseSerializer):
    reports = ReportSerializer(many=True)


class SummarySerializer(serializers.Serializer):
    open_report_count = serializers.IntegerField(help_text="Open queue rows (targets) this moderator may decide on.")


class CommentLockSerializer(serializers.Serializer):
    post_id = serializers.IntegerField()
    comments_locked = serializers.BooleanField()


class VisibilitySerializer(serializers.Serializer):
    target_type = serializers.ChoiceField(choices=TargetType.choices)
    id = serializers.IntegerField()
    hidden = serializers.BooleanField()


class MuteStateSerializer(serializers.Serializer):
    user_id = serializers.IntegerField()
    muted_until = serializers.DateTimeField(allow_null=True)


# --- Cards ----------------------------------------------------------------------------------------


def _target(case: ReportCase) -> dict[str, Any]:
    if case.target_type == TargetType.USER:
        person = case.target_user
        return {
            "type": case.target_type,
            "id": case.target_id,
            "post_id": None,
            "comment_id": None,
            "signal_id": None,
            "body": "",
            "author": user_summary(person) if person is not None else None,
            "hidden": False,
            "removed": person is None or not person.is_active,
        }
    if case.target_type in (TargetType.SIGNAL, TargetType.SIGNAL_ENTRY):
        return _signal_target(case)
    content = case.comment if case.target_type == TargetType.COMMENT else case.post
    post = case.post
    return {
        "type": case.target_type,
        "id": case.target_id,
        "post_id": case.post_id,
        "comment_id": case.comment_id,
        "signal_id": None,
        "body": (content.body or "")[:EXCERPT] if content is not None else "",
        "author": user_summary(content.author) if content is not None else None,
        "hidden": bool(content is not None and content.hidden_at) or bool(post is not None and post.hidden_at),
        "removed": content is None or content.removed_at is not None or (post is not None and post.removed_at is not None),
    }


def _signal_target(case: ReportCase) -> dict[str, Any]:
    """The reported signal or timeline entry: its words, never its author (an anonymous signal's
    author is hidden from moderators too; a named one is on the signal's own card)."""
    signal, entry = case.signal, case.signal_entry
    text = entry.message if entry is not None else (f"{signal.title}\n{signal.body}" if signal is not None else "")
    hidden = entry.hidden_at if entry is not None else (signal.hidden_at if signal is not None else None)
    return {
        "type": case.target_type,
        "id": case.target_id,
        "post_id": None,
        "comment_id": None,
        "signal_id": case.signal_id,
        "body": text[:EXCERPT],
        "author": None,
        "hidden": hidden is not None,
        "removed": signal is None,
    }


def case_card(case: ReportCase, *, with_reports: bool = False) -> dict[str, Any]:
    card = {
        "id": case.pk,
        "status": case.status,
        "target": _target(case),
        "report_count": case.report_count,
        "reasons": {reason: case.reason_counts.get(reason, 0) for reason in ReportReason.values},
        "flagged_keywords": list(case.flagged_keywords),
        "first_reported_at": iso(case.first_reported_at),
        "last_reported_at": iso(case.last_reported_at),
        "auto_hidden": case.auto_hidden_at is not None,
        "resolution": None,
    }
    if case.status == CaseStatus.RESOLVED:
        by = case.resolved_by
        card["resolution"] = {
            "action": case.resolution,
            "note": case.resolution_note,
            "resolved_at": iso(case.resolved_at),
            "resolved_by": {"id": by.pk, "name": by.name} if by is not None else None,
        }
    if with_reports:
        card["reports"] = [
            {
                "id": report.pk,
                "source": report.source,
                "reason": report.reason,
                "note": report.note,
                "created_at": iso(report.created_at),
                "reporter": user_summary(report.reporter) if report.reporter is not None else None,
            }
            for report in case.reports.all()
        ]
    return card
