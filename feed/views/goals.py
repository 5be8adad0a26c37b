"""Goals with their progress updates, and the key moments of the customer journey."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response

from feed import selectors
from feed.models import GoalStatus
from feed.serializers import (
    GoalCreateSerializer,
    GoalHistorySerializer,
    GoalPatchSerializer,
    GoalProgressSerializer,
    GoalSerializer,
    GoalUpdateResultSerializer,
    KeyMomentPatchSerializer,
    KeyMomentSerializer,
    KeyMomentWriteSerializer,
)
from feed.services import archive
from feed.services import goals as goal_services
from feed.views.common import _int_param
from server.api.exceptions import NotAllowed, ValidationFailed
from server.api.pagination import KeysetPagination
from server.api.views import APIView


def _goal_response(request, goal_id: int, status_code: int = status.HTTP_200_OK) -> Response:
    goal = selectors.access_goal(user=request.user, goal_id=goal_id)
    return Response(GoalSerializer(goal).data, status=status_code)


class GoalListView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "status", str, enum=GoalStatus.values, description="Default: every status but archived (`archived`: leaders and admins)."
            ),
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
        if goal_status == GoalStatus.ARCHIVED and not request.user.is_leader_or_admin:
            raise NotAllowed(_("Only leaders and admins see archived goals."))
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
    @extend_schema(responses={200: GoalHistorySerializer(many=True)}, operation_id="goals_updates_list", tags=["goals"])
    def get(self, request, goal_id: int):
        goal = selectors.access_goal(user=request.user, goal_id=goal_id)
        paginator = KeysetPagination()
        page = paginator.paginate_queryset(selectors.goal_update_list(goal=goal), request, view=self)
        return paginator.get_paginated_response(GoalHistorySerializer(page, many=True).data)

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


def _key_moment_response(request, key_moment_id: int, status_code: int = status.HTTP_200_OK) -> Response:
    key_moment = selectors.access_key_moment(user=request.user, key_moment_id=key_moment_id, include_archived=True)
    return Response(KeyMomentSerializer(key_moment).data, status=status_code)


class KeyMomentListView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("archived", bool, description="`true`: the archived ones instead (leaders and admins).")],
        responses={200: KeyMomentSerializer(many=True)},
        operation_id="key_moments_list",
        tags=["goals"],
    )
    def get(self, request):
        archived = request.query_params.get("archived", "").lower() in ("true", "1")
        if archived and not request.user.is_leader_or_admin:
            raise NotAllowed(_("Only leaders and admins see archived key moments."))
        paginator = KeysetPagination()
        page = paginator.paginate_queryset(selectors.key_moment_list(user=request.user, archived=archived), request, view=self)
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
        key_moment = selectors.access_key_moment(user=request.user, key_moment_id=key_moment_id, include_archived=True)
        data = KeyMomentPatchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        archived = changes.pop("archived", None)
        if changes or archived is None:
            goal_services.key_moment_update(actor=request.user, key_moment=key_moment, **changes)
        if archived is not None:
            archive.key_moment_set_archived(actor=request.user, key_moment=key_moment, archived=archived)
        return _key_moment_response(request, key_moment_id)
