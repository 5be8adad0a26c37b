"""Reads about people and groups, scoped to the acting user's organisation."""

from __future__ import annotations

from django.db.models import Case, CharField, Count, Exists, OuterRef, Prefetch, Q, QuerySet, Value, When
from django.utils import timezone

from accounts import avatars, capabilities
from accounts.models import Group, Invitation, Membership, User
from server.api.exceptions import NotFound
from server.db import CompiledQuery


def user_list(*, actor: User, search: str = "") -> QuerySet[User]:
    queryset = User.objects.filter(organization_id=actor.organization_id, is_active=True).select_related(*avatars.related())
    if search:
        queryset = queryset.filter(Q(name__icontains=search) | Q(email__icontains=search))
    return queryset.prefetch_related(
        Prefetch("memberships", queryset=Membership.objects.select_related("group").order_by("group__name", "group_id"))
    ).order_by("name", "id")


def access_user(*, actor: User, user_id: int, include_inactive: bool = False) -> User:
    """A colleague of the actor's organisation, or not found (never another organisation's)."""
    queryset = User.objects.filter(pk=user_id, organization_id=actor.organization_id).select_related(*avatars.related())
    if not include_inactive:
        queryset = queryset.filter(is_active=True)
    user = queryset.prefetch_related(
        Prefetch("memberships", queryset=Membership.objects.select_related("group").order_by("group__name", "group_id"))
    ).first()
    if user is None:
        raise NotFound()
    return user


def group_list(*, actor: User, kind: str = "") -> QuerySet[Group]:
    queryset = Group.objects.filter(organization_id=actor.organization_id, archived_at__isnull=True)
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
        .select_related("user", *avatars.related("user__"))
        .order_by("user__name", "id")
    )


def user_group_ids(*, user: User) -> list[int]:
    return list(Membership.objects.filter(user=user).values_list("group_id", flat=True))


# /me runs on every app start and screen refresh: its one read is compiled once (server/db.py).
# Groups and avatar in one statement: the user LEFT JOINed to their memberships gives one row
# per group (or one row of NULLs), each carrying the avatar.
def _my_groups_and_avatar(user_id: int) -> QuerySet[User]:
    # Built once, at the first /me (after the apps registered the avatar's source).
    avatar = avatars.relation()
    image = (f"{avatar}__id", f"{avatar}__status") if avatar else (Value(None), Value(""))
    return (
        User.objects.filter(pk=user_id)
        .order_by("memberships__group__name", "memberships__group_id")
        .values_list(
            *image,
            "memberships__group_id",
            "memberships__group__name",
            "memberships__group__kind",
            "memberships__role",
            "memberships__group__allow_member_posts",
        )
    )


_MY_GROUPS_AND_AVATAR = CompiledQuery(_my_groups_and_avatar)


def me_get(*, user: User) -> dict:
    """What `GET /me` answers, as MeSerializer renders it (tests pin the two equal).

    `user` is the one authentication just read (with its organisation), so only the
    groups and the avatar are queried, together.
    """
    rows = _MY_GROUPS_AND_AVATAR.rows(user.pk)
    avatar = None
    media_id, media_status = rows[0][:2] if rows else (None, None)
    if media_id is not None:
        avatar = avatars.urls(media_id, media_status)
    groups = [
        {"id": group_id, "name": name, "kind": kind, "role": role}
        for _media_id, _media_status, group_id, name, kind, role, _allow in rows
        if group_id is not None
    ]
    mine = [capabilities.MyGroup(row[2], row[5], row[6]) for row in rows if row[2] is not None]
    organization = user.organization
    return {
        "id": user.pk,
        "name": user.name,
        "avatar": avatar,
        "email": user.email,
        "employee_number": user.employee_number,
        "role": user.role,
        "organization": None
        if organization is None
        else {
            "id": organization.pk,
            "name": organization.name,
            "timezone": organization.timezone,
            "slug": organization.slug,
            "settings": capabilities.organization_settings_of(organization),
        },
        "groups": groups,
        "language": user.effective_language,
        "timezone": user.effective_timezone,
        "muted_until": user.muted_until if user.is_muted else None,
        "capabilities": capabilities.capabilities_of(user, mine),
        **capabilities.person_values_of(user),
    }


def _invitation_states() -> dict[str, Q]:
    now = timezone.now()
    open_ = Q(accepted_at__isnull=True, revoked_at__isnull=True)
    return {
        "accepted": Q(accepted_at__isnull=False),
        "revoked": Q(accepted_at__isnull=True, revoked_at__isnull=False),
        "expired": open_ & Q(expires_at__lte=now),
        "pending": open_ & Q(expires_at__gt=now),
    }


def invitation_list(*, actor: User, status: str = "") -> QuerySet[Invitation]:
    """The organisation's invitations, newest first, each with its `status`; admins only (the view checks)."""
    states = _invitation_states()
    queryset = Invitation.objects.filter(organization_id=actor.organization_id)
    if status:
        queryset = queryset.filter(states[status])
    return queryset.annotate(
        status=Case(*[When(condition, then=Value(name)) for name, condition in states.items()], output_field=CharField())
    ).order_by("-id")


def access_invitation(*, actor: User, invitation_id: int) -> Invitation:
    invitation = invitation_list(actor=actor).filter(pk=invitation_id).first()
    if invitation is None:
        raise NotFound()
    return invitation
