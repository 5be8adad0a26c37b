"""Reads of moderation, scoped to what the acting moderator may moderate.

Admins moderate everything of their organisation. Leaders moderate content
addressed to groups they manage (membership role `manager`): posts to those
groups and comments on them; reports about people are for admins only.
Employees moderate nothing (403 on every moderation route, before any lookup).
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from accounts.models import Membership, MembershipRole, Role, User
from feed.models import Comment, Post, PostGroup
from media.models import AVATAR
from moderation.models import CaseStatus, CommentLock, FlaggedKeyword, Mute, Report, ReportCase
from server.api.exceptions import NotAllowed, NotFound


def ensure_moderator(user: User) -> None:
    if user.role not in (Role.ADMIN, Role.LEADER):
        raise NotAllowed(code="not_moderator")


def ensure_admin(user: User) -> None:
    if user.role != Role.ADMIN:
        raise NotAllowed(code="not_admin")


def _managed_groups(user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(user_id=user.pk, role=MembershipRole.MANAGER).values("group_id")


def _moderated_posts_q(user: User, post_field: str = "pk") -> Q:
    """Posts (through `post_field`) the user moderates; the organisation filter is the caller's."""
    if user.is_org_admin:
        return Q()
    in_my_groups = PostGroup.objects.filter(post_id=OuterRef(post_field), group_id__in=_managed_groups(user))
    return Q(Exists(in_my_groups))


def case_list(*, actor: User, status: str | None = CaseStatus.OPEN) -> QuerySet[ReportCase]:
    """Queue rows oldest first, each with its target and the target's author: one query a page."""
    ensure_moderator(actor)
    queryset = ReportCase.objects.filter(organization_id=actor.organization_id)
    if status is not None:
        queryset = queryset.filter(status=status)
    if not actor.is_org_admin:
        queryset = queryset.filter(post__isnull=False).filter(_moderated_posts_q(actor, "post_id"))
    # A signal's author is not loaded: the queue row shows its content only.
    return queryset.select_related(
        "post",
        f"post__author__{AVATAR}",
        "comment",
        f"comment__author__{AVATAR}",
        f"target_user__{AVATAR}",
        "resolved_by",
        "signal",
        "signal_entry",
    ).order_by("first_reported_at", "id")


def open_case_count(*, actor: User) -> int:
    return case_list(actor=actor).order_by().count()


def access_case(*, actor: User, case_id: int, lock: bool = False) -> ReportCase:
    queryset = case_list(actor=actor, status=None).filter(pk=case_id)
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    case = queryset.prefetch_related(
        Prefetch("reports", queryset=Report.objects.select_related(f"reporter__{AVATAR}").order_by("created_at", "id"))
    ).first()
    if case is None:
        raise NotFound()
    return case


def access_post_to_moderate(*, actor: User, post_id: int) -> Post:
    """A post of the actor's organisation they moderate, hidden ones included (removed are gone)."""
    ensure_moderator(actor)
    post = (
        Post.objects.filter(pk=post_id, organization_id=actor.organization_id, removed_at__isnull=True)
        .filter(_moderated_posts_q(actor))
        .first()
    )
    if post is None:
        raise NotFound()
    return post


def access_comment_to_moderate(*, actor: User, comment_id: int) -> Comment:
    ensure_moderator(actor)
    comment = (
        Comment.objects.filter(pk=comment_id, post__organization_id=actor.organization_id, removed_at__isnull=True)
        .filter(post__removed_at__isnull=True)
        .filter(_moderated_posts_q(actor, "post_id"))
        .select_related("post")
        .first()
    )
    if comment is None:
        raise NotFound()
    return comment


def access_user_to_moderate(*, actor: User, user_id: int) -> User:
    """A colleague an admin may mute; other organisations' people are not found."""
    ensure_admin(actor)
    user = User.objects.filter(pk=user_id, organization_id=actor.organization_id).first()
    if user is None:
        raise NotFound()
    return user


def moderator_ids(*, organization_id: int, post: Post | None) -> list[int]:
    """Who hears of a new report: the organisation's admins and the managers of the post's groups."""
    moderators = Q(role=Role.ADMIN)
    if post is not None and not post.org_wide:
        managers = Membership.objects.filter(
            role=MembershipRole.MANAGER, group_id__in=PostGroup.objects.filter(post=post).values("group_id")
        ).values("user_id")
        moderators |= Q(role=Role.LEADER, pk__in=managers)
    return list(
        User.objects.filter(moderators, organization_id=organization_id, is_active=True).order_by("pk").values_list("pk", flat=True)
    )


def keyword_list(*, organization_id: int) -> list[str]:
    return list(FlaggedKeyword.objects.filter(organization_id=organization_id).order_by("keyword", "id").values_list("keyword", flat=True))


def comment_lock_exists(*, post_id: int) -> bool:
    return CommentLock.objects.filter(post_id=post_id).exists()


def mute_history(*, user: User) -> QuerySet[Mute]:
    return Mute.objects.filter(user=user).order_by("-starts_at", "-id")
