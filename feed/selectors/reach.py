"""Who has not yet acknowledged a mandatory read, as data for leaders (#22)."""

from __future__ import annotations

from django.db.models import OuterRef, QuerySet, Subquery

from accounts.models import User
from feed.models import Acknowledgement, Post, PostSeen
from feed.selectors.posts import audience_users


def not_acknowledged_list(*, post: Post) -> QuerySet[User]:
    """The audience (feed.selectors.audience_users) minus who acknowledged, by name, with when
    each saw the post (`seen_at`, null: not yet) and their avatar."""
    return (
        audience_users(post=post)
        .exclude(pk__in=Acknowledgement.objects.filter(post=post).values("user_id"))
        .annotate(seen_at=Subquery(PostSeen.objects.filter(post=post, user=OuterRef("pk")).values("seen_at")[:1]))
        .select_related("avatar__media")
        .order_by("name", "id")
    )
