"""Reports and the moderation queue, comment locks, mutes and the keyword list.

A `Report` is one person's (or the keyword filter's) complaint about one target.
Open reports on the same target are grouped in one `ReportCase`: the queue row a
moderator decides on. The case carries the counts the queue shows, kept under its
row lock, so the queue is one indexed keyset scan with no GROUP BY.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TargetType(models.TextChoices):
    POST = "post", _("Post")
    COMMENT = "comment", _("Comment")
    USER = "user", _("User")
    SIGNAL = "signal", _("Signal")
    SIGNAL_ENTRY = "signal_entry", _("Signal timeline entry")


class ReportReason(models.TextChoices):
    HARASSMENT = "harassment", _("Harassment")
    INAPPROPRIATE = "inappropriate", _("Inappropriate")
    SPAM = "spam", _("Spam")
    CONFIDENTIAL = "confidential", _("Confidential information")
    OTHER = "other", _("Other")


class ReportSource(models.TextChoices):
    USER = "user", _("A colleague")
    KEYWORD = "keyword", _("Keyword filter")


class CaseStatus(models.TextChoices):
    OPEN = "open", _("Open")
    RESOLVED = "resolved", _("Resolved")


class Resolution(models.TextChoices):
    HIDE = "hide", _("Hidden")
    REMOVE = "remove", _("Removed")
    DISMISS = "dismiss", _("Dismissed")
    RESTORE = "restore", _("Restored")


class ReportCase(models.Model):
    """One target's open reports: a row of the moderation queue."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+", verbose_name=_("organisation"))
    target_type = models.CharField(max_length=16, choices=TargetType.choices, verbose_name=_("target type"))
    target_id = models.BigIntegerField(verbose_name=_("target id"))
    # The post itself, or the comment's post: who may moderate it follows its audience.
    post = models.ForeignKey("feed.Post", on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("post"))
    comment = models.ForeignKey(
        "feed.Comment", on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("comment")
    )
    target_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("reported person")
    )
    # A signal, or a signal's timeline entry (and its signal): admins moderate them; the queue row
    # never names an anonymous signal's author (moderation.serializers).
    signal = models.ForeignKey("voice.Signal", on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("signal"))
    signal_entry = models.ForeignKey(
        "voice.SignalEntry", on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("timeline entry")
    )
    status = models.CharField(max_length=8, choices=CaseStatus.choices, default=CaseStatus.OPEN, verbose_name=_("status"))
    report_count = models.PositiveIntegerField(default=0, verbose_name=_("reports"))
    # Reports by people (the keyword filter's flag is not a person): what auto-hide counts.
    person_report_count = models.PositiveIntegerField(default=0, verbose_name=_("reports of the person"))
    reason_counts = models.JSONField(default=dict, verbose_name=_("reasons"))
    flagged_keywords = models.JSONField(default=list, blank=True, verbose_name=_("flagged words"))
    first_reported_at = models.DateTimeField(default=timezone.now, verbose_name=_("first reported"))
    last_reported_at = models.DateTimeField(default=timezone.now, verbose_name=_("last reported"))
    # The system hid the target at the threshold; a dismissal shows it again.
    auto_hidden_at = models.DateTimeField(null=True, blank=True, verbose_name=_("hidden automatically"))
    resolution = models.CharField(max_length=8, choices=Resolution.choices, blank=True, verbose_name=_("decision"))
    resolution_note = models.CharField(max_length=1000, blank=True, verbose_name=_("note on the decision"))
    resolved_at = models.DateTimeField(null=True, blank=True, verbose_name=_("decided"))
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("decided by")
    )

    class Meta:
        verbose_name = _("reported item")
        verbose_name_plural = _("moderation queue")
        constraints = [
            # At most one open queue row per target, whatever reports race in.
            models.UniqueConstraint(
                fields=["organization", "target_type", "target_id"], condition=Q(status="open"), name="reportcase_one_open_per_target"
            ),
            models.CheckConstraint(condition=Q(target_type__in=TargetType.values), name="reportcase_target_known"),
            models.CheckConstraint(condition=Q(status="open") | Q(resolved_at__isnull=False), name="reportcase_resolved_has_time"),
        ]
        indexes = [
            # The queue: WHERE organization_id = ? AND status = ? ORDER BY first_reported_at, id.
            models.Index(fields=["organization", "status", "first_reported_at", "id"], name="reportcase_queue_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_target_type_display()} {self.target_id}"


class Report(models.Model):
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+", verbose_name=_("organisation"))
    case = models.ForeignKey(ReportCase, on_delete=models.CASCADE, related_name="reports", verbose_name=_("case"))
    # Empty for the keyword filter's flag.
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("reported by")
    )
    source = models.CharField(max_length=8, choices=ReportSource.choices, default=ReportSource.USER, verbose_name=_("source"))
    target_type = models.CharField(max_length=16, choices=TargetType.choices, verbose_name=_("target type"))
    target_id = models.BigIntegerField(verbose_name=_("target id"))
    reason = models.CharField(max_length=16, choices=ReportReason.choices, verbose_name=_("reason"))
    note = models.CharField(max_length=1000, blank=True, verbose_name=_("note"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created"))

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        constraints = [
            # One report per person per target, ever: a second one (even racing) is a 409.
            models.UniqueConstraint(
                fields=["reporter", "target_type", "target_id"], condition=Q(reporter__isnull=False), name="report_once_per_reporter"
            ),
            models.CheckConstraint(
                condition=Q(reason__in=["harassment", "inappropriate", "spam", "confidential", "other"]), name="report_reason_known"
            ),
            models.CheckConstraint(condition=Q(source="keyword") | Q(reporter__isnull=False), name="report_person_has_reporter"),
        ]
        indexes = [models.Index(fields=["case", "created_at", "id"], name="report_by_case_idx")]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.pk}"


class CommentLock(models.Model):
    """Comments on this post are closed (a guard in feed's comment_create refuses new ones)."""

    post = models.OneToOneField("feed.Post", on_delete=models.CASCADE, primary_key=True, related_name="comment_lock")
    locked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    locked_at = models.DateTimeField(default=timezone.now)
    note = models.CharField(max_length=1000, blank=True)

    class Meta:
        verbose_name = _("comment lock")
        verbose_name_plural = _("comment locks")


class Mute(models.Model):
    """History of mutes; `User.muted_until` is the live value the feed and recognition read."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+", verbose_name=_("organisation"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mutes", verbose_name=_("person"))
    muted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("muted by")
    )
    starts_at = models.DateTimeField(default=timezone.now, verbose_name=_("starts"))
    ends_at = models.DateTimeField(verbose_name=_("ends"))
    note = models.CharField(max_length=1000, blank=True, verbose_name=_("note"))
    ended_early_at = models.DateTimeField(null=True, blank=True, verbose_name=_("ended early"))
    ended_early_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("ended early by")
    )

    class Meta:
        verbose_name = _("mute")
        verbose_name_plural = _("mutes")
        constraints = [models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="mute_ends_after_start")]
        indexes = [models.Index(fields=["user", "-starts_at"], name="mute_history_idx")]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.pk}"


class FlaggedKeyword(models.Model):
    """A word or phrase that puts new posts and comments into the queue (never deletes them)."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    keyword = models.CharField(max_length=100)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("flagged word")
        verbose_name_plural = _("flagged words")
        constraints = [models.UniqueConstraint("organization", Lower("keyword"), name="flaggedkeyword_unique_per_org")]


# --- The audit log ---------------------------------------------------------------------------


class AuditEntry(models.Model):
    """One append-only row of the organisation's audit log: an administrative or moderation action.

    Written by the receiver of `accounts.signals.admin_action` (moderation.audit) in the action's
    own transaction. Nothing updates or deletes a row: the model refuses it, no API or admin path
    exists, and on PostgreSQL a trigger refuses it too (migration 0003). The one sanctioned change
    is erasure redacting a person's name and e-mail (moderation.privacy).
    """

    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+", verbose_name=_("organisation"))
    # PROTECT, not SET_NULL: clearing the actor would be an update of the log. People are
    # anonymised on erasure, never deleted.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("done by")
    )
    action = models.CharField(max_length=64, verbose_name=_("action"))
    target_type = models.CharField(max_length=32, verbose_name=_("target type"))
    target_id = models.BigIntegerField(null=True, blank=True, verbose_name=_("target id"))
    # The target's name when the action happened: the log must read right after a rename or deletion.
    target_label = models.CharField(max_length=200, blank=True, verbose_name=_("target"))
    before = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder, verbose_name=_("before"))
    after = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder, verbose_name=_("after"))
    note = models.TextField(blank=True, verbose_name=_("note"))
    # The address the request came from (behind NUM_PROXIES proxies); empty for scheduled work.
    ip = models.GenericIPAddressField(null=True, blank=True, verbose_name=_("IP address"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created"))

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        indexes = [
            models.Index(fields=["organization", "-created_at", "-id"], name="audit_recent_idx"),
            models.Index(fields=["organization", "target_type", "target_id"], name="audit_target_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.target_type} {self.target_id or ''}".strip()

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not getattr(self, "_redacting", False):
            raise ValueError("The audit log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ValueError("The audit log is append-only.")


class ErasureStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested by the person")
    QUEUED = "queued", _("Confirmed, waiting")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")


class ErasureJob(models.Model):
    """One person's erasure, run in the background step by step (issue #25 item 3).

    Each step commits on its own and advances `step`, so a worker that dies mid-way leaves a
    job that resumes where it stopped; every step is idempotent. `needles` holds the old name
    and address while the redaction runs (the account row is anonymised in the first step)
    and is emptied when the job is done.
    """

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+", verbose_name=_("organisation"))
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("person"))
    status = models.CharField(max_length=16, choices=ErasureStatus.choices, verbose_name=_("status"))
    requested_at = models.DateTimeField(null=True, blank=True, verbose_name=_("requested by the person"))
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("confirmed by")
    )
    confirmed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("confirmed"))
    step = models.PositiveIntegerField(default=0, verbose_name=_("steps done"))
    steps_total = models.PositiveIntegerField(default=0, verbose_name=_("steps"))
    current = models.CharField(max_length=100, blank=True, verbose_name=_("current step"))
    needles = models.JSONField(default=list, blank=True, verbose_name=_("text being redacted"))
    report = models.JSONField(default=dict, blank=True, verbose_name=_("report"))
    attempts = models.PositiveSmallIntegerField(default=0, verbose_name=_("attempts"))
    last_error = models.CharField(max_length=300, blank=True, verbose_name=_("last error"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished"))

    class Meta:
        verbose_name = _("erasure")
        verbose_name_plural = _("erasures")
        indexes = [models.Index(fields=["status", "updated_at"], name="erasurejob_status_idx")]
