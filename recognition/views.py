"""Thin views: one APIView per resource, access check (404) before body validation and role checks."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response

from accounts.selectors import access_user
from accounts.views import paginated
from recognition import reports, selectors, services
from recognition.models import RoundStatus
from recognition.months import parse_month
from recognition.serializers import (
    CategorySerializer,
    CategoryWriteSerializer,
    InsightsSerializer,
    KudosCreateSerializer,
    KudosNominateSerializer,
    KudosSerializer,
    LeaderboardSerializer,
    NominationCreateSerializer,
    NominationSerializer,
    PickWinnerSerializer,
    RecognitionWallSerializer,
    ResultsSerializer,
    RoundSerializer,
    ValueSerializer,
    ValueWriteSerializer,
    WallOfFameSerializer,
)
from server.api.exceptions import NotFound, ValidationFailed
from server.api.fields import MAX_ID
from server.api.permissions import IsLeaderOrAdmin, IsOrgAdmin
from server.api.schema import ErrorSerializer
from server.api.throttling import KudosThrottle, NominationThrottle, UserRateThrottle
from server.api.views import APIView

TAGS = ["recognition"]


def _int_param(request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ValidationFailed(_("Must be a number."), fields={name: [_("Must be a number.")]})
    if not 1 <= value <= MAX_ID:
        raise ValidationFailed(_("Not a valid id."), fields={name: [_("Not a valid id.")]})
    return value


def _bool_param(request, name: str) -> bool:
    # The contract check (server/api/contract.py) has already refused anything but true/false/1/0.
    return request.query_params.get(name, "").lower() in ("1", "true")


def _month_param(request) -> object:
    raw = request.query_params.get("month")
    if not raw:
        return None
    try:
        return parse_month(raw)
    except ValueError:
        raise ValidationFailed(_("Use YYYY-MM."), fields={"month": [_("Use YYYY-MM.")]})


def _nomination_response(request, nomination_id: int, status_code: int = status.HTTP_200_OK) -> Response:
    nomination = selectors.access_nomination(user=request.user, nomination_id=nomination_id)
    return Response(NominationSerializer(nomination, context={"request": request}).data, status=status_code)


def _admin_writes(view: APIView, write_methods: tuple[str, ...] = ("POST", "PATCH")):
    if view.request.method in write_methods:
        return [IsOrgAdmin()]
    return APIView.get_permissions(view)


def _scoped_throttles(view: APIView, throttle) -> list:
    if view.request.method == "POST":
        return [UserRateThrottle(), throttle()]
    return [UserRateThrottle()]


# --- Values -------------------------------------------------------------------------------------------


class ValueListView(APIView):
    def get_permissions(self):
        return _admin_writes(self)

    @extend_schema(responses={200: ValueSerializer(many=True)}, operation_id="values_list", tags=TAGS)
    def get(self, request):
        return paginated(self, selectors.value_list(user=request.user), ValueSerializer)

    @extend_schema(request=ValueWriteSerializer, responses={201: ValueSerializer}, operation_id="values_create", tags=TAGS)
    def post(self, request):
        data = ValueWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        value = services.value_create(actor=request.user, **data.validated_data)
        return Response(ValueSerializer(value).data, status=status.HTTP_201_CREATED)


class ValueDetailView(APIView):
    def get_permissions(self):
        return _admin_writes(self)

    @extend_schema(responses={200: ValueSerializer}, operation_id="values_retrieve", tags=TAGS)
    def get(self, request, value_id: int):
        return Response(ValueSerializer(selectors.access_value(user=request.user, value_id=value_id)).data)

    @extend_schema(request=ValueWriteSerializer(partial=True), responses={200: ValueSerializer}, operation_id="values_update", tags=TAGS)
    def patch(self, request, value_id: int):
        value = selectors.access_value(user=request.user, value_id=value_id)
        data = ValueWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        return Response(ValueSerializer(services.value_update(actor=request.user, value=value, **data.validated_data)).data)


# --- Kudos ----------------------------------------------------------------------------------------------


class KudosListView(APIView):
    def get_throttles(self):
        return _scoped_throttles(self, KudosThrottle)

    @extend_schema(
        parameters=[
            OpenApiParameter("user", int, description="Kudos received by this colleague."),
            OpenApiParameter("given_by", int, description="Kudos given by this colleague."),
            OpenApiParameter("value", int, description="Kudos tagged with this company value."),
            OpenApiParameter("key_moment", int, description="Kudos about this key moment of the customer journey."),
        ],
        responses={200: KudosSerializer(many=True)},
        operation_id="kudos_list",
        tags=TAGS,
    )
    def get(self, request):
        kudos = selectors.kudos_list(
            user=request.user,
            recipient_id=_int_param(request, "user"),
            given_by_id=_int_param(request, "given_by"),
            value_id=_int_param(request, "value"),
            key_moment_id=_int_param(request, "key_moment"),
        )
        return paginated(self, kudos, KudosSerializer)

    @extend_schema(request=KudosCreateSerializer, responses={201: KudosSerializer}, operation_id="kudos_create", tags=TAGS)
    def post(self, request):
        data = KudosCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        kudos = services.kudos_give(giver=request.user, **data.validated_data)
        return Response(KudosSerializer(selectors.access_kudos(user=request.user, kudos_id=kudos.pk)).data, status=status.HTTP_201_CREATED)


class KudosDetailView(APIView):
    @extend_schema(responses={200: KudosSerializer}, operation_id="kudos_retrieve", tags=TAGS)
    def get(self, request, kudos_id: int):
        return Response(KudosSerializer(selectors.access_kudos(user=request.user, kudos_id=kudos_id)).data)


class KudosNominateView(APIView):
    throttle_classes = [UserRateThrottle, NominationThrottle]

    @extend_schema(request=KudosNominateSerializer, responses={201: NominationSerializer}, operation_id="kudos_nominate", tags=TAGS)
    def post(self, request, kudos_id: int):
        kudos = selectors.access_kudos(user=request.user, kudos_id=kudos_id)
        data = KudosNominateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            round = selectors.access_round(user=request.user, round_id=data.validated_data["round_id"])
        except NotFound:
            raise ValidationFailed(_("Not a round you can nominate in."), fields={"round_id": [_("Unknown round.")]})
        nomination = services.kudos_nominate(
            nominator=request.user,
            kudos=kudos,
            round=round,
            nominee_id=data.validated_data["nominee_id"],
            reason=data.validated_data["reason"],
        )
        body = NominationSerializer(
            selectors.access_nomination(user=request.user, nomination_id=nomination.pk), context={"request": request}
        )
        return Response(body.data, status=status.HTTP_201_CREATED)


# --- Categories and rounds ----------------------------------------------------------------------------


class CategoryListView(APIView):
    def get_permissions(self):
        return _admin_writes(self)

    @extend_schema(responses={200: CategorySerializer(many=True)}, operation_id="award_categories_list", tags=TAGS)
    def get(self, request):
        return paginated(self, selectors.category_list(user=request.user), CategorySerializer)

    @extend_schema(request=CategoryWriteSerializer, responses={201: CategorySerializer}, operation_id="award_categories_create", tags=TAGS)
    def post(self, request):
        data = CategoryWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        category = services.award_category_create(actor=request.user, **data.validated_data)
        body = CategorySerializer(selectors.access_category(user=request.user, category_id=category.pk)).data
        return Response(body, status=status.HTTP_201_CREATED)


class CategoryDetailView(APIView):
    def get_permissions(self):
        return _admin_writes(self)

    @extend_schema(responses={200: CategorySerializer}, operation_id="award_categories_retrieve", tags=TAGS)
    def get(self, request, category_id: int):
        return Response(CategorySerializer(selectors.access_category(user=request.user, category_id=category_id)).data)

    @extend_schema(
        request=CategoryWriteSerializer(partial=True),
        responses={200: CategorySerializer},
        operation_id="award_categories_update",
        tags=TAGS,
    )
    def patch(self, request, category_id: int):
        category = selectors.access_category(user=request.user, category_id=category_id)
        data = CategoryWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.award_category_update(actor=request.user, category=category, **data.validated_data)
        return Response(CategorySerializer(selectors.access_category(user=request.user, category_id=category_id)).data)


class RoundListView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=[s.value for s in RoundStatus]),
            OpenApiParameter("month", str, description="YYYY-MM"),
        ],
        responses={200: RoundSerializer(many=True)},
        operation_id="award_rounds_list",
        tags=TAGS,
    )
    def get(self, request):
        status_filter = request.query_params.get("status") or None
        if status_filter and status_filter not in RoundStatus.values:
            raise ValidationFailed(_("Unknown status."), fields={"status": [_("Unknown status.")]})
        rounds = selectors.round_list(user=request.user, status=status_filter, month=_month_param(request))
        return paginated(self, rounds, RoundSerializer)


class RoundDetailView(APIView):
    @extend_schema(responses={200: RoundSerializer}, operation_id="award_rounds_retrieve", tags=TAGS)
    def get(self, request, round_id: int):
        return Response(RoundSerializer(selectors.access_round(user=request.user, round_id=round_id)).data)


class RoundNominationListView(APIView):
    def get_throttles(self):
        return _scoped_throttles(self, NominationThrottle)

    @extend_schema(
        parameters=[
            OpenApiParameter("mine", bool, description="Only the nominations you made."),
            OpenApiParameter("endorsed", bool, description="Only the nominations you endorsed."),
        ],
        responses={200: NominationSerializer(many=True)},
        operation_id="award_round_nominations_list",
        tags=TAGS,
    )
    def get(self, request, round_id: int):
        round = selectors.access_round(user=request.user, round_id=round_id)
        nominations = selectors.nomination_list(
            user=request.user, round=round, mine=_bool_param(request, "mine"), endorsed=_bool_param(request, "endorsed")
        )
        return paginated(self, nominations, NominationSerializer)

    @extend_schema(
        request=NominationCreateSerializer, responses={201: NominationSerializer}, operation_id="award_round_nominations_create", tags=TAGS
    )
    def post(self, request, round_id: int):
        round = selectors.access_round(user=request.user, round_id=round_id)
        data = NominationCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        nomination = services.nomination_create(nominator=request.user, round=round, **data.validated_data)
        body = NominationSerializer(
            selectors.access_nomination(user=request.user, nomination_id=nomination.pk), context={"request": request}
        )
        return Response(body.data, status=status.HTTP_201_CREATED)


class NominationEndorseView(APIView):
    @extend_schema(request=None, responses={200: NominationSerializer}, operation_id="nominations_endorse", tags=TAGS)
    def post(self, request, nomination_id: int):
        nomination = selectors.access_nomination(user=request.user, nomination_id=nomination_id)
        services.nomination_endorse(user=request.user, nomination=nomination)
        body = NominationSerializer(
            selectors.access_nomination(user=request.user, nomination_id=nomination_id), context={"request": request}
        )
        return Response(body.data)


class RoundCloseView(APIView):
    permission_classes = [IsOrgAdmin]

    @extend_schema(request=None, responses={200: RoundSerializer}, operation_id="award_rounds_close", tags=TAGS)
    def post(self, request, round_id: int):
        round = selectors.access_round(user=request.user, round_id=round_id)
        services.award_round_close(round_id=round.pk, actor=request.user)
        return Response(RoundSerializer(selectors.access_round(user=request.user, round_id=round_id)).data)


class RoundWinnerView(APIView):
    permission_classes = [IsLeaderOrAdmin]

    @extend_schema(request=PickWinnerSerializer, responses={200: RoundSerializer}, operation_id="award_rounds_pick_winner", tags=TAGS)
    def post(self, request, round_id: int):
        round = selectors.access_round(user=request.user, round_id=round_id)
        data = PickWinnerSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.award_round_pick_winner(
            actor=request.user, round_id=round.pk, nominee_id=data.validated_data["nominee_id"], reason=data.validated_data["reason"]
        )
        return Response(RoundSerializer(selectors.access_round(user=request.user, round_id=round_id)).data)


class RoundResultsView(APIView):
    @extend_schema(responses={200: ResultsSerializer, 400: ErrorSerializer}, operation_id="award_rounds_results", tags=TAGS)
    def get(self, request, round_id: int):
        round = selectors.access_round(user=request.user, round_id=round_id)
        return Response(ResultsSerializer(reports.round_results(user=request.user, round=round)).data)


# --- Wall of fame, leaderboard, insights ----------------------------------------------------------------


class WallOfFameView(APIView):
    @extend_schema(responses={200: WallOfFameSerializer}, operation_id="users_recognition", tags=TAGS)
    def get(self, request, user_id: int):
        subject = access_user(actor=request.user, user_id=user_id, include_inactive=True)
        return Response(WallOfFameSerializer(reports.wall_of_fame(user=request.user, subject=subject)).data)


class LeaderboardView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("month", str, description="YYYY-MM; default this month"), OpenApiParameter("group", int)],
        responses={200: LeaderboardSerializer, 400: ErrorSerializer},
        operation_id="recognition_leaderboard",
        tags=TAGS,
    )
    def get(self, request):
        board = reports.leaderboard(user=request.user, month=_month_param(request), group_id=_int_param(request, "group"))
        return Response(LeaderboardSerializer(board).data)


class RecognitionWallView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("month", str, description="YYYY-MM in the organisation's calendar; default this month")],
        responses={200: RecognitionWallSerializer, 400: ErrorSerializer},
        operation_id="recognition_wall",
        tags=TAGS,
    )
    def get(self, request):
        return Response(RecognitionWallSerializer(reports.recognition_wall(user=request.user, month=_month_param(request))).data)


class InsightsView(APIView):
    permission_classes = [IsLeaderOrAdmin]

    @extend_schema(
        parameters=[OpenApiParameter("group", int)],
        responses={200: InsightsSerializer, 400: ErrorSerializer},
        operation_id="recognition_insights",
        tags=TAGS,
    )
    def get(self, request):
        return Response(InsightsSerializer(reports.insights(user=request.user, group_id=_int_param(request, "group"))).data)
