"""What readers do with a post: acknowledge, mark seen, comment, react."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from feed import selectors, services
from feed.cards import comment_cards
from feed.serializers import (
    AcknowledgeSerializer,
    CommentCreateSerializer,
    CommentSerializer,
    PostCardSerializer,
    ReactionSerializer,
    SeenSerializer,
)
from feed.views.common import _card
from server.api.pagination import KeysetPagination
from server.api.views import APIView


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
