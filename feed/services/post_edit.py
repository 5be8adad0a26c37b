"""Editing a post after it was written: its text, groups, photos, deadline and schedule (#22).

The same rules as writing it (feed.services.posts.post_create): the author edits, with the
posting rights of the new groups and the text rules; an admin may only move or publish
someone else's scheduled post (cancelling is `post_delete`).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from feed import events, selectors, signals
from feed.cards import post_card, removed_card
from feed.models import MEMBER_KINDS, AcknowledgementEscalation, AcknowledgementReminder, Post, PostGroup, PostImage
from feed.services.posts import (
    MAX_IMAGES_PER_POST,
    _check_deadline,
    _check_posting_rights,
    _resolve_groups,
    ensure_not_muted,
    post_audience,
    post_publish_now,
)
from media import services as media_services
from notifications import services as notifications
from search.language import text_language
from server.api.exceptions import NotAllowed, ValidationFailed
from server.api.text import clean_text

POST_EDITABLE = ("body", "group_ids", "image_ids", "acknowledgement_deadline", "publish_at")
# What an admin may change of someone else's post: when a scheduled one goes out.
SCHEDULE_FIELDS = frozenset({"publish_at"})


def _check_editor(*, actor: User, post: Post, fields: set[str]) -> None:
    if post.kind not in MEMBER_KINDS:
        raise NotAllowed(_("This post is kept up to date by the app that wrote it."))
    if post.author_id == actor.pk:
        return
    if actor.is_org_admin and fields <= SCHEDULE_FIELDS and not post.is_published:
        return
    raise NotAllowed(_("Only the author can edit a post."))


def _set_images(*, post: Post, image_ids: list[int], org_wide: bool, group_ids: list[int]) -> None:
    """The post's photos become `image_ids` in this order: kept ones stay, new uploads of the
    author are claimed for the post's audience, dropped ones are detached (media's sweep deletes them)."""
    image_ids = list(dict.fromkeys(image_ids))
    if len(image_ids) > MAX_IMAGES_PER_POST:
        message = _("At most %(count)d images.") % {"count": MAX_IMAGES_PER_POST}
        raise ValidationFailed(message, fields={"image_ids": [message]})
    current = list(PostImage.objects.filter(post=post).values_list("media_id", flat=True))
    new_ids = [media_id for media_id in image_ids if media_id not in current]
    media_services.media_claim(
        owner=post.author,
        media_ids=new_ids,
        max_count=MAX_IMAGES_PER_POST,
        field="image_ids",
        org_wide=org_wide,
        audience_group_ids=group_ids,
    )
    dropped = [media_id for media_id in current if media_id not in image_ids]
    if dropped:
        media_services.media_detach(media_ids=dropped)
    PostImage.objects.filter(post=post).delete()
    PostImage.objects.bulk_create([PostImage(post=post, media_id=media_id, position=index) for index, media_id in enumerate(image_ids)])


def _mandatory_read_restart(post: Post) -> None:
    # A new deadline is a new mandatory read: its reminders and summary are due again.
    AcknowledgementReminder.objects.filter(post=post).delete()
    AcknowledgementEscalation.objects.filter(post=post).delete()


def post_update(*, actor: User, post: Post, **changes: Any) -> Post:
    """Change any of `POST_EDITABLE` (absent: unchanged). `publish_at` only before publishing:
    in the future it reschedules, null or past publishes now."""
    unknown = set(changes) - set(POST_EDITABLE)
    if unknown:
        raise ValueError(f"post_update cannot change {sorted(unknown)}")
    _check_editor(actor=actor, post=post, fields=set(changes))
    ensure_not_muted(actor)
    if not changes:
        return post
    with transaction.atomic():
        post = selectors.access_post(user=actor, post_id=post.pk, lock=True)
        now = timezone.now()
        old_group_ids = sorted(PostGroup.objects.filter(post=post).values_list("group_id", flat=True))
        old_audience = {"org_wide": post.org_wide, "group_ids": old_group_ids}
        was_published = post.is_published
        previous_body = post.body

        publish_at = post.publish_at
        if "publish_at" in changes:
            if was_published:
                message = _("The post is already published.")
                raise ValidationFailed(message, code="already_published", fields={"publish_at": [message]})
            publish_at = changes["publish_at"]
        publish_now = not was_published and (publish_at is None or publish_at <= now)
        scheduled = not was_published and not publish_now

        groups = None
        if "group_ids" in changes:
            groups = _resolve_groups(author=post.author, group_ids=changes["group_ids"])
        if groups is not None or "publish_at" in changes:
            current_groups = groups if groups is not None else list(post.groups.all())
            _check_posting_rights(
                author=actor,
                groups=current_groups,
                kind=post.kind,
                requires_acknowledgement=post.requires_acknowledgement,
                scheduled=scheduled,
            )

        deadline = changes.get("acknowledgement_deadline", post.acknowledgement_deadline)
        if deadline is not None and ("acknowledgement_deadline" in changes or "publish_at" in changes):
            visible_from = max(now, publish_at) if scheduled else now
            _check_deadline(deadline=deadline, requires_acknowledgement=post.requires_acknowledgement, visible_from=visible_from)

        content_changed = bool(set(changes) - SCHEDULE_FIELDS)
        if "body" in changes or "image_ids" in changes:
            has_images = bool(changes["image_ids"]) if "image_ids" in changes else PostImage.objects.filter(post=post).exists()
            post.body = clean_text(changes.get("body", post.body), field="body", allow_empty=has_images)
            post.language = text_language(post.body, writer=actor)  # the search index's stemming (search/)
        if groups is not None:
            post.org_wide = not groups
            PostGroup.objects.filter(post=post).delete()
            PostGroup.objects.bulk_create([PostGroup(post=post, group=group) for group in groups])
        new_group_ids = sorted(group.pk for group in groups) if groups is not None else old_group_ids
        if "image_ids" in changes:
            _set_images(post=post, image_ids=changes["image_ids"], org_wide=post.org_wide, group_ids=new_group_ids)
        if groups is not None:
            kept = list(PostImage.objects.filter(post=post).values_list("media_id", flat=True))
            media_services.media_audience_set(media_ids=kept, org_wide=post.org_wide, audience_group_ids=new_group_ids)
        if "acknowledgement_deadline" in changes and deadline != post.acknowledgement_deadline:
            post.acknowledgement_deadline = deadline
            _mandatory_read_restart(post)
        if not was_published:
            post.publish_at = None if publish_now else publish_at
        if content_changed:
            post.edited_at = now
        post.updated_at = now
        post.save()

        if publish_now:
            post_publish_now(post=post)
        elif was_published:
            _announce_change(post, old_audience=old_audience, new_group_ids=new_group_ids)
            if post.body != previous_body:
                # The keyword filter sees the new text too (what only the edit brought in);
                # a scheduled post is checked when it is published.
                fields = {
                    "organization_id": post.organization_id,
                    "author_id": post.author_id,
                    "post_id": post.pk,
                    "comment_id": None,
                    "body": post.body,
                    "previous_body": previous_body,
                }
                transaction.on_commit(lambda: signals.content_published.send(sender=Post, **fields))
        return post


def _announce_change(post: Post, *, old_audience: dict[str, Any], new_group_ids: list[int]) -> None:
    """`post.updated` to the audience; when the audience itself changed, `post.deleted` to the old
    one first, so a phone that no longer may see the post drops it (one that still may gets both,
    in that order, and shows the new card)."""
    if old_audience["org_wide"] != post.org_wide or (not post.org_wide and old_audience["group_ids"] != new_group_ids):
        audience = {"org_wide": True} if old_audience["org_wide"] else {"group_ids": old_audience["group_ids"]}
        notifications.emit(events.POST_DELETED, organization_id=post.organization_id, payload=removed_card(post.pk), **audience)
    notifications.emit(events.POST_UPDATED, payload=post_card(post=post, viewer=None), **post_audience(post, new_group_ids))
