from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Notifications and realtime")

    def ready(self) -> None:
        from accounts import signals
        from notifications import catalogue, events, log_redaction, push_receivers, stream_receivers

        log_redaction.install()
        catalogue.register(*events.EVENT_TYPES)

        signals.membership_changed.connect(stream_receivers.on_membership_changed, dispatch_uid="notifications.membership_changed")
        signals.auth_tokens_revoked.connect(stream_receivers.on_auth_tokens_revoked, dispatch_uid="notifications.auth_tokens_revoked")
        signals.user_deactivated.connect(stream_receivers.on_user_deactivated, dispatch_uid="notifications.user_deactivated")
        # Devices die with their session (the foreign key cascades too); these make the
        # intent explicit and cover sessions ended without a row delete.
        signals.auth_tokens_revoked.connect(push_receivers.remove_devices_of_sessions, dispatch_uid="push.devices_of_sessions")
        signals.user_deactivated.connect(push_receivers.remove_devices_of_user, dispatch_uid="push.devices_of_user")
