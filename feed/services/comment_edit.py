"""Editing a comment: its author, within the rules of posts (#22)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from feed import events, selectors, signals
from feed.cards import comment_cards
from feed.models import Comment, CommentMention
from feed.services.interactions import comment_create_guards
from feed.services.posts import ensure_not_muted, post_audience
from feed.text import mentioned_user_ids
from notifications import services as notifications
from search.language import text_language
from server.api.exceptions import NotAllowed
from server.api.text import clean_text


def comment_update(*, actor: User, comment: Comment, body: str) -> Comment:
    """The author rewrites their comment: text rules, mute and a locked thread as for writing one.

    Mentions follow the new text; only people it newly mentions are notified.
    """
    if comment.author_id != actor.pk:
        raise NotAllowed(_("Only the author can edit a comment."))
    ensure_not_muted(actor)
    body = clean_text(body, field="body")
    post = comment.post
    for guard in comment_create_guards:
        guard(author=actor, post=post)
    with transaction.atomic():
        comment = Comment.objects.select_for_update().get(pk=comment.pk)
        previous_body = comment.body
        if body == previous_body:
            return comment
        comment.body = body
        comment.language = text_language(body, writer=actor)  # the search index's stemming (search/)
        comment.edited_at = timezone.now()
        comment.save(update_fields=["body", "language", "edited_at"])

        mentioned = mentioned_user_ids(body)
        mentioned_ids = set(selectors.viewers_of(post=post).filter(pk__in=mentioned).values_list("pk", flat=True)) if mentioned else set()
        already = set(CommentMention.objects.filter(comment=comment).values_list("user_id", flat=True))
        CommentMention.objects.filter(comment=comment).exclude(user_id__in=mentioned_ids).delete()
        added = sorted(mentioned_ids - already)
        CommentMention.objects.bulk_create([CommentMention(comment=comment, user_id=user_id) for user_id in added])
        addressed = [{"user_id": user_id, "reason": events.MENTION.name} for user_id in added if user_id != actor.pk]

        card = comment_cards(comments=[selectors.comment_list(post=post).get(pk=comment.pk)])[0]
        notifications.emit(events.COMMENT_UPDATED, payload=card, addressed=addressed, **post_audience(post))
        fields = {
            "organization_id": post.organization_id,
            "author_id": actor.pk,
            "post_id": post.pk,
            "comment_id": comment.pk,
            "body": body,
            "previous_body": previous_body,
        }
        transaction.on_commit(lambda: signals.content_published.send(sender=Comment, **fields))
        return comment
