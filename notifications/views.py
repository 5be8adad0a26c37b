"""Thin views of the in-app inbox (one APIView per operation, like accounts)."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from accounts.views import paginated
from notifications import asyncapi, selectors, services
from notifications.serializers import (
    NotificationSchemaSerializer,
    NotificationSerializer,
    NotificationsReadSerializer,
    UnreadCountSerializer,
)
from server.api.views import APIView


class NotificationListView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("unread", bool, description="Only unread notifications.")],
        responses={200: NotificationSchemaSerializer(many=True)},
        operation_id="notifications_list",
        tags=["notifications"],
    )
    def get(self, request):
        unread_only = request.query_params.get("unread", "").lower() in ("1", "true")
        return paginated(self, selectors.notification_list(user=request.user, unread_only=unread_only), NotificationSerializer)


class NotificationUnreadCountView(APIView):
    @extend_schema(responses={200: UnreadCountSerializer}, operation_id="notifications_unread_count", tags=["notifications"])
    def get(self, request):
        return Response({"count": selectors.notification_unread_count(user=request.user)})


class NotificationsReadView(APIView):
    @extend_schema(
        request=NotificationsReadSerializer,
        responses={200: UnreadCountSerializer},
        operation_id="notifications_read",
        tags=["notifications"],
        description="Mark the given notifications (or all) read; answers the new unread count.",
    )
    def post(self, request):
        data = NotificationsReadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        count = services.notifications_mark_read(user=request.user, ids=data.validated_data.get("ids"), mark_all=data.validated_data["all"])
        return Response({"count": count})


@extend_schema(exclude=True)
class AsyncApiView(APIView):
    """The AsyncAPI 3.0 document of the WebSocket stream, public like the OpenAPI schema."""

    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = []

    def get(self, request):
        return HttpResponse(asyncapi.dumps(), content_type="application/json")
