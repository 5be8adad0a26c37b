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
# organization_id, actor, action, target_type, target_id, target_label, before, after, note:
# an administrative action for the audit log (moderation connects to it). Sent only by
# accounts.audit.audit_record, synchronously INSIDE the caller's transaction, so the entry
# commits (or rolls back) with the change.
admin_action = Signal()
