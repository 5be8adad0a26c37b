"""The feed (cursor pages of cards, pinned on top) and its catch-up of changes."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from feed import selectors
from feed.cards import post_cards, removed_card
from feed.models import Post, PostKind
from feed.serializers import FeedUpdatesSerializer, PostCardSerializer
from feed.views.common import _int_param
from search.query import parse_query
from server.api.exceptions import ValidationFailed
from server.api.pagination import KeysetPagination
from server.api.schema import ErrorSerializer
from server.api.views import APIView


class FeedView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("group", int, description="Only posts addressed to this group."),
            OpenApiParameter("kind", str, enum=PostKind.values),
            OpenApiParameter("author", int, description="Only posts written by this colleague."),
            OpenApiParameter(
                "unacknowledged",
                bool,
                description="`true`: my to-do list, the posts addressed to me that ask for acknowledgement and I have not acknowledged.",
            ),
            OpenApiParameter(
                "q",
                str,
                description="Only posts whose text matches, as `GET /search` matches posts (the same syntax: words, "
                '`"phrase"`, `-word`, `or`; at most 200 characters), in the feed\'s own order. Pinned posts too. '
                "Blank: no filter.",
            ),
        ],
        # A cursor page of cards (the schema wraps lists in the page envelope); on the first
        # page the pinned posts come on top of `page_size` ordinary ones.
        responses={200: PostCardSerializer(many=True)},
        operation_id="feed_list",
        tags=["feed"],
    )
    def get(self, request):
        group_id = _int_param(request, "group")
        kind = request.query_params.get("kind") or None
        if kind is not None and kind not in PostKind.values:
            raise ValidationFailed(_("Unknown kind."), fields={"kind": [_("Unknown kind.")]})
        filters = {
            "group_id": group_id,
            "kind": kind,
            "author_id": _int_param(request, "author"),
            "unacknowledged": request.query_params.get("unacknowledged", "").lower() in ("true", "1"),
            # `q` absent or blank (like `kind`): the feed, from its precompiled queries; else a
            # search query, refused when too long like GET /search's.
            "text": parse_query(q) if (q := request.query_params.get("q", "")).strip() else None,
        }
        paginator = KeysetPagination()

        def fetch(cursor: list | None, reverse: bool, limit: int) -> list[Post]:
            return selectors.feed_page(user=request.user, **filters, cursor=cursor, reverse=reverse, limit=limit)

        page = paginator.paginate(request, ordering=selectors.FEED_ORDERING, model=Post, fetch=fetch)
        pinned = [] if paginator.had_cursor else selectors.feed_pinned(user=request.user, **filters)
        return paginator.get_paginated_response(post_cards(posts=[*pinned, *page], viewer=request.user))


def _encode_since(cursor: tuple[datetime, int]) -> str:
    raw = json.dumps({"t": cursor[0].isoformat(), "i": cursor[1]}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_since(raw: str) -> tuple[datetime, int]:
    try:
        payload = json.loads(base64.urlsafe_b64decode((raw + "=" * (-len(raw) % 4)).encode()).decode())
        moment = parse_datetime(payload["t"])
        if moment is None or moment.tzinfo is None:
            raise ValueError
        return moment, int(payload["i"])
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
        raise ValidationFailed(_("The cursor is not valid."), code="invalid_cursor", fields={"since": [_("Invalid cursor.")]})


class FeedUpdatesView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("since", str, description="The `cursor` of the previous call; absent: only the current cursor.")],
        responses={200: FeedUpdatesSerializer, 400: ErrorSerializer},
        operation_id="feed_updates",
        tags=["feed"],
    )
    def get(self, request):
        raw = request.query_params.get("since")
        changes = selectors.post_updates(user=request.user, since=_decode_since(raw) if raw else None)
        cards = {card["id"]: card for card in post_cards(posts=changes.changed, viewer=request.user)}
        # In the order the changes happened, so a client can apply them one by one.
        results = [cards.get(post_id) or removed_card(post_id) for post_id in changes.ordered_ids]
        return Response(
            {"results": results, "cursor": _encode_since(changes.cursor), "has_more": changes.has_more, "up_to_date": changes.up_to_date}
        )
