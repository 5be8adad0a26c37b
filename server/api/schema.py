"""OpenAPI: every operation documents the error envelope for the errors it can return."""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.permissions import AllowAny


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Machine-readable error code, e.g. `invalid`, `not_found`, `muted`.")
    message = serializers.CharField(help_text="Human-readable message in the request's language.")
    fields = serializers.DictField(
        child=serializers.JSONField(),
        help_text="Per-field messages for validation errors (field name → list of messages).",
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


class AutoSchema(SpectacularAutoSchema):
    def _get_paginator(self):
        # Our list views are APIViews that paginate with KeysetPagination through
        # `paginated()`; every top-level list a GET returns is a cursor page.
        paginator = super()._get_paginator()
        if paginator is None and self.method == "GET":
            from server.api.pagination import KeysetPagination

            return KeysetPagination()
        return paginator

    def get_override_parameters(self):
        parameters = super().get_override_parameters()
        if self.method == "POST":
            parameters = [
                *parameters,
                OpenApiParameter(
                    "Idempotency-Key",
                    str,
                    OpenApiParameter.HEADER,
                    description="A fresh UUID per request, reused on retries: a retry within 24 h replays the first answer.",
                ),
            ]
        return parameters

    def _is_public(self) -> bool:
        return any(isinstance(permission, AllowAny) for permission in self.view.get_permissions())

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction=direction)
        codes = ["429"]
        if not self._is_public():
            codes += ["401", "403"]
        if self.method in ("POST", "PUT", "PATCH"):
            codes += ["400", "409", "415"]
        if self.method == "POST":
            codes.append("422")  # Idempotency-Key reused with another body
        if self.method == "GET" and (self._is_list_view() or any(p.get("in") == "query" for p in self._get_parameters())):
            codes.append("400")  # bad cursor, page_size or filter
        if "{" in self.path:
            codes.append("404")
        for code in codes:
            if code not in responses:
                responses[code] = self._get_response_for_code(ErrorSerializer, code)
        return responses
