"""Thin views of moderation: role check and access first (403/404), then input, then one service or selector."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response

from moderation import selectors, services
from moderation.models import CaseStatus
from moderation.serializers import (
    CaseDetailSerializer,
    CaseSerializer,
    CommentLockSerializer,
    KeywordsSerializer,
    MuteSerializer,
    MuteStateSerializer,
    NoteSerializer,
    ReportCreatedSerializer,
    ReportCreateSerializer,
    ResolveSerializer,
    SummarySerializer,
    VisibilitySerializer,
    case_card,
)
from server.api.exceptions import ValidationFailed
from server.api.pagination import KeysetPagination
from server.api.schema import ErrorSerializer
from server.api.throttling import ReportThrottle, UserRateThrottle
from server.api.views import APIView

TAGS = ["moderation"]


def _valid(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class ReportCreateView(APIView):
    # A burst of reports from one person is capped (THROTTLE_REPORTS, default 20/min).
    throttle_classes = [UserRateThrottle, ReportThrottle]

    # 404: a target the reporter cannot see (or of another organisation).
    @extend_schema(
        request=ReportCreateSerializer,
        responses={201: ReportCreatedSerializer, 404: ErrorSerializer},
        operation_id="reports_create",
        tags=TAGS,
    )
    def post(self, request):
        data = _valid(ReportCreateSerializer, request)
        report = services.report_create(
            reporter=request.user, target_type=data["target_type"], target_id=data["target_id"], reason=data["reason"], note=data["note"]
        )
        body = {
            "id": report.pk,
            "target_type": report.target_type,
            "target_id": report.target_id,
            "reason": report.reason,
            "note": report.note,
            "created_at": report.created_at,
        }
        return Response(ReportCreatedSerializer(body).data, status=status.HTTP_201_CREATED)


class CaseListView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("status", str, enum=CaseStatus.values, description="Default `open`.")],
        responses={200: CaseSerializer(many=True)},
        operation_id="moderation_reports_list",
        tags=TAGS,
    )
    def get(self, request):
        wanted = request.query_params.get("status", CaseStatus.OPEN)
        selectors.ensure_moderator(request.user)
        if wanted not in CaseStatus.values:
            raise ValidationFailed(_("Unknown status."), fields={"status": [_("Unknown status.")]})
        paginator = KeysetPagination()
        page = paginator.paginate_queryset(selectors.case_list(actor=request.user, status=wanted), request, view=self)
        return paginator.get_paginated_response([case_card(case) for case in page])


class CaseDetailView(APIView):
    @extend_schema(responses={200: CaseDetailSerializer}, operation_id="moderation_reports_retrieve", tags=TAGS)
    def get(self, request, report_id: int):
        case = selectors.access_case(actor=request.user, case_id=report_id)
        return Response(case_card(case, with_reports=True))


class CaseResolveView(APIView):
    @extend_schema(request=ResolveSerializer, responses={200: CaseDetailSerializer}, operation_id="moderation_reports_resolve", tags=TAGS)
    def post(self, request, report_id: int):
        selectors.access_case(actor=request.user, case_id=report_id)
        data = _valid(ResolveSerializer, request)
        services.case_resolve(actor=request.user, case_id=report_id, action=data["action"], note=data["note"])
        return Response(case_card(selectors.access_case(actor=request.user, case_id=report_id), with_reports=True))


class SummaryView(APIView):
    @extend_schema(responses={200: SummarySerializer}, operation_id="moderation_summary", tags=TAGS)
    def get(self, request):
        return Response({"open_report_count": selectors.open_case_count(actor=request.user)})


class PostRestoreView(APIView):
    @extend_schema(request=NoteSerializer, responses={200: VisibilitySerializer}, operation_id="moderation_posts_restore", tags=TAGS)
    def post(self, request, post_id: int):
        selectors.access_post_to_moderate(actor=request.user, post_id=post_id)
        data = _valid(NoteSerializer, request)
        post = services.post_restore(actor=request.user, post_id=post_id, note=data["note"])
        return Response({"target_type": "post", "id": post.pk, "hidden": post.hidden_at is not None})


class CommentRestoreView(APIView):
    @extend_schema(request=NoteSerializer, responses={200: VisibilitySerializer}, operation_id="moderation_comments_restore", tags=TAGS)
    def post(self, request, comment_id: int):
        selectors.access_comment_to_moderate(actor=request.user, comment_id=comment_id)
        data = _valid(NoteSerializer, request)
        comment = services.comment_restore(actor=request.user, comment_id=comment_id, note=data["note"])
        return Response({"target_type": "comment", "id": comment.pk, "hidden": comment.hidden_at is not None})


class SignalRestoreView(APIView):
    @extend_schema(request=NoteSerializer, responses={200: VisibilitySerializer}, operation_id="moderation_signals_restore", tags=TAGS)
    def post(self, request, signal_id: int):
        selectors.ensure_admin(request.user)
        data = _valid(NoteSerializer, request)
        signal = services.signal_restore(actor=request.user, signal_id=signal_id, note=data["note"])
        return Response({"target_type": "signal", "id": signal.pk, "hidden": signal.hidden_at is not None})


class CommentLockView(APIView):
    locked = True

    @extend_schema(request=NoteSerializer, responses={200: CommentLockSerializer}, tags=TAGS)
    def post(self, request, post_id: int):
        selectors.access_post_to_moderate(actor=request.user, post_id=post_id)
        data = _valid(NoteSerializer, request)
        locked = services.comments_lock(actor=request.user, post_id=post_id, locked=self.locked, note=data["note"])
        return Response({"post_id": post_id, "comments_locked": locked})


class CommentUnlockView(CommentLockView):
    locked = False


class UserMuteView(APIView):
    @extend_schema(request=MuteSerializer, responses={200: MuteStateSerializer}, operation_id="moderation_users_mute", tags=TAGS)
    def post(self, request, user_id: int):
        selectors.access_user_to_moderate(actor=request.user, user_id=user_id)
        data = _valid(MuteSerializer, request)
        mute = services.user_mute(actor=request.user, user_id=user_id, days=data["days"], note=data["note"])
        return Response(MuteStateSerializer({"user_id": user_id, "muted_until": mute.ends_at}).data)


class UserUnmuteView(APIView):
    @extend_schema(request=NoteSerializer, responses={200: MuteStateSerializer}, operation_id="moderation_users_unmute", tags=TAGS)
    def post(self, request, user_id: int):
        selectors.access_user_to_moderate(actor=request.user, user_id=user_id)
        data = _valid(NoteSerializer, request)
        user = services.user_unmute(actor=request.user, user_id=user_id, note=data["note"])
        return Response(MuteStateSerializer({"user_id": user.pk, "muted_until": user.muted_until}).data)


class KeywordsView(APIView):
    @extend_schema(responses={200: KeywordsSerializer}, operation_id="moderation_keywords_retrieve", tags=TAGS)
    def get(self, request):
        selectors.ensure_admin(request.user)
        return Response({"keywords": selectors.keyword_list(organization_id=request.user.organization_id)})

    @extend_schema(request=KeywordsSerializer, responses={200: KeywordsSerializer}, operation_id="moderation_keywords_update", tags=TAGS)
    def put(self, request):
        selectors.ensure_admin(request.user)
        data = _valid(KeywordsSerializer, request)
        return Response({"keywords": services.keywords_set(actor=request.user, keywords=data["keywords"])})
