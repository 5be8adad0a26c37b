from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications and realtime"

    def ready(self) -> None:
        from accounts import signals
        from notifications import receivers

        # Devices die with their session; the foreign key cascades too, these make
        # the intent explicit and cover sessions ended without a row delete.
        signals.auth_tokens_revoked.connect(receivers.remove_devices_of_sessions, dispatch_uid="push-devices-sessions")
        signals.user_deactivated.connect(receivers.remove_devices_of_user, dispatch_uid="push-devices-user")
