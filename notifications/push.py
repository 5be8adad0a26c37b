"""Push step of event delivery (FCM).

The push engineer (issue #5) replaces `push_event` with the real sender: it
resolves the addressed recipients (`notifications.recipients.addressed_recipients`),
claims each (event, recipient) in `DeliveryReceipt` so a re-delivered event never
buzzes twice, and respects preferences, mutes and quiet hours. Until then push is
a no-op and delivery treats it as done.
"""

from __future__ import annotations

from notifications.models import OutboxEvent


def push_event(*, event: OutboxEvent) -> None:
    """Send the push messages for `event`; raise to have the whole event retried later."""
    return None
