"""Thin views of the feed: access check first (404), then input, then one service or selector."""

from __future__ import annotations

import base64
import binascii
import csv
import json
from datetime import datetime

from django.http import HttpResponse
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response

from feed import selectors, services
from feed.cards import comment_cards, iso, post_card, post_cards, removed_card
from feed.models import GoalStatus, Post, PostKind
from feed.serializers import (
    AcknowledgeSerializer,
    CommentCreateSerializer,
    CommentSerializer,
    FeedUpdatesSerializer,
    GoalCreateSerializer,
    GoalPatchSerializer,
    GoalProgressSerializer,
    GoalSerializer,
    GoalUpdateResultSerializer,
    KeyMomentPatchSerializer,
    KeyMomentSerializer,
    KeyMomentWriteSerializer,
    PostCardSerializer,
    PostCreateSerializer,
    PostUpdateSerializer,
    ReachSerializer,
    ReactionSerializer,
    SeenSerializer,
)
from feed.services import goals as goal_services
from feed.services import mandatory_reads
from server.api.exceptions import NotAllowed, ValidationFailed
from server.api.fields import MAX_ID
from server.api.pagination import KeysetPagination
from server.api.schema import ErrorSerializer
from server.api.views import APIView


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

        def fetch(cursor: list | None, reverse: bool, limit: int) -> list[Post]:
            return selectors.feed_page(user=request.user, group_id=group_id, kind=kind, cursor=cursor, reverse=reverse, limit=limit)

        page = paginator.paginate(request, ordering=selectors.FEED_ORDERING, model=Post, fetch=fetch)
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
        card = post.published_card or post_card(post=post, viewer=request.user)
        return Response(card, status=status.HTTP_201_CREATED)


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


# --- Mandatory reads: reach export ---------------------------------------------------------------


class PostReachExportView(APIView):
    @extend_schema(
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="One row per audience member.")},
        operation_id="posts_reach_export",
        tags=["feed"],
    )
    def get(self, request, post_id: int):
        post = selectors.access_post(user=request.user, post_id=post_id)
        if not request.user.is_leader_or_admin:
            raise NotAllowed(_("Only leaders and admins see reach."))
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="reach-post-{post.pk}.csv"'
        writer = csv.writer(response)
        writer.writerow(["user_id", "name", "groups", "seen_at", "acknowledged_at", "status"])
        for row in mandatory_reads.reach_rows(post=post):
            status_text = "acknowledged" if row["acknowledged_at"] else ("seen" if row["seen_at"] else "not_seen")
            writer.writerow(
                [
                    row["user"].pk,
                    _csv_safe(row["user"].name),
                    _csv_safe("; ".join(row["groups"])),
                    iso(row["seen_at"]) or "",
                    iso(row["acknowledged_at"]) or "",
                    status_text,
                ]
            )
        return response


def _csv_safe(text: str) -> str:
    # A name like "=HYPERLINK(...)" must stay text when a leader opens the file in a spreadsheet.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


# --- Goals -----------------------------------------------------------------------------------------


def _goal_response(request, goal_id: int, status_code: int = status.HTTP_200_OK) -> Response:
    goal = selectors.access_goal(user=request.user, goal_id=goal_id)
    return Response(GoalSerializer(goal).data, status=status_code)


class GoalListView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=GoalStatus.values, description="Default: every status but archived."),
            OpenApiParameter("group", int),
        ],
        responses={200: GoalSerializer(many=True)},
        operation_id="goals_list",
        tags=["goals"],
    )
    def get(self, request):
        goal_status = request.query_params.get("status") or None
        if goal_status is not None and goal_status not in GoalStatus.values:
            raise ValidationFailed(_("Unknown status."), fields={"status": [_("Unknown status.")]})
        queryset = selectors.goal_list(user=request.user, status=goal_status, group_id=_int_param(request, "group"))
        paginator = KeysetPagination()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(GoalSerializer(page, many=True).data)

    @extend_schema(request=GoalCreateSerializer, responses={201: GoalSerializer}, operation_id="goals_create", tags=["goals"])
    def post(self, request):
        data = GoalCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        goal = goal_services.goal_create(actor=request.user, **data.validated_data)
        return _goal_response(request, goal.pk, status.HTTP_201_CREATED)


class GoalDetailView(APIView):
    @extend_schema(responses={200: GoalSerializer}, operation_id="goals_retrieve", tags=["goals"])
    def get(self, request, goal_id: int):
        return _goal_response(request, goal_id)

    @extend_schema(request=GoalPatchSerializer, responses={200: GoalSerializer}, operation_id="goals_update", tags=["goals"])
    def patch(self, request, goal_id: int):
        goal = selectors.access_goal(user=request.user, goal_id=goal_id)
        data = GoalPatchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        goal_services.goal_update(actor=request.user, goal=goal, **data.validated_data)
        return _goal_response(request, goal_id)


class GoalProgressView(APIView):
    @extend_schema(
        request=GoalProgressSerializer, responses={201: GoalUpdateResultSerializer}, operation_id="goals_updates_create", tags=["goals"]
    )
    def post(self, request, goal_id: int):
        goal = selectors.access_goal(user=request.user, goal_id=goal_id)
        data = GoalProgressSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        update = goal_services.goal_progress_add(actor=request.user, goal=goal, **data.validated_data)
        body = {
            "id": update.pk,
            "note": update.note,
            "previous_value": update.previous_value,
            "current_value": update.current_value,
            "reached_target": update.reached_target,
            "post_id": update.post_id,
            "goal": selectors.access_goal(user=request.user, goal_id=goal_id),
            "created_at": update.created_at,
        }
        return Response(GoalUpdateResultSerializer(body).data, status=status.HTTP_201_CREATED)


# --- Key moments ---------------------------------------------------------------------------------------


def _key_moment_response(request, key_moment_id: int, status_code: int = status.HTTP_200_OK) -> Response:
    key_moment = selectors.access_key_moment(user=request.user, key_moment_id=key_moment_id)
    return Response(KeyMomentSerializer(key_moment).data, status=status_code)


class KeyMomentListView(APIView):
    @extend_schema(responses={200: KeyMomentSerializer(many=True)}, operation_id="key_moments_list", tags=["goals"])
    def get(self, request):
        paginator = KeysetPagination()
        page = paginator.paginate_queryset(selectors.key_moment_list(user=request.user), request, view=self)
        return paginator.get_paginated_response(KeyMomentSerializer(page, many=True).data)

    @extend_schema(
        request=KeyMomentWriteSerializer, responses={201: KeyMomentSerializer}, operation_id="key_moments_create", tags=["goals"]
    )
    def post(self, request):
        data = KeyMomentWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        key_moment = goal_services.key_moment_create(actor=request.user, **data.validated_data)
        return _key_moment_response(request, key_moment.pk, status.HTTP_201_CREATED)


class KeyMomentDetailView(APIView):
    @extend_schema(responses={200: KeyMomentSerializer}, operation_id="key_moments_retrieve", tags=["goals"])
    def get(self, request, key_moment_id: int):
        return _key_moment_response(request, key_moment_id)

    @extend_schema(
        request=KeyMomentPatchSerializer, responses={200: KeyMomentSerializer}, operation_id="key_moments_update", tags=["goals"]
    )
    def patch(self, request, key_moment_id: int):
        key_moment = selectors.access_key_moment(user=request.user, key_moment_id=key_moment_id)
        data = KeyMomentPatchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        goal_services.key_moment_update(actor=request.user, key_moment=key_moment, **data.validated_data)
        return _key_moment_response(request, key_moment_id)
