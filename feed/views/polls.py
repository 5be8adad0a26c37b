"""A post's poll: vote, change or withdraw a vote, close early, and (named polls) its voters."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from feed.cards import iso, user_summary
from feed.poll_serializers import PollVoterSerializer, PollVoteSerializer
from feed.selectors import polls as poll_selectors
from feed.serializers import PostCardSerializer
from feed.services import polls as poll_services
from feed.views.common import _card
from server.api.exceptions import NotAllowed
from server.api.pagination import CURSOR_PARAM, KeysetPagination, decode_cursor
from server.api.views import APIView


class PollVoteView(APIView):
    @extend_schema(request=PollVoteSerializer, responses={200: PostCardSerializer}, operation_id="polls_vote", tags=["feed"])
    def put(self, request, post_id: int):
        data = PollVoteSerializer(data=request.data)
        if not data.is_valid():
            # Someone who may not open the post learns nothing from a malformed body: 404 first.
            poll_selectors.access_poll(user=request.user, post_id=post_id)
            data.is_valid(raise_exception=True)
        poll_services.poll_vote(user=request.user, post_id=post_id, option_ids=data.validated_data["option_ids"])
        return _card(request, post_id)

    @extend_schema(request=None, responses={204: None}, operation_id="polls_vote_withdraw", tags=["feed"])
    def delete(self, request, post_id: int):
        poll_services.poll_vote_withdraw(user=request.user, post_id=post_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PollCloseView(APIView):
    @extend_schema(request=None, responses={200: PostCardSerializer}, operation_id="polls_close", tags=["feed"])
    def post(self, request, post_id: int):
        poll_services.poll_close(actor=request.user, post_id=post_id)
        return _card(request, post_id)


class PollVotersView(APIView):
    @extend_schema(responses={200: PollVoterSerializer(many=True)}, operation_id="polls_voters", tags=["feed"])
    def get(self, request, post_id: int):
        poll = poll_selectors.access_poll(user=request.user, post_id=post_id)
        paginator = KeysetPagination()
        # A malformed cursor or page size is a 400 for everyone who may open the post, as on every list.
        paginator.get_page_size(request)
        if cursor := request.query_params.get(CURSOR_PARAM):
            decode_cursor(cursor)
        if poll.anonymous:
            raise NotAllowed(_("Nobody sees who voted what in an anonymous poll."), code="poll_anonymous")
        if poll.post.author_id != request.user.pk:
            raise NotAllowed(_("Only the author sees who voted what."))
        page = paginator.paginate_queryset(poll_selectors.poll_voters(poll=poll), request, view=self)
        return paginator.get_paginated_response(
            [
                {"id": vote.pk, "option_id": vote.option_id, "user": user_summary(vote.user), "voted_at": iso(vote.created_at)}
                for vote in page
            ]
        )
