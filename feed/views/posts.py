"""Posts: create, open, edit, delete, pin, and their reach (with its CSV export)."""

from __future__ import annotations

import csv

from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response

from feed import selectors, services
from feed.cards import iso, post_card, post_cards, user_summary
from feed.serializers import (
    NotAcknowledgedSerializer,
    PostCardSerializer,
    PostCreateSerializer,
    PostUpdateSerializer,
    ReachSerializer,
    RemindResultSerializer,
)
from feed.services import mandatory_reads, remind_now
from feed.views.common import _card
from server.api.exceptions import NotAllowed, ValidationFailed
from server.api.pagination import KeysetPagination
from server.api.views import APIView


class PostCreateView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "status",
                str,
                enum=["scheduled"],
                required=True,
                description="`scheduled`: posts still to go out, soonest first (yours; an admin's: the organisation's).",
            )
        ],
        responses={200: PostCardSerializer(many=True)},
        operation_id="posts_list",
        tags=["feed"],
    )
    def get(self, request):
        if request.query_params.get("status") != "scheduled":
            raise ValidationFailed(_("Unknown status."), fields={"status": [_("Unknown status.")]})
        paginator = KeysetPagination()
        page = paginator.paginate_queryset(selectors.scheduled_post_list(user=request.user), request, view=self)
        return paginator.get_paginated_response(post_cards(posts=page, viewer=request.user))

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
        services.post_update(actor=request.user, post=post, **data.validated_data)
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


class PostReachView(APIView):
    @extend_schema(responses={200: ReachSerializer}, operation_id="posts_reach", tags=["feed"])
    def get(self, request, post_id: int):
        post = selectors.access_post(user=request.user, post_id=post_id)
        if not request.user.is_leader_or_admin:
            raise NotAllowed(_("Only leaders and admins see reach."))
        return Response(selectors.post_reach(post=post))


class PostNotAcknowledgedView(APIView):
    @extend_schema(responses={200: NotAcknowledgedSerializer(many=True)}, operation_id="posts_reach_not_acknowledged", tags=["feed"])
    def get(self, request, post_id: int):
        post = selectors.access_post(user=request.user, post_id=post_id)
        if not request.user.is_leader_or_admin:
            raise NotAllowed(_("Only leaders and admins see reach."))
        paginator = KeysetPagination()
        page = paginator.paginate_queryset(selectors.not_acknowledged_list(post=post), request, view=self)
        return paginator.get_paginated_response([{"user": user_summary(person), "seen_at": iso(person.seen_at)} for person in page])


class PostRemindView(APIView):
    @extend_schema(request=None, responses={200: RemindResultSerializer}, operation_id="posts_remind", tags=["feed"])
    def post(self, request, post_id: int):
        post = selectors.access_post(user=request.user, post_id=post_id)
        reminded = remind_now.post_remind_now(actor=request.user, post=post)
        return Response(
            {"reminded_count": reminded.reminded_count, "sent_at": iso(reminded.sent_at), "next_remind_at": iso(reminded.next_remind_at)}
        )


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
