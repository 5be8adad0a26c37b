from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ModerationConfig(AppConfig):
    name = "moderation"
    verbose_name = _("Moderation")

    def ready(self) -> None:
        from accounts import signals as account_signals
        from feed import signals as feed_signals
        from feed.services import interactions
        from moderation import audit, events, services
        from notifications import catalogue
        from voice import hooks as voice_hooks

        catalogue.register(*events.EVENT_TYPES)
        # The audit log: every admin_action (sent inside the action's transaction) becomes a row.
        account_signals.admin_action.connect(audit.record_admin_action, dispatch_uid="moderation.audit.record")

        # New posts and comments with a listed keyword go to the queue (after their commit).
        feed_signals.content_published.connect(services.on_content_published, dispatch_uid="moderation.keyword_flag")
        # And signals (voice's own signal, sent after their commit; the queue row never names the author).
        voice_hooks.signal_text_published.connect(services.on_signal_text_published, dispatch_uid="moderation.keyword_flag_signals")
        if services.comment_lock_guard not in interactions.comment_create_guards:
            interactions.comment_create_guards.append(services.comment_lock_guard)
