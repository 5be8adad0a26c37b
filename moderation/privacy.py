"""An employee's data request: export everything we hold about one person, or erase them.

Both walk explicit tables of (model, user field), the models imported from their apps
(moderation sits above every app it reads: nothing is looked up by name).
tests/moderation/test_privacy.py walks every installed model and fails when a model with
a relation to User is in neither EXPORT_SECTIONS nor EXPORT_EXCLUDED, so a new table
cannot slip past a data request.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from django.contrib.admin.models import LogEntry
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.db.models import Model
from django.utils import timezone

from accounts.models import AuthToken, Invitation, Membership, User
from feed.models import (
    Acknowledgement,
    AcknowledgementNudge,
    Comment,
    CommentMention,
    Goal,
    GoalUpdate,
    KeyMoment,
    Poll,
    PollVote,
    Post,
    PostSeen,
    Reaction,
)
from media.models import Media, UserAvatar
from moderation.audit import audit_entries_about
from moderation.models import ErasureJob, Mute, Report, ReportCase
from notifications.models import Device, Notification, NotificationPreference
from recognition.models import AwardResult, AwardRound, Endorsement, Kudos, KudosRecipient, Nomination, RecognitionAuditEntry
from server.admin_site import organization_path
from voice.models import Signal, SignalEntry, SignalSupport, Survey, SurveyAnswer, SurveyParticipation, SurveyResponse
from voice.services.signals import signals_erase_author

ERASED_NAME = "Former colleague"
ERASED_EMAIL_DOMAIN = "erased.invalid"
# Never exported: credentials and secrets, whoever they belong to.
SECRET_FIELDS = frozenset({"password", "key_hash", "code_hash", "token", "response_body"})


@dataclass(frozen=True)
class Section:
    name: str
    model: type[Model]
    field: str  # the relation to User that selects the person's rows
    omit: tuple[str, ...] = ()  # other people's data on those rows (a confidential nominator...)

    @property
    def label(self) -> str:
        return self.model._meta.label


EXPORT_SECTIONS: tuple[Section, ...] = (
    Section("memberships", Membership, "user"),
    Section("sessions", AuthToken, "user"),
    Section("own_invitation", Invitation, "accepted_user", omit=("invited_by",)),
    Section("invitations_sent", Invitation, "invited_by", omit=("email", "name", "accepted_user")),
    Section("notifications", Notification, "recipient"),
    Section("devices", Device, "user"),
    Section("notification_preferences", NotificationPreference, "user"),
    Section("media", Media, "owner"),
    Section("avatar", UserAvatar, "user"),
    Section("posts", Post, "author"),
    Section("posts_removed", Post, "removed_by", omit=("author", "body", "card")),
    Section("comments", Comment, "author"),
    Section("mentions", CommentMention, "user"),
    Section("reactions", Reaction, "user"),
    Section("reminders_sent", AcknowledgementNudge, "sent_by"),
    Section("acknowledgements", Acknowledgement, "user"),
    Section("posts_seen", PostSeen, "user"),
    # Their own choices in polls (anonymous ones too: the export goes to the person themselves).
    Section("poll_votes", PollVote, "user"),
    Section("polls_closed", Poll, "closed_by"),
    Section("goals", Goal, "owner"),
    Section("goal_updates", GoalUpdate, "author"),
    Section("key_moments", KeyMoment, "created_by"),
    Section("kudos_given", Kudos, "giver"),
    Section("kudos_received", KudosRecipient, "recipient"),
    Section("award_rounds_closed", AwardRound, "closed_by"),
    Section("award_rounds_picked", AwardRound, "picked_by"),
    Section("nominations_made", Nomination, "nominator"),
    # Who nominated someone is confidential (nominees only ever learn counts).
    Section("nominations_received", Nomination, "nominee", omit=("nominator",)),
    Section("endorsements", Endorsement, "user"),
    Section("award_results", AwardResult, "nominee"),
    Section("recognition_audit", RecognitionAuditEntry, "actor"),
    Section("admin_site_changes", LogEntry, "user"),
    # Reports they made, and the queue rows about them (who reported them stays confidential:
    # a ReportCase carries counts and the decision, never reporters).
    Section("reports_made", Report, "reporter"),
    Section("reports_about_them", ReportCase, "target_user", omit=("resolved_by",)),
    Section("mutes", Mute, "user"),
    Section("surveys_created", Survey, "created_by"),
    # That they answered (never what, for an anonymous survey: those answers hold no person).
    Section("survey_participations", SurveyParticipation, "user"),
    # Their answers to named surveys; the answers themselves follow as survey_answers.
    Section("survey_responses", SurveyResponse, "respondent"),
    # Their own signals, anonymous ones included (it is their data); signals they answer without
    # the author, who may be anonymous to them.
    Section("signals", Signal, "author"),
    Section("signals_owned", Signal, "owner", omit=("author",)),
    Section("signal_supports", SignalSupport, "user"),
    Section("signal_timeline_entries", SignalEntry, "actor"),
    # Their erasure request (what is being searched for while a job runs is not theirs to read back).
    Section("erasure", ErasureJob, "user", omit=("needles",)),
)

# (model, field) deliberately left out of the export, with the reason.
EXPORT_EXCLUDED: dict[tuple[str, str], str] = {
    ("console.ConsoleView", "user"): "which console page a leader opened, kept a day to refresh its numbers, then deleted",
    ("accounts.LoginCode", "user"): "single-use password codes: hashes of secrets, deleted on erasure",
    ("accounts.LoginCode", "issued_by"): "codes handed over are exported as audit_entries (actor)",
    ("recognition.KudosRecipient", "giver"): "a copy of Kudos.giver for a constraint; the rows are in kudos_given",
    ("server.IdempotencyRecord", "user"): "a 24-hour replay cache of API responses, copies of data exported elsewhere",
    ("moderation.AuditEntry", "actor"): "exported as audit_entries (as actor and as target) by audit_entries_about",
    # Decisions taken as a moderator: every one is also an audit entry with this person as actor.
    ("moderation.ReportCase", "resolved_by"): "moderation decisions are exported as audit_entries (actor)",
    ("moderation.CommentLock", "locked_by"): "comment locks are exported as audit_entries (actor)",
    ("moderation.Mute", "muted_by"): "mutes given are exported as audit_entries (actor)",
    ("moderation.Mute", "ended_early_by"): "unmutes are exported as audit_entries (actor)",
    ("moderation.ErasureJob", "confirmed_by"): "confirming an erasure is an audit entry (actor)",
    ("moderation.FlaggedKeyword", "created_by"): "keyword list changes are exported as audit_entries (actor)",
    ("voice.SignalEntry", "owner"): "an assignment made by someone else; the signals they own are in signals_owned",
}


def _row(instance: Model, omit: tuple[str, ...]) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for field in instance._meta.concrete_fields:
        if field.name in SECRET_FIELDS or field.name in omit or isinstance(field, models.BinaryField):
            continue
        row[field.attname] = getattr(instance, field.attname)
    return row


def _section_rows(section: Section, user: User) -> list[dict[str, Any]]:
    model = section.model
    queryset = model._default_manager.filter(**{section.field: user}).order_by("pk")
    return [_row(instance, section.omit) for instance in queryset]


def user_export(*, user: User) -> dict[str, Any]:
    """Everything we hold about `user`, as JSON-ready data (datetimes and decimals left to the renderer)."""
    profile = _row(user, omit=("organization",))
    profile["organization"] = {"id": user.organization_id, "name": user.organization.name if user.organization_id else None}
    export: dict[str, Any] = {"exported_at": timezone.now(), "profile": profile}
    for section in EXPORT_SECTIONS:
        export[section.name] = _section_rows(section, user)
    kudos_ids = [row["kudos_id"] for row in export["kudos_received"]]
    export["kudos_received_messages"] = list(
        Kudos.objects.filter(pk__in=kudos_ids).order_by("pk").values("id", "giver_id", "message", "created_at")
    )
    response_ids = [row["id"] for row in export["survey_responses"]]
    answers = SurveyAnswer.objects.filter(response_id__in=response_ids).order_by("response_id", "question_id", "pk")
    export["survey_answers"] = [_row(answer, ()) for answer in answers]
    export["audit_entries"] = [_row(entry, ()) for entry in audit_entries_about(user=user)]
    log_entries = LogEntry.objects.filter(content_type__app_label="accounts", content_type__model="user", object_id=str(user.pk))
    export["admin_site_changes_about"] = [_row(entry, ()) for entry in log_entries.order_by("pk")]
    return export


# --- Erasure -------------------------------------------------------------------------------


def _email_pattern(email: str) -> re.Pattern[str]:
    # Bounded so that erasing an@example.com leaves jan@example.com alone.
    return re.compile(r"(?<![\w.+-])" + re.escape(email) + r"(?![\w-]|\.\w)", re.IGNORECASE)


def _name_pattern(name: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)" + re.escape(name) + r"(?!\w)", re.IGNORECASE)


def _replace(value: Any, replacements: list[tuple[re.Pattern[str], str]]) -> Any:
    if isinstance(value, str):
        for pattern, replacement in replacements:
            value = pattern.sub(replacement, value)
        return value
    if isinstance(value, list):
        return [_replace(item, replacements) for item in value]
    if isinstance(value, dict):
        return {_replace(key, replacements): _replace(item, replacements) for key, item in value.items()}
    return value


def _json_forms(text: str) -> set[str]:
    # JSON columns are matched as text: raw on PostgreSQL (jsonb), \u-escaped on SQLite.
    return {text, json.dumps(text)[1:-1]}


# How erasure reaches the organisation of rows with no organisation of their own, and the
# tables that hold no personal data. Every other table has `server.admin_site.organization_path`.
_REDACTION_PATHS = {
    "admin.LogEntry": "user__organization",  # the admin who made the change
    "server.IdempotencyRecord": "user__organization",
    "accounts.AuthToken": "user__organization",
    "accounts.LoginCode": "user__organization",
    "notifications.Device": "user__organization",
    "notifications.PushDelivery": "device__user__organization",
    "feed.GoalUpdate": "goal__organization",
    "feed.AcknowledgementEscalation": "post__organization",
    "feed.PollOption": "poll__post__organization",  # an option's text may name a colleague
    "recognition.AwardResult": "round__organization",
    "moderation.CommentLock": "post__organization",
    "voice.SurveyQuestion": "survey__organization",
    "voice.SurveyOption": "question__survey__organization",
    "voice.SurveyAnswer": "response__instance__organization",
}
# server.ThrottleCounter: login rate-limit windows counted while Redis is down; the key is a
# SHA-256 of the e-mail, or the client address; a row lives for one window (pruned hourly).
_NO_PERSONAL_DATA = {"auth.Permission", "auth.Group", "contenttypes.ContentType", "sessions.Session", "server.ThrottleCounter"}


def free_text_columns(model: type[Model]) -> tuple[list[models.Field], list[models.Field], list[models.Field]]:
    """The columns that can hold a name or an address: free text (not choices), JSON, binary."""
    fields = model._meta.concrete_fields
    return (
        [f for f in fields if isinstance(f, (models.CharField, models.TextField)) and not f.choices],
        [f for f in fields if isinstance(f, models.JSONField)],
        [f for f in fields if isinstance(f, models.BinaryField)],
    )


def redaction_scope(model: type[Model]) -> str | None:
    """The lookup from `model` to its organisation for erasure, None for a table without personal data.

    Raises for a table nobody has decided about: erasure must neither miss a copy of the
    person nor touch another organisation's rows (tests/moderation/test_privacy.py checks all).
    """
    label = model._meta.label
    if label in _NO_PERSONAL_DATA:
        return None
    path = _REDACTION_PATHS.get(label) or organization_path(model)
    if path is None:
        raise ImproperlyConfigured(f"{label}: add it to moderation.privacy._REDACTION_PATHS or _NO_PERSONAL_DATA.")
    return path


def remove_content(*, actor: User, user: User) -> tuple[int, int]:
    from feed.models import MEMBER_KINDS
    from feed.services.interactions import comment_delete
    from feed.services.posts import post_delete

    posts = list(Post.objects.filter(author=user, kind__in=MEMBER_KINDS, removed_at__isnull=True).order_by("pk"))
    for post in posts:
        # Through feed's service: phones learn from a post.deleted event and catch-up.
        post_delete(actor=actor, post=post)
    comments = list(Comment.objects.select_related("post").filter(author=user, removed_at__isnull=True).order_by("pk"))
    for comment in comments:
        comment_delete(actor=actor, comment=comment)
    # Removed rows stay (catch-up must tell phones they are gone), without their words.
    Post.objects.filter(author=user, kind__in=MEMBER_KINDS).update(body="")
    Comment.objects.filter(author=user).update(body="")
    signals_erase_author(user=user)
    return len(posts), len(comments)
