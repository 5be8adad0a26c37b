"""The feed: which posts a reader sees, the page and pinned block (compiled once per shape), catch-up.

Fan-out on read: a post is stored once with its audience (org-wide or groups) and
each reader's feed is a query over their organisation's posts filtered by that
audience. Nothing is copied per reader, so a post to 5,000 people is one row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from django.db import connections, router
from django.db.models import BigIntegerField, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts.models import Membership, User
from feed.cards import AUTHOR_RELATED
from feed.models import Acknowledgement, Post, PostGroup
from search import registry as search_registry
from search.engine import matching
from search.query import SearchQuery
from server.api.pagination import keyset_filter, parse_ordering
from server.db import CompiledModelQuery, Slot

# A value, or the Slot standing for it in a query compiled once (feed_page, feed_pinned): private
# functions only, a selector's callers pass plain values.
_Id = int | Slot
_Kind = str | Slot

PINNED_LIMIT = 20
# The stream's order; it ends in id for the keyset cursor.
FEED_ORDER = ("-published_at", "-id")
FEED_ORDERING = parse_ordering(FEED_ORDER)
UPDATES_LIMIT = 100
# The catch-up's cursor never passes a change younger than this, so a transaction that
# stamped updated_at a moment ago but commits after the read is still found next time;
# the younger changes themselves are handed out too (the next call repeats them).
UPDATES_SETTLE = timedelta(seconds=5)


def _audience_q(*, user_id: _Id, is_admin: bool) -> Q:
    """Posts addressed to the user (org-wide, or to a group they belong to) and their own.

    Admins moderate, so they see every post of their organisation. A leader may post
    to a group they are not in; they still see what they wrote.
    """
    if is_admin:
        return Q()
    my_groups = Membership.objects.filter(user_id=user_id).values("group_id")
    return Q(org_wide=True) | Q(author_id=user_id) | Q(Exists(PostGroup.objects.filter(post=OuterRef("pk"), group_id__in=my_groups)))


def _in_audience(user: User) -> QuerySet[Post]:
    return Post.objects.filter(organization_id=user.organization_id).filter(_audience_q(user_id=user.pk, is_admin=user.is_org_admin))


def _published(queryset: QuerySet[Post]) -> QuerySet[Post]:
    return queryset.filter(published_at__isnull=False, removed_at__isnull=True, hidden_at__isnull=True)


def visible_posts(*, user: User) -> QuerySet[Post]:
    """Published, not removed, not hidden, and addressed to the user."""
    return _published(_in_audience(user))


def _visible_filtered(
    *,
    organization_id: _Id,
    user_id: _Id,
    is_admin: bool,
    group_id: _Id | None,
    kind: _Kind | None,
    author_id: _Id | None = None,
    unacknowledged: bool = False,
) -> QuerySet[Post]:
    """visible_posts, narrowed to one group's posts, one kind, one author and/or my to-do list of
    mandatory reads (`unacknowledged`: asking for acknowledgement, addressed to me, not mine, not
    acknowledged by me; for an admin too only those addressed to them).

    In values, not a User: the feed compiles this query once per shape with open slots in their
    place (`_compiled_feed_query`), so the same rule decides who sees what on both roads.
    """
    if group_id is None or is_admin:
        queryset = Post.objects.filter(organization_id=organization_id).filter(_audience_q(user_id=user_id, is_admin=is_admin))
    else:
        # A post addressed to a group I belong to is in my audience: when I am a member of the
        # filtered group, the per-row audience test is redundant. The uncorrelated EXISTS runs
        # once (an InitPlan) and short-circuits it; otherwise the full test applies as before.
        # (1M posts, a 777-post group: 43 ms -> 12 ms in EXPLAIN ANALYZE.)
        member = Exists(Membership.objects.filter(user_id=user_id, group_id=group_id))
        queryset = Post.objects.filter(organization_id=organization_id).filter(Q(member) | _audience_q(user_id=user_id, is_admin=is_admin))
    queryset = _published(queryset)
    if group_id is not None:
        queryset = queryset.filter(Exists(PostGroup.objects.filter(post=OuterRef("pk"), group_id=group_id)))
    if kind is not None:
        queryset = queryset.filter(kind=kind)
    if author_id is not None:
        queryset = queryset.filter(author_id=author_id)
    if unacknowledged:
        mine = Acknowledgement.objects.filter(post=OuterRef("pk"), user_id=user_id)
        queryset = queryset.filter(requires_acknowledgement=True).exclude(author_id=user_id).filter(~Exists(mine))
        if is_admin:
            queryset = queryset.filter(_audience_q(user_id=user_id, is_admin=False))
    return queryset


def feed_visible(
    *, user: User, group_id: int | None = None, kind: str | None = None, author_id: int | None = None, unacknowledged: bool = False
) -> QuerySet[Post]:
    """What the feed may show the user, authors loaded: the stream and the pinned block both start here."""
    return _visible_filtered(
        organization_id=user.organization_id,
        user_id=user.pk,
        is_admin=user.is_org_admin,
        group_id=group_id,
        kind=kind or None,
        author_id=author_id,
        unacknowledged=unacknowledged,
    ).select_related(*AUTHOR_RELATED)


def feed_list(
    *,
    user: User,
    group_id: int | None = None,
    kind: str | None = None,
    author_id: int | None = None,
    unacknowledged: bool = False,
    visible: QuerySet[Post] | None = None,
) -> QuerySet[Post]:
    """The stream below the pinned block, newest first; the order ends in id for the keyset cursor."""
    if visible is None:
        visible = feed_visible(user=user, group_id=group_id, kind=kind, author_id=author_id, unacknowledged=unacknowledged)
    return _stream(visible)


def _stream(visible: QuerySet[Post]) -> QuerySet[Post]:
    return visible.filter(pinned=False).order_by(*FEED_ORDER)


def _pinned(visible: QuerySet[Post]) -> QuerySet[Post]:
    return visible.filter(pinned=True).order_by("-pinned_at", "-id")[:PINNED_LIMIT]


#
# Building the page's and the pinned block's querysets (audience rule, filters, select_related,
# keyset condition) cost ~60% of a feed request's CPU, every time the same SQL text (issue #10,
# F1). They are compiled once per shape from the querysets above, with Slots for the values.

_ORGANIZATION, _USER, _GROUP, _KIND, _AT, _ID = "organization_id", "user_id", "group_id", "kind", "cursor_at", "cursor_id"
_AUTHOR = "author_id"


@lru_cache(maxsize=4096)  # shapes: aliases x 2 x 2 x 2 x 2 x 2 x 3 cursors x page sizes (<= API_MAX_PAGE_SIZE + 1)
def _compiled_feed_query(
    alias: str,
    vendor: str,
    *,
    is_admin: bool,
    with_group: bool,
    with_kind: bool,
    pinned: bool,
    cursor: str | None,
    limit: int,
    with_author: bool = False,
    unacknowledged: bool = False,
) -> CompiledModelQuery[Post]:
    """`cursor`: None (first page), "after" or "before" (a `previous` link, read backwards)."""
    visible = _visible_filtered(
        organization_id=Slot(_ORGANIZATION, BigIntegerField()),
        user_id=Slot(_USER, BigIntegerField()),
        is_admin=is_admin,
        group_id=Slot(_GROUP, BigIntegerField()) if with_group else None,
        kind=Slot(_KIND, Post._meta.get_field("kind")) if with_kind else None,
        author_id=Slot(_AUTHOR, BigIntegerField()) if with_author else None,
        unacknowledged=unacknowledged,
    ).select_related(*AUTHOR_RELATED)
    if pinned:
        return CompiledModelQuery.of(_pinned(visible), alias)
    queryset = _stream(visible)
    if cursor is not None:
        at = Slot(_AT, Post._meta.get_field("published_at"))
        queryset = queryset.filter(keyset_filter(FEED_ORDERING, [at, Slot(_ID, BigIntegerField())], after=cursor == "after"))
        if cursor == "before":
            queryset = queryset.reverse()
    return CompiledModelQuery.of(queryset[:limit], alias)


def _run_feed_query(
    *,
    user: User,
    group_id: int | None,
    kind: str | None,
    pinned: bool,
    cursor: list[Any] | None,
    reverse: bool,
    limit: int,
    author_id: int | None = None,
    unacknowledged: bool = False,
    text: SearchQuery | None = None,
) -> list[Post]:
    """Runs the precompiled SQL of this request's shape with its values filled in."""
    if text is not None:
        return _searched_feed_query(
            user=user,
            group_id=group_id,
            kind=kind,
            author_id=author_id,
            unacknowledged=unacknowledged,
            text=text,
            pinned=pinned,
            cursor=cursor,
            reverse=reverse,
            limit=limit,
        )
    db = connections[router.db_for_read(Post)]
    query = _compiled_feed_query(
        db.alias,
        db.vendor,
        is_admin=user.is_org_admin,
        with_group=group_id is not None,
        with_kind=kind is not None,
        pinned=pinned,
        cursor=None if cursor is None else ("before" if reverse else "after"),
        limit=limit,
        with_author=author_id is not None,
        unacknowledged=unacknowledged,
    )
    values = {_ORGANIZATION: user.organization_id, _USER: user.pk, _GROUP: group_id, _KIND: kind, _AUTHOR: author_id}
    if cursor is not None:
        values[_AT], values[_ID] = cursor
    return query.fetch(values)


def _searched_feed_query(
    *,
    user: User,
    group_id: int | None,
    kind: str | None,
    author_id: int | None,
    unacknowledged: bool,
    text: SearchQuery,
    pinned: bool,
    cursor: list[Any] | None,
    reverse: bool,
    limit: int,
) -> list[Post]:
    """`?q=`: the same rule and order, narrowed by search's match for posts (search.engine.matching:
    the stored vector on PostgreSQL, substrings on SQLite). Not precompiled: the tsquery's shape
    follows the text, and the match, not the building of the query, is this request's cost."""
    visible = feed_visible(user=user, group_id=group_id, kind=kind, author_id=author_id, unacknowledged=unacknowledged)
    visible = matching(visible, provider=search_registry.get("post"), query=text)
    if pinned:
        return list(_pinned(visible))
    queryset = _stream(visible)
    if cursor is not None:
        queryset = queryset.filter(keyset_filter(FEED_ORDERING, cursor, after=not reverse))
    if reverse:
        queryset = queryset.reverse()
    return list(queryset[:limit])


def feed_page(
    *,
    user: User,
    group_id: int | None = None,
    kind: str | None = None,
    author_id: int | None = None,
    unacknowledged: bool = False,
    text: SearchQuery | None = None,
    cursor: list[Any] | None,
    reverse: bool,
    limit: int,
) -> list[Post]:
    """The `limit` stream posts after `cursor` (before it when `reverse`), authors loaded: a
    `KeysetPagination.paginate` fetch over `feed_list`, run from its precompiled SQL. The
    pagination refuses cursors holding null, so both cursor values are always set here."""
    return _run_feed_query(
        user=user,
        group_id=group_id,
        kind=kind or None,
        author_id=author_id,
        unacknowledged=unacknowledged,
        text=text,
        pinned=False,
        cursor=cursor,
        reverse=reverse,
        limit=limit,
    )


def feed_pinned(
    *,
    user: User,
    group_id: int | None = None,
    kind: str | None = None,
    author_id: int | None = None,
    unacknowledged: bool = False,
    text: SearchQuery | None = None,
) -> list[Post]:
    """The pinned block on top of the first page, newest pin first, authors loaded."""
    return _run_feed_query(
        user=user,
        group_id=group_id,
        kind=kind or None,
        author_id=author_id,
        unacknowledged=unacknowledged,
        text=text,
        pinned=True,
        cursor=None,
        reverse=False,
        limit=PINNED_LIMIT,
    )


def posts_by_id(*, user: User, post_ids: list[int]) -> list[Post]:
    posts = {post.pk: post for post in visible_posts(user=user).filter(pk__in=post_ids).select_related(*AUTHOR_RELATED)}
    return [posts[post_id] for post_id in post_ids if post_id in posts]


@dataclass(frozen=True)
class PostChanges:
    ordered_ids: list[int]
    changed: list[Post]
    removed_ids: list[int]
    cursor: tuple[datetime, int]
    has_more: bool
    up_to_date: bool


def _updates_queryset(*, organization_id: _Id, user_id: _Id, is_admin: bool, since_at: Any, since_id: _Id, limit: int) -> QuerySet[Post]:
    """Every post of the reader's audience changed after (since_at, since_id), oldest change first."""
    return (
        Post.objects.filter(organization_id=organization_id)
        .filter(_audience_q(user_id=user_id, is_admin=is_admin))
        .filter(Q(updated_at__gt=since_at) | Q(updated_at=since_at, id__gt=since_id))
        .select_related(*AUTHOR_RELATED)
        .order_by("updated_at", "id")[:limit]
    )


@lru_cache(maxsize=16)  # aliases x admin or not (x the limit, fixed but for tests)
def _compiled_updates_query(alias: str, vendor: str, *, is_admin: bool, limit: int) -> CompiledModelQuery[Post]:
    """The catch-up's statement, compiled once (as the feed page's): an app-open calls it on
    every reconnect, and building it through the ORM cost more Python than the answer (#26)."""
    return CompiledModelQuery.of(
        _updates_queryset(
            organization_id=Slot(_ORGANIZATION, BigIntegerField()),
            user_id=Slot(_USER, BigIntegerField()),
            is_admin=is_admin,
            since_at=Slot(_AT, Post._meta.get_field("updated_at")),
            since_id=Slot(_ID, BigIntegerField()),
            limit=limit,
        ),
        alias,
    )


def post_updates(*, user: User, since: tuple[datetime, int] | None, now: datetime | None = None) -> PostChanges:
    """Posts created, edited or removed after `since` (an (updated_at, id) cursor), oldest change first.

    Every change up to now is handed out, but the returned cursor stops at the last change at
    least `UPDATES_SETTLE` old: a younger one may still have an older, uncommitted neighbour
    (updated_at is stamped before the commit), so the next call starts before the young ones
    and repeats them (a client applies changes as upserts). `up_to_date` is false only when the
    page was full: with `has_more` the client calls again at once; without it (a burst of
    changes in the last seconds) once more after the settle window."""
    horizon = (now or timezone.now()) - UPDATES_SETTLE
    if since is None:
        return PostChanges(ordered_ids=[], changed=[], removed_ids=[], cursor=(horizon, 0), has_more=False, up_to_date=True)
    since_at, since_id = since
    db = connections[router.db_for_read(Post)]
    rows = _compiled_updates_query(db.alias, db.vendor, is_admin=user.is_org_admin, limit=UPDATES_LIMIT + 1).fetch(
        {_ORGANIZATION: user.organization_id, _USER: user.pk, _AT: since_at, _ID: since_id}
    )
    full = len(rows) > UPDATES_LIMIT
    rows = rows[:UPDATES_LIMIT]
    settled = [post for post in rows if post.updated_at <= horizon]  # a prefix: rows are in updated_at order
    ordered_ids, changed, removed_ids = [], [], []
    for post in rows:
        if post.removed_at or post.hidden_at:
            removed_ids.append(post.pk)
        elif post.published_at is not None:
            changed.append(post)
        else:
            continue  # scheduled, not yet visible: its publication will bump updated_at again
        ordered_ids.append(post.pk)
    if settled:
        cursor = (settled[-1].updated_at, settled[-1].pk)
    else:
        # Nothing settled: move the cursor up to the horizon so the next query scans less.
        cursor = max((since_at, since_id), (horizon, 0))
    return PostChanges(
        ordered_ids=ordered_ids,
        changed=changed,
        removed_ids=removed_ids,
        cursor=cursor,
        # A full page of settled changes: more may follow at once. A full page reaching into the
        # young ones: every settled change is in it, the young ones past it come after the window.
        has_more=full and len(settled) == len(rows),
        up_to_date=not full,
    )
