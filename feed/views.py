"""Thin views of the feed: access check first (404), then input, then one service or selector."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from feed import selectors, services
from feed.cards import comment_cards, post_card, post_cards, removed_card
from feed.models import PostKind
from feed.serializers import (
    AcknowledgeSerializer,
    CommentCreateSerializer,
    CommentSerializer,
    FeedUpdatesSerializer,
    PostCardSerializer,
    PostCreateSerializer,
    PostUpdateSerializer,
    ReachSerializer,
    ReactionSerializer,
    SeenSerializer,
)
from server.api.exceptions import NotAllowed, ValidationFailed
from server.api.fields import MAX_ID
from server.api.pagination import KeysetPagination
from server.api.schema import ErrorSerializer


def _card(request, post_id: int) -> Response:
    post = selectors.access_post(user=request.user, post_id=post_id)
    return Response(post_card(post=post, viewer=request.user))


def _int_param(request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ValidationFailed(_("%(name)s must be a number.") % {"name": name}, fields={name: [_("Must be a number.")]})
    if not 1 <= value <= MAX_ID:
        raise ValidationFailed(_("%(name)s is not a valid id.") % {"name": name}, fields={name: [_("Not a valid id.")]})
    return value


# --- Feed ---------------------------------------------------------------------------------------


class FeedView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("group", int, description="Only posts addressed to this group."),
            OpenApiParameter("kind", str, enum=PostKind.values),
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
        paginator = KeysetPagination()
        page = paginator.paginate_queryset(selectors.feed_list(user=request.user, group_id=group_id, kind=kind), request, view=self)
        pinned = [] if paginator.had_cursor else selectors.feed_pinned(user=request.user, group_id=group_id, kind=kind)
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
        return Response({"results": results, "cursor": _encode_since(changes.cursor), "has_more": changes.has_more})


# --- Posts --------------------------------------------------------------------------------------


class PostCreateView(APIView):
    @extend_schema(request=PostCreateSerializer, responses={201: PostCardSerializer}, operation_id="posts_create", tags=["feed"])
    def post(self, request):
        data = PostCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        post = services.post_create(author=request.user, **data.validated_data)
        return Response(post_card(post=post, viewer=request.user), status=status.HTTP_201_CREATED)


class PostDetailView(APIView):
    @extend_schema(responses={200: PostCardSerializer}, operation_id="posts_retrieve", tags=["feed"])
    def get(self, request, post_id: int):
        return _card(request, post_id)

    @extend_schema(request=PostUpdateSerializer, responses={200: PostCardSerializer}, operation_id="posts_update", tags=["feed"])
    def patch(self, request, post_id: int):
        post = selectors.access_post(user=request.user, post_id=post_id)
        data = PostUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.post_update(actor=request.user, post=post, body=data.validated_data["body"])
        return _card(request, post_id)

    @extend_schema(request=None, responses={204: None}, operation_id="posts_delete", tags=["feed"])
    def delete(self, request, post_id: int):
        post = selectors.access_post(user=request.user, post_id=post_id)
        services.post_delete(actor=request.user, post=post)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PostPinView(APIView):
    pinned = True

    @extend_schema(request=None, responses={200: PostCardSerializer}, operation_id="posts_pin", tags=["feed"])
    def post(self, request, post_id: int):
        post = selectors.access_post(user=request.user, post_id=post_id)
        services.post_pin(actor=request.user, post=post, pinned=self.pinned)
        return _card(request, post_id)


class PostUnpinView(PostPinView):
    pinned = False

    @extend_schema(request=None, responses={200: PostCardSerializer}, operation_id="posts_unpin", tags=["feed"])
    def post(self, request, post_id: int):
        return super().post(request, post_id)


class PostAcknowledgeView(APIView):
    @extend_schema(request=AcknowledgeSerializer, responses={200: PostCardSerializer}, operation_id="posts_acknowledge", tags=["feed"])
    def post(self, request, post_id: int):
        post = selectors.access_post(user=request.user, post_id=post_id, include_unpublished=False)
        data = AcknowledgeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.post_acknowledge(user=request.user, post=post, acknowledged_at=data.validated_data["acknowledged_at"])
        return _card(request, post_id)


class PostsSeenView(APIView):
    @extend_schema(request=SeenSerializer, responses={204: None}, operation_id="posts_seen", tags=["feed"])
    def post(self, request):
        data = SeenSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.posts_seen(user=request.user, post_ids=data.validated_data["ids"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class PostReachView(APIView):
    @extend_schema(responses={200: ReachSerializer}, operation_id="posts_reach", tags=["feed"])
    def get(self, request, post_id: int):
        post = selectors.access_post(user=request.user, post_id=post_id)
        if not request.user.is_leader_or_admin:
            raise NotAllowed(_("Only leaders and admins see reach."))
        return Response(selectors.post_reach(post=post))


# --- Comments and reactions ---------------------------------------------------------------------------


class CommentListView(APIView):
    @extend_schema(
        responses={200: CommentSerializer(many=True)},
        operation_id="comments_list",
        tags=["feed"],
    )
    def get(self, request, post_id: int):
        post = selectors.access_post(user=request.user, post_id=post_id, include_unpublished=False)
        paginator = KeysetPagination()
        page = paginator.paginate_queryset(selectors.comment_list(post=post), request, view=self)
        return paginator.get_paginated_response(comment_cards(comments=page))

    @extend_schema(request=CommentCreateSerializer, responses={201: CommentSerializer}, operation_id="comments_create", tags=["feed"])
    def post(self, request, post_id: int):
        post = selectors.access_post(user=request.user, post_id=post_id, include_unpublished=False)
        data = CommentCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        comment = services.comment_create(author=request.user, post=post, body=data.validated_data["body"])
        return Response(comment_cards(comments=[comment])[0], status=status.HTTP_201_CREATED)


class CommentDetailView(APIView):
    @extend_schema(request=None, responses={204: None}, operation_id="comments_delete", tags=["feed"])
    def delete(self, request, comment_id: int):
        comment = selectors.access_comment(user=request.user, comment_id=comment_id)
        services.comment_delete(actor=request.user, comment=comment)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ReactionView(APIView):
    @extend_schema(request=ReactionSerializer, responses={200: PostCardSerializer}, operation_id="reactions_set", tags=["feed"])
    def put(self, request, post_id: int):
        post = selectors.access_post(user=request.user, post_id=post_id, include_unpublished=False)
        data = ReactionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.reaction_set(user=request.user, post=post, reaction_type=data.validated_data["type"])
        return _card(request, post_id)

    @extend_schema(request=None, responses={204: None}, operation_id="reactions_delete", tags=["feed"])
    def delete(self, request, post_id: int):
        post = selectors.access_post(user=request.user, post_id=post_id, include_unpublished=False)
        services.reaction_delete(user=request.user, post=post)
        return Response(status=status.HTTP_204_NO_CONTENT)
