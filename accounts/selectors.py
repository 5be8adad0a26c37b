"""Reads about people and groups, scoped to the acting user's organisation."""

from __future__ import annotations

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet

from accounts.models import Group, Membership, User
from server.api.exceptions import NotFound

# Avatars live in the media app; joined by relation name so accounts imports nothing of it.
AVATAR = "avatar__media"


def user_list(*, actor: User, search: str = "") -> QuerySet[User]:
    queryset = User.objects.filter(organization_id=actor.organization_id, is_active=True).select_related(AVATAR)
    if search:
        queryset = queryset.filter(Q(name__icontains=search) | Q(email__icontains=search))
    return queryset.prefetch_related(
        Prefetch("memberships", queryset=Membership.objects.select_related("group").order_by("group__name", "group_id"))
    ).order_by("name", "id")


def access_user(*, actor: User, user_id: int, include_inactive: bool = False) -> User:
    """A colleague of the actor's organisation, or not found (never another organisation's)."""
    queryset = User.objects.filter(pk=user_id, organization_id=actor.organization_id).select_related(AVATAR)
    if not include_inactive:
        queryset = queryset.filter(is_active=True)
    user = queryset.prefetch_related(
        Prefetch("memberships", queryset=Membership.objects.select_related("group").order_by("group__name", "group_id"))
    ).first()
    if user is None:
        raise NotFound()
    return user


def group_list(*, actor: User, kind: str = "") -> QuerySet[Group]:
    queryset = Group.objects.filter(organization_id=actor.organization_id)
    if kind:
        queryset = queryset.filter(kind=kind)
    return queryset.annotate(
        is_member=Exists(Membership.objects.filter(group=OuterRef("pk"), user=actor)),
        member_count=Count("memberships", distinct=True),
    ).order_by("name", "id")


def access_group(*, actor: User, group_id: int) -> Group:
    group = group_list(actor=actor).filter(pk=group_id).first()
    if group is None:
        raise NotFound()
    return group


def group_member_list(*, actor: User, group: Group) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(group=group, user__is_active=True, user__organization_id=actor.organization_id)
        .select_related("user", f"user__{AVATAR}")
        .order_by("user__name", "id")
    )


def user_group_ids(*, user: User) -> list[int]:
    return list(Membership.objects.filter(user=user).values_list("group_id", flat=True))
