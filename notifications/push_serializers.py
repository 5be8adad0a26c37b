"""API shapes for devices and notification preferences."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from notifications.catalogue import preference_switches
from notifications.models import Device, Platform
from server.api.fields import IdListField


class DeviceRegisterSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=512, trim_whitespace=True)
    platform = serializers.ChoiceField(choices=Platform.choices)
    locale = serializers.CharField(max_length=16, required=False, default="", allow_blank=True)
    app_version = serializers.CharField(max_length=32, required=False, default="", allow_blank=True)


class DeviceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Device
        fields = ["id", "platform", "locale", "app_version", "created_at", "last_seen_at"]
        read_only_fields = fields


@extend_schema_field({"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]", "example": "22:00"})
class HourMinuteField(serializers.TimeField):
    """A local time shown as HH:MM (OpenAPI's `time` format would demand seconds and an offset)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("format", "%H:%M")
        super().__init__(**kwargs)


class QuietHoursSerializer(serializers.Serializer):
    start = HourMinuteField(help_text="Local time in the user's time zone, e.g. 22:00.")
    end = HourMinuteField(help_text="Local time; may be before start (the window wraps midnight).")


class _StrictSerializer(serializers.Serializer):
    # A misspelt type must not be silently ignored: the phone would show a switch that does nothing.
    def to_internal_value(self, data):
        if isinstance(data, dict) and (unknown := sorted(set(data) - set(self.fields))):
            raise serializers.ValidationError({name: ["Unknown notification type."] for name in unknown})
        return super().to_internal_value(data)


def _types_field(**kwargs) -> type[serializers.Serializer]:
    fields = {name: serializers.BooleanField(**kwargs) for name in preference_switches()}
    return type("NotificationTypesSerializer" if not kwargs else "NotificationTypesUpdateSerializer", (_StrictSerializer,), fields)


NotificationTypesSerializer = _types_field()
NotificationTypesUpdateSerializer = _types_field(required=False)


class PreferenceSerializer(serializers.Serializer):
    types = serializers.SerializerMethodField()
    muted_group_ids = serializers.SerializerMethodField()
    quiet_hours = serializers.SerializerMethodField()
    timezone = serializers.SerializerMethodField(help_text="The time zone quiet hours are read in.")

    @extend_schema_field(NotificationTypesSerializer)
    def get_types(self, preference) -> dict[str, bool]:
        return {name: getattr(preference, name) for name in preference_switches()}

    def get_muted_group_ids(self, preference) -> list[int]:
        return preference.muted_group_id_list

    @extend_schema_field(QuietHoursSerializer(allow_null=True))
    def get_quiet_hours(self, preference) -> dict[str, str] | None:
        if preference.quiet_hours_start is None:
            return None
        return {"start": preference.quiet_hours_start.strftime("%H:%M"), "end": preference.quiet_hours_end.strftime("%H:%M")}

    def get_timezone(self, preference) -> str:
        return preference.user.effective_timezone


class PreferenceUpdateSerializer(serializers.Serializer):
    types = NotificationTypesUpdateSerializer(required=False)
    muted_group_ids = IdListField(required=False)
    quiet_hours = QuietHoursSerializer(required=False, allow_null=True, help_text="null switches quiet hours off.")
