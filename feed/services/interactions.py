"""What people do with a post: comment, mention, react, acknowledge, see."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from feed import events, selectors, signals
from feed.cards import comment_cards
from feed.models import Acknowledgement, Comment, CommentMention, Post, PostSeen, Reaction, ReactionType
from feed.services.posts import ensure_not_muted, post_audience
from feed.text import mentioned_user_ids
from notifications import services as notifications
from search.language import text_language
from server.api.exceptions import NotAllowed, ValidationFailed
from server.api.text import clean_text

MAX_SEEN_BATCH = 200

# Checks a higher app adds without the feed importing it (moderation's per-post comment
# lock): each is called as guard(author=..., post=...) and may raise an ApplicationError.
comment_create_guards: list[Callable[..., None]] = []


# --- Comments ---------------------------------------------------------------------------------


def _reply_parent(*, post: Post, parent_id: int) -> Comment:
    """The comment a reply answers: shown, of the same post, and itself not a reply (400 on parent_id)."""
    parent = Comment.objects.filter(pk=parent_id, post=post, removed_at__isnull=True, hidden_at__isnull=True).first()
    if parent is None:
        # Another post's comment, another organisation's and a missing one read the same.
        message = _("Unknown comment.")
        raise ValidationFailed(message, fields={"parent_id": [message]})
    if parent.parent_id is not None:
        message = _("Replies are one level deep: reply to the first comment.")
        raise ValidationFailed(message, code="reply_to_reply", fields={"parent_id": [message]})
    return parent


def comment_create(*, author: User, post: Post, body: str, parent_id: int | None = None) -> Comment:
    """A comment on a post the author can see, or a reply to one of its comments (`parent_id`);
    `@[user:ID]` mentions of people who can see it too."""
    ensure_not_muted(author)
    body = clean_text(body, field="body")
    if not post.is_published:
        raise ValidationFailed(_("You can comment once the post is published."), code="not_published")
    for guard in comment_create_guards:
        guard(author=author, post=post)
    with transaction.atomic():
        parent = _reply_parent(post=post, parent_id=parent_id) if parent_id is not None else None
        comment = Comment.objects.create(post=post, author=author, body=body, parent=parent, language=text_language(body, writer=author))
        # A mention of someone outside the post's audience (or another organisation) is
        # dropped silently: notifying them would leak the post.
        mentioned = mentioned_user_ids(body)
        mentioned_ids = list(selectors.viewers_of(post=post).filter(pk__in=mentioned).values_list("pk", flat=True)) if mentioned else []
        CommentMention.objects.bulk_create([CommentMention(comment=comment, user_id=user_id) for user_id in sorted(mentioned_ids)])

        addressed = [{"user_id": user_id, "reason": events.MENTION.name} for user_id in sorted(mentioned_ids) if user_id != author.pk]
        if post.author_id != author.pk and post.author_id not in mentioned_ids:
            addressed.append({"user_id": post.author_id, "reason": events.COMMENT.name})
        if parent is not None and parent.author_id not in {author.pk, post.author_id, *mentioned_ids}:
            addressed.append({"user_id": parent.author_id, "reason": events.REPLY.name})
        comment = selectors.comment_list(post=post).get(pk=comment.pk)
        card = comment_cards(comments=[comment])[0]
        notifications.emit(events.COMMENT_CREATED, payload=card, addressed=addressed, **post_audience(post))
        fields = {
            "organization_id": post.organization_id,
            "author_id": author.pk,
            "post_id": post.pk,
            "comment_id": comment.pk,
            "body": body,
        }
        transaction.on_commit(lambda: signals.content_published.send(sender=Comment, **fields))
        return comment


def _emit_comment_gone(*, post: Post, comment_id: int, now) -> None:
    # The post's comment_count changed: catch-up (/feed/updates) must hand the card out again.
    Post.objects.filter(pk=post.pk).update(updated_at=now)
    notifications.emit(events.COMMENT_DELETED, payload={"id": comment_id, "post_id": post.pk, "removed": True}, **post_audience(post))


def comment_delete(*, actor: User, comment: Comment) -> None:
    post = comment.post
    if comment.author_id != actor.pk and not selectors.may_moderate(user=actor, post=post):
        raise NotAllowed(_("Only the author or an admin can delete a comment."))
    with transaction.atomic():
        now = timezone.now()
        removed = Comment.objects.filter(pk=comment.pk, removed_at__isnull=True).update(removed_at=now)
        if removed and comment.hidden_at is None:
            _emit_comment_gone(post=post, comment_id=comment.pk, now=now)


def comment_set_visibility(*, actor: User | None, comment: Comment, visible: bool, reason: str) -> Comment:
    """Moderation's handle on comments, like post_set_visibility for posts.

    Hiding answers like a deletion everywhere (comment lists, counts, a `comment.deleted`
    event, catch-up through the post's updated_at); showing again re-announces the comment
    with `comment.created` (same comment id: phones de-duplicate by it).
    """
    post = comment.post
    if actor is not None and not selectors.may_moderate(user=actor, post=post):
        raise NotAllowed(_("Only admins may hide or restore comments."))
    with transaction.atomic():
        comment = Comment.objects.select_for_update().select_related("post").get(pk=comment.pk)
        if (comment.hidden_at is None) == visible:
            return comment
        now = timezone.now()
        comment.hidden_at = None if visible else now
        comment.hidden_reason = "" if visible else reason[:500]
        comment.save(update_fields=["hidden_at", "hidden_reason"])
        if comment.removed_at is None and post.removed_at is None:
            if visible:
                Post.objects.filter(pk=post.pk).update(updated_at=now)
                card = comment_cards(comments=[selectors.comment_list(post=post).get(pk=comment.pk)])[0]
                notifications.emit(events.COMMENT_CREATED, payload=card, **post_audience(post))
            else:
                _emit_comment_gone(post=post, comment_id=comment.pk, now=now)
        return comment


# --- Reactions --------------------------------------------------------------------------------


def reaction_counts(*, post: Post) -> dict[str, int]:
    counts = dict(Reaction.objects.filter(post=post).values("type").annotate(count=Count("id")).order_by().values_list("type", "count"))
    return {reaction_type: counts.get(reaction_type, 0) for reaction_type in ReactionType.values}


def _emit_reaction(*, post: Post, user: User, reaction_type: str | None) -> dict[str, Any]:
    payload = {"post_id": post.pk, "user_id": user.pk, "type": reaction_type, "reaction_counts": reaction_counts(post=post)}
    notifications.emit(events.REACTION_UPDATED, payload=payload, **post_audience(post))
    return payload


def reaction_set(*, user: User, post: Post, reaction_type: str) -> dict[str, Any]:
    """Set (or change) the user's one reaction to the post. Returns the post's counts and the user's type."""
    if reaction_type not in ReactionType.values:
        raise ValidationFailed(_("Unknown reaction type."), fields={"type": [_("Unknown reaction type.")]})
    if not post.is_published:
        raise ValidationFailed(_("You can react once the post is published."), code="not_published")
    with transaction.atomic():
        now = timezone.now()
        # INSERT ... ON CONFLICT (post, user) DO UPDATE: concurrent taps from one phone end
        # as one row with the last type, without a lock or a retry loop.
        Reaction.objects.bulk_create(
            [Reaction(post=post, user=user, type=reaction_type, created_at=now, updated_at=now)],
            update_conflicts=True,
            unique_fields=["post", "user"],
            update_fields=["type", "updated_at"],
        )
        return _emit_reaction(post=post, user=user, reaction_type=reaction_type)


def reaction_delete(*, user: User, post: Post) -> None:
    with transaction.atomic():
        deleted, _unused = Reaction.objects.filter(post=post, user=user).delete()
        if deleted:
            _emit_reaction(post=post, user=user, reaction_type=None)


# --- Acknowledgements and impressions -------------------------------------------------------------


def post_acknowledge(*, user: User, post: Post, acknowledged_at: datetime | None = None) -> Acknowledgement:
    """Idempotent: the first acknowledgement counts, repeats return it unchanged."""
    if not post.requires_acknowledgement:
        raise ValidationFailed(_("This post does not ask for acknowledgement."), code="acknowledgement_not_required")
    if not post.is_published:
        raise ValidationFailed(_("You can acknowledge once the post is published."), code="not_published")
    now = timezone.now()
    # The phone's clock when it was tapped offline; never before the post existed, never in the future.
    moment = min(max(acknowledged_at or now, post.published_at), now)
    existing = Acknowledgement.objects.filter(post=post, user=user).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            acknowledgement = Acknowledgement.objects.create(post=post, user=user, acknowledged_at=moment, recorded_at=now)
            # Acknowledged is seen: reach counts it at once, whether or not the phone reports the impression.
            PostSeen.objects.bulk_create([PostSeen(post=post, user=user, seen_at=moment)], ignore_conflicts=True)
            notifications.emit(
                events.ANNOUNCEMENT_ACKNOWLEDGED,
                organization_id=post.organization_id,
                payload={"post_id": post.pk, "user": {"id": user.pk, "name": user.name}, "acknowledged_at": moment.isoformat()},
                user_ids=[post.author_id],
            )
            return acknowledgement
    except IntegrityError:
        # A concurrent request of the same person got there first: theirs is the acknowledgement.
        return Acknowledgement.objects.get(post=post, user=user)


def posts_seen(*, user: User, post_ids: list[int]) -> int:
    """Record impressions; returns how many ids were posts the user can see.

    Ids the user cannot see (removed since, or never theirs) are skipped rather than
    refused: a phone sends batches collected offline, and one post deleted meanwhile
    must not make the whole batch fail forever.
    """
    if len(post_ids) > MAX_SEEN_BATCH:
        message = _("At most %(max)d ids per batch.") % {"max": MAX_SEEN_BATCH}
        raise ValidationFailed(message, fields={"ids": [message]})
    visible_ids = list(selectors.visible_posts(user=user).filter(pk__in=set(post_ids)).values_list("pk", flat=True))
    now = timezone.now()
    PostSeen.objects.bulk_create([PostSeen(post_id=post_id, user=user, seen_at=now) for post_id in visible_ids], ignore_conflicts=True)
    return len(visible_ids)
