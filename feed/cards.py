"""Post cards as the API returns them, built for a whole page at once.

The same dicts are the REST feed, post detail, catch-up and the payload of
`post.*` events, so a phone renders a card the same way whichever road it came by.
Plain dicts instead of a model serializer: the feed is the hot path (DESIGN.md);
`feed.serializers.PostCardSerializer` documents the shape for OpenAPI.

Query budget, whatever the number of posts, groups, images, reactions or comments:
groups 1, images 1, reaction counts 1, comment counts 1, and for a viewer: their
reactions 1, their acknowledgements 1. Authors (with their avatar) come from
`select_related(*AUTHOR_RELATED)` on the posts (one batch query when they were not loaded).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db.models import Count
from rest_framework.fields import DateTimeField

from accounts.models import User
from feed.models import Acknowledgement, Comment, Post, PostGroup, PostImage, PostKind, Reaction, ReactionType
from media.serializers import media_representation

_datetime_field = DateTimeField()
# What a card needs of its author: the person and their avatar picture (media's UserAvatar,
# reached by its related name so that no query per author is needed).
AUTHOR_RELATED = ("author", "author__avatar__media")


def iso(value: datetime | None) -> str | None:
    return _datetime_field.to_representation(value) if value is not None else None


def _avatar(user: User) -> dict[str, str] | None:
    # Only what select_related loaded: a card never costs a query per person.
    avatar = user._state.fields_cache.get("avatar")
    return avatar.media.variant_urls() if avatar is not None else None


def user_summary(user: User) -> dict[str, Any]:
    return {"id": user.pk, "name": user.name, "avatar": _avatar(user)}


def _authors(posts: Sequence[Post]) -> dict[int, User]:
    authors = {post.author_id: post.author for post in posts if Post.author.is_cached(post) and "avatar" in post.author._state.fields_cache}
    missing = {post.author_id for post in posts} - authors.keys()
    if missing:
        authors.update(User.objects.select_related("avatar__media").in_bulk(missing))
    return authors


def _kind_card(post: Post, kind: str) -> dict[str, Any] | None:
    return post.card if post.kind == kind else None


def post_cards(*, posts: Sequence[Post], viewer: User | None) -> list[dict[str, Any]]:
    """Cards for `posts` in their order; `viewer` None renders the viewer-neutral card (events)."""
    if not posts:
        return []
    post_ids = [post.pk for post in posts]
    authors = _authors(posts)

    groups: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in (
        PostGroup.objects.filter(post_id__in=post_ids)
        .values("post_id", "group_id", "group__name", "group__kind")
        .order_by("group__name", "group_id")
    ):
        groups[row["post_id"]].append({"id": row["group_id"], "name": row["group__name"], "kind": row["group__kind"]})

    images: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for image in PostImage.objects.filter(post_id__in=post_ids).select_related("media").order_by("post_id", "position"):
        images[image.post_id].append(media_representation(image.media))

    reaction_counts: dict[int, dict[str, int]] = defaultdict(dict)
    for row in Reaction.objects.filter(post_id__in=post_ids).values("post_id", "type").annotate(count=Count("id")).order_by():
        reaction_counts[row["post_id"]][row["type"]] = row["count"]

    comment_counts = dict(
        Comment.objects.filter(post_id__in=post_ids, removed_at__isnull=True, hidden_at__isnull=True)
        .values("post_id")
        .annotate(count=Count("id"))
        .order_by()
        .values_list("post_id", "count")
    )

    my_reactions: dict[int, str] = {}
    my_acknowledgements: dict[int, datetime] = {}
    if viewer is not None:
        my_reactions = dict(Reaction.objects.filter(post_id__in=post_ids, user_id=viewer.pk).values_list("post_id", "type"))
        my_acknowledgements = dict(
            Acknowledgement.objects.filter(post_id__in=post_ids, user_id=viewer.pk).values_list("post_id", "acknowledged_at")
        )

    cards = []
    for post in posts:
        counts = reaction_counts.get(post.pk, {})
        acknowledged_at = my_acknowledgements.get(post.pk)
        goal = post.card if post.kind in (PostKind.GOAL_UPDATE, PostKind.KEY_MOMENT) else None
        cards.append(
            {
                "id": post.pk,
                "kind": post.kind,
                "author": user_summary(authors[post.author_id]),
                "body": post.body,
                "audience": "organization" if post.org_wide else "groups",
                "groups": groups.get(post.pk, []),
                "images": images.get(post.pk, []),
                "created_at": iso(post.created_at),
                "publish_at": iso(post.publish_at),
                "published_at": iso(post.published_at),
                "edited_at": iso(post.edited_at),
                "pinned": post.pinned,
                "comment_count": comment_counts.get(post.pk, 0),
                "reaction_counts": {reaction_type: counts.get(reaction_type, 0) for reaction_type in ReactionType.values},
                "my_reaction": my_reactions.get(post.pk),
                "requires_acknowledgement": post.requires_acknowledgement,
                "acknowledgement_deadline": iso(post.acknowledgement_deadline),
                "acknowledged_by_me": acknowledged_at is not None,
                "my_acknowledged_at": iso(acknowledged_at),
                "kudos": _kind_card(post, PostKind.KUDOS),
                "award": _kind_card(post, PostKind.AWARD),
                "goal": goal,
            }
        )
    return cards


def post_card(*, post: Post, viewer: User | None) -> dict[str, Any]:
    return post_cards(posts=[post], viewer=viewer)[0]


def removed_card(post_id: int) -> dict[str, Any]:
    return {"id": post_id, "removed": True}


def comment_cards(*, comments: Sequence[Comment]) -> list[dict[str, Any]]:
    """Comments loaded with select_related("author") and prefetch_related("mentions")."""
    return [
        {
            "id": comment.pk,
            "post_id": comment.post_id,
            "author": user_summary(comment.author),
            "body": comment.body,
            "mentions": [user_summary(user) for user in sorted(comment.mentions.all(), key=lambda user: user.pk)],
            "created_at": iso(comment.created_at),
        }
        for comment in comments
    ]
