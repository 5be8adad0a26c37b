"""Comment locks: a moderator closes or reopens a post's comments."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.audit import audit_record
from accounts.models import User
from feed.models import Post
from moderation import selectors
from moderation.models import CommentLock, TargetType
from server.api.exceptions import NotAllowed


def comment_lock_guard(*, author: User, post: Post) -> None:
    """Registered in feed's comment_create_guards: a locked post takes no new comments."""
    if selectors.comment_lock_exists(post_id=post.pk):
        raise NotAllowed(_("Comments on this post are closed."), code="comments_locked")


def comments_lock(*, actor: User, post_id: int, locked: bool, note: str = "") -> bool:
    """Close or reopen a post's comments; returns whether they are now locked."""
    with transaction.atomic():
        post = selectors.access_post_to_moderate(actor=actor, post_id=post_id)
        if locked:
            _lock, created = CommentLock.objects.get_or_create(post=post, defaults={"locked_by": actor, "note": note[:1000]})
            changed = created
        else:
            changed = CommentLock.objects.filter(post=post).delete()[0] > 0
        if changed:
            audit_record(
                actor=actor,
                organization_id=post.organization_id,
                action="moderation.comments_locked" if locked else "moderation.comments_unlocked",
                target_type=TargetType.POST,
                target_id=post.pk,
                before={"comments_locked": not locked},
                after={"comments_locked": locked},
                note=note,
            )
        return locked
