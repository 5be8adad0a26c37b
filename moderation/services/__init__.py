"""Writes of moderation: reports, the keyword flag, decisions, comment locks, mutes, the keyword list.

Content is changed only through the feed's services (post_set_visibility,
comment_set_visibility, post_delete, comment_delete), which emit the events that
make it disappear from feeds, catch-up and sockets. Every moderator action goes on the
audit log through `accounts.audit.audit_record`, in the action's own transaction.
One module per use case, re-exported here.
"""

from moderation.services.decisions import case_resolve, comment_restore, post_restore, signal_restore
from moderation.services.keywords import (
    MAX_KEYWORDS,
    content_flag_keywords,
    keywords_matched,
    keywords_set,
    on_content_published,
    on_signal_text_published,
)
from moderation.services.locks import comment_lock_guard, comments_lock
from moderation.services.mutes import MAX_MUTE_DAYS, user_mute, user_unmute
from moderation.services.reports import report_create

__all__ = [
    "MAX_KEYWORDS",
    "MAX_MUTE_DAYS",
    "case_resolve",
    "comment_lock_guard",
    "comment_restore",
    "comments_lock",
    "content_flag_keywords",
    "keywords_matched",
    "keywords_set",
    "on_content_published",
    "on_signal_text_published",
    "post_restore",
    "report_create",
    "signal_restore",
    "user_mute",
    "user_unmute",
]
