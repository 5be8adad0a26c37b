"""Scheduled posts: what is waiting to go out, for its author and the organisation's admins (#22)."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import User
from feed.cards import AUTHOR_RELATED
from feed.models import Post

# Soonest first; the order ends in id for the keyset cursor.
SCHEDULED_ORDER = ("publish_at", "id")


def scheduled_post_list(*, user: User) -> QuerySet[Post]:
    """Posts with a publish time still ahead: the user's own, or every one of the organisation for admins.

    Served by the partial index on publish_at of unpublished posts (post_due_idx).
    """
    queryset = Post.objects.filter(
        organization_id=user.organization_id, published_at__isnull=True, publish_at__isnull=False, removed_at__isnull=True
    )
    if not user.is_org_admin:
        queryset = queryset.filter(author_id=user.pk)
    return queryset.select_related(*AUTHOR_RELATED).order_by(*SCHEDULED_ORDER)
