"""Who reacted to a post (#22)."""

from __future__ import annotations

from django.db.models import QuerySet

from feed.models import Post, Reaction


def reaction_list(*, post: Post, reaction_type: str | None = None) -> QuerySet[Reaction]:
    """Reactions to a post the caller already has access to, newest first, with each person's avatar."""
    queryset = Reaction.objects.filter(post=post)
    if reaction_type is not None:
        queryset = queryset.filter(type=reaction_type)
    return queryset.select_related("user", "user__avatar__media").order_by("-created_at", "-id")
