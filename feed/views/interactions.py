"""What readers do with a post: acknowledge, mark seen, comment, react."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response

from feed import selectors, services
from feed.cards import comment_cards, iso, user_summary
from feed.models import ReactionType
from feed.serializers import (
    AcknowledgeSerializer,
    CommentCreateSerializer,
    CommentSerializer,
    CommentUpdateSerializer,
    PostCardSerializer,
    ReactionSerializer,
    ReactorSerializer,
    SeenSerializer,
)
from feed.views.common import _card
from server.api.exceptions import ValidationFailed
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
        comment = services.comment_create(author=request.user, post=post, **data.validated_data)
        return Response(comment_cards(comments=[comment])[0], status=status.HTTP_201_CREATED)


class CommentDetailView(APIView):
    @extend_schema(request=CommentUpdateSerializer, responses={200: CommentSerializer}, operation_id="comments_update", tags=["feed"])
    def patch(self, request, comment_id: int):
        comment = selectors.access_comment(user=request.user, comment_id=comment_id)
        data = CommentUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        comment = services.comment_update(actor=request.user, comment=comment, body=data.validated_data["body"])
        comment = selectors.comment_list(post=comment.post).get(pk=comment.pk)
        return Response(comment_cards(comments=[comment])[0])

    @extend_schema(request=None, responses={204: None}, operation_id="comments_delete", tags=["feed"])
    def delete(self, request, comment_id: int):
        comment = selectors.access_comment(user=request.user, comment_id=comment_id)
        services.comment_delete(actor=request.user, comment=comment)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ReactionListView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("type", str, enum=ReactionType.values, description="Only this reaction.")],
        responses={200: ReactorSerializer(many=True)},
        operation_id="reactions_list",
        tags=["feed"],
    )
    def get(self, request, post_id: int):
        post = selectors.access_post(user=request.user, post_id=post_id, include_unpublished=False)
        reaction_type = request.query_params.get("type") or None
        if reaction_type is not None and reaction_type not in ReactionType.values:
            raise ValidationFailed(_("Unknown reaction type."), fields={"type": [_("Unknown reaction type.")]})
        paginator = KeysetPagination()
        page = paginator.paginate_queryset(selectors.reaction_list(post=post, reaction_type=reaction_type), request, view=self)
        rows = [{"user": user_summary(reaction.user), "type": reaction.type, "created_at": iso(reaction.created_at)} for reaction in page]
        return paginator.get_paginated_response(rows)


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
