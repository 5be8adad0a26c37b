"""Reads about media, scoped to what the acting user may see."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from accounts.models import Membership, User
from media.models import Media, MediaAudienceGroup
from server.api.exceptions import NotFound


def media_visible_to(*, user: User) -> QuerySet[Media]:
    """The owner always; others only once it is attached, and then only its audience.

    Admins see every attached image of their organisation: they moderate what was posted
    in groups they are not in."""
    queryset = Media.objects.filter(organization_id=user.organization_id)
    attached = Q(attached_at__isnull=False)
    if user.is_org_admin:
        return queryset.filter(Q(owner=user) | attached)
    in_audience_group = Exists(
        MediaAudienceGroup.objects.filter(media=OuterRef("pk"), group_id__in=Membership.objects.filter(user=user).values("group_id"))
    )
    return queryset.filter(Q(owner=user) | (attached & (Q(org_wide=True) | in_audience_group)))


def access_media(*, user: User, media_id: int, lock: bool = False) -> Media:
    """A media item the user may see, or not found (another organisation's, or not in its audience)."""
    queryset = media_visible_to(user=user).filter(pk=media_id)
    if lock:
        queryset = queryset.select_for_update()
    media = queryset.first()
    if media is None:
        raise NotFound()
    return media
