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

    class Meta:
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


class NotificationReason(models.TextChoices):
    MENTION = "mention", "Mentioned"
    COMMENT = "comment", "Comment on my post"
    ANNOUNCEMENT = "announcement", "Announcement to acknowledge"
    KUDOS = "kudos", "Kudos received"
    AWARD = "award", "Award won"
    NOMINATION = "nomination", "Nominated"


class Notification(models.Model):
    """One row of a person's in-app inbox."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    # Not a foreign key: the outbox is pruned, the inbox is kept.
    event_id = models.UUIDField()
    type = models.CharField(max_length=64)
    reason = models.CharField(max_length=32, choices=NotificationReason.choices)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # Idempotent delivery: a re-delivered event never notifies twice.
            models.UniqueConstraint(fields=["event_id", "recipient"], name="notification_once_per_event"),
            models.CheckConstraint(condition=models.Q(reason__in=NotificationReason.values), name="notification_reason_known"),
        ]
        indexes = [
            models.Index(fields=["recipient", "-id"], name="notification_inbox_idx"),
            models.Index(fields=["recipient"], name="notification_unread_idx", condition=models.Q(read_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.reason} for {self.recipient_id}"


class DeliveryChannel(models.TextChoices):
    PUSH = "push", "Push"


class DeliveryReceipt(models.Model):
    """Marks that one event reached one person over one channel.

    The push step claims (event, recipient) here before sending, so a
    re-delivered event never buzzes a phone twice.
    """

    event_id = models.UUIDField()
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=16, choices=DeliveryChannel.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event_id", "recipient", "channel"], name="receipt_once_per_event"),
            models.CheckConstraint(condition=models.Q(channel__in=DeliveryChannel.values), name="receipt_channel_known"),
        ]
        indexes = [models.Index(fields=["created_at"], name="receipt_created_idx")]
