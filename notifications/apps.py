from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications and realtime"

    def ready(self) -> None:
        from accounts import signals
        from notifications import receivers

        signals.membership_changed.connect(receivers.on_membership_changed, dispatch_uid="notifications.membership_changed")
        signals.auth_tokens_revoked.connect(receivers.on_auth_tokens_revoked, dispatch_uid="notifications.auth_tokens_revoked")
        signals.user_deactivated.connect(receivers.on_user_deactivated, dispatch_uid="notifications.user_deactivated")
        # Devices die with their session (the foreign key cascades too); these make the
        # intent explicit and cover sessions ended without a row delete.
        signals.auth_tokens_revoked.connect(receivers.remove_devices_of_sessions, dispatch_uid="push.devices_of_sessions")
        signals.user_deactivated.connect(receivers.remove_devices_of_user, dispatch_uid="push.devices_of_user")
