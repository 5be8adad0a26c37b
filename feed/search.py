"""What the feed lets search find: posts, comments, goals and key moments (search.registry).

Each type's rows are the feed's own selectors (the same audience rule as the feed and the
lists), each result's card the one its list shows. Registered in FeedConfig.ready.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, QuerySet

from accounts.models import User
from feed import selectors
from feed.cards import AUTHOR_RELATED, comment_cards, post_cards
from feed.models import Comment, Post, PostGroup, PostKind
from feed.serializers import CommentSerializer, GoalSerializer, KeyMomentSerializer, PostCardSerializer
from search.registry import SearchProvider, register

# Kudos and key moments are found as themselves (types `kudos`, `key_moment`); their feed
# posts repeat the same text.
_POST_KINDS_FOUND_ELSEWHERE = (PostKind.KUDOS, PostKind.KEY_MOMENT)


def _post_rows(*, user: User, group_id: int | None) -> QuerySet:
    return selectors.feed_visible(user=user, group_id=group_id).select_related(None).exclude(kind__in=_POST_KINDS_FOUND_ELSEWHERE)


def _post_cards(*, user: User, ids: list[int]) -> dict[int, dict[str, Any]]:
    # The ids come from `_post_rows` in this request (the audience rule was applied there);
    # only a removal or hiding since is checked again, without rebuilding the audience query.
    posts = Post.objects.filter(pk__in=ids, removed_at__isnull=True, hidden_at__isnull=True).select_related(*AUTHOR_RELATED)
    return {card["id"]: card for card in post_cards(posts=list(posts), viewer=user)}


def _comment_rows(*, user: User, group_id: int | None) -> QuerySet:
    # A comment is visible exactly when its post is (selectors.access_comment), and never hidden or removed.
    posts = selectors.visible_posts(user=user)
    if group_id is not None:
        posts = posts.filter(Exists(PostGroup.objects.filter(post=OuterRef("pk"), group_id=group_id)))
    # EXISTS per comment, not `post_id IN (every visible post)`: the window reads the newest
    # comments and stops, so hashing the organisation's visible posts first would cost more.
    return Comment.objects.filter(Exists(posts.filter(pk=OuterRef("post_id"))), removed_at__isnull=True, hidden_at__isnull=True)


def _comment_cards(*, user: User, ids: list[int]) -> dict[int, dict[str, Any]]:
    comments = (
        Comment.objects.filter(pk__in=ids, removed_at__isnull=True, hidden_at__isnull=True)
        .select_related(*AUTHOR_RELATED)
        .prefetch_related(Prefetch("mentions", queryset=User.objects.select_related("avatar__media")))
    )
    return {card["id"]: card for card in comment_cards(comments=list(comments))}


def _goal_cards(*, user: User, ids: list[int]) -> dict[int, dict[str, Any]]:
    goals = selectors.goal_list(user=user).filter(pk__in=ids)
    return {goal.pk: GoalSerializer(goal).data for goal in goals}


def _key_moment_cards(*, user: User, ids: list[int]) -> dict[int, dict[str, Any]]:
    key_moments = selectors.key_moment_list(user=user).filter(pk__in=ids)
    return {
        key_moment.pk: KeyMomentSerializer(key_moment, context={"request": SimpleNamespace(user=user)}).data for key_moment in key_moments
    }


def register_search() -> None:
    register(
        SearchProvider(
            type="post",
            position=20,
            rows=_post_rows,
            cards=_post_cards,
            card_serializer=PostCardSerializer,
            text_fields=("body",),
            recency_field="published_at",
            # The feed's own index (organization, published_at, id) over visible posts.
            window_order=("-published_at", "-id"),
        )
    )
    register(
        SearchProvider(
            type="comment",
            position=30,
            rows=_comment_rows,
            cards=_comment_cards,
            card_serializer=CommentSerializer,
            text_fields=("body",),
            recency_field="created_at",
        )
    )
    register(
        SearchProvider(
            type="goal",
            position=40,
            rows=lambda *, user, group_id: selectors.goals_visible(user=user, group_id=group_id),
            cards=_goal_cards,
            card_serializer=GoalSerializer,
            text_fields=("title", "why", "how_to_help"),
            recency_field="created_at",
        )
    )
    register(
        SearchProvider(
            type="key_moment",
            position=50,
            rows=lambda *, user, group_id: selectors.key_moments_visible(user=user, group_id=group_id),
            cards=_key_moment_cards,
            card_serializer=KeyMomentSerializer,
            text_fields=("title", "description", "expected_behaviour"),
            recency_field="updated_at",
        )
    )
