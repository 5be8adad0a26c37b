"""Thin views for signals: access check (404) before body validation and role checks."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response

from feed.views.common import _int_param
from server.api.exceptions import NotAllowed, NotFound, ValidationFailed
from server.api.pagination import KeysetPagination, parse_ordering
from server.api.schema import ErrorSerializer
from server.api.throttling import ScopedUserThrottle, UserRateThrottle
from server.api.views import APIView
from voice.models import Signal, SignalKind, SignalStatus
from voice.selectors import signals as selectors
from voice.selectors.signals_insights import signal_insights
from voice.serializers import (
    SignalAssignSerializer,
    SignalCreateSerializer,
    SignalInsightsSerializer,
    SignalMergeSerializer,
    SignalSerializer,
    SignalStatusSerializer,
    SignalSupportSerializer,
    SignalUpdateSerializer,
)
from voice.services import signals as services
from voice.services import signals_workflow as workflow
from voice.signal_cards import signal_card, signal_cards

TAGS = ["voice"]


class SignalThrottle(ScopedUserThrottle):
    """Raising signals, like writing posts, has a per-person rate (settings: THROTTLE_SIGNALS)."""

    scope = "signals"


def _bool_param(request, name: str) -> bool | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    if raw not in ("true", "false"):
        raise ValidationFailed(_("Use true or false."), fields={name: [_("Use true or false.")]})
    return raw == "true"


def _choice_param(request, name: str, choices: list[str]) -> str | None:
    raw = request.query_params.get(name) or None
    if raw is not None and raw not in choices:
        raise ValidationFailed(_("Unknown value."), fields={name: [_("Unknown value.")]})
    return raw


def _card_response(request, signal_id: int, status_code: int = status.HTTP_200_OK) -> Response:
    signal = selectors.access_signal(user=request.user, signal_id=signal_id)
    return Response(signal_card(signal=signal, viewer=request.user), status=status_code)


_BOOL = {"type": "boolean"}


class SignalListView(APIView):
    def get_throttles(self):
        if self.request.method == "POST":
            return [UserRateThrottle(), SignalThrottle()]
        return [UserRateThrottle()]

    @extend_schema(
        parameters=[
            OpenApiParameter("kind", str, enum=SignalKind.values),
            OpenApiParameter("status", str, enum=SignalStatus.values),
            OpenApiParameter("key_moment", int, description="Signals touching this key moment."),
            OpenApiParameter("group", int, description="Signals happening in this group."),
            OpenApiParameter("mine", bool, description="Signals I raised (anonymous ones too)."),
            OpenApiParameter("supported", bool, description="Signals I support."),
            OpenApiParameter("assigned_to_me", bool, description="Signals I own (the leader's inbox)."),
            OpenApiParameter("unassigned", bool, description="Signals without an owner (the admins' triage list)."),
            OpenApiParameter(
                "sort", str, enum=list(selectors.SORTS), description="`recent` (default) or `support` (most supported first)."
            ),
        ],
        responses={200: SignalSerializer(many=True)},
        operation_id="signals_list",
        tags=TAGS,
    )
    def get(self, request):
        filters = selectors.SignalFilters(
            kind=_choice_param(request, "kind", SignalKind.values),
            status=_choice_param(request, "status", SignalStatus.values),
            key_moment_id=_int_param(request, "key_moment"),
            group_id=_int_param(request, "group"),
            mine=_bool_param(request, "mine"),
            supported=_bool_param(request, "supported"),
            assigned_to_me=_bool_param(request, "assigned_to_me"),
            unassigned=_bool_param(request, "unassigned"),
        )
        sort = _choice_param(request, "sort", list(selectors.SORTS)) or "recent"
        paginator = KeysetPagination()

        def fetch(cursor, reverse, limit):
            return selectors.signal_page(user=request.user, filters=filters, sort=sort, cursor=cursor, reverse=reverse, limit=limit)

        page = paginator.paginate(request, ordering=parse_ordering(selectors.SORTS[sort]), model=Signal, fetch=fetch)
        return paginator.get_paginated_response(signal_cards(signals=page, viewer=request.user))

    @extend_schema(request=SignalCreateSerializer, responses={201: SignalSerializer}, operation_id="signals_create", tags=TAGS)
    def post(self, request):
        data = SignalCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        signal = services.signal_create(author=request.user, **data.validated_data)
        return _card_response(request, signal.pk, status.HTTP_201_CREATED)


class SignalDetailView(APIView):
    @extend_schema(responses={200: SignalSerializer}, operation_id="signals_retrieve", tags=TAGS)
    def get(self, request, signal_id: int):
        return _card_response(request, signal_id)

    @extend_schema(request=SignalUpdateSerializer, responses={200: SignalSerializer}, operation_id="signals_update", tags=TAGS)
    def patch(self, request, signal_id: int):
        signal = selectors.access_signal(user=request.user, signal_id=signal_id)
        data = SignalUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.signal_update(actor=request.user, signal=signal, fields_set=frozenset(data.validated_data), **data.validated_data)
        return _card_response(request, signal_id)

    @extend_schema(request=None, responses={204: None}, operation_id="signals_delete", tags=TAGS)
    def delete(self, request, signal_id: int):
        signal = selectors.access_signal(user=request.user, signal_id=signal_id)
        services.signal_delete(actor=request.user, signal=signal)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SignalSupportView(APIView):
    @extend_schema(request=SignalSupportSerializer, responses={200: SignalSerializer}, operation_id="signals_support", tags=TAGS)
    def put(self, request, signal_id: int):
        signal = selectors.access_signal(user=request.user, signal_id=signal_id)
        data = SignalSupportSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.signal_support(user=request.user, signal=signal, **data.validated_data)
        return _card_response(request, signal_id)

    @extend_schema(request=None, responses={204: None}, operation_id="signals_unsupport", tags=TAGS)
    def delete(self, request, signal_id: int):
        signal = selectors.access_signal(user=request.user, signal_id=signal_id)
        services.signal_unsupport(user=request.user, signal=signal)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SignalAssignView(APIView):
    @extend_schema(request=SignalAssignSerializer, responses={200: SignalSerializer}, operation_id="signals_assign", tags=TAGS)
    def post(self, request, signal_id: int):
        signal = selectors.access_signal(user=request.user, signal_id=signal_id)
        data = SignalAssignSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        workflow.signal_assign(actor=request.user, signal=signal, owner_id=data.validated_data["owner_id"])
        return _card_response(request, signal_id)


class SignalStatusView(APIView):
    @extend_schema(
        request=SignalStatusSerializer,
        responses={200: SignalSerializer, 409: ErrorSerializer},
        operation_id="signals_set_status",
        tags=TAGS,
    )
    def post(self, request, signal_id: int):
        signal = selectors.access_signal(user=request.user, signal_id=signal_id)
        data = SignalStatusSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        workflow.signal_set_status(actor=request.user, signal=signal, **data.validated_data)
        return _card_response(request, signal_id)


class SignalMergeView(APIView):
    @extend_schema(request=SignalMergeSerializer, responses={200: SignalSerializer}, operation_id="signals_merge", tags=TAGS)
    def post(self, request, signal_id: int):
        signal = selectors.access_signal(user=request.user, signal_id=signal_id)
        data = SignalMergeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if not request.user.is_leader_or_admin:
            raise NotAllowed(_("Only leaders and admins merge signals."))
        try:
            into = selectors.access_signal(user=request.user, signal_id=data.validated_data["into_id"])
        except NotFound:
            message = _("Not a signal you can see.")
            raise ValidationFailed(message, fields={"into_id": [message]})
        workflow.signal_merge(actor=request.user, signal=signal, into=into)
        return _card_response(request, signal_id)


def _moment_param(request, name: str, *, end: bool = False) -> datetime | None:
    raw = request.query_params.get(name)
    if not raw:
        return None
    day = parse_date(raw) if len(raw) == 10 else None
    if day is not None:
        # A day means the whole day in the organisation's zone: `until` includes it.
        moment = datetime.combine(day, time.min, tzinfo=request.user.organization.tzinfo)
        return moment + timedelta(days=1) if end else moment
    try:
        moment = parse_datetime(raw)
    except ValueError:
        moment = None
    if moment is None or timezone.is_naive(moment):
        message = _("Use a date (YYYY-MM-DD) or a time with its offset.")
        raise ValidationFailed(message, fields={name: [message]})
    return moment


class SignalInsightsView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("group", int, description="Only this group (a leader: one of the groups they lead)."),
            OpenApiParameter("since", OpenApiTypes.DATE, description="Signals raised on or after this day."),
            OpenApiParameter("until", OpenApiTypes.DATE, description="Signals raised up to and including this day."),
        ],
        responses={200: SignalInsightsSerializer, 403: ErrorSerializer},
        operation_id="signals_insights",
        tags=TAGS,
    )
    def get(self, request):
        if not request.user.is_leader_or_admin:
            raise NotAllowed(_("Only leaders and admins see signal insights."))
        group_id = _int_param(request, "group")
        if group_id is not None and not request.user.is_org_admin and not selectors.leads_group(user=request.user, group_id=group_id):
            message = _("Not a group you lead.")
            raise ValidationFailed(message, fields={"group": [message]})
        body = signal_insights(
            user=request.user,
            group_id=group_id,
            since=_moment_param(request, "since"),
            until=_moment_param(request, "until", end=True),
        )
        return Response(body)
