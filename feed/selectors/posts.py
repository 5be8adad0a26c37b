"""One post and its comments as a reader may open them, who may moderate it, and its audience and reach."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from accounts.models import Group, Membership, MembershipRole, User
from feed.cards import AUTHOR_RELATED
from feed.models import Acknowledgement, Comment, Post, PostGroup, PostSeen
from feed.selectors.feed import _in_audience
from server.api.exceptions import NotFound


def access_post(*, user: User, post_id: int, lock: bool = False, include_unpublished: bool = True) -> Post:
    """A post the user may open, or NotFound.

    Its author also sees it while scheduled; admins also see it while hidden (they
    moderate it) and while scheduled (they reschedule or cancel it). Removed posts are
    gone for everyone.
    """
    queryset = _in_audience(user).filter(pk=post_id, removed_at__isnull=True)
    if not user.is_org_admin:
        queryset = queryset.filter(hidden_at__isnull=True)
    if not include_unpublished:
        queryset = queryset.filter(published_at__isnull=False)
    else:
        # Not an app's draft (an award before its announcement): only posts with a time set.
        reachable = Q(published_at__isnull=False) | Q(author_id=user.pk)
        if user.is_org_admin:
            reachable |= Q(publish_at__isnull=False)
        queryset = queryset.filter(reachable)
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    post = queryset.select_related(*AUTHOR_RELATED).first()
    if post is None:
        raise NotFound()
    return post


def may_moderate(*, user: User, post: Post) -> bool:
    """Admins moderate their organisation; a group manager moderates posts addressed to their groups.

    The one rule the feed's moderation handles (hide, restore, remove) check, so that
    moderation, which decides who is a moderator, and the feed agree on it.
    """
    if user.organization_id != post.organization_id:
        return False
    if user.is_org_admin:
        return True
    # Employees never moderate, even as a group's manager (moderation answers them 403 too).
    if post.org_wide or not user.is_leader_or_admin:
        return False
    return Membership.objects.filter(
        user_id=user.pk, role=MembershipRole.MANAGER, group_id__in=PostGroup.objects.filter(post=post).values("group_id")
    ).exists()


def comment_list(*, post: Post) -> QuerySet[Comment]:
    """Comments of a post the caller already has access to, oldest first."""
    return (
        Comment.objects.filter(post=post, removed_at__isnull=True, hidden_at__isnull=True)
        .select_related(*AUTHOR_RELATED)
        .prefetch_related(Prefetch("mentions", queryset=User.objects.select_related("avatar__media")))
        .order_by("created_at", "id")
    )


def access_comment(*, user: User, comment_id: int, lock: bool = False) -> Comment:
    comment = Comment.objects.filter(pk=comment_id, removed_at__isnull=True).select_related("post", "author").first()
    if comment is None:
        raise NotFound()
    # The comment is reachable exactly when its post is (same 404 for another organisation).
    access_post(user=user, post_id=comment.post_id, include_unpublished=False)
    if comment.hidden_at is not None and not user.is_org_admin:
        raise NotFound()
    if lock:
        comment = Comment.objects.select_for_update().get(pk=comment.pk)
    return comment


def _reached(post: Post, user_ref: str) -> Q:
    """The person (`user_ref` names their id) saw or acknowledged the post: they count, whenever they joined."""
    return Q(Exists(PostSeen.objects.filter(post=post, user=OuterRef(user_ref)))) | Q(
        Exists(Acknowledgement.objects.filter(post=post, user=OuterRef(user_ref)))
    )


def audience_users(*, post: Post) -> QuerySet[User]:
    """Who the post was addressed to when it was published, and who came later and read it.

    Equivalent to a snapshot for joiners: people who joined the organisation (or the
    group) after publishing are not counted unless they saw or acknowledged it, so reach
    does not drop when a store hires, and a newcomer who acknowledged is counted at once.
    People who left (deactivated, or removed from the group) are no longer in it, so "not
    acknowledged" never lists someone who cannot see the post. The author is not in their
    own audience.
    """
    published_at = post.published_at or timezone.now()
    users = User.objects.filter(organization_id=post.organization_id, is_active=True).exclude(pk=post.author_id)
    if post.org_wide:
        return users.filter(Q(date_joined__lte=published_at) | _reached(post, "pk"))
    in_groups = Membership.objects.filter(user=OuterRef("pk"), group_id__in=PostGroup.objects.filter(post=post).values("group_id"))
    return users.filter(Q(Exists(in_groups.filter(created_at__lte=published_at))) | (Q(Exists(in_groups)) & _reached(post, "pk")))


def viewers_of(*, post: Post) -> QuerySet[User]:
    """Who can open the post now: its current audience plus the organisation's admins."""
    users = User.objects.filter(organization_id=post.organization_id, is_active=True)
    if post.org_wide:
        return users
    return users.filter(
        Q(role="admin")
        | Q(Exists(Membership.objects.filter(user=OuterRef("pk"), group_id__in=PostGroup.objects.filter(post=post).values("group_id"))))
    )


def audience_user_ids(*, post: Post) -> list[int]:
    return list(audience_users(post=post).values_list("pk", flat=True))


def post_reach(*, post: Post) -> dict[str, Any]:
    """Audience size, seen and acknowledged, in total and per group: two queries.

    An acknowledgement counts as seen too (a phone may acknowledge before it reports the impression).
    """
    acknowledged = Exists(Acknowledgement.objects.filter(post=post, user=OuterRef("pk")))
    totals = audience_users(post=post).aggregate(
        audience_count=Count("pk"),
        seen_count=Count("pk", filter=_reached(post, "pk")),
        acknowledged_count=Count("pk", filter=Q(acknowledged)),
    )

    published_at = post.published_at or timezone.now()
    member_acknowledged = Exists(Acknowledgement.objects.filter(post=post, user=OuterRef("user_id")))
    memberships = Membership.objects.filter(user__is_active=True, group__organization_id=post.organization_id).exclude(
        user_id=post.author_id
    )
    if post.org_wide:
        memberships = memberships.filter(Q(user__date_joined__lte=published_at) | _reached(post, "user_id"))
    else:
        memberships = memberships.filter(group_id__in=PostGroup.objects.filter(post=post).values("group_id")).filter(
            Q(created_at__lte=published_at) | _reached(post, "user_id")
        )
    by_group = (
        memberships.values("group_id", "group__name", "group__kind")
        .annotate(
            audience_count=Count("user_id", distinct=True),
            seen_count=Count("user_id", filter=_reached(post, "user_id"), distinct=True),
            acknowledged_count=Count("user_id", filter=Q(member_acknowledged), distinct=True),
        )
        .order_by("group__name", "group_id")
    )
    return {
        **totals,
        "by_group": [
            {
                "group": {"id": row["group_id"], "name": row["group__name"], "kind": row["group__kind"]},
                "audience_count": row["audience_count"],
                "seen_count": row["seen_count"],
                "acknowledged_count": row["acknowledged_count"],
            }
            for row in by_group
        ],
    }


def groups_of_organization(*, user: User, group_ids: list[int]) -> list[Group]:
    """Groups a post may go to: the organisation's, not archived (an archived group has no members)."""
    return list(Group.objects.filter(organization_id=user.organization_id, pk__in=group_ids, archived_at__isnull=True))
