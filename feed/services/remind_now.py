"""'Remind now': a leader reminds everyone who has not yet acknowledged a mandatory read (#22)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from feed import events, selectors
from feed.cards import iso, post_card
from feed.models import AcknowledgementNudge, Post
from notifications import services as notifications
from server.api.exceptions import NotAllowed, Throttled, ValidationFailed

# A reminder is a push to people's phones: once an hour at most, whoever asks.
REMIND_NOW_INTERVAL = timedelta(hours=1)


@dataclass(frozen=True)
class Reminded:
    reminded_count: int
    sent_at: datetime
    next_remind_at: datetime


def post_remind_now(*, actor: User, post: Post) -> Reminded:
    """Notify the audience members still to acknowledge `post` (the author, an admin, or a
    manager of its groups asks). Throttled per post: a second call within the hour is a 429
    with Retry-After, whoever makes it; a call with nobody left to remind sends nothing and
    does not count."""
    if post.author_id != actor.pk and not selectors.may_moderate(user=actor, post=post):
        raise NotAllowed(_("Only the author, an admin or a group manager can remind."))
    if not post.requires_acknowledgement:
        raise ValidationFailed(_("This post does not ask for acknowledgement."), code="acknowledgement_not_required")
    if not post.is_published:
        raise ValidationFailed(_("You can send a reminder once the post is published."), code="not_published")
    with transaction.atomic():
        # Locked: two leaders tapping at once send one reminder, the other gets the 429.
        post = Post.objects.select_for_update().get(pk=post.pk)
        now = timezone.now()
        last = AcknowledgementNudge.objects.filter(post=post).order_by("-sent_at").first()
        if last is not None and last.sent_at + REMIND_NOW_INTERVAL > now:
            wait = last.sent_at + REMIND_NOW_INTERVAL - now
            minutes = max(1, int(wait.total_seconds() // 60))
            raise Throttled(
                wait_seconds=int(wait.total_seconds()) + 1,
                message=_("Reminded less than an hour ago; try again in %(minutes)d minutes.") % {"minutes": minutes},
            )
        recipients = list(selectors.not_acknowledged_list(post=post).values_list("pk", flat=True))
        if not recipients:
            return Reminded(reminded_count=0, sent_at=now, next_remind_at=now)
        AcknowledgementNudge.objects.create(post=post, sent_by=actor, sent_at=now, recipient_count=len(recipients))
        payload: dict[str, Any] = {
            **post_card(post=post, viewer=None),
            "reminder": {"deadline": iso(post.acknowledgement_deadline), "offset_minutes": None},
        }
        notifications.emit(
            events.POST_UPDATED,
            organization_id=post.organization_id,
            payload=payload,
            user_ids=recipients,
            addressed=[{"user_id": user_id, "reason": events.ANNOUNCEMENT.name} for user_id in recipients],
        )
        return Reminded(reminded_count=len(recipients), sent_at=now, next_remind_at=now + REMIND_NOW_INTERVAL)
