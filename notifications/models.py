"""The event outbox and the in-app inbox.

An `OutboxEvent` is written in the same transaction as the change it announces,
so an event exists exactly when its change does. Delivery (realtime, in-app,
push) happens after commit and records each finished step on the row, so a
re-delivery by the sweeper repeats only what did not finish.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class OutboxEvent(models.Model):
    # A UUID and not a sequence: the id is shown to clients (WebSocket frames,
    # inbox) and must not reveal how busy other organisations are.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    type = models.CharField(max_length=64)
    payload = models.JSONField(default=dict)
    # Audience: who receives the realtime frame.
    org_wide = models.BooleanField(default=False)
    group_ids = models.JSONField(default=list)
    user_ids = models.JSONField(default=list)
    # People addressed personally: [{"user_id": .., "reason": ..}] → inbox rows and push.
    addressed = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    # One marker per delivery step; a retried delivery skips steps already done.
    realtime_sent_at = models.DateTimeField(null=True, blank=True)
    inbox_written_at = models.DateTimeField(null=True, blank=True)
    push_sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # A lease, not a row lock: delivery makes network calls (Redis, FCM) that must
    # not run inside a transaction, yet two deliverers must not work the same row.
    locked_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # The request that caused the event (X-Request-ID): its delivery's log lines carry it.
    request_id = models.CharField(max_length=128, blank=True, default="")

    class Meta:
        verbose_name = _("outbox event")
        verbose_name_plural = _("outbox events")
        indexes = [
            # The sweeper scans only what is still undelivered, oldest first.
            models.Index(
                fields=["created_at"],
                name="outbox_undelivered_idx",
                condition=models.Q(delivered_at__isnull=True),
            ),
            models.Index(fields=["created_at"], name="outbox_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(delivered_at__isnull=True)
                | (
                    models.Q(realtime_sent_at__isnull=False)
                    & models.Q(inbox_written_at__isnull=False)
                    & models.Q(push_sent_at__isnull=False)
                ),
                name="outbox_delivered_after_every_step",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"


class Notification(models.Model):
    """One row of a person's in-app inbox."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    # Not a foreign key: the outbox is pruned, the inbox is kept.
    event_id = models.UUIDField()
    type = models.CharField(max_length=64)
    # Declared by the apps with their event types (notifications.catalogue.Reason); emit refuses others.
    reason = models.CharField(max_length=32)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            # Idempotent delivery: a re-delivered event never notifies twice.
            models.UniqueConstraint(fields=["event_id", "recipient"], name="notification_once_per_event"),
            # The list of reasons lives in the catalogue, not in a migration: the database holds
            # every row to a reason name's shape (what notifications.catalogue.REASON_NAME accepts).
            models.CheckConstraint(condition=models.Q(reason__regex=r"^[a-z][a-z0-9_]*$"), name="notification_reason_named"),
        ]
        indexes = [
            models.Index(fields=["recipient", "-id"], name="notification_inbox_idx"),
            models.Index(fields=["recipient"], name="notification_unread_idx", condition=models.Q(read_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.reason} for {self.recipient_id}"


# --- Push: devices, preferences, per-device delivery records --------------------------


class Platform(models.TextChoices):
    ANDROID = "android", "Android"
    IOS = "ios", "iOS"
    WEB = "web", "Web"


class Device(models.Model):
    """A phone's FCM registration token, tied to the device session that registered it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_devices")
    # One registration per session, deleted with it: a logged-out or deactivated
    # phone must not keep buzzing, even if the revocation signal were missed.
    auth_token = models.OneToOneField("accounts.AuthToken", on_delete=models.CASCADE, related_name="push_device")
    # FCM tokens are ~160–250 characters; a unique index must stay under PostgreSQL's btree row limit.
    token = models.CharField(max_length=512, unique=True)
    platform = models.CharField(max_length=8, choices=Platform.choices)
    locale = models.CharField(max_length=16, blank=True)
    app_version = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField()

    class Meta:
        verbose_name = _("device")
        verbose_name_plural = _("devices")
        constraints = [
            models.CheckConstraint(condition=models.Q(platform__in=Platform.values), name="device_platform_known"),
            models.CheckConstraint(condition=~models.Q(token=""), name="device_token_not_empty"),
        ]
        indexes = [models.Index(fields=["user", "id"], name="device_by_user_idx")]

    def __str__(self) -> str:
        return f"{self.platform} device of {self.user_id}"


class NotificationPreference(models.Model):
    """A person's push settings. No row = the defaults below."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="notification_preference"
    )
    # One switch per kind of push (the catalogue's Push.preference names it); defaults
    # favour what a frontline worker must not miss over what is merely social.
    announcement = models.BooleanField(default=True)
    post = models.BooleanField(default=False)
    mention = models.BooleanField(default=True)
    comment = models.BooleanField(default=True)
    reaction = models.BooleanField(default=False)
    kudos = models.BooleanField(default=True)
    award = models.BooleanField(default=True)
    goal = models.BooleanField(default=False)
    key_moment = models.BooleanField(default=False)
    muted_groups = models.ManyToManyField("accounts.Group", blank=True, related_name="+")
    # Local wall-clock times in the user's time zone; the window may wrap midnight.
    quiet_hours_start = models.TimeField(null=True, blank=True)
    quiet_hours_end = models.TimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(quiet_hours_start__isnull=True) & models.Q(quiet_hours_end__isnull=True))
                | (
                    models.Q(quiet_hours_start__isnull=False)
                    & models.Q(quiet_hours_end__isnull=False)
                    & ~models.Q(quiet_hours_start=models.F("quiet_hours_end"))
                ),
                name="preference_quiet_hours_complete",
            ),
        ]


class PushStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class PushDelivery(models.Model):
    """One push of one event to one device: created once, sent at most once.

    The unique (event, device) pair makes re-planning by a retried or swept event
    a no-op; the status and lease make concurrent or retried batch tasks skip
    what another already sent.
    """

    # Not a foreign key: the outbox is pruned, these records are pruned separately.
    event_id = models.UUIDField()
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=8, choices=PushStatus.choices, default=PushStatus.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    high_priority = models.BooleanField(default=False)
    # While set and in the future a batch task owns the row; past it the row is
    # claimable again (the owning worker died).
    lease_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        verbose_name = _("push delivery")
        verbose_name_plural = _("push deliveries")
        constraints = [
            models.UniqueConstraint(fields=["event_id", "device"], name="push_once_per_event_device"),
            models.CheckConstraint(condition=models.Q(status__in=PushStatus.values), name="push_status_known"),
            models.CheckConstraint(
                condition=~models.Q(status=PushStatus.SENT) | models.Q(sent_at__isnull=False), name="push_sent_has_time"
            ),
        ]
        indexes = [
            # The sweeper looks only at unfinished rows.
            models.Index(
                fields=["created_at"],
                name="push_unfinished_idx",
                condition=models.Q(status__in=[PushStatus.QUEUED, PushStatus.SENDING]),
            ),
            models.Index(fields=["created_at"], name="push_created_idx"),
        ]
