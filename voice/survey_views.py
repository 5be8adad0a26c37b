"""Thin views for pulse surveys: access check (404) before body validation and role checks."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response

from accounts.views import paginated
from server.api.exceptions import ValidationFailed
from server.api.fields import MAX_ID
from server.api.schema import ErrorSerializer
from server.api.views import APIView
from voice import survey_results, survey_selectors
from voice.services import surveys as services
from voice.survey_serializers import (
    ResponseInputSerializer,
    SurveyDetailSerializer,
    SurveyResultsSerializer,
    SurveySerializer,
    SurveyWriteSerializer,
    TrendSerializer,
)

TAGS = ["surveys"]
GROUP_PARAM = OpenApiParameter("group", int, description="Break the results down by this group (leaders: one they lead).")


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


def _detail(request, survey_id: int, status_code: int = status.HTTP_200_OK) -> Response:
    survey = survey_selectors.access_survey(user=request.user, survey_id=survey_id)
    return Response(SurveyDetailSerializer(survey, context={"request": request}).data, status=status_code)


class SurveyListView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("status", str, enum=list(survey_selectors.STATUSES), description="open: answerable now.")],
        responses={200: SurveySerializer(many=True)},
        operation_id="surveys_list",
        tags=TAGS,
    )
    def get(self, request):
        surveys = survey_selectors.survey_list(user=request.user, status=request.query_params.get("status", ""))
        return paginated(self, surveys, SurveySerializer)

    @extend_schema(
        request=SurveyWriteSerializer,
        responses={201: SurveyDetailSerializer, 403: ErrorSerializer},
        operation_id="surveys_create",
        tags=TAGS,
    )
    def post(self, request):
        data = SurveyWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        survey = services.survey_create(actor=request.user, **data.validated_data)
        return _detail(request, survey.pk, status.HTTP_201_CREATED)


class SurveyDetailView(APIView):
    @extend_schema(responses={200: SurveyDetailSerializer}, operation_id="surveys_retrieve", tags=TAGS)
    def get(self, request, survey_id: int):
        return _detail(request, survey_id)

    @extend_schema(
        request=SurveyWriteSerializer(partial=True),
        responses={200: SurveyDetailSerializer, 403: ErrorSerializer, 409: ErrorSerializer},
        operation_id="surveys_update",
        tags=TAGS,
    )
    def patch(self, request, survey_id: int):
        survey = survey_selectors.access_survey(user=request.user, survey_id=survey_id)
        data = SurveyWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.survey_update(actor=request.user, survey=survey, **data.validated_data)
        return _detail(request, survey_id)

    @extend_schema(responses={204: None, 403: ErrorSerializer, 409: ErrorSerializer}, operation_id="surveys_destroy", tags=TAGS)
    def delete(self, request, survey_id: int):
        survey = survey_selectors.access_survey(user=request.user, survey_id=survey_id)
        services.survey_delete(actor=request.user, survey=survey)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SurveyResponseView(APIView):
    # The body is the answers: an Idempotency-Key record must not keep a hash of them beside the user.
    idempotency_hashes_body = False

    @extend_schema(
        request=ResponseInputSerializer,
        responses={201: OpenApiResponse(OpenApiTypes.OBJECT, description="`{}`"), 403: ErrorSerializer, 409: ErrorSerializer},
        operation_id="surveys_respond",
        tags=TAGS,
    )
    def post(self, request, survey_id: int):
        survey = survey_selectors.access_survey_to_answer(user=request.user, survey_id=survey_id)
        answering = services.survey_answering(user=request.user, survey=survey)  # 404/403/409 before the body
        data = ResponseInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.survey_respond(user=request.user, survey=survey, answers=data.validated_data["answers"], answering=answering)
        return Response({}, status=status.HTTP_201_CREATED)


def _results(request, survey_id: int) -> dict:
    survey = survey_selectors.access_survey(user=request.user, survey_id=survey_id)
    group = survey_selectors.results_group(user=request.user, survey=survey, group_id=_int_param(request, "group"))
    instance = survey_selectors.results_instance(survey=survey, instance_id=_int_param(request, "instance"))
    return survey_results.survey_results(survey=survey, instance=instance, group=group, now=timezone.now())


_RESULTS_PARAMS = [GROUP_PARAM, OpenApiParameter("instance", int, description="An instance id (default: the current or latest).")]


class SurveyResultsView(APIView):
    @extend_schema(
        parameters=_RESULTS_PARAMS,
        responses={200: SurveyResultsSerializer, 400: ErrorSerializer, 403: ErrorSerializer, 409: ErrorSerializer},
        operation_id="surveys_results",
        tags=TAGS,
    )
    def get(self, request, survey_id: int):
        return Response(SurveyResultsSerializer(_results(request, survey_id)).data)


class SurveyResultsExportView(APIView):
    @extend_schema(
        parameters=_RESULTS_PARAMS,
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="The aggregates, a row per answer value or option.")},
        operation_id="surveys_results_export",
        tags=TAGS,
    )
    def get(self, request, survey_id: int):
        results = _results(request, survey_id)
        response = HttpResponse(survey_results.results_csv(results), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="survey-{survey_id}-{results["instance"]["number"]}.csv"'
        return response


class SurveyTrendView(APIView):
    @extend_schema(
        parameters=[GROUP_PARAM],
        responses={200: TrendSerializer, 400: ErrorSerializer, 403: ErrorSerializer},
        operation_id="surveys_trend",
        tags=TAGS,
    )
    def get(self, request, survey_id: int):
        survey = survey_selectors.access_survey(user=request.user, survey_id=survey_id)
        group = survey_selectors.results_group(user=request.user, survey=survey, group_id=_int_param(request, "group"))
        return Response(TrendSerializer(survey_results.survey_trend(survey=survey, group=group)).data)
