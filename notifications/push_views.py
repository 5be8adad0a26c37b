"""Thin views for devices and notification preferences (one APIView per operation)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from notifications import push_selectors, push_services
from notifications.push_serializers import (
    DeviceRegisterSerializer,
    DeviceSerializer,
    PreferenceSerializer,
    PreferenceUpdateSerializer,
)
from server.api.views import APIView


class DeviceRegisterView(APIView):
    @extend_schema(
        request=DeviceRegisterSerializer,
        responses={201: DeviceSerializer, 200: DeviceSerializer},
        operation_id="devices_register",
        tags=["notifications"],
        description="Register or refresh this session's FCM token (upsert by token). 201 when new, 200 when refreshed.",
    )
    def post(self, request):
        data = DeviceRegisterSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        device, created = push_services.device_register(user=request.user, auth_token=request.auth, **data.validated_data)
        return Response(DeviceSerializer(device).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class DeviceDetailView(APIView):
    @extend_schema(request=None, responses={204: None}, operation_id="devices_delete", tags=["notifications"])
    def delete(self, request, device_id: int):
        device = push_selectors.access_device(user=request.user, device_id=device_id)
        push_services.device_delete(device=device)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PreferenceView(APIView):
    @extend_schema(responses={200: PreferenceSerializer}, operation_id="notification_preferences_retrieve", tags=["notifications"])
    def get(self, request):
        return Response(PreferenceSerializer(push_selectors.preference_get(user=request.user)).data)

    @extend_schema(
        request=PreferenceUpdateSerializer,
        responses={200: PreferenceSerializer},
        operation_id="notification_preferences_update",
        tags=["notifications"],
    )
    def patch(self, request):
        data = PreferenceUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        if "quiet_hours" in changes:
            hours = changes["quiet_hours"]
            changes["quiet_hours"] = push_services.QuietHours(**hours) if hours else None
        push_services.preference_update(user=request.user, **changes)
        return Response(PreferenceSerializer(push_selectors.preference_get(user=request.user)).data)
