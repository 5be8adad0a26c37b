"""Mandatory reads: reminders before an acknowledgement deadline, a summary for leaders after it.

Both run from one beat task every few minutes. Each is idempotent by a row with a
unique constraint (one reminder per post and offset, one summary per post), written
under a lock of the post, so overlapping runs and catch-up after downtime never
notify anyone twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from accounts.models import Membership, MembershipRole
from feed import events, selectors
from feed.cards import iso, post_card, user_summary
from feed.models import Acknowledgement, AcknowledgementEscalation, AcknowledgementReminder, Post, PostGroup, PostSeen
from notifications import services as notifications

# Names in the summary event; the full list is in the CSV export.
ESCALATION_NAMES_IN_EVENT = 50


def reminder_offsets() -> list[timedelta]:
    """How long before a deadline reminders go out (settings: FEED_ACK_REMINDER_OFFSETS_MINUTES)."""
    return sorted((timedelta(minutes=minutes) for minutes in settings.FEED_ACK_REMINDER_OFFSETS_MINUTES), reverse=True)


def _mandatory_reads():
    return Post.objects.filter(
        requires_acknowledgement=True,
        acknowledgement_deadline__isnull=False,
        published_at__isnull=False,
        removed_at__isnull=True,
        hidden_at__isnull=True,
    )


def not_acknowledged_users(*, post: Post):
    """The audience (as of publishing, still here) minus who acknowledged."""
    return selectors.audience_users(post=post).exclude(pk__in=Acknowledgement.objects.filter(post=post).values("user_id"))


def _remind(post: Post, *, now: datetime) -> bool:
    """Send the reminder whose time has come for `post`, once per offset. True when sent."""
    with transaction.atomic():
        post = Post.objects.select_for_update().get(pk=post.pk)
        done = set(AcknowledgementReminder.objects.filter(post=post).values_list("offset_minutes", flat=True))
        due = [
            offset
            for offset in reminder_offsets()
            if post.acknowledgement_deadline - offset <= now and int(offset.total_seconds() // 60) not in done
        ]
        if not due:
            return False
        # Several offsets due at once (the post came late, or the task was down): one
        # reminder, not a burst, and none for moments that passed before the post was
        # even published (its own notification just went out).
        sendable = [offset for offset in due if post.acknowledgement_deadline - offset >= post.published_at]
        recipients = list(not_acknowledged_users(post=post).values_list("pk", flat=True)) if sendable else []
        AcknowledgementReminder.objects.bulk_create(
            [
                AcknowledgementReminder(
                    post=post,
                    offset_minutes=int(offset.total_seconds() // 60),
                    sent_at=now,
                    recipient_count=len(recipients) if offset == min(due) else 0,
                )
                for offset in due
            ]
        )
        if not recipients:
            return False
        payload: dict[str, Any] = {
            **post_card(post=post, viewer=None),
            "reminder": {"deadline": iso(post.acknowledgement_deadline), "offset_minutes": int(min(due).total_seconds() // 60)},
        }
        # Only the people still to acknowledge: nobody else needs this frame.
        notifications.emit(
            events.POST_UPDATED,
            organization_id=post.organization_id,
            payload=payload,
            user_ids=recipients,
            addressed=[{"user_id": user_id, "reason": events.ANNOUNCEMENT.name} for user_id in recipients],
        )
        return True


def _escalate(post: Post, *, now: datetime) -> AcknowledgementEscalation | None:
    with transaction.atomic():
        post = Post.objects.select_for_update().get(pk=post.pk)
        if AcknowledgementEscalation.objects.filter(post=post).exists():
            return None
        audience_count = selectors.audience_users(post=post).count()
        missing = list(not_acknowledged_users(post=post).order_by("name", "pk"))
        managers = Membership.objects.filter(
            role=MembershipRole.MANAGER, group_id__in=PostGroup.objects.filter(post=post).values("group_id"), user__is_active=True
        ).values_list("user_id", flat=True)
        recipient_ids = sorted({post.author_id, *managers})
        escalation = AcknowledgementEscalation.objects.create(
            post=post,
            sent_at=now,
            audience_count=audience_count,
            acknowledged_count=audience_count - len(missing),
            not_acknowledged_user_ids=[user.pk for user in missing],
            recipient_ids=recipient_ids,
        )
        payload = {
            **post_card(post=post, viewer=None),
            "escalation": {
                "deadline": iso(post.acknowledgement_deadline),
                "audience_count": escalation.audience_count,
                "acknowledged_count": escalation.acknowledged_count,
                "not_acknowledged_count": len(missing),
                "not_acknowledged": [user_summary(user) for user in missing[:ESCALATION_NAMES_IN_EVENT]],
            },
        }
        notifications.emit(
            events.POST_UPDATED,
            organization_id=post.organization_id,
            payload=payload,
            user_ids=recipient_ids,
            addressed=[{"user_id": user_id, "reason": events.ANNOUNCEMENT.name} for user_id in recipient_ids],
        )
        return escalation


def mandatory_reads_process(*, now: datetime | None = None) -> dict[str, int]:
    """Send due reminders and after-deadline summaries; safe to run as often as you like."""
    now = now or timezone.now()
    horizon = now + max(reminder_offsets(), default=timedelta(0))
    reminded = sum(
        _remind(post, now=now)
        for post in _mandatory_reads().filter(acknowledgement_deadline__gt=now, acknowledgement_deadline__lte=horizon)
    )
    escalated = sum(
        _escalate(post, now=now) is not None
        for post in _mandatory_reads().filter(acknowledgement_deadline__lte=now, acknowledgement_escalation__isnull=True)
    )
    return {"reminded": reminded, "escalated": escalated}


def reach_rows(*, post: Post) -> list[dict[str, Any]]:
    """One row per audience member for the CSV export: groups, seen and acknowledged times. Three queries."""
    people = list(
        selectors.audience_users(post=post)
        .annotate(
            seen_at=Subquery(PostSeen.objects.filter(post=post, user=OuterRef("pk")).values("seen_at")[:1]),
            acknowledged_at=Subquery(Acknowledgement.objects.filter(post=post, user=OuterRef("pk")).values("acknowledged_at")[:1]),
        )
        .order_by("name", "pk")
    )
    groups: dict[int, list[str]] = {}
    memberships = Membership.objects.filter(user_id__in=[person.pk for person in people], group__organization_id=post.organization_id)
    for user_id, group_name in memberships.order_by("group__name").values_list("user_id", "group__name"):
        groups.setdefault(user_id, []).append(group_name)
    return [
        {
            "user": person,
            "groups": groups.get(person.pk, []),
            "seen_at": person.seen_at,
            "acknowledged_at": person.acknowledged_at,
        }
        for person in people
    ]
