"""Admin routes of moderation: the audit log (JSON and CSV) and an employee's data request.

One APIView per operation, like every app of ours. Admins only; the selectors scope
everything to the admin's organisation.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator

from django.http import StreamingHttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from accounts.selectors import access_user
from accounts.serializers import PersonRefSerializer
from moderation import erasure, privacy
from moderation.audit import audit_entry_list
from moderation.models import AuditEntry, ErasureStatus
from server.api.exceptions import ValidationFailed
from server.api.fields import IdField
from server.api.pagination import KeysetPagination
from server.api.permissions import IsOrgAdmin
from server.api.views import APIView

CSV_BATCH = 500
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class AuditEntrySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    action = serializers.CharField()
    actor = PersonRefSerializer(allow_null=True)
    target_type = serializers.CharField()
    target_id = serializers.IntegerField(allow_null=True)
    target_label = serializers.CharField()
    before = serializers.JSONField(allow_null=True)
    after = serializers.JSONField(allow_null=True)
    note = serializers.CharField()
    ip = serializers.IPAddressField(allow_null=True, help_text="Where the request came from; null for scheduled work.")


class AuditFilterSerializer(serializers.Serializer):
    action = serializers.CharField(required=False, max_length=64, help_text="An action, or its prefix (`user.`).")
    actor_id = IdField(required=False)
    target_type = serializers.CharField(required=False, max_length=32)
    target_id = IdField(required=False)


AUDIT_FILTER_PARAMETERS = [
    OpenApiParameter("action", str, description="An action (`user.updated`) or a prefix of one (`user.`)."),
    OpenApiParameter("actor_id", int, description="Only what this person did."),
    OpenApiParameter("target_type", str, description="`user`, `group`, `invitation`, `post`, `award_round`..."),
    OpenApiParameter("target_id", int, description="Only entries about this target (with target_type)."),
]


def _filtered_entries(request) -> object:
    data = AuditFilterSerializer(data=request.query_params)
    if not data.is_valid():
        raise ValidationFailed(_("Invalid filter."), fields=data.errors)
    return audit_entry_list(actor=request.user, **data.validated_data)


class AuditLogView(APIView):
    permission_classes = [IsOrgAdmin]

    @extend_schema(
        parameters=AUDIT_FILTER_PARAMETERS,
        responses={200: AuditEntrySerializer(many=True)},
        operation_id="moderation_audit_log_list",
        tags=["admin"],
    )
    def get(self, request):
        paginator = KeysetPagination()
        page = paginator.paginate_queryset(_filtered_entries(request), request, view=self)
        return paginator.get_paginated_response(AuditEntrySerializer(page, many=True).data)


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


class _Echo:
    def write(self, value: str) -> str:
        return value


CSV_HEADER = [
    "id",
    "created_at",
    "action",
    "actor_id",
    "actor_name",
    "target_type",
    "target_id",
    "target_label",
    "before",
    "after",
    "note",
    "ip",
]


def _csv_rows(entries) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(CSV_HEADER)  # the BOM makes spreadsheet apps read UTF-8
    entry: AuditEntry
    for entry in entries.iterator(chunk_size=CSV_BATCH):
        before = AuditEntry._meta.get_field("before").get_prep_value(entry.before) if entry.before is not None else ""
        after = AuditEntry._meta.get_field("after").get_prep_value(entry.after) if entry.after is not None else ""
        yield writer.writerow(
            [
                safe_cell(entry.pk),
                safe_cell(entry.created_at.isoformat()),
                safe_cell(entry.action),
                safe_cell(entry.actor_id),
                safe_cell(entry.actor.name if entry.actor else ""),
                safe_cell(entry.target_type),
                safe_cell(entry.target_id),
                safe_cell(entry.target_label),
                safe_cell(before),
                safe_cell(after),
                safe_cell(entry.note),
                safe_cell(entry.ip),
            ]
        )


class AuditLogCsvView(APIView):
    permission_classes = [IsOrgAdmin]

    @extend_schema(
        parameters=AUDIT_FILTER_PARAMETERS,
        responses={(200, "text/csv"): OpenApiResponse(response=OpenApiTypes.STR, description="The whole filtered log, newest first.")},
        operation_id="moderation_audit_log_csv",
        tags=["admin"],
    )
    def get(self, request):
        entries = _filtered_entries(request)
        response = StreamingHttpResponse(_csv_rows(entries), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
        return response


class UserExportView(APIView):
    permission_classes = [IsOrgAdmin]

    @extend_schema(
        responses={200: OpenApiResponse(response=OpenApiTypes.OBJECT, description="Everything held about the person (docs/privacy.md).")},
        operation_id="moderation_user_export",
        tags=["admin"],
    )
    def get(self, request, user_id: int):
        user = access_user(actor=request.user, user_id=user_id, include_inactive=True)
        return Response(privacy.user_export(user=user))


class UserEraseSerializer(serializers.Serializer):
    confirm = serializers.BooleanField(help_text="Must be true: erasure cannot be undone.")


class ErasureReportSerializer(serializers.Serializer):
    # Filled as the steps run: empty until the account step is done.
    content = serializers.ChoiceField(choices=["kept", "removed"], required=False)
    posts_removed = serializers.IntegerField(required=False)
    comments_removed = serializers.IntegerField(required=False)
    media_deleted = serializers.IntegerField(required=False)
    rows_redacted = serializers.IntegerField(required=False)


class ErasureJobSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    user_id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=ErasureStatus.choices)
    requested_at = serializers.DateTimeField(allow_null=True, help_text="When the person asked (self-service), if they did.")
    confirmed_at = serializers.DateTimeField(allow_null=True)
    step = serializers.IntegerField(help_text="Steps done.")
    steps_total = serializers.IntegerField()
    current = serializers.CharField(help_text="The step running or stopped at (a table, `account` or `finish`).")
    report = ErasureReportSerializer(help_text="The counts so far.")
    attempts = serializers.IntegerField(help_text="Failed runs; a failed run resumes from its step.")
    last_error = serializers.CharField()
    finished_at = serializers.DateTimeField(allow_null=True)


class UserEraseView(APIView):
    permission_classes = [IsOrgAdmin]

    @extend_schema(
        responses={200: ErasureJobSerializer},
        operation_id="moderation_user_erase_status",
        tags=["admin"],
        description="The erasure's progress; 404 when none was requested or confirmed.",
    )
    def get(self, request, user_id: int):
        user = access_user(actor=request.user, user_id=user_id, include_inactive=True)
        return Response(ErasureJobSerializer(erasure.erasure_job_get(user=user)).data)

    @extend_schema(
        request=UserEraseSerializer,
        responses={202: ErasureJobSerializer},
        operation_id="moderation_user_erase",
        tags=["admin"],
        description="Confirms the erasure (and the person's own request, if any); it runs in the background: follow it with GET.",
    )
    def post(self, request, user_id: int):
        user = access_user(actor=request.user, user_id=user_id, include_inactive=True)
        data = UserEraseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if not data.validated_data["confirm"]:
            message = _("Confirm the erasure: it cannot be undone.")
            raise ValidationFailed(message, code="confirmation_required", fields={"confirm": [message]})
        job = erasure.erasure_confirm(actor=request.user, user=user)
        job.refresh_from_db()  # eager (embedded) mode ran it already
        return Response(ErasureJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class MeExportView(APIView):
    @extend_schema(
        responses={200: OpenApiResponse(response=OpenApiTypes.OBJECT, description="Everything held about me: the admins' export.")},
        operation_id="me_export",
        tags=["people"],
    )
    def get(self, request):
        return Response(privacy.user_export(user=request.user))


class MeErasureRequestView(APIView):
    @extend_schema(
        request=None,
        responses={202: ErasureJobSerializer},
        operation_id="me_erasure_request",
        tags=["people"],
        description="Ask to have my account and personal data erased; an admin confirms. Idempotent.",
    )
    def post(self, request):
        job = erasure.erasure_request(user=request.user)
        return Response(ErasureJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)
