"""Explicit signals by which accounts lets higher apps react (DESIGN.md).

accounts imports no app of ours; notifications, feed and moderation connect to
these in their apps.py. Sent after the change is committed, except admin_action.
"""

from django.dispatch import Signal

# user: the deactivated User. Receivers close sockets, delete devices.
user_deactivated = Signal()
# user_id, token_ids: device sessions that ended (logout, expiry purge, deactivation).
auth_tokens_revoked = Signal()
# user_id, group_id, joined (bool): open sockets join or leave the group's stream.
membership_changed = Signal()
# organization_id, actor, action, target_type, target_id, before, after, note:
# an administrative action for the audit log (moderation connects to it). Sent synchronously
# INSIDE the caller's transaction, so the entry commits (or rolls back) with the change.
# Optional: target_label (a readable name of the target at the time).
admin_action = Signal()
