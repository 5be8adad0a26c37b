"""Post cards as the API returns them, built for a whole page at once.

The same dicts are the REST feed, post detail, catch-up and the payload of
`post.*` events, so a phone renders a card the same way whichever road it came by.
Plain dicts instead of a model serializer: the feed is the hot path (DESIGN.md);
`feed.serializers.PostCardSerializer` documents the shape for OpenAPI.

Query budget, whatever the number of posts, groups, images, reactions or comments: one.
Everything a card needs besides the post and its author (groups, images, reaction counts,
comment count, the viewer's reaction and acknowledgement) comes as correlated subqueries
of one SELECT over the posts' ids, written with the ORM (the same shape on PostgreSQL and
SQLite) and compiled once per process. Authors (with their avatar) come from
`select_related(*AUTHOR_RELATED)` on the posts (one batch query when they were not loaded).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any

from django.contrib.postgres.aggregates.mixins import OrderableAggMixin
from django.db import connections, router
from django.db.models import Aggregate, BigIntegerField, Count, JSONField, OuterRef, Q, QuerySet, Subquery
from django.db.models.expressions import RawSQL
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, JSONObject
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework.fields import DateTimeField

from accounts.models import User
from feed.models import CARD_PAYLOAD_KEYS, Acknowledgement, Comment, Post, PostGroup, PostImage, Reaction, ReactionType
from feed.poll_cards import poll_card_columns, poll_from_row
from media.models import Media
from media.serializers import media_values_representation
from server.db import Slot, hot_cursor

_datetime_field = DateTimeField()
# Kinds whose card reads differently per reader (an award names its month in the reader's
# language): the app that writes those posts registers `reader(post=, card=)` in its
# AppConfig.ready; it runs on every card of that kind as it is served, in the active language,
# and may change the card's `body` and its kind payload. No query: it works from the row.
card_readers: dict[str, Callable[..., None]] = {}
# What a card needs of its author: the person and their avatar picture (media's UserAvatar,
# reached by its related name so that no query per author is needed).
AUTHOR_RELATED = ("author", "author__avatar__media")


def iso(value: datetime | None) -> str | None:
    """What DRF's DateTimeField renders (current time zone, ISO 8601, UTC as "Z"), without its
    per-call settings lookups: a feed page renders ~50 of these (issue #10, F1)."""
    if value is None:
        return None
    if timezone.is_naive(value):
        return _datetime_field.to_representation(value)
    text = value.astimezone(timezone.get_current_timezone()).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


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


def _image(values: dict[str, Any] | None) -> dict[str, Any] | None:
    if not values:
        return None
    return media_values_representation(
        media_id=values["id"], status=values["status"], width=values["width"], height=values["height"], blurhash=values["blurhash"]
    )


def _payloads(post: Post, card_image: dict[str, Any] | None) -> dict[str, dict[str, Any] | None]:
    """The card's kind payload under its key (feed.models.CARD_PAYLOAD_KEYS), the other keys null.

    A payload that names an image by `image_id` (a kudos) also carries it as `image`, the media
    object every other image is: read live in the card query, as the picture's status and
    variants change after the payload was written.
    """
    payloads: dict[str, dict[str, Any] | None] = dict.fromkeys(CARD_PAYLOAD_KEYS.values())
    key = CARD_PAYLOAD_KEYS.get(post.kind)
    if key is not None:
        payload = dict(post.card)
        if "image_id" in payload:
            payload["image"] = _image(card_image) if payload["image_id"] is not None else None
        payloads[key] = payload
    return payloads


# --- Card data: one query, compiled once per process ------------------------------------------


class JSONList(OrderableAggMixin, Aggregate):
    """The rows' values as one JSON array: `jsonb_agg(... ORDER BY ...)` on PostgreSQL.

    SQLite before 3.44 cannot order inside an aggregate, so there it is `json_group_array`
    unordered and `post_cards` sorts (SQLite's binary collation is Python's string order).
    """

    function = "JSONB_AGG"
    template = "%(function)s(%(expressions)s %(order_by)s)"
    output_field = JSONField()

    def as_sqlite(self, compiler, connection, **extra_context):
        return Aggregate.as_sql(self, compiler, connection, function="JSON_GROUP_ARRAY", template="%(function)s(%(expressions)s)")


_POST_IDS = "post_ids"
_VIEWER = "viewer_id"
# The page's ids as one parameter, so the SQL text is the same for any number of posts.
_IDS_SQL = {"postgresql": "SELECT unnest(%s::bigint[])", "sqlite": "SELECT value FROM json_each(%s)"}


def _json_rows(queryset: QuerySet, order_by: Sequence[str], **fields: str) -> Subquery:
    rows = queryset.order_by().values("post").annotate(rows=JSONList(JSONObject(**fields), order_by=order_by)).values("rows")
    return Subquery(rows, output_field=JSONField())


def _card_columns(*, with_viewer: bool) -> dict[str, Any]:
    """All of a card but the post's own row and its author, as correlated subqueries."""
    of_post = {"post": OuterRef("pk")}
    columns: dict[str, Any] = {
        # Not "groups"/"images": those names are the post's relations.
        "group_list": _json_rows(
            PostGroup.objects.filter(**of_post), ("group__name", "group_id"), id="group_id", name="group__name", kind="group__kind"
        ),
        "image_list": _json_rows(
            PostImage.objects.filter(**of_post),
            ("position",),
            position="position",
            id="media_id",
            status="media__status",
            width="media__width",
            height="media__height",
            blurhash="media__blurhash",
        ),
        # COUNT(type): the (post, type) index answers it without visiting the table.
        "reaction_counts": Subquery(
            Reaction.objects.filter(**of_post)
            .order_by()
            .values("post")
            .annotate(counts=JSONObject(**{kind: Count("type", filter=Q(type=kind)) for kind in ReactionType.values}))
            .values("counts"),
            output_field=JSONField(),
        ),
        # The image a kind payload names (a kudos' photo); no row for every other card.
        "card_image": Subquery(
            Media.objects.filter(pk=Cast(KeyTextTransform("image_id", OuterRef("card")), BigIntegerField())).values(
                json=JSONObject(id="id", status="status", width="width", height="height", blurhash="blurhash")
            )[:1],
            output_field=JSONField(),
        ),
        "comment_count": Subquery(
            Comment.objects.filter(**of_post, removed_at__isnull=True, hidden_at__isnull=True)
            .order_by()
            .values("post")
            .annotate(count=Count("id"))
            .values("count")
        ),
    }
    if with_viewer:
        mine = {**of_post, "user_id": Slot(_VIEWER, BigIntegerField())}
        columns["my_reaction"] = Subquery(Reaction.objects.filter(**mine).values("type")[:1])
        columns["my_acknowledged_at"] = Subquery(Acknowledgement.objects.filter(**mine).values("acknowledged_at")[:1])
    # A post's poll (issue #21): its state, options with counts and the viewer's choices.
    columns.update(poll_card_columns(with_viewer=with_viewer, viewer_slot=Slot(_VIEWER, BigIntegerField())))
    return columns


@cache
def _card_query(alias: str, vendor: str, with_viewer: bool) -> tuple[str, tuple[Any, ...], list[str]]:
    """The SQL, its parameters (with open slots) and its column names.

    Compiling the ORM expression costs several milliseconds of Python per call, running it
    under one: the text never changes, only the ids and the viewer do (issue #10, F1).
    """
    columns = _card_columns(with_viewer=with_viewer)
    queryset = (
        Post.objects.using(alias)
        .filter(pk__in=RawSQL(_IDS_SQL[vendor], [Slot(_POST_IDS, BigIntegerField())]))  # noqa: S611 (constant SQL, ids as a parameter)
        .annotate(**columns)
        .values_list("pk", *columns)
        .order_by()
    )
    compiler = queryset.query.get_compiler(alias)
    sql, params = compiler.as_sql()
    names = ["id", *queryset.query.annotation_select]
    assert names[1:] == list(columns), names  # the row layout in _card_rows relies on it
    return sql, tuple(params), names


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _card_rows(post_ids: list[int], viewer: User | None) -> dict[int, dict[str, Any]]:
    db = connections[router.db_for_read(Post)]
    sql, params, names = _card_query(db.alias, db.vendor, viewer is not None)
    slots = {_POST_IDS: post_ids if db.vendor == "postgresql" else json.dumps(post_ids), _VIEWER: viewer.pk if viewer else None}
    with hot_cursor(db) as cursor:
        cursor.execute(sql, [slots[param.name] if isinstance(param, Slot) else param for param in params])
        rows = {row[0]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}
    for row in rows.values():
        for name in ("group_list", "image_list"):
            row[name] = _json(row[name]) or []
        row["reaction_counts"] = _json(row["reaction_counts"]) or {}
        row["card_image"] = _json(row["card_image"])
        acknowledged_at = row.get("my_acknowledged_at")
        if isinstance(acknowledged_at, str):  # SQLite: naive UTC text
            row["my_acknowledged_at"] = timezone.make_aware(parse_datetime(acknowledged_at), UTC)
    return rows


def post_cards(*, posts: Sequence[Post], viewer: User | None) -> list[dict[str, Any]]:
    """Cards for `posts` in their order; `viewer` None renders the viewer-neutral card (events)."""
    if not posts:
        return []
    authors = _authors(posts)
    rows = _card_rows([post.pk for post in posts], viewer)
    sort_in_python = connections[router.db_for_read(Post)].vendor != "postgresql"
    now = timezone.now()

    cards = []
    for post in posts:
        row = rows[post.pk]
        groups, images, counts = row["group_list"], row["image_list"], row["reaction_counts"]
        if sort_in_python:
            groups.sort(key=lambda group: (group["name"], group["id"]))
            images.sort(key=lambda image: image["position"])
        acknowledged_at = row.get("my_acknowledged_at")
        cards.append(
            {
                "id": post.pk,
                "kind": post.kind,
                "author": user_summary(authors[post.author_id]),
                "body": post.body,
                "audience": "organization" if post.org_wide else "groups",
                # Rebuilt, not passed through: jsonb keeps keys in its own order, the API in this one.
                "groups": [{"id": group["id"], "name": group["name"], "kind": group["kind"]} for group in groups],
                "images": [
                    media_values_representation(
                        media_id=image["id"],
                        status=image["status"],
                        width=image["width"],
                        height=image["height"],
                        blurhash=image["blurhash"],
                    )
                    for image in images
                ],
                "created_at": iso(post.created_at),
                "publish_at": iso(post.publish_at),
                "published_at": iso(post.published_at),
                "edited_at": iso(post.edited_at),
                "pinned": post.pinned,
                "comment_count": row["comment_count"] or 0,
                "reaction_counts": {reaction_type: counts.get(reaction_type, 0) for reaction_type in ReactionType.values},
                "my_reaction": row.get("my_reaction"),
                "requires_acknowledgement": post.requires_acknowledgement,
                "acknowledgement_deadline": iso(post.acknowledgement_deadline),
                "acknowledged_by_me": acknowledged_at is not None,
                "my_acknowledged_at": iso(acknowledged_at),
                **_payloads(post, row["card_image"]),
                "poll": poll_from_row(row, now=now),
            }
        )
    for post, card in zip(posts, cards, strict=True):
        if (reader := card_readers.get(post.kind)) is not None:
            reader(post=post, card=card)
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
            "parent_id": comment.parent_id,
            "author": user_summary(comment.author),
            "body": comment.body,
            "mentions": [user_summary(user) for user in sorted(comment.mentions.all(), key=lambda user: user.pk)],
            "created_at": iso(comment.created_at),
            "edited_at": iso(comment.edited_at),
        }
        for comment in comments
    ]
