"""Push step of event delivery (FCM): plan once per event, send in batches of ≤ 500.

`push_event` (run by its own task on the push queue; `planning`) decides who gets a push
(addressed people and, for some event types, the whole audience; `recipients`), applies
preferences, mutes and quiet hours, records one `PushDelivery` per (event,
device) and enqueues one batch task per 500 devices (`batches`; the planning task sends the
first batch itself). `push_send_batch` (run by that task; `sending`) claims its rows, renders
the texts in each recipient's language, sends through the configured backend outside any
transaction; `recording` deletes dead tokens and schedules the transient failures again.
"""

from notifications.push.batches import BATCH_PRIORITY, push_deliveries_sweep, push_enqueue, push_withdraw
from notifications.push.planning import in_quiet_hours, push_event
from notifications.push.recipients import Recipient, audience_push, is_must_read
from notifications.push.recording import BACKOFF_BASE_SECONDS, BACKOFF_CAP_SECONDS, RETRY_AFTER_CAP_SECONDS, BatchReport, backoff_seconds
from notifications.push.sending import LEASE, push_send_batch

__all__ = [
    "BACKOFF_BASE_SECONDS",
    "BACKOFF_CAP_SECONDS",
    "BATCH_PRIORITY",
    "LEASE",
    "RETRY_AFTER_CAP_SECONDS",
    "BatchReport",
    "Recipient",
    "audience_push",
    "backoff_seconds",
    "in_quiet_hours",
    "is_must_read",
    "push_deliveries_sweep",
    "push_enqueue",
    "push_event",
    "push_send_batch",
    "push_withdraw",
]
