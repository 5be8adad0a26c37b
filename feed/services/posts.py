"""Writing posts: create (by people and by other apps), edit, delete, pin, hide, publish."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Group, Membership, MembershipRole, User
from feed import events, selectors, signals
from feed.cards import post_card, removed_card
from feed.models import MEMBER_KINDS, SYSTEM_KINDS, Post, PostGroup, PostImage, PostKind
from feed.services import polls
from feed.text import mentioned_user_ids
from media import services as media_services
from notifications import services as notifications
from notifications.recipients import AudienceAddress
from search.language import text_language
from server.api.exceptions import Conflict, Muted, NotAllowed, ValidationFailed
from server.api.text import clean_text

MAX_GROUPS_PER_POST = 50
MAX_IMAGES_PER_POST = 10


# --- Events -----------------------------------------------------------------------------


def post_audience(post: Post, group_ids: list[int] | None = None) -> dict[str, Any]:
    """`emit`'s organisation and audience for an event about `post` (`group_ids`: the post's, when the caller has them)."""
    if post.org_wide:
        return {"organization_id": post.organization_id, "org_wide": True}
    if group_ids is None:
        group_ids = list(PostGroup.objects.filter(post=post).values_list("group_id", flat=True))
    return {"organization_id": post.organization_id, "group_ids": sorted(group_ids)}


def _announce_published(post: Post, group_ids: list[int] | None = None) -> dict[str, Any]:
    """Announce a post just published; returns its viewer-neutral card (the event's payload).

    Nothing here reads the audience: whoever is mentioned or must acknowledge is
    resolved by the worker (`notifications.recipients`), which drops anyone the post
    does not reach. A 100,000-person announcement costs the request what a note does.
    """
    mentioned = [
        {"user_id": user_id, "reason": events.MENTION.name} for user_id in mentioned_user_ids(post.body) if user_id != post.author_id
    ]
    address_audience = None
    if post.requires_acknowledgement:
        # Overrides "mention": the announcement is the stronger reason to reach them.
        address_audience = AudienceAddress(reason=events.ANNOUNCEMENT.name, joined_by=post.published_at, except_user_ids=(post.author_id,))
    card = post_card(post=post, viewer=None)
    notifications.emit(
        events.POST_CREATED, payload=card, addressed=mentioned, address_audience=address_audience, **post_audience(post, group_ids)
    )
    fields = {
        "organization_id": post.organization_id,
        "author_id": post.author_id,
        "post_id": post.pk,
        "comment_id": None,
        "body": post.body,
    }
    transaction.on_commit(lambda: signals.content_published.send(sender=Post, **fields))
    return card


# --- Audience and rights ----------------------------------------------------------------------


def _resolve_groups(*, author: User, group_ids: list[int] | None) -> list[Group]:
    """The post's groups (empty = org-wide); ids the author's organisation does not own are a 400."""
    if not group_ids:
        return []
    unique_ids = list(dict.fromkeys(group_ids))
    if len(unique_ids) > MAX_GROUPS_PER_POST:
        message = _("A post can go to at most %(max)d groups.") % {"max": MAX_GROUPS_PER_POST}
        raise ValidationFailed(message, fields={"group_ids": [message]})
    groups = selectors.groups_of_organization(user=author, group_ids=unique_ids)
    if len(groups) != len(unique_ids):
        found = {group.pk for group in groups}
        unknown = [group_id for group_id in unique_ids if group_id not in found]
        message = _("Unknown group ids: %(ids)s.") % {"ids": ", ".join(map(str, unknown))}
        raise ValidationFailed(message, fields={"group_ids": [message]})
    return groups


def ensure_not_muted(user: User) -> None:
    if user.is_muted:
        raise Muted()


def _check_posting_rights(*, author: User, groups: list[Group], kind: str, requires_acknowledgement: bool, scheduled: bool) -> None:
    ensure_not_muted(author)
    if author.is_leader_or_admin:
        return
    if kind == PostKind.ANNOUNCEMENT or requires_acknowledgement or scheduled:
        raise NotAllowed(_("Only leaders and admins may post announcements, ask for acknowledgement or schedule posts."))
    if not groups:
        if not author.organization.org_wide_posting_open:
            raise NotAllowed(_("Only leaders and admins may post to the whole organisation."))
        return
    roles = dict(Membership.objects.filter(user=author, group__in=groups).values_list("group_id", "role"))
    for group in groups:
        role = roles.get(group.pk)
        if role is None:
            raise NotAllowed(_("You can only post in groups you belong to."))
        if not group.allow_member_posts and role != MembershipRole.MANAGER:
            raise NotAllowed(_("Members may not post in %(group)s.") % {"group": group.name})


# --- Create ------------------------------------------------------------------------------


def _create(
    *,
    author: User,
    kind: str,
    body: str,
    groups: list[Group],
    card: dict[str, Any],
    requires_acknowledgement: bool,
    publish_at: datetime | None,
    publish: bool,
    image_ids: list[int] | None = None,
    acknowledgement_deadline: datetime | None = None,
    poll: dict[str, Any] | None = None,
) -> Post:
    now = timezone.now()
    publish_now = publish and (publish_at is None or publish_at <= now)
    post = Post.objects.create(
        organization_id=author.organization_id,
        author=author,
        kind=kind,
        body=body,
        language=text_language(body, writer=author),
        card=card,
        org_wide=not groups,
        created_at=now,
        updated_at=now,
        publish_at=publish_at if publish and not publish_now else None,
        published_at=now if publish_now else None,
        requires_acknowledgement=requires_acknowledgement,
        acknowledgement_deadline=acknowledgement_deadline,
    )
    PostGroup.objects.bulk_create([PostGroup(post=post, group=group) for group in groups])
    if image_ids:
        # The photos become visible to exactly the post's audience; media checks they are
        # the author's own, unused and not failed (400 on image_ids otherwise).
        images = media_services.media_claim(
            owner=author,
            media_ids=image_ids,
            max_count=MAX_IMAGES_PER_POST,
            field="image_ids",
            org_wide=not groups,
            audience_group_ids=[group.pk for group in groups],
        )
        PostImage.objects.bulk_create([PostImage(post=post, media=media, position=index) for index, media in enumerate(images)])
    if poll is not None:
        polls.poll_create(post=post, poll=poll)
    post.author = author
    if publish_now:
        # Scheduled posts announce themselves when the scheduler publishes them.
        post.published_card = _announce_published(post, group_ids=[group.pk for group in groups])
    return post


def post_create(
    *,
    author: User,
    body: str,
    group_ids: list[int] | None = None,
    kind: str = PostKind.POST,
    requires_acknowledgement: bool = False,
    publish_at: datetime | None = None,
    image_ids: list[int] | None = None,
    acknowledgement_deadline: datetime | None = None,
    poll: dict[str, Any] | None = None,
) -> Post:
    """A post or announcement written by a person, with the posting rights checked; `poll`:
    `{options, multiple?, closes_at?, results?, anonymous?}` (feed.services.polls)."""
    if kind not in MEMBER_KINDS:
        raise ValidationFailed(_("This kind of post cannot be written directly."), fields={"kind": [_("Not allowed.")]})
    # A photo with nothing to say is a post too.
    body = clean_text(body, field="body", allow_empty=bool(image_ids))
    now = timezone.now()
    scheduled = publish_at is not None and publish_at > now
    if acknowledgement_deadline is not None:
        _check_deadline(
            deadline=acknowledgement_deadline, requires_acknowledgement=requires_acknowledgement, visible_from=max(now, publish_at or now)
        )
    if poll is not None:
        poll = polls.poll_validate(poll=poll, visible_from=max(now, publish_at or now))
    with transaction.atomic():
        groups = _resolve_groups(author=author, group_ids=group_ids)
        _check_posting_rights(
            author=author, groups=groups, kind=kind, requires_acknowledgement=requires_acknowledgement, scheduled=scheduled
        )
        return _create(
            author=author,
            kind=kind,
            body=body,
            groups=groups,
            card={},
            requires_acknowledgement=requires_acknowledgement,
            publish_at=publish_at if scheduled else None,
            publish=True,
            image_ids=image_ids,
            acknowledgement_deadline=acknowledgement_deadline,
            poll=poll,
        )


def _check_deadline(*, deadline: datetime, requires_acknowledgement: bool, visible_from: datetime) -> None:
    if not requires_acknowledgement:
        message = _("A deadline needs requires_acknowledgement.")
        raise ValidationFailed(message, fields={"acknowledgement_deadline": [message]})
    if deadline <= visible_from:
        message = _("The deadline must be after the post is published.")
        raise ValidationFailed(message, fields={"acknowledgement_deadline": [message]})


def post_create_system(
    *,
    author: User,
    kind: str,
    body: str,
    group_ids: list[int] | None,
    card: dict[str, Any],
    publish: bool = True,
    image_ids: list[int] | None = None,
) -> Post:
    """A kudos, award, goal update or key moment post, created by the app that owns it.

    No posting-rights check: the calling service decided who may do this. Runs inside
    the caller's transaction, so the post exists exactly when the kudos (etc.) does.
    With publish=False the post is a draft until `post_publish_now`. `image_ids` are
    uploads of `author`, claimed for the post's audience (400 on `image_ids` otherwise).
    """
    if kind not in SYSTEM_KINDS:
        raise ValueError(f"post_create_system is for {', '.join(SYSTEM_KINDS)}, not {kind!r}")
    body = clean_text(body, field="body", allow_empty=True)
    with transaction.atomic():
        groups = _resolve_groups(author=author, group_ids=group_ids)
        return _create(
            author=author,
            kind=kind,
            body=body,
            groups=groups,
            card=card,
            requires_acknowledgement=False,
            publish_at=None,
            publish=publish,
            image_ids=image_ids,
        )


# --- Publish ------------------------------------------------------------------------------


def post_publish_now(*, post: Post) -> bool:
    """Publish a draft or scheduled post; False when it was already published (by a concurrent run)."""
    with transaction.atomic():
        now = timezone.now()
        # The guarded update is the idempotency: of two schedulers racing, one wins.
        published = Post.objects.filter(pk=post.pk, published_at__isnull=True, removed_at__isnull=True).update(
            published_at=now, updated_at=now
        )
        if not published:
            return False
        post.refresh_from_db()
        _announce_published(post)
        return True


def posts_publish_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Publish every scheduled post whose time has come (after downtime too); returns how many."""
    now = now or timezone.now()
    due_ids = list(
        Post.objects.filter(published_at__isnull=True, removed_at__isnull=True, publish_at__lte=now)
        .order_by("publish_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    published = 0
    for post in Post.objects.filter(pk__in=due_ids).order_by("publish_at", "id"):
        published += post_publish_now(post=post)
    return published


# --- Change -------------------------------------------------------------------------------


def post_delete(*, actor: User, post: Post) -> None:
    if post.author_id != actor.pk and not selectors.may_moderate(user=actor, post=post):
        raise NotAllowed(_("Only the author or an admin can delete a post."))
    with transaction.atomic():
        now = timezone.now()
        removed = Post.objects.filter(pk=post.pk, removed_at__isnull=True).update(
            removed_at=now, removed_by=actor, updated_at=now, pinned=False, pinned_at=None
        )
        if removed:
            # The photos go with the post: owner-only at once, deleted by media's orphan sweep.
            media_services.media_detach(media_ids=list(PostImage.objects.filter(post=post).values_list("media_id", flat=True)))
            if post.is_published:
                notifications.emit(events.POST_DELETED, payload=removed_card(post.pk), **post_audience(post))


def post_pin(*, actor: User, post: Post, pinned: bool) -> Post:
    if not actor.is_leader_or_admin:
        raise NotAllowed(_("Only leaders and admins may pin posts."))
    with transaction.atomic():
        post = selectors.access_post(user=actor, post_id=post.pk, lock=True)
        if post.pinned == pinned:
            return post
        if pinned:
            if not post.is_published:
                raise Conflict(_("A post can be pinned once it is published."), code="not_published")
            pinned_count = Post.objects.filter(organization_id=post.organization_id, pinned=True, removed_at__isnull=True).count()
            if pinned_count >= selectors.PINNED_LIMIT:
                raise Conflict(
                    _("At most %(max)d posts can be pinned; unpin one first.") % {"max": selectors.PINNED_LIMIT}, code="too_many_pinned"
                )
        now = timezone.now()
        post.pinned = pinned
        post.pinned_at = now if pinned else None
        post.updated_at = now
        post.save(update_fields=["pinned", "pinned_at", "updated_at"])
        notifications.emit(events.POST_UPDATED, payload=post_card(post=post, viewer=None), **post_audience(post))
        return post


def post_set_visibility(*, actor: User | None, post: Post, visible: bool, reason: str) -> Post:
    """Hide a post from everyone but admins, or show it again: moderation's only handle on posts.

    `actor` None is the system (e.g. the automatic hide after N reports).
    """
    if actor is not None and not selectors.may_moderate(user=actor, post=post):
        raise NotAllowed(_("Only admins may hide or restore posts."))
    with transaction.atomic():
        post = Post.objects.select_for_update().get(pk=post.pk)
        if (post.hidden_at is None) == visible:
            return post
        now = timezone.now()
        post.hidden_at = None if visible else now
        post.hidden_reason = "" if visible else reason[:500]
        post.updated_at = now
        post.save(update_fields=["hidden_at", "hidden_reason", "updated_at"])
        if post.is_published and post.removed_at is None:
            if visible:
                notifications.emit(events.POST_UPDATED, payload=post_card(post=post, viewer=None), **post_audience(post))
            else:
                notifications.emit(events.POST_DELETED, payload=removed_card(post.pk), **post_audience(post))
        return post
