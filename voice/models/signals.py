"""Signals: frictions and ideas raised by staff, the colleagues who support them, and what leaders did.

`support_count` and `group_count` are kept on the signal under its row lock (voice.services.signals_support),
so the list sorts by support through an index and no card counts anything.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Group, Language, Organization, User


class SignalKind(models.TextChoices):
    FRICTION = "friction", _("Friction")
    IDEA = "idea", _("Idea")


class SignalVisibility(models.TextChoices):
    ORGANIZATION = "organization", _("Every colleague")
    LEADERS = "leaders", _("Leaders only")


class SignalStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    IN_PROGRESS = "in_progress", _("In progress")
    RESOLVED = "resolved", _("Resolved")
    DECLINED = "declined", _("Declined")
    MERGED = "merged", _("Merged")


# Forward only: a status may skip steps, never go back; the last three end the signal.
STATUS_RANK = {
    SignalStatus.OPEN: 0,
    SignalStatus.ACKNOWLEDGED: 1,
    SignalStatus.IN_PROGRESS: 2,
    SignalStatus.RESOLVED: 3,
    SignalStatus.DECLINED: 3,
    SignalStatus.MERGED: 3,
}
CLOSED_STATUSES = (SignalStatus.RESOLVED, SignalStatus.DECLINED, SignalStatus.MERGED)
# What a leader may set through POST /signals/{id}/status (merging has its own route).
SETTABLE_STATUSES = (SignalStatus.ACKNOWLEDGED, SignalStatus.IN_PROGRESS, SignalStatus.RESOLVED, SignalStatus.DECLINED)
SETTABLE_STATUS_CHOICES = [(status.value, status.label) for status in SETTABLE_STATUSES]


class Signal(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+", verbose_name=_("organisation"))
    # Shown to nobody but themselves when `anonymous` (voice.cards decides, the admin site hides it).
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="signals", verbose_name=_("author"))
    kind = models.CharField(max_length=16, choices=SignalKind.choices, verbose_name=_("kind"))
    title = models.CharField(max_length=500, verbose_name=_("title"))
    body = models.TextField(verbose_name=_("text"))
    # The language of title and body (detected, else the author's): the stemming of the stored
    # `search_vector` (voice/migrations, search.sql), which holds title and body only, never the author.
    language = models.CharField(max_length=2, choices=Language.choices, blank=True, default="", verbose_name=_("language"))
    key_moment = models.ForeignKey(
        "feed.KeyMoment", on_delete=models.SET_NULL, null=True, blank=True, related_name="signals", verbose_name=_("key moment")
    )
    group = models.ForeignKey(Group, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("group"))
    visibility = models.CharField(
        max_length=16, choices=SignalVisibility.choices, default=SignalVisibility.ORGANIZATION, verbose_name=_("visible to")
    )
    anonymous = models.BooleanField(default=False, verbose_name=_("anonymous"))
    status = models.CharField(max_length=16, choices=SignalStatus.choices, default=SignalStatus.OPEN, verbose_name=_("status"))
    owner = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="signals_owned", verbose_name=_("owner"))
    support_count = models.PositiveIntegerField(default=0, verbose_name=_("supporters"))
    group_count = models.PositiveIntegerField(default=0, verbose_name=_("locations"))
    merged_into = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="merged_from", verbose_name=_("merged into")
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created"))
    updated_at = models.DateTimeField(default=timezone.now, verbose_name=_("updated"))
    first_response_at = models.DateTimeField(null=True, blank=True, verbose_name=_("first response"))
    resolved_at = models.DateTimeField(null=True, blank=True, verbose_name=_("resolved"))
    # The response promise's two steps, each at most once (a guarded update claims it).
    reminded_at = models.DateTimeField(null=True, blank=True, verbose_name=_("owner reminded"))
    escalated_at = models.DateTimeField(null=True, blank=True, verbose_name=_("escalated"))
    # The owner's last push about new support: at most one an hour per signal.
    support_pushed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("support last pushed"))
    # The "you said, we did" post of a resolution announced to the signal's audience.
    announcement = models.OneToOneField(
        "feed.Post", on_delete=models.SET_NULL, null=True, blank=True, related_name="signal", verbose_name=_("announcement")
    )
    # Set by moderation only (voice.services.signal_set_visibility): hidden from everyone but admins.
    hidden_at = models.DateTimeField(null=True, blank=True, verbose_name=_("hidden"))
    hidden_reason = models.CharField(max_length=500, blank=True, verbose_name=_("reason hidden"))

    class Meta:
        verbose_name = _("signal")
        verbose_name_plural = _("signals")
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=SignalKind.values), name="signal_kind_known"),
            models.CheckConstraint(condition=Q(status__in=SignalStatus.values), name="signal_status_known"),
            models.CheckConstraint(condition=Q(visibility__in=SignalVisibility.values), name="signal_visibility_known"),
            models.CheckConstraint(condition=~Q(status="merged") | Q(merged_into__isnull=False), name="signal_merged_has_target"),
            models.CheckConstraint(condition=~Q(merged_into=models.F("id")), name="signal_not_merged_into_itself"),
        ]
        indexes = [
            # sort=recent: WHERE organization_id = ? ... ORDER BY created_at DESC, id DESC, keyset on both.
            models.Index(fields=["organization", "created_at", "id"], name="signal_recent_idx", condition=Q(hidden_at__isnull=True)),
            # sort=support: ORDER BY support_count DESC, id DESC.
            models.Index(fields=["organization", "support_count", "id"], name="signal_support_idx", condition=Q(hidden_at__isnull=True)),
            # The promise task: open signals by age, a small set.
            models.Index(fields=["created_at"], name="signal_open_idx", condition=Q(status="open")),
            # Insights: every aggregate is an index-only scan of these few columns, not of the rows
            # with their texts (100,000 signals: a few MB instead of tens).
            models.Index(
                fields=["organization", "group", "key_moment", "status"],
                include=["support_count", "created_at", "first_response_at", "resolved_at"],
                name="signal_insights_idx",
                condition=Q(hidden_at__isnull=True),
            ),
            models.Index(fields=["author", "created_at"], name="signal_by_author_idx"),
            models.Index(fields=["owner", "status"], name="signal_by_owner_idx"),
        ]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.pk}"

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED_STATUSES


class SignalImage(models.Model):
    signal = models.ForeignKey(Signal, on_delete=models.CASCADE, related_name="images")
    media = models.OneToOneField("media.Media", on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField()

    class Meta:
        verbose_name = _("signal photo")
        verbose_name_plural = _("signal photos")
        constraints = [models.UniqueConstraint(fields=["signal", "position"], name="signalimage_position_unique")]


class SignalSupport(models.Model):
    """A colleague's "me too": where it happens to them and a short note. Supporters follow the signal."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+", verbose_name=_("organisation"))
    signal = models.ForeignKey(Signal, on_delete=models.CASCADE, related_name="supports", verbose_name=_("signal"))
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="signal_supports", verbose_name=_("supporter"))
    group = models.ForeignKey(Group, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("where"))
    note = models.CharField(max_length=1000, blank=True, verbose_name=_("note"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created"))

    class Meta:
        verbose_name = _("support")
        verbose_name_plural = _("supports")
        # One support per person per signal, whatever phones race: PUT is an upsert on it.
        constraints = [models.UniqueConstraint(fields=["signal", "user"], name="signalsupport_once_per_user")]
        indexes = [models.Index(fields=["user", "signal"], name="signalsupport_by_user_idx")]


class SignalEntryKind(models.TextChoices):
    STATUS = "status", _("Status changed")
    ASSIGNED = "assigned", _("Assigned")
    MERGED = "merged", _("Merged")


class SignalEntry(models.Model):
    """One line of a signal's public timeline: a status change with its message, an assignment, a merge."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+", verbose_name=_("organisation"))
    signal = models.ForeignKey(Signal, on_delete=models.CASCADE, related_name="entries", verbose_name=_("signal"))
    kind = models.CharField(max_length=16, choices=SignalEntryKind.choices, verbose_name=_("kind"))
    actor = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("by"))
    status = models.CharField(max_length=16, choices=SignalStatus.choices, blank=True, verbose_name=_("status"))
    message = models.TextField(blank=True, verbose_name=_("message"))
    owner = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("owner"))
    other_signal = models.ForeignKey(
        Signal, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("other signal")
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created"))
    hidden_at = models.DateTimeField(null=True, blank=True, verbose_name=_("hidden"))

    class Meta:
        verbose_name = _("timeline entry")
        verbose_name_plural = _("timeline entries")
        constraints = [models.CheckConstraint(condition=Q(kind__in=SignalEntryKind.values), name="signalentry_kind_known")]
        indexes = [models.Index(fields=["signal", "created_at", "id"], name="signalentry_timeline_idx")]
