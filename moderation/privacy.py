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
import secrets
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.contrib.admin.models import LogEntry
from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction
from django.db.models import Model, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import signals
from accounts.audit import audit_record
from accounts.models import AuthToken, Invitation, Membership, User
from feed.models import Acknowledgement, Comment, CommentMention, Goal, GoalUpdate, KeyMoment, Post, PostSeen, Reaction
from media.models import Media, UserAvatar
from media.services import delete_files
from moderation.audit import audit_entries_about, redaction_allowed
from moderation.models import AuditEntry, Mute, Report, ReportCase
from notifications.models import Device, Notification, NotificationPreference
from recognition.models import AwardResult, AwardRound, Endorsement, Kudos, KudosRecipient, Nomination, RecognitionAuditEntry
from server.admin_site import organization_path
from server.api.exceptions import Conflict, NotAllowed, ValidationFailed
from server.models import IdempotencyRecord

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
    Section("acknowledgements", Acknowledgement, "user"),
    Section("posts_seen", PostSeen, "user"),
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
)

# (model, field) deliberately left out of the export, with the reason.
EXPORT_EXCLUDED: dict[tuple[str, str], str] = {
    ("recognition.KudosRecipient", "giver"): "a copy of Kudos.giver for a constraint; the rows are in kudos_given",
    ("server.IdempotencyRecord", "user"): "a 24-hour replay cache of API responses, copies of data exported elsewhere",
    ("moderation.AuditEntry", "actor"): "exported as audit_entries (as actor and as target) by audit_entries_about",
    # Decisions taken as a moderator: every one is also an audit entry with this person as actor.
    ("moderation.ReportCase", "resolved_by"): "moderation decisions are exported as audit_entries (actor)",
    ("moderation.CommentLock", "locked_by"): "comment locks are exported as audit_entries (actor)",
    ("moderation.Mute", "muted_by"): "mutes given are exported as audit_entries (actor)",
    ("moderation.Mute", "ended_early_by"): "unmutes are exported as audit_entries (actor)",
    ("moderation.FlaggedKeyword", "created_by"): "keyword list changes are exported as audit_entries (actor)",
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
    export["audit_entries"] = [_row(entry, ()) for entry in audit_entries_about(user=user)]
    log_entries = LogEntry.objects.filter(content_type__app_label="accounts", content_type__model="user", object_id=str(user.pk))
    export["admin_site_changes_about"] = [_row(entry, ()) for entry in log_entries.order_by("pk")]
    return export


# --- Erasure -------------------------------------------------------------------------------


@dataclass
class ErasureReport:
    content: str  # "kept" | "removed"
    posts_removed: int
    comments_removed: int
    media_deleted: int
    rows_redacted: int


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
    "notifications.Device": "user__organization",
    "notifications.PushDelivery": "device__user__organization",
    "feed.GoalUpdate": "goal__organization",
    "feed.AcknowledgementEscalation": "post__organization",
    "recognition.AwardResult": "round__organization",
    "moderation.CommentLock": "post__organization",
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


def _redact_everywhere(
    *, organization_id: int, needles: list[str], replacements: list[tuple[re.Pattern[str], str]], skip: set[type[Model]]
) -> int:
    """Replace the person's name and e-mail in every text and JSON column of their organisation's rows.

    Others' posts quoting the name, award and kudos cards, outbox payloads, notifications,
    the audit log's before/after: a data request leaves no copy behind. Only rows of the
    person's organisation: the same name or address elsewhere is another company's data. The
    database finds candidate rows (icontains); Python replaces with word boundaries.
    """
    changed = 0
    for model in apps.get_models():
        if model in skip or model._meta.proxy or not model._meta.managed:
            continue
        text_fields, json_fields, binary_fields = free_text_columns(model)
        if not (text_fields or json_fields or binary_fields):
            continue
        scope = redaction_scope(model)
        if scope is None:
            continue
        rows = model._default_manager.filter(**{scope: organization_id})
        condition = Q()
        for field in text_fields:
            for needle in needles:
                condition |= Q(**{f"{field.name}__icontains": needle})
        for field in json_fields:
            for needle in needles:
                for form in _json_forms(needle):
                    condition |= Q(**{f"{field.name}__icontains": form})
        if condition:
            for instance in rows.filter(condition).iterator():
                updates = {}
                for field in [*text_fields, *json_fields]:
                    old = getattr(instance, field.attname)
                    new = _replace(old, replacements)
                    if new != old:
                        updates[field.attname] = new
                if updates:
                    model._default_manager.filter(pk=instance.pk).update(**updates)
                    changed += 1
        if binary_fields:
            # Binary columns (cached API responses) cannot be searched by the database and are
            # not ours to rewrite: a row holding the person is dropped.
            encoded = [form.encode() for needle in needles for form in _json_forms(needle)]
            doomed = []
            for instance in rows.only("pk", *[f.name for f in binary_fields]).iterator():
                for field in binary_fields:
                    blob = bytes(getattr(instance, field.attname) or b"").lower()
                    if any(form.lower() in blob for form in encoded):
                        doomed.append(instance.pk)
                        break
            if doomed:
                model._default_manager.filter(pk__in=doomed).delete()
                changed += len(doomed)
    return changed


def _remove_content(*, actor: User, user: User) -> tuple[int, int]:
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
    return len(posts), len(comments)


def user_erase(*, actor: User, user: User) -> ErasureReport:
    """Anonymise one employee for good (see docs/privacy.md); irreversible."""
    if not actor.is_org_admin or actor.organization_id != user.organization_id:
        raise NotAllowed()
    if user.pk == actor.pk:
        raise ValidationFailed(_("You cannot erase yourself."), code="not_on_self")
    with transaction.atomic():
        user = User.objects.select_for_update(of=("self",)).select_related("organization").get(pk=user.pk)
        if user.email.endswith("@" + ERASED_EMAIL_DOMAIN):
            raise Conflict(_("This person has already been erased."), code="already_erased")
        old_name, old_email, was_active = user.name, user.email, user.is_active
        organization = user.organization

        token_ids = list(AuthToken.objects.filter(user=user).values_list("pk", flat=True))
        AuthToken.objects.filter(user=user).delete()
        Device.objects.filter(user=user).delete()
        Notification.objects.filter(recipient=user).delete()
        NotificationPreference.objects.filter(user=user).delete()
        IdempotencyRecord.objects.filter(user=user).delete()
        Membership.objects.filter(user=user).delete()

        if organization.erasure_keeps_content:
            content, posts_removed, comments_removed = "kept", 0, 0
        else:
            content = "removed"
            posts_removed, comments_removed = _remove_content(actor=actor, user=user)

        media = list(Media.objects.filter(owner=user).values_list("pk", "original_path", "thumbnail_path", "large_path"))
        UserAvatar.objects.filter(user=user).delete()
        Media.objects.filter(owner=user).delete()

        user.name = ERASED_NAME
        user.email = f"erased-{user.pk}-{secrets.token_hex(6)}@{ERASED_EMAIL_DOMAIN}"
        user.set_unusable_password()
        user.is_active = False
        user.is_staff = False
        user.deactivated_at = user.deactivated_at or timezone.now()
        user.language = ""
        user.timezone = ""
        user.muted_until = None
        user.last_login = None
        user.save()

        Invitation.objects.filter(Q(accepted_user=user) | Q(email__iexact=old_email)).update(name=ERASED_NAME, email=user.email)
        redaction_allowed()
        needles = [old_email] + ([old_name] if len(old_name.strip()) >= 3 else [])
        replacements = [(_email_pattern(old_email), user.email)]
        if len(old_name.strip()) >= 3:
            replacements.append((_name_pattern(old_name), ERASED_NAME))
        redacted = _redact_everywhere(organization_id=organization.pk, needles=needles, replacements=replacements, skip={User})
        # Where they connected from is personal data too; what they did stays on the record.
        redacted += AuditEntry.objects.filter(actor=user, ip__isnull=False).update(ip=None)

        report = ErasureReport(
            content=content,
            posts_removed=posts_removed,
            comments_removed=comments_removed,
            media_deleted=len(media),
            rows_redacted=redacted,
        )
        # Written after the redaction and without name or e-mail: the entry itself must not undo the erasure.
        audit_record(
            sender=AuditEntry,
            organization_id=organization.pk,
            actor=actor,
            action="user.erased",
            target_type="user",
            target_id=user.pk,
            target_label=ERASED_NAME,
            after={
                "content": content,
                "posts_removed": posts_removed,
                "comments_removed": comments_removed,
                "media_deleted": len(media),
                "rows_redacted": redacted,
            },
        )

        def announce() -> None:
            # Files after the commit: if the transaction rolled back, the rows still need them.
            delete_files(path for row in media for path in row[1:])
            signals.auth_tokens_revoked.send(sender=AuthToken, user_id=user.pk, token_ids=token_ids)
            if was_active:
                signals.user_deactivated.send(sender=User, user=user)

        transaction.on_commit(announce)
    return report
